// The recipe field `build.libraries`: native libraries from recipes/libraries/ a build needs. Reading a
// recipe checks that each exists and satisfies its constraint, so `recipes lint` (and every build) names
// a bad request with the recipe's file and line.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRecipesLint } from '../../../farm/src/cli/commands/recipes-command.ts';
import { EXIT } from '../../../farm/src/cli/exit-codes.ts';
import type { Reporter } from '../../../farm/src/cli/reporter.ts';
import type { CommandEnvironment } from '../../../farm/src/cli/run-command.ts';
import { displayPath } from '../../../farm/src/recipes/display-path.ts';
import { loadAllRecipes } from '../../../farm/src/recipes/load-all-recipes.ts';
import { loadRecipe } from '../../../farm/src/recipes/load-recipe.ts';
import { prepareImageDefinitions } from '../../../farm/src/images/ensure-images.ts';
import { recipeImagePlan } from '../../../farm/src/pipeline/prepare-recipe-image.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
import { SHA256, lineOf, rejection, useRecipesDir, where, writeIn } from './helpers.ts';

const dir = useRecipesDir();

async function planOf(recipe: Awaited<ReturnType<typeof loadRecipe>>) {
  const prepared = await prepareImageDefinitions(join(REPO_ROOT, 'images'));
  const settings = {
    imagesDir: join(REPO_ROOT, 'images'),
    recipesDir: dir(),
    rust: { source: 'rustup' as const, hostToolchain: undefined, rustupInitUrl: undefined },
  };
  return recipeImagePlan(settings, { prepared, buildImage: prepared.plan.build.tag, recipe });
}

async function define(name: string, version: string, depends = ''): Promise<void> {
  await writeIn(
    dir(),
    `libraries/${name}.yaml`,
    `version: "${version}"\nsources:\n  - url: https://example.org/${name}-${version}.tar.gz\n    sha256: ${SHA256}\n${depends}build: { cmake: {} }\n`,
  );
}

/** Writes `recipes/<name>.yaml` and reads it: its file, and the recipe or the error reading it gave. */
async function load(text: string, name = 'shapely') {
  const file = await writeIn(dir(), `${name}.yaml`, text);
  const read = () => loadRecipe({ recipesDir: dir(), name });
  return { file, read };
}

describe('recipe build.libraries', () => {
  it('reads each request, in order, and defaults to none', async () => {
    await define('geos', '3.13.1');
    await define('libxml2', '2.15.4');
    const text = 'build:\n  libraries:\n    - name: geos\n      version: ">=3.10,<4"\n    - { name: libxml2 }\n';
    const { read } = await load(text);
    expect((await read()).build.libraries).toEqual([
      { name: 'geos', version: '>=3.10,<4' },
      { name: 'libxml2', version: undefined },
    ]);
    expect((await (await load('python: ">=3.11"\n', 'other')).read()).build.libraries).toEqual([]);
  });

  it('a recipe asking for libraries and GCC is planned on their images: toolchain first, dependencies before dependents', async () => {
    await define('libxml2', '2.15.4');
    await define('libxslt', '1.1.45', 'depends: [{ name: libxml2, version: ">=2.15.1" }]\nsystem: { apt: [libgcrypt-dev] }\n');
    await writeIn(
      dir(),
      'toolchains/gcc.yaml',
      `version: "14.2.0"\nsources:\n  - url: https://example.org/gcc.tar.gz\n    sha256: ${SHA256}\nbuild: { script: make }\n`,
    );
    const { read } = await load('build:\n  toolchains: { gcc: { version: "14" } }\n  libraries: [{ name: libxslt }]\n', 'lxml');
    const plan = (await planOf(await read()))!;
    expect(plan.fromSource.map((p) => [p.kind, p.definition.name, p.prefix])).toEqual([
      ['toolchain', 'gcc', '/opt/wheelfarm/toolchains/gcc-14.2.0'],
      ['library', 'libxml2', '/opt/wheelfarm/libraries/libxml2-2.15.4'],
      ['library', 'libxslt', '/opt/wheelfarm/libraries/libxslt-1.1.45'],
    ]);
    const [gcc, libxml2, libxslt] = plan.fromSource;
    expect(libxml2!.tag).toMatch(/^wheelfarm\/library-libxml2:2\.15\.4-[0-9a-f]{16}$/);
    // libxslt is built against libxml2: its image copies libxml2's prefix and its script searches it.
    expect(libxslt!.dockerfile).toContain(`COPY --from=${libxml2!.tag} ${libxml2!.prefix} ${libxml2!.prefix}`);
    expect(libxslt!.buildScript).toContain(`export PKG_CONFIG_PATH="${libxml2!.prefix}/lib/pkgconfig:${libxml2!.prefix}/share/pkgconfig"`);
    // The recipe image copies every prefix, tells the dynamic linker, puts GCC first and installs the libraries' system packages.
    for (const p of plan.fromSource) expect(plan.dockerfile).toContain(`COPY --from=${p.tag} ${p.prefix} ${p.prefix}`);
    expect(plan.dockerfile).toContain(
      `printf '%s\\n' ${gcc!.prefix}/lib64 ${libxml2!.prefix}/lib ${libxslt!.prefix}/lib > /etc/ld.so.conf.d/`,
    );
    expect(plan.dockerfile).toContain(`ENV PATH=/usr/lib/ccache:${gcc!.prefix}/bin:$PATH CC=gcc CXX=g++ FC=gfortran`);
    expect(plan.dockerfile).toMatch(/apt-get install -y --no-install-recommends .*libgcrypt-dev/);
  });

  it('a library with other source bytes gets another image, and so do the recipe images on it', async () => {
    await define('geos', '3.13.1');
    const { read } = await load('build:\n  libraries: [{ name: geos }]\n');
    const before = (await planOf(await read()))!;
    await writeIn(
      dir(),
      'libraries/geos.yaml',
      `version: "3.13.1"\nsources:\n  - url: https://example.org/g.tar.gz\n    sha256: ${'b'.repeat(64)}\nbuild: { cmake: {} }\n`,
    );
    const after = (await planOf(await read()))!;
    expect(after.fromSource[0]!.tag).not.toBe(before.fromSource[0]!.tag);
    expect(after.tag).not.toBe(before.tag);
  });

  it('GCC: a series the definition is not in: library-version-unsatisfied; no definition: unknown-toolchain', async () => {
    const text = 'build:\n  toolchains:\n    gcc: { version: "15" }\n';
    const { file, read } = await load(text, 'numpy');
    const missing = await rejection(read());
    expect(missing.code).toBe('unknown-toolchain');
    expect(missing.message).toContain(`${displayPath(file)}:3 asks for toolchain \`gcc\`, which has no definition`);
    await writeIn(
      dir(),
      'toolchains/gcc.yaml',
      `version: "14.2.0"\nsources:\n  - url: https://example.org/gcc.tar.gz\n    sha256: ${SHA256}\nbuild: { script: make }\n`,
    );
    const old = await rejection(read());
    expect(old.code).toBe('library-version-unsatisfied');
    expect(old.message).toBe(
      `${displayPath(file)}:3 asks for gcc >=15,<16, ${displayPath(join(dir(), 'toolchains', 'gcc.yaml'))}:1 has 14.2.0`,
    );
  });

  it('the schema refuses a request that is not a name and an optional version, naming file, line and field', async () => {
    const cases: [string, string, string, string][] = [
      ['build:\n  libraries: geos\n', 'libraries', 'build.libraries', 'expected a list, like `[{ name: geos, version: ">=3.10" }]`'],
      ['build:\n  libraries:\n    - name: GEOS\n', 'GEOS', 'build.libraries[0].name', 'expected a library name like `geos` or `libxml2`'],
      [
        'build:\n  libraries:\n    - { name: geos, min: "3.10" }\n',
        'min',
        'build.libraries[0]',
        'unknown key `min`: expected one of name, version',
      ],
      [
        'build:\n  libraries:\n    - { name: geos, version: "" }\n',
        'version',
        'build.libraries[0].version',
        'expected a version constraint, like `">=3.10"`, got an empty string',
      ],
    ];
    for (const [text, line, field, message] of cases) {
      const { file, read } = await load(text);
      const error = await rejection(read());
      expect(error.code).toBe('bad-recipe');
      expect(error.message).toContain(`${where(file, lineOf(text, line), field)} ${message}`);
    }
  });

  it('an unknown library: unknown-library, naming the recipe file and line and the definitions there are', async () => {
    await define('geos', '3.13.1');
    const text = 'python: ">=3.11"\nbuild:\n  libraries:\n    - name: geos\n    - name: openblas\n';
    const { file, read } = await load(text, 'numpy');
    const error = await rejection(read());
    expect(error.code).toBe('unknown-library');
    expect(error.message).toBe(
      `${displayPath(file)}:${lineOf(text, 'openblas')} asks for library \`openblas\`, which has no definition: no ${displayPath(join(dir(), 'libraries', 'openblas.yaml'))} (${displayPath(join(dir(), 'libraries'))} defines geos)`,
    );
  });

  it('a version the definition does not satisfy: library-version-unsatisfied, naming the recipe line and the definition', async () => {
    await define('openblas', '0.3.21');
    const text = 'build:\n  libraries:\n    - { name: openblas, version: ">=0.3.28" }\n';
    const { file, read } = await load(text, 'numpy');
    const error = await rejection(read());
    expect(error.code).toBe('library-version-unsatisfied');
    expect(error.message).toBe(
      `${displayPath(file)}:3 asks for openblas >=0.3.28, ${displayPath(join(dir(), 'libraries', 'openblas.yaml'))}:1 has 0.3.21`,
    );
  });

  it('a constraint that is not one: bad-library-version, naming the recipe file, line and field', async () => {
    await define('geos', '3.13.1');
    const text = 'build:\n  env: { A: "1" }\n  libraries:\n    - name: geos\n      version: "~=3.10"\n';
    const { file, read } = await load(text);
    const error = await rejection(read());
    expect(error.code).toBe('bad-library-version');
    expect(error.message).toContain(
      `${displayPath(file)}:${lineOf(text, 'name: geos')}: \`build.libraries[0].version\`: \`~=3.10\` is not a library version constraint`,
    );
  });

  it('a library whose definitions loop: library-cycle', async () => {
    await define('a', '1', 'depends: [{ name: b }]\n');
    await define('b', '1', 'depends: [{ name: a }]\n');
    const { read } = await load('build:\n  libraries: [{ name: a }]\n');
    const error = await rejection(read());
    expect(error.code).toBe('library-cycle');
    expect(error.message).toMatch(/^library definitions depend on each other in a loop: a -> b -> a \(/);
  });
});

describe('recipes lint with build.libraries', () => {
  it('fails a recipe asking for an unknown or too old library with its code, naming the recipe file and line; passes the others', async () => {
    await define('geos', '3.13.1');
    await writeIn(dir(), 'shapely.yaml', 'build:\n  libraries: [{ name: geos, version: ">=3.10" }]\n');
    await writeIn(dir(), 'numpy.yaml', 'build:\n  libraries:\n    - name: openblas\n');
    await writeIn(dir(), 'old.yaml', 'build:\n  libraries:\n    - { name: geos, version: ">=3.14" }\n');
    const results: { payload: { type: string; [key: string]: unknown }; text: string[] }[] = [];
    const reporter: Reporter = { event: () => {}, result: (payload, text) => results.push({ payload, text }) };
    const env = { settings: { recipesDir: dir() }, reporter, context: undefined } as unknown as CommandEnvironment;
    expect(await runRecipesLint(env, [])).toBe(EXIT.usage);
    const payload = results[0]!.payload as unknown as {
      results: { name: string; ok: boolean; error?: { code: string; message: string } }[];
    };
    expect(payload.results.map((r) => [r.name, r.ok, r.error?.code])).toEqual([
      ['numpy', false, 'unknown-library'],
      ['old', false, 'library-version-unsatisfied'],
      ['shapely', true, undefined],
    ]);
    const text = results[0]!.text.join('\n');
    expect(text).toContain(`${displayPath(join(dir(), 'numpy.yaml'))}:3 asks for library \`openblas\`, which has no definition`);
    expect(text).toContain(`${displayPath(join(dir(), 'old.yaml'))}:3 asks for geos >=3.14`);
    const { problems } = await loadAllRecipes(dir());
    expect(problems.map((p) => p.error.code)).toEqual(['unknown-library', 'library-version-unsatisfied']);
  });
});
