import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { planRecipeImage } from '../../../farm/src/images/recipe-image.ts';
import { renderTemplate } from '../../../farm/src/images/render-template.ts';
import type { RustProvision } from '../../../farm/src/images/rust-toolchain.ts';
import { resolveToolchains } from '../../../farm/src/images/toolchains.ts';
import type { RecipeImageNeeds } from '../../../farm/src/images/toolchains.ts';

const TEMPLATE = await readFile(join(resolve(import.meta.dirname, '../../..'), 'images', 'recipe', 'Dockerfile.tmpl'), 'utf8');
const needs = (over: Partial<RecipeImageNeeds> = {}): RecipeImageNeeds => ({ system: { apt: [], dnf: [] }, toolchains: {}, ...over });
const hostRust: RustProvision = { kind: 'host', dir: '/x/rust', version: '1.95.0', versionText: 'rustc 1.95.0\nrelease: 1.95.0' };

describe('renderTemplate', () => {
  it('keeps @if blocks only for set flags, repeats @each blocks, fills values', () => {
    const text = '# @if a\nA {{v}}\n# @end\n# @if b\nB\n# @end\n# @each xs\nX {{n}}\n# @end\nend {{v}}\n';
    expect(renderTemplate(text, { flags: new Set(['a']), values: { v: '1' }, lists: { xs: [{ n: 'p' }, { n: 'q' }] } })).toBe(
      'A 1\nX p\nX q\nend 1\n',
    );
  });
});

describe('resolveToolchains', () => {
  it('fortran adds the distro compiler; packages are sorted and unique', () => {
    expect(
      resolveToolchains(needs({ system: { apt: ['zlib1g-dev', 'gfortran'], dnf: [] }, toolchains: { fortran: {} } }), 'apt').packages,
    ).toEqual(['gfortran', 'zlib1g-dev']);
    expect(resolveToolchains(needs({ toolchains: { fortran: {} } }), 'dnf').packages).toEqual(['gcc-gfortran']);
  });
  it('java picks the newest JDK in range, with its tools and JAVA_HOME', () => {
    const resolved = resolveToolchains(needs({ toolchains: { java: { version: '>=11', tools: ['ant', 'maven'] } } }), 'apt');
    expect(resolved.packages).toEqual(['ant', 'maven', 'openjdk-17-jdk-headless']);
    expect(resolved.java).toEqual({ major: 17, home: '/usr/lib/jvm/java-17-openjdk-amd64' });
    expect(resolveToolchains(needs({ toolchains: { java: { version: '<17', tools: [] } } }), 'apt').java?.major).toBe(11);
  });
  it('a JDK range no distribution JDK meets is a user error naming the recipe', () => {
    expect(() => resolveToolchains(needs({ toolchains: { java: { version: '>=99', tools: [] } } }), 'apt', 'recipes/x.yaml')).toThrow(
      UserInputError,
    );
    expect(() => resolveToolchains(needs({ toolchains: { java: { version: '>=99', tools: [] } } }), 'apt', 'recipes/x.yaml')).toThrow(
      /recipes\/x\.yaml.*>=99/,
    );
  });
});

describe('planRecipeImage', () => {
  const plan = (n: RecipeImageNeeds, rust?: RustProvision, buildImage = 'wheelfarm/build:aaaa') =>
    planRecipeImage({ template: TEMPLATE, buildImage, manager: 'apt', toolchains: resolveToolchains(n, 'apt'), rust, userName: 'builder' });

  it('no packages and no toolchain: no recipe image (the build image serves)', () => {
    expect(plan(needs())).toBeUndefined();
  });
  it('installs the packages as root and switches back to the build user', () => {
    const p = plan(needs({ system: { apt: ['libyaml-dev'], dnf: ['libyaml-devel'] } }))!;
    expect(p.tag).toMatch(/^wheelfarm\/recipe:[0-9a-f]{16}$/);
    expect(p.dockerfile).toContain('apt-get install -y --no-install-recommends libyaml-dev');
    expect(p.dockerfile).not.toContain('libyaml-devel');
    expect(p.dockerfile).not.toMatch(/\{\{|rust|JAVA_HOME/);
    expect(p.dockerfile.trim().split('\n').at(-1)).toBe('USER builder');
  });
  it('the same needs share one image whatever the order; other needs or another build image do not', () => {
    const a = plan(needs({ system: { apt: ['b-dev', 'a-dev'], dnf: [] } }))!;
    const b = plan(needs({ system: { apt: ['a-dev', 'b-dev', 'a-dev'], dnf: [] } }))!;
    expect(a.tag).toBe(b.tag);
    expect(plan(needs({ system: { apt: ['a-dev'], dnf: [] } }))!.tag).not.toBe(a.tag);
    expect(plan(needs({ system: { apt: ['b-dev', 'a-dev'], dnf: [] } }), undefined, 'wheelfarm/build:bbbb')!.tag).not.toBe(a.tag);
  });
  it('rust from the host: a stage copying the toolchain, on PATH; the host version is an input', () => {
    const p = plan(needs({ toolchains: { rust: {} } }), hostRust)!;
    expect(p.dockerfile).toMatch(/FROM \$\{BUILD_IMAGE\} AS rust\nCOPY rust-toolchain\/ \/opt\/rust\//);
    expect(p.dockerfile).toContain('ENV PATH=/opt/rust/bin:$PATH');
    expect(p.dockerfile).not.toContain('rustup-init');
    const newer = plan(needs({ toolchains: { rust: {} } }), { ...hostRust, versionText: 'rustc 1.96.0\nrelease: 1.96.0' })!;
    expect(newer.tag).not.toBe(p.tag);
  });
  it('rust from rustup: installs the toolchain in its own stage', () => {
    const p = plan(needs({ toolchains: { rust: {} } }), {
      kind: 'rustup',
      initUrl: 'https://mirror.invalid/rustup-init',
      toolchain: 'stable',
    })!;
    expect(p.dockerfile).toContain('--default-toolchain stable');
    expect(p.dockerfile).toContain('ENV RUSTUP_HOME=/opt/rust');
    expect(p.dockerfile).not.toContain('COPY rust-toolchain/');
  });
  it('java sets JAVA_HOME', () => {
    expect(plan(needs({ toolchains: { java: { tools: [] } } }))!.dockerfile).toContain('ENV JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64');
  });
});
