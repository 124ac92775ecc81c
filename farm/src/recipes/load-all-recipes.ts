import { UserInputError } from '../errors.ts';
import { normalizeName } from '../wheels/names.ts';
import { readRecipeFile } from './read-recipe-file.ts';
import type { Recipe } from './recipe.ts';
import { isWellNamed, listRecipeFiles, misnamedRecipeError } from './recipe-files.ts';

export interface RecipeProblem {
  /** Absolute path of the recipe file. */
  file: string;
  /** The package the file is for (its normalized stem); undefined when the stem is no project name. */
  name: string | undefined;
  error: UserInputError;
}

export interface LoadedRecipes {
  /** The recipes builds will use, sorted by file name. */
  recipes: Recipe[];
  /** Everything wrong, file by file; a file may have two (a wrong name and wrong contents). */
  problems: RecipeProblem[];
}

/**
 * Every recipe in the folder (or only those of `names`), for lint: collects all problems instead of
 * stopping at the first.
 */
export async function loadAllRecipes(recipesDir: string, { names }: { names?: string[] } = {}): Promise<LoadedRecipes> {
  const entries = await listRecipeFiles(recipesDir);
  const wanted = names === undefined ? undefined : new Set(names.map(normalizeName));
  const loaded: LoadedRecipes = { recipes: [], problems: [] };
  for (const entry of entries) {
    if (wanted && (entry.name === undefined || !wanted.has(entry.name))) continue;
    const problem = (error: UserInputError) => loaded.problems.push({ file: entry.file, name: entry.name, error });
    if (!isWellNamed(entry)) problem(misnamedRecipeError(entry, recipesDir, entries));
    try {
      const recipe = await readRecipeFile({ file: entry.file, name: entry.name ?? entry.fileName, recipesDir });
      if (isWellNamed(entry)) loaded.recipes.push(recipe);
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      problem(error);
    }
  }
  return loaded;
}
