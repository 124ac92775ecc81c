import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLibraries } from '../../../../farm/src/recipes/libraries/load-libraries.ts';
import { resolveLibraries } from '../../../../farm/src/recipes/libraries/resolve-libraries.ts';

const RECIPES_DIR = resolve(import.meta.dirname, '..', '..', '..', '..', 'recipes');

describe('the library definitions in the repository', () => {
  it('all load without problems, and resolve together, dependencies first', async () => {
    const { libraries, problems } = await loadLibraries(RECIPES_DIR);
    expect([...problems.values()].flat().map((error) => `${error.message}\nhint: ${error.hint}`)).toEqual([]);
    expect([...libraries.keys()]).toEqual(['geos', 'libgit2', 'libxml2', 'libxslt', 'libyaml', 'openssl']);
    const wanted = [...libraries.keys()].map((name) => ({ name }));
    // libgit2 is built on openssl: it comes first.
    expect((await resolveLibraries(RECIPES_DIR, wanted, 'test')).map((d) => d.name)).toEqual([
      'geos',
      'openssl',
      'libgit2',
      'libxml2',
      'libxslt',
      'libyaml',
    ]);
    const toolchains = await loadLibraries(RECIPES_DIR, 'toolchain');
    expect([...toolchains.problems.values()].flat().map((error) => error.message)).toEqual([]);
    expect([...toolchains.libraries.keys()]).toEqual(['gcc']);
  });

  it('are new enough for what they are for: GEOS >= 3.10 (shapely 2.2), libxml2 >= 2.13, libxslt on libxml2', async () => {
    const wanted = [
      { name: 'geos', version: '>=3.12' },
      { name: 'libxml2', version: '>=2.13' },
      { name: 'libxslt', version: '>=1.1.39' },
    ];
    const resolved = await resolveLibraries(RECIPES_DIR, wanted, 'test');
    expect(resolved.find((d) => d.name === 'libxslt')!.depends.map((d) => d.name)).toEqual(['libxml2']);
  });

  it('each pins its sources: upstream first (where it serves the same or better bytes), then the Debian archive, every one with a sha256', async () => {
    const { libraries } = await loadLibraries(RECIPES_DIR);
    const toolchains = (await loadLibraries(RECIPES_DIR, 'toolchain')).libraries;
    for (const definition of [...libraries.values(), ...toolchains.values()]) {
      const urls = definition.sources.map((source) => source.url);
      if (urls.length > 1) expect(urls[0], definition.name).toMatch(/^https:\/\//);
      expect(urls.at(-1), definition.name).toMatch(
        new RegExp(`^debian:pool/main/.*/${definition.name}(-\\d+)?_${definition.version}(\\+dfsg|\\+ds)?\\.orig\\.tar\\.(gz|bz2|xz)$`),
      );
      for (const source of definition.sources) expect(source.sha256).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});
