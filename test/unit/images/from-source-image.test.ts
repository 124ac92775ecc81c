// The image of a library or toolchain built from source: its build script per build system, the
// search paths a dependent build gets, and a tag that follows every input (and nothing else).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { planFromSourceImage, readFromSourceTemplate, renderBuildScript, searchPaths } from '../../../farm/src/images/from-source-image.ts';
import type { LibraryBuild, LibraryDefinition } from '../../../farm/src/recipes/libraries/library-definition.ts';

const IMAGES = join(import.meta.dirname, '..', '..', '..', 'images');

function definition(build: LibraryBuild, more: Partial<LibraryDefinition> = {}): LibraryDefinition {
  return {
    name: 'geos',
    file: '/r/libraries/geos.yaml',
    version: '3.13.1',
    sources: [
      { url: 'https://example.org/geos.tar.bz2', sha256: 'a'.repeat(64) },
      { url: 'debian:pool/main/g/geos/geos_3.13.1.orig.tar.bz2', sha256: 'a'.repeat(64) },
    ],
    depends: [],
    system: { apt: ['cmake'], dnf: ['cmake'] },
    build,
    versionWhere: '/r/libraries/geos.yaml:1',
    ...more,
  };
}

const script = (build: LibraryBuild, dependencyPrefixes: string[] = []) =>
  renderBuildScript({
    kind: 'library',
    definition: definition(build),
    prefix: '/opt/p',
    sourceName: 'geos-3.13.1-source',
    dependencyPrefixes,
  });

describe('renderBuildScript', () => {
  it('unpacks the source into $SRC and runs each build system into $PREFIX/lib, its arguments quoted for sh', () => {
    const cmake = script({ kind: 'cmake', args: ['-DBUILD_TESTING=OFF', "-DNAME=it's"] });
    expect(cmake).toContain(`# wheelfarm: library geos 3.13.1, source sha256 ${'a'.repeat(64)}`);
    expect(cmake).toContain('export PREFIX=/opt/p\nexport SOURCE=/tmp/wheelfarm/source/geos-3.13.1-source');
    expect(cmake).toContain('tar -xf "$SOURCE" -C "$SRC" --strip-components=1\ncd "$SRC"\n');
    expect(cmake).toContain(
      `cmake -S . -B wheelfarm-build -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib '-DBUILD_TESTING=OFF' '-DNAME=it'\\''s'\ncmake --build wheelfarm-build -j "$JOBS"\ncmake --install wheelfarm-build\n`,
    );
    expect(script({ kind: 'autotools', configureArgs: ['--without-python'] })).toContain(
      `./configure --prefix="$PREFIX" --libdir="$PREFIX/lib" '--without-python'\nmake -j"$JOBS"\nmake install\n`,
    );
    expect(script({ kind: 'meson', args: [] })).toContain(
      'meson setup wheelfarm-build --prefix="$PREFIX" --libdir=lib\nninja -C wheelfarm-build -j "$JOBS"\nninja -C wheelfarm-build install\n',
    );
    expect(script({ kind: 'script', script: 'make PREFIX=$PREFIX install' }).endsWith('cd "$SRC"\nmake PREFIX=$PREFIX install\n')).toBe(
      true,
    );
  });

  it('a library built on others searches their prefixes (pkg-config, CMake, compiler, linker, PATH)', () => {
    const text = script({ kind: 'autotools', configureArgs: [] }, ['/opt/a', '/opt/b']);
    expect(text).toContain(
      'export PKG_CONFIG_PATH="/opt/a/lib/pkgconfig:/opt/a/share/pkgconfig:/opt/b/lib/pkgconfig:/opt/b/share/pkgconfig"',
    );
    expect(text).toContain('export CMAKE_PREFIX_PATH="/opt/a:/opt/b"');
    expect(text).toContain('export LD_LIBRARY_PATH="/opt/a/lib:/opt/b/lib"');
    expect(text).toContain('export PATH="/opt/a/bin:/opt/b/bin:$PATH"');
    expect(searchPaths([])).toEqual({});
  });
});

describe('planFromSourceImage', () => {
  it('is tagged by name, version and a hash of the base, the Dockerfile and the script; mirrors (URLs) do not count', async () => {
    const template = await readFromSourceTemplate(IMAGES);
    const plan = (d: LibraryDefinition, baseImage = 'wheelfarm/base:1') =>
      planFromSourceImage({ template, kind: 'library', definition: d, baseImage, manager: 'apt', dependencies: [] });
    const first = plan(definition({ kind: 'cmake', args: [] }));
    expect(first.tag).toMatch(/^wheelfarm\/library-geos:3\.13\.1-[0-9a-f]{16}$/);
    expect(first.prefix).toBe('/opt/wheelfarm/libraries/geos-3.13.1');
    expect(first.dockerfile).toMatch(
      /apt-get install -y --no-install-recommends bzip2 ca-certificates cmake file g\+\+ gcc libc6-dev make pkg-config xz-utils/,
    );
    const moved = definition(
      { kind: 'cmake', args: [] },
      { sources: [{ url: 'https://mirror.example/g.tar.bz2', sha256: 'a'.repeat(64) }] },
    );
    expect(plan(moved).tag).toBe(first.tag);
    expect(plan(definition({ kind: 'cmake', args: ['-DX=1'] })).tag).not.toBe(first.tag);
    expect(plan(definition({ kind: 'cmake', args: [] }, { sources: [{ url: 'https://e/g', sha256: 'b'.repeat(64) }] })).tag).not.toBe(
      first.tag,
    );
    expect(plan(definition({ kind: 'cmake', args: [] }), 'wheelfarm/base:2').tag).not.toBe(first.tag);
    const meson = plan(definition({ kind: 'meson', args: [] }, { system: { apt: [], dnf: [] } }));
    expect(meson.dockerfile).toMatch(/ meson ninja-build /);
  });
});
