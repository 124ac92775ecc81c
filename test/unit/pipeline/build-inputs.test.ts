import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, recipeHash, sourceIdentity } from '../../../farm/src/pipeline/build-inputs.ts';
import type { ResolvedSource } from '../../../farm/src/pipeline/resolve-source.ts';
import { defaultRecipe } from '../../../farm/src/recipes/recipe.ts';

describe('build inputs', () => {
  it('the recipe hash changes with what changes the wheel, not with tests or the Pythons chosen', async () => {
    const base = defaultRecipe('pyyaml');
    const hash = await recipeHash(base);
    expect(await recipeHash({ ...base, file: '/elsewhere/pyyaml.yaml' })).toBe(hash);
    expect(await recipeHash({ ...base, test: { ...base.test, imports: ['yaml'] }, python: '>=3.12', versions: '<7' })).toBe(hash);
    expect(await recipeHash({ ...base, build: { ...base.build, env: { PYYAML_FORCE_CYTHON: '1' } } })).not.toBe(hash);
    expect(await recipeHash({ ...base, repair: { exclude: ['libyaml-0.so.2'] } })).not.toBe(hash);
    expect(await recipeHash({ ...base, build: { ...base.build, system: { apt: ['libyaml-dev'], dnf: [] } } })).not.toBe(hash);
  });

  it('a recipe asking for no libraries hashes as before build.libraries existed (no wheel goes stale); one asking for some does not', async () => {
    // The hash of the default recipe as the farm computed it before the field was added.
    expect(await recipeHash(defaultRecipe('pyyaml'))).toBe('a781fe60794e4674');
    const withGeos = defaultRecipe('pyyaml');
    withGeos.build = { ...withGeos.build, libraries: [{ name: 'geos', version: '>=3.10' }] };
    expect(await recipeHash(withGeos)).not.toBe('a781fe60794e4674');
  });

  it('patches count by their content, not their path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wheelfarm-inputs-'));
    await writeFile(join(dir, 'a.patch'), 'one');
    await writeFile(join(dir, 'b.patch'), 'one');
    const base = defaultRecipe('pyyaml');
    const first = await recipeHash({ ...base, patches: [join(dir, 'a.patch')] });
    expect(await recipeHash({ ...base, patches: [join(dir, 'b.patch')] })).toBe(first);
    await writeFile(join(dir, 'b.patch'), 'two');
    expect(await recipeHash({ ...base, patches: [join(dir, 'b.patch')] })).not.toBe(first);
  });

  it('the source is the sdist sha256, or the git commit (without credentials)', () => {
    const download: ResolvedSource = {
      name: 'x',
      version: '1',
      filename: 'x-1.tar.gz',
      origin: { kind: 'download', url: 'https://h/x-1.tar.gz', sha256: 'ab'.repeat(32) },
      from: 'h',
    };
    expect(sourceIdentity(download)).toBe(`sha256:${'ab'.repeat(32)}`);
    const git: ResolvedSource = { ...download, origin: { kind: 'git', url: 'https://user:secret@git.example/x.git', commit: 'c0ffee' } };
    expect(sourceIdentity(git)).not.toContain('secret');
    expect(sourceIdentity(git)).toMatch(/^git:https:\/\/.*git\.example\/x\.git@c0ffee$/);
  });

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: 3 } })).toBe('{"a":{"c":3,"d":[2,{"y":2,"z":1}]},"b":1}');
  });
});
