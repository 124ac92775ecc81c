import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayPath } from '../../../../farm/src/recipes/display-path.ts';
import { loadLibraries } from '../../../../farm/src/recipes/libraries/load-libraries.ts';
import { resolveLibraries } from '../../../../farm/src/recipes/libraries/resolve-libraries.ts';
import { SHA256, lineOf, rejection, useRecipesDir, writeIn } from '../helpers.ts';

const dir = useRecipesDir();
const ASKER = 'recipes/demo.yaml';

/** Writes `recipes/libraries/<name>.yaml` with `version` and, one per line, `depends` (`name` or `name >=1`); returns its text. */
async function define(name: string, version: string, depends: string[] = []): Promise<string> {
  const lines = depends.map((d) => {
    const [dependency, constraint] = d.split(' ');
    return constraint ? `  - { name: ${dependency}, version: "${constraint}" }` : `  - name: ${dependency}`;
  });
  const text = `version: "${version}"\nsources:\n  - url: https://example.org/${name}-${version}.tar.gz\n    sha256: ${SHA256}\n${lines.length > 0 ? `depends:\n${lines.join('\n')}\n` : ''}build: { autotools: {} }\n`;
  await writeIn(dir(), `libraries/${name}.yaml`, text);
  return text;
}

const file = (name: string) => displayPath(join(dir(), 'libraries', `${name}.yaml`));
const names = (definitions: { name: string }[]) => definitions.map((d) => d.name);

describe('resolveLibraries: what is needed, dependencies first', () => {
  it('orders a chain and a diamond so that every library comes after what it depends on, each once', async () => {
    await define('zlib', '1.3.1');
    await define('libxml2', '2.15.4', ['zlib >=1.2']);
    await define('libxslt', '1.1.45', ['libxml2 >=2.15.1', 'zlib']);
    await define('geos', '3.13.1');
    await define('unused', '1.0');
    const resolved = await resolveLibraries(dir(), [{ name: 'libxslt' }, { name: 'geos', version: '>=3.10' }, { name: 'libxml2' }], ASKER);
    expect(names(resolved)).toEqual(['zlib', 'libxml2', 'libxslt', 'geos']);
    expect(resolved[2]).toMatchObject({ name: 'libxslt', version: '1.1.45', file: join(dir(), 'libraries', 'libxslt.yaml') });
  });

  it('needs nothing, and reads nothing, when nothing is asked for', async () => {
    await writeIn(dir(), 'libraries/broken.yaml', 'nope: 1\n');
    expect(await resolveLibraries(dir(), [], ASKER)).toEqual([]);
  });

  it('a broken definition nobody needs does not stop the others', async () => {
    await define('geos', '3.13.1');
    await writeIn(dir(), 'libraries/broken.yaml', 'nope: 1\n');
    expect(names(await resolveLibraries(dir(), [{ name: 'geos' }], ASKER))).toEqual(['geos']);
  });
});

describe('resolveLibraries: what it refuses', () => {
  it('an unknown library: unknown-library, naming who asked and the definitions there are', async () => {
    await define('geos', '3.13.1');
    await define('libxml2', '2.15.4');
    const error = await rejection(resolveLibraries(dir(), [{ name: 'openblas', where: 'recipes/numpy.yaml:7' }], 'recipes/numpy.yaml'));
    expect(error.code).toBe('unknown-library');
    expect(error.message).toBe(
      `recipes/numpy.yaml:7 asks for library \`openblas\`, which has no definition: no ${file('openblas')} (${displayPath(join(dir(), 'libraries'))} defines geos, libxml2)`,
    );
    expect(error.hint).toContain(`write ${file('openblas')}`);
  });

  it('an unknown library when there are no definitions at all, and one asked for by a definition', async () => {
    const none = await rejection(resolveLibraries(dir(), [{ name: 'geos' }], ASKER));
    expect(none.code).toBe('unknown-library');
    expect(none.message).toBe(
      `${ASKER} asks for library \`geos\`, which has no definition: no ${file('geos')} (there are none in ${displayPath(join(dir(), 'libraries'))})`,
    );
    const text = await define('libxslt', '1.1.45', ['libxml2']);
    const error = await rejection(resolveLibraries(dir(), [{ name: 'libxslt' }], ASKER));
    expect(error.code).toBe('unknown-library');
    expect(error.message).toMatch(new RegExp(`^${file('libxslt')}:${lineOf(text, 'name: libxml2')} asks for library \`libxml2\``));
  });

  it('a version the definition does not satisfy: library-version-unsatisfied, naming both files', async () => {
    const text = await define('openblas', '0.3.21');
    const error = await rejection(
      resolveLibraries(dir(), [{ name: 'openblas', version: '>=0.3.28', where: 'recipes/numpy.yaml:7' }], 'recipes/numpy.yaml'),
    );
    expect(error.code).toBe('library-version-unsatisfied');
    expect(error.message).toBe(
      `recipes/numpy.yaml:7 asks for openblas >=0.3.28, ${file('openblas')}:${lineOf(text, 'version')} has 0.3.21`,
    );
    expect(error.hint).toContain(`update ${file('openblas')} to a version that satisfies >=0.3.28`);
  });

  it('a dependency whose version does not satisfy its dependant: library-version-unsatisfied at the depends line', async () => {
    await define('libxml2', '2.14.6');
    const text = await define('libxslt', '1.1.45', ['libxml2 >=2.15.1']);
    const error = await rejection(resolveLibraries(dir(), [{ name: 'libxslt' }], ASKER));
    expect(error.code).toBe('library-version-unsatisfied');
    expect(error.message).toBe(`${file('libxslt')}:${lineOf(text, 'libxml2')} asks for libxml2 >=2.15.1, ${file('libxml2')}:1 has 2.14.6`);
  });

  it('definitions that depend on each other: library-cycle, naming the loop and its depends lines', async () => {
    await define('a', '1', ['b']);
    const b = await define('b', '1', ['c']);
    const c = await define('c', '1', ['b']);
    const error = await rejection(resolveLibraries(dir(), [{ name: 'a' }], ASKER));
    expect(error.code).toBe('library-cycle');
    expect(error.message).toBe(
      `library definitions depend on each other in a loop: b -> c -> b (${file('b')}:${lineOf(b, 'name: c')}, ${file('c')}:${lineOf(c, 'name: b')})`,
    );
    const self = await define('d', '1', ['d']);
    const selfError = await rejection(resolveLibraries(dir(), [{ name: 'd' }], ASKER));
    expect(selfError.code).toBe('library-cycle');
    expect(selfError.message).toBe(`library definitions depend on each other in a loop: d -> d (${file('d')}:${lineOf(self, 'name: d')})`);
  });

  it('a constraint that is not one: bad-library-version, naming where and the field', async () => {
    await define('geos', '3.13.1');
    const error = await rejection(
      resolveLibraries(dir(), [{ name: 'geos', version: '^3.10', where: 'recipes/shapely.yaml:4', field: 'build.libraries[0]' }], ASKER),
    );
    expect(error.code).toBe('bad-library-version');
    expect(error.message).toBe(
      'recipes/shapely.yaml:4: `build.libraries[0].version`: `^3.10` is not a library version constraint: expected one or more clauses joined by commas, each `>=`, `>`, `<=`, `<`, `==` or `!=` and a dotted version, like `>=3.10,<4`',
    );
  });

  it('a needed definition that is broken: its own error, naming its file and line', async () => {
    await writeIn(dir(), 'libraries/geos.yaml', 'version: "3.13.1"\nsources: []\nbuild: { cmake: {} }\n');
    const error = await rejection(resolveLibraries(dir(), [{ name: 'geos' }], ASKER));
    expect(error.code).toBe('bad-library-definition');
    expect(error.message).toContain(`${file('geos')}:2: \`sources\`: list at least one source`);
  });
});

describe('loadLibraries: file names', () => {
  it('a definition under a name that is not its lower-case name: misnamed-library, saying what to rename it to', async () => {
    await writeIn(dir(), 'libraries/GEOS.yaml', 'version: "3.13.1"\n');
    await writeIn(dir(), 'libraries/libxml2.yml', 'version: "2.15.4"\n');
    const loaded = await loadLibraries(dir());
    expect(loaded.libraries.size).toBe(0);
    expect([...loaded.problems.keys()]).toEqual(['geos', 'libxml2']);
    const error = await rejection(resolveLibraries(dir(), [{ name: 'geos' }], ASKER));
    expect(error.code).toBe('misnamed-library');
    expect(error.message).toBe(
      `${file('GEOS')}: library definitions are named \`<name>.yaml\`, the name in lower case (letters, digits, \`.\`, \`_\`, \`+\`, \`-\`): rename it to ${file('geos')}`,
    );
    expect(loaded.problems.get('libxml2')![0]!.message).toContain(`rename it to ${file('libxml2')}`);
  });

  it('no libraries folder: no definitions', async () => {
    expect(await loadLibraries(dir())).toEqual({ dir: join(dir(), 'libraries'), libraries: new Map(), problems: new Map() });
  });
});
