import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAllRecipes } from '../../../farm/src/recipes/load-all-recipes.ts';
import { loadRecipe } from '../../../farm/src/recipes/load-recipe.ts';
import { defaultRecipe } from '../../../farm/src/recipes/recipe.ts';
import { displayPath } from '../../../farm/src/recipes/display-path.ts';
import { SHA256, lineOf, rejection, useRecipesDir, where, writeIn } from './helpers.ts';

const dir = useRecipesDir();

describe('defaultRecipe', () => {
  it('builds from the index with nothing extra', () => {
    expect(defaultRecipe('Py_YAML')).toEqual({
      name: 'py-yaml',
      file: undefined,
      source: { kind: 'index' },
      patches: [],
      build: {
        system: { apt: [], dnf: [] },
        toolchains: {},
        env: {},
        configSettings: {},
        before: undefined,
        debugInfo: 'strip',
        network: undefined,
        libraries: [],
      },
      limits: { memory: undefined, cpus: undefined, timeout: undefined },
      repair: { exclude: [] },
      test: { imports: undefined, requires: [], command: undefined },
      python: undefined,
      versions: undefined,
      latest: undefined,
      detectToolchains: true,
    });
  });

  it('returns a fresh object each time', () => {
    const a = defaultRecipe('x');
    a.build.system.apt.push('changed');
    expect(defaultRecipe('x').build.system.apt).toEqual([]);
  });
});

describe('loadRecipe', () => {
  it('gives the defaults to a package without a recipe', async () => {
    await writeIn(dir(), 'other.yaml', 'python: ">=3.11"\n');
    expect(await loadRecipe({ recipesDir: dir(), name: 'markupsafe' })).toEqual(defaultRecipe('markupsafe'));
  });

  it('gives the defaults when the recipes folder does not exist', async () => {
    expect(await loadRecipe({ recipesDir: join(dir(), 'missing'), name: 'numpy' })).toEqual(defaultRecipe('numpy'));
  });

  it('finds the recipe under the normalized name of any spelling', async () => {
    await writeIn(dir(), 'py-yaml.yaml', 'python: ">=3.12"\n');
    for (const name of ['py-yaml', 'Py_YAML', 'py.yaml', 'PY--yaml']) {
      const recipe = await loadRecipe({ recipesDir: dir(), name });
      expect(recipe.name).toBe('py-yaml');
      expect(recipe.file).toBe(join(dir(), 'py-yaml.yaml'));
      expect(recipe.python).toBe('>=3.12');
    }
  });

  it('refuses a recipe file under a name builds would not look for, saying what to rename it to', async () => {
    await writeIn(dir(), 'PyYAML.yaml', 'python: ">=3.12"\n');
    const error = await rejection(loadRecipe({ recipesDir: dir(), name: 'pyyaml' }));
    expect(error.code).toBe('misnamed-recipe');
    expect(error.message).toContain(`rename ${displayPath(join(dir(), 'PyYAML.yaml'))} to ${displayPath(join(dir(), 'pyyaml.yaml'))}`);
  });

  it('refuses a .yml recipe', async () => {
    await writeIn(dir(), 'numpy.yml', '{}\n');
    const error = await rejection(loadRecipe({ recipesDir: dir(), name: 'numpy' }));
    expect(error.message).toContain(`rename ${displayPath(join(dir(), 'numpy.yml'))} to ${displayPath(join(dir(), 'numpy.yaml'))}`);
  });

  it('uses the well-named file when a misnamed duplicate exists too', async () => {
    await writeIn(dir(), 'py-yaml.yaml', 'python: ">=3.12"\n');
    await writeIn(dir(), 'py_yaml.yaml', 'python: ">=3.9"\n');
    expect((await loadRecipe({ recipesDir: dir(), name: 'py_yaml' })).python).toBe('>=3.12');
  });

  it('rejects a package name that is no project name (no path tricks)', async () => {
    const error = await rejection(loadRecipe({ recipesDir: dir(), name: '../etc/passwd' }));
    expect(error.code).toBe('bad-package-name');
  });

  it('resolves patches relative to the recipes folder, in order', async () => {
    await writeIn(dir(), 'demo/b.patch', '');
    await writeIn(dir(), 'a.patch', '');
    const recipe = await (async () => {
      await writeIn(dir(), 'demo.yaml', 'source:\n  patches:\n    - demo/b.patch\n    - a.patch\n');
      return loadRecipe({ recipesDir: dir(), name: 'demo' });
    })();
    expect(recipe.patches).toEqual([join(dir(), 'demo/b.patch'), join(dir(), 'a.patch')]);
  });

  it('reports a missing patch with the recipe file, line, field and the path it looked for', async () => {
    await writeIn(dir(), 'numpy/present.patch', '');
    const text = 'source:\n  patches:\n    - numpy/present.patch\n    - numpy/fix-blas.patch\n';
    const file = await writeIn(dir(), 'numpy.yaml', text);
    const error = await rejection(loadRecipe({ recipesDir: dir(), name: 'numpy' }));
    expect(error.code).toBe('bad-recipe');
    expect(error.message).toContain(
      `${where(file, lineOf(text, 'fix-blas'), 'source.patches[1]')} patch not found: ${join(dir(), 'numpy/fix-blas.patch')}`,
    );
    expect(error.message).not.toContain('patches[0]');
  });

  it('reports a patch path that is a folder as missing', async () => {
    await writeIn(dir(), 'numpy/sub/x', '');
    const file = await writeIn(dir(), 'numpy.yaml', 'source:\n  patches: [numpy/sub]\n');
    const error = await rejection(loadRecipe({ recipesDir: dir(), name: 'numpy' }));
    expect(error.message).toContain(`${where(file, 2, 'source.patches[0]')} patch not found`);
  });

  it('reports YAML syntax errors as bad-recipe with the line', async () => {
    const file = await writeIn(dir(), 'demo.yaml', 'build:\n  env: { A: "1"\n');
    const error = await rejection(loadRecipe({ recipesDir: dir(), name: 'demo' }));
    expect(error.code).toBe('bad-recipe');
    expect(error.message).toMatch(
      new RegExp(`^${displayPath(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+: the recipe is not valid YAML`),
    );
  });
});

describe('loadAllRecipes', () => {
  it('returns nothing for a missing folder', async () => {
    expect(await loadAllRecipes(join(dir(), 'missing'))).toEqual({ recipes: [], problems: [] });
  });

  it('loads every valid recipe and collects every problem, not only the first', async () => {
    await writeIn(dir(), 'numpy.yaml', 'python: ">=3.11"\n');
    await writeIn(dir(), 'scipy.yaml', `source:\n  url: https://example.org/scipy-1.0.tar.gz\n  sha256: ${SHA256}\n`);
    await writeIn(dir(), 'bad-spec.yaml', 'versions: "=>2"\n');
    await writeIn(dir(), 'no-sha.yaml', 'source:\n  url: https://example.org/x.tar.gz\n');
    await writeIn(dir(), 'PyYAML.yaml', 'python: ">=3.11"\n');
    await writeIn(dir(), 'Both_Wrong.yaml', 'build:\n  toolchains:\n    go: {}\n');
    await writeIn(dir(), 'README.md', '# not a recipe\n');
    await writeIn(dir(), 'numpy/fix.patch', '');
    const { recipes, problems } = await loadAllRecipes(dir());
    expect(recipes.map((r) => r.name)).toEqual(['numpy', 'scipy']);
    expect(recipes[1]!.source).toEqual({ kind: 'url', url: 'https://example.org/scipy-1.0.tar.gz', sha256: SHA256 });
    const summary = problems.map((p) => [p.file.slice(dir().length + 1), p.name, p.error.code]);
    expect(summary).toEqual([
      ['Both_Wrong.yaml', 'both-wrong', 'misnamed-recipe'],
      ['Both_Wrong.yaml', 'both-wrong', 'bad-recipe'],
      ['PyYAML.yaml', 'pyyaml', 'misnamed-recipe'],
      ['bad-spec.yaml', 'bad-spec', 'bad-recipe'],
      ['no-sha.yaml', 'no-sha', 'bad-recipe'],
    ]);
    expect(problems[1]!.error.message).toContain('unknown toolchain `go`');
    expect(problems[2]!.error.message).toContain(
      `rename ${displayPath(join(dir(), 'PyYAML.yaml'))} to ${displayPath(join(dir(), 'pyyaml.yaml'))}`,
    );
    expect(problems[3]!.error.message).toContain('`versions`: `=>2` is not a PEP 440 specifier');
    expect(problems[4]!.error.message).toContain('a URL source needs `sha256`');
  });

  it('names a duplicate of a well-named recipe as such', async () => {
    await writeIn(dir(), 'py-yaml.yaml', '{}\n');
    await writeIn(dir(), 'py_yaml.yaml', '{}\n');
    const { recipes, problems } = await loadAllRecipes(dir());
    expect(recipes.map((r) => r.file)).toEqual([join(dir(), 'py-yaml.yaml')]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.error.code).toBe('misnamed-recipe');
    expect(problems[0]!.error.message).toContain(`duplicates ${displayPath(join(dir(), 'py-yaml.yaml'))}`);
  });

  it('reports a file whose name is no project name', async () => {
    await writeIn(dir(), 'my recipe.yaml', '{}\n');
    const { problems } = await loadAllRecipes(dir());
    expect(problems.map((p) => [p.name, p.error.code])).toEqual([[undefined, 'misnamed-recipe']]);
    expect(problems[0]!.error.message).toContain('`my recipe` is not a project name');
  });

  it('limits itself to the named packages', async () => {
    await writeIn(dir(), 'numpy.yaml', '{}\n');
    await writeIn(dir(), 'broken.yaml', 'nope: 1\n');
    await writeIn(dir(), 'PyYAML.yaml', '{}\n');
    const some = await loadAllRecipes(dir(), { names: ['NumPy', 'pyyaml'] });
    expect(some.recipes.map((r) => r.name)).toEqual(['numpy']);
    expect(some.problems.map((p) => p.name)).toEqual(['pyyaml']);
  });
});
