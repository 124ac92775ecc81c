import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLibraryFile } from '../../../../farm/src/recipes/libraries/library-definition.ts';
import { loadLibraries } from '../../../../farm/src/recipes/libraries/load-libraries.ts';
import { displayPath } from '../../../../farm/src/recipes/display-path.ts';
import { SHA256, lineOf, rejection, useRecipesDir, where, writeIn } from '../helpers.ts';

const dir = useRecipesDir();
const FIXTURES = resolve(import.meta.dirname, '../../../fixtures/libraries');

const MINIMAL = `version: "1.2.3"\nsources:\n  - url: https://example.org/demo-1.2.3.tar.gz\n    sha256: ${SHA256}\nbuild:\n  cmake: {}\n`;

async function read(text: string, name = 'demo') {
  const file = await writeIn(dir(), `libraries/${name}.yaml`, text);
  return readLibraryFile({ file, name });
}

/** Reads `text` as a definition, expects it refused, checks the message names file, line and field, and returns the error. */
async function expectRejected(text: string, { line, field, message }: { line: string | number; field: string; message: string }) {
  const file = join(dir(), 'libraries', 'demo.yaml');
  const error = await rejection(read(text));
  const lineNumber = typeof line === 'number' ? line : lineOf(text, line);
  const issue = error.message.split('\n').find((l) => l.includes(`\`${field}\``));
  expect(issue, `no issue for \`${field}\` in:\n${error.message}`).toBeDefined();
  expect(issue).toContain(where(file, lineNumber, field));
  expect(issue).toContain(message);
  return error;
}

describe('library definitions: valid forms', () => {
  it('reads a full definition, with its defaults and where each dependency is written', async () => {
    const text = `# a comment
version: "2.15.4"
sources:
  - url: https://example.org/libxml2-2.15.4.tar.xz
    sha256: ${SHA256}
  - url: debian:pool/main/libx/libxml2/libxml2_2.15.4+dfsg.orig.tar.xz
    sha256: ${'cd'.repeat(32)}
  - url: file:///srv/mirror/libxml2-2.15.4.tar.xz
    sha256: ${SHA256}
depends:
  - name: zlib
    version: ">=1.2.11,<2"
  - { name: libiconv }
system:
  apt: [pkg-config]
  dnf: [pkgconf-pkg-config]
build:
  autotools:
    configure-args: [--without-python]
`;
    const file = await writeIn(dir(), 'libraries/libxml2.yaml', text);
    expect(await readLibraryFile({ file, name: 'libxml2' })).toEqual({
      name: 'libxml2',
      file,
      version: '2.15.4',
      sources: [
        { url: 'https://example.org/libxml2-2.15.4.tar.xz', sha256: SHA256 },
        { url: 'debian:pool/main/libx/libxml2/libxml2_2.15.4+dfsg.orig.tar.xz', sha256: 'cd'.repeat(32) },
        { url: 'file:///srv/mirror/libxml2-2.15.4.tar.xz', sha256: SHA256 },
      ],
      depends: [
        { name: 'zlib', version: '>=1.2.11,<2', where: `${displayPath(file)}:${lineOf(text, '- name: zlib')}`, field: 'depends[0]' },
        { name: 'libiconv', version: undefined, where: `${displayPath(file)}:${lineOf(text, 'libiconv')}`, field: 'depends[1]' },
      ],
      system: { apt: ['pkg-config'], dnf: ['pkgconf-pkg-config'] },
      build: { kind: 'autotools', configureArgs: ['--without-python'] },
      versionWhere: `${displayPath(file)}:2`,
    });
  });

  it('defaults depends, system and the build settings to empty', async () => {
    const definition = await read(MINIMAL);
    expect(definition).toMatchObject({ depends: [], system: { apt: [], dnf: [] }, build: { kind: 'cmake', args: [] } });
  });

  it('reads each build system, `true` meaning no settings (fixtures/libraries/every-build)', async () => {
    const { libraries, problems } = await loadLibraries(join(FIXTURES, 'every-build'));
    expect(problems).toEqual(new Map());
    expect(Object.fromEntries([...libraries].map(([name, definition]) => [name, definition.build]))).toEqual({
      'by-autotools': { kind: 'autotools', configureArgs: ['--disable-static'] },
      'by-cmake': { kind: 'cmake', args: ['-DBUILD_TESTING=OFF'] },
      'by-meson': { kind: 'meson', args: [] },
      'by-script': { kind: 'script', script: 'make PREFIX="$PREFIX" -C "$SRC" install\n' },
    });
  });
});

describe('library definitions: what the schema refuses, naming file, line and field', () => {
  it('an unknown key, listing the known ones (a definition has no name key: its name is the file name)', async () => {
    const error = await expectRejected(`name: demo\n${MINIMAL}`, {
      line: 'name:',
      field: '(top level)',
      message: 'unknown key `name`: expected one of version, sources, depends, system, build',
    });
    expect(error.code).toBe('bad-library-definition');
  });

  it('a version that is not a string', async () => {
    const error = await expectRejected(MINIMAL.replace('"1.2.3"', '1.2'), {
      line: 'version',
      field: 'version',
      message: 'expected a version in quotes, like "3.13.1", got `1.2` (number)',
    });
    expect(error.code).toBe('bad-library-definition');
  });

  it('no sources, or a source without its sha256 or with a bad one', async () => {
    const errors = [
      await expectRejected('version: "1"\nsources: []\nbuild: { cmake: {} }\n', {
        line: 'sources',
        field: 'sources',
        message: 'list at least one source',
      }),
      await expectRejected(MINIMAL.replace(`    sha256: ${SHA256}\n`, ''), {
        line: '- url',
        field: 'sources[0].sha256',
        message: 'required',
      }),
      await expectRejected(MINIMAL.replace(SHA256, 'ABC'), {
        line: 'sha256',
        field: 'sources[0].sha256',
        message: 'expected a sha256: 64 lower-case hex digits',
      }),
    ];
    for (const error of errors) expect(error.code).toBe('bad-library-definition');
  });

  it('a source URL of another scheme', async () => {
    const error = await expectRejected(MINIMAL.replace('https://example.org', 'ftp://example.org'), {
      line: 'url',
      field: 'sources[0].url',
      message: 'expected an http(s):// or file: URL, or `debian:pool/...` (a path in the Debian archive)',
    });
    expect(error.code).toBe('bad-library-definition');
  });

  it('a build with no build system, or with two', async () => {
    const errors = [
      await expectRejected(MINIMAL.replace('build:\n  cmake: {}\n', 'build: {}\n'), {
        line: 'build',
        field: 'build',
        message: 'expected exactly one of autotools, cmake, meson or script, got none',
      }),
      await expectRejected(MINIMAL.replace('  cmake: {}\n', '  cmake: {}\n  meson: {}\n'), {
        line: 'cmake: {}',
        field: 'build',
        message: 'expected exactly one of autotools, cmake, meson or script, got cmake and meson',
      }),
      await expectRejected(MINIMAL.replace('build:\n  cmake: {}\n', ''), {
        line: 1,
        field: 'build',
        message: 'required: one of autotools, cmake, meson or script',
      }),
    ];
    for (const error of errors) expect(error.code).toBe('bad-library-definition');
  });

  it('an unknown build system, or settings it does not take', async () => {
    const errors = [
      await expectRejected(MINIMAL.replace('cmake: {}', 'scons: {}'), {
        line: 'scons',
        field: 'build',
        message: 'unknown build system `scons`: expected one of autotools, cmake, meson, script',
      }),
      await expectRejected(MINIMAL.replace('cmake: {}', 'cmake: { configure-args: [-x] }'), {
        line: 'cmake',
        field: 'build.cmake',
        message: 'unknown key `configure-args` for cmake: expected one of args',
      }),
    ];
    for (const error of errors) expect(error.code).toBe('bad-library-definition');
  });

  it('a dependency that is no library name', async () => {
    const error = await expectRejected(`${MINIMAL}depends: [{ name: LibXml2 }]\n`, {
      line: 'depends',
      field: 'depends[0].name',
      message: 'expected a library name like `geos` or `libxml2`',
    });
    expect(error.code).toBe('bad-library-definition');
  });

  it('an unquoted constraint, which YAML reads as a block scalar, with a hint to quote it', async () => {
    const error = await rejection(read(`${MINIMAL}depends:\n  - name: zlib\n    version: >=1.2\n`));
    expect(error.code).toBe('bad-library-definition');
    expect(error.message).toContain('the library definition is not valid YAML');
    expect(error.hint).toContain('quote values that start with `>`');
  });
});

describe('library definitions: versions and constraints that are not dotted numbers', () => {
  it('a version with letters: bad-library-version at its line', async () => {
    const error = await expectRejected(MINIMAL.replace('"1.2.3"', '"1.1.1w"'), {
      line: 'version',
      field: 'version',
      message: '`1.1.1w` is not a library version: expected dotted numbers like `3.12.2`',
    });
    expect(error.code).toBe('bad-library-version');
    expect(error.hint).toContain('compared number by number');
  });

  it('a dependency constraint that is not one: bad-library-version at its line', async () => {
    const text = `${MINIMAL}depends:\n  - name: zlib\n  - name: libiconv\n    version: "~>1.17"\n`;
    const error = await expectRejected(text, {
      line: '- name: libiconv',
      field: 'depends[1].version',
      message: '`~>1.17` is not a library version constraint: expected one or more clauses joined by commas',
    });
    expect(error.code).toBe('bad-library-version');
  });
});
