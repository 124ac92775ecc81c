import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserInputError } from '../errors.ts';
import { isValidProjectName, normalizeName } from '../wheels/names.ts';
import { displayPath } from './display-path.ts';

/** One `*.yaml` / `*.yml` file at the top of the recipes folder (subfolders hold patches). */
export interface RecipeFileEntry {
  /** Absolute path. */
  file: string;
  /** The file name, e.g. `PyYAML.yaml`. */
  fileName: string;
  /** The package it is for: the normalized stem, e.g. `pyyaml`; undefined when the stem is no project name. */
  name: string | undefined;
  /** The name builds look the recipe up by: `<normalized name>.yaml`. */
  expectedFileName: string | undefined;
}

const RECIPE_EXTENSION = /\.ya?ml$/;

/** The recipe files in the folder, sorted by file name; none when the folder does not exist. */
export async function listRecipeFiles(recipesDir: string): Promise<RecipeFileEntry[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(recipesDir, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    throw new UserInputError('bad-recipes-dir', `cannot read the recipes folder ${recipesDir}: ${(error as Error).message}`, {
      cause: error,
      hint: 'set `recipes.dir` in wheelfarm.yaml or WHEELFARM_RECIPES_DIR to a readable folder',
    });
  }
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.') && RECIPE_EXTENSION.test(entry.name))
    .map((entry) => entry.name)
    .sort()
    .map((fileName) => {
      const stem = fileName.replace(RECIPE_EXTENSION, '');
      const name = isValidProjectName(stem) ? normalizeName(stem) : undefined;
      return { file: join(recipesDir, fileName), fileName, name, expectedFileName: name === undefined ? undefined : `${name}.yaml` };
    });
}

/** Whether builds find this file: its name is `<normalized name>.yaml` exactly. */
export function isWellNamed(entry: RecipeFileEntry): boolean {
  return entry.fileName === entry.expectedFileName;
}

/** The error for a recipe file builds would never find, saying what to rename it to. */
export function misnamedRecipeError(entry: RecipeFileEntry, recipesDir: string, siblings: RecipeFileEntry[]): UserInputError {
  const here = displayPath(entry.file);
  if (entry.name === undefined || entry.expectedFileName === undefined) {
    return new UserInputError('misnamed-recipe', `${here}: \`${entry.fileName.replace(RECIPE_EXTENSION, '')}\` is not a project name`, {
      hint: 'name a recipe file after its package, normalized: lower case, runs of `-`, `_`, `.` become `-`, ending in `.yaml` (e.g. `pyyaml.yaml`)',
    });
  }
  const target = displayPath(join(recipesDir, entry.expectedFileName));
  const hint = `builds of ${entry.name} look only for ${target} (PEP 503 normalized name: lower case, runs of \`-\`, \`_\`, \`.\` become \`-\`)`;
  if (siblings.some((sibling) => sibling !== entry && sibling.fileName === entry.expectedFileName)) {
    return new UserInputError(
      'misnamed-recipe',
      `${here} duplicates ${target} (both are for ${entry.name}): merge it into ${target} and delete it`,
      { hint },
    );
  }
  return new UserInputError(
    'misnamed-recipe',
    `${here}: recipe files are named after the normalized project name: rename ${here} to ${target}`,
    { hint },
  );
}
