import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAllRecipes } from '../../../farm/src/recipes/load-all-recipes.ts';

const RECIPES_DIR = resolve(import.meta.dirname, '..', '..', '..', 'recipes');

describe('the recipes in the repository', () => {
  it('all load without problems', async () => {
    const { recipes, problems } = await loadAllRecipes(RECIPES_DIR);
    expect(problems.map(({ error }) => `${error.message}\nhint: ${error.hint}`)).toEqual([]);
    const files = (await readdir(RECIPES_DIR).catch(() => [] as string[])).filter((name) => /\.ya?ml$/.test(name) && !name.startsWith('.'));
    expect(recipes.map((recipe) => recipe.file).sort()).toEqual(files.map((name) => join(RECIPES_DIR, name)).sort());
  });
});
