import { describe, expect, it } from 'vitest';
import type { LibraryDefinition } from '../../../../farm/src/recipes/libraries/library-definition.ts';
import { libraryHash, libraryHashes } from '../../../../farm/src/recipes/libraries/library-hash.ts';

function definition(overrides: Partial<LibraryDefinition> = {}): LibraryDefinition {
  return {
    name: 'libxslt',
    file: '/farm/recipes/libraries/libxslt.yaml',
    version: '1.1.45',
    sources: [
      { url: 'https://example.org/libxslt-1.1.45.tar.xz', sha256: 'ab'.repeat(32) },
      { url: 'debian:pool/main/libx/libxslt/libxslt_1.1.45.orig.tar.xz', sha256: 'cd'.repeat(32) },
    ],
    depends: [{ name: 'libxml2', version: '>=2.15.1', where: '/farm/recipes/libraries/libxslt.yaml:9', field: 'depends[0]' }],
    system: { apt: ['pkg-config', 'zlib1g-dev'], dnf: ['pkgconf-pkg-config'] },
    build: { kind: 'autotools', configureArgs: ['--without-python'] },
    versionWhere: '/farm/recipes/libraries/libxslt.yaml:1',
    ...overrides,
  };
}

const DEPS = { libxml2: '11'.repeat(32) };

describe('libraryHash: what decides the bytes of a library build, and nothing else', () => {
  it('is a sha256, the same for the same content', () => {
    expect(libraryHash(definition(), DEPS)).toMatch(/^[0-9a-f]{64}$/);
    expect(libraryHash(definition(), { ...DEPS })).toBe(libraryHash(definition(), DEPS));
  });

  it('changes with the version, the sources` sha256 and their order, the system packages, the build and the dependencies` hashes', () => {
    const base = libraryHash(definition(), DEPS);
    const [first, second] = definition().sources;
    const changed = [
      libraryHash(definition({ name: 'libxslt2' }), DEPS),
      libraryHash(definition({ version: '1.1.46' }), DEPS),
      libraryHash(definition({ sources: [{ ...first!, sha256: 'ef'.repeat(32) }, second!] }), DEPS),
      libraryHash(definition({ sources: [second!, first!] }), DEPS),
      libraryHash(definition({ system: { apt: ['pkg-config'], dnf: ['pkgconf-pkg-config'] } }), DEPS),
      libraryHash(definition({ build: { kind: 'autotools', configureArgs: ['--without-python', '--without-crypto'] } }), DEPS),
      libraryHash(definition({ build: { kind: 'script', script: './configure --without-python' } }), DEPS),
      libraryHash(definition(), { libxml2: '22'.repeat(32) }),
    ];
    for (const hash of changed) expect(hash).not.toBe(base);
    expect(new Set(changed).size).toBe(changed.length);
  });

  it('does not change with URLs (mirrors), constraints, the file, where things are written, or the order of system packages', () => {
    const base = libraryHash(definition(), DEPS);
    const [first, second] = definition().sources;
    const moved = definition({
      file: '/elsewhere/libxslt.yaml',
      versionWhere: '/elsewhere/libxslt.yaml:3',
      sources: [
        { ...first!, url: 'https://mirror.example/libxslt-1.1.45.tar.xz' },
        { ...second!, url: 'file:///srv/libxslt.tar.xz' },
      ],
      depends: [{ name: 'libxml2', version: '>=2.15', where: '/elsewhere/libxslt.yaml:12', field: 'depends[0]' }],
      system: { apt: ['zlib1g-dev', 'pkg-config', 'pkg-config'], dnf: ['pkgconf-pkg-config'] },
    });
    expect(libraryHash(moved, DEPS)).toBe(base);
  });

  it('wants the hash of each direct dependency, no more and no less', () => {
    expect(() => libraryHash(definition(), {})).toThrow('dependency hashes for [], its depends are [libxml2]');
    expect(() => libraryHash(definition(), { ...DEPS, zlib: '33'.repeat(32) })).toThrow('its depends are [libxml2]');
  });

  it('libraryHashes hashes a resolved list in order, each over its dependencies` hashes', () => {
    const libxml2 = definition({ name: 'libxml2', version: '2.15.4', depends: [] });
    const hashes = libraryHashes([libxml2, definition()]);
    expect(hashes.get('libxml2')).toBe(libraryHash(libxml2, {}));
    expect(hashes.get('libxslt')).toBe(libraryHash(definition(), { libxml2: hashes.get('libxml2')! }));
    expect(() => libraryHashes([definition(), libxml2])).toThrow('libxslt comes before its dependency libxml2');
  });
});
