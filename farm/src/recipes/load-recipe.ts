import { UserInputError } from '../errors.ts';
import { isValidProjectName, normalizeName } from '../wheels/names.ts';
import { readRecipeFile } from './read-recipe-file.ts';
import { defaultRecipe } from './recipe.ts';
import type { Recipe } from './recipe.ts';
import { isWellNamed, listRecipeFiles, misnamedRecipeError } from './recipe-files.ts';

/**
 * The effective recipe of a package: `<recipesDir>/<normalized name>.yaml` with defaults applied,
 * or only the defaults when there is no such file. A file for the same package under another name
 * (`PyYAML.yaml`, `py_yaml.yaml`, `pyyaml.yml`) is an error rather than silently ignored, on every
 * file system, case-insensitive ones included.
 */
export async function loadRecipe({ recipesDir, name }: { recipesDir: string; name: string }): Promise<Recipe> {
  if (!isValidProjectName(name)) {
    throw new UserInputError('bad-package-name', `\`${name}\` is not a project name`, {
      hint: 'write the package name as published, e.g. `numpy` or `PyYAML`',
    });
  }
  const normalized = normalizeName(name);
  const entries = await listRecipeFiles(recipesDir);
  const mine = entries.filter((entry) => entry.name === normalized);
  const exact = mine.find(isWellNamed);
  if (exact) return readRecipeFile({ file: exact.file, name: normalized, recipesDir });
  const misnamed = mine[0];
  if (misnamed) throw misnamedRecipeError(misnamed, recipesDir, entries);
  return defaultRecipe(normalized);
}
