import { readFile } from 'node:fs/promises';
import { displayPath } from '../display-path.ts';
import type { Recipe } from '../recipe.ts';
import type { LibraryDefinition } from './library-definition.ts';
import { resolveLibraries } from './resolve-libraries.ts';
import { formatPath, yamlLocator } from '../../config/yaml-file.ts';

/**
 * The libraries a recipe file's `build.libraries` asks for, resolved (dependencies first), each
 * request named in errors by the recipe's file and line (`recipes/numpy.yaml:7`). Nothing is read
 * when it asks for none. Throws what resolveLibraries throws.
 */
export async function checkRecipeLibraries({
  file,
  recipesDir,
  libraries,
}: {
  file: string;
  recipesDir: string;
  libraries: Recipe['build']['libraries'];
}): Promise<LibraryDefinition[]> {
  if (libraries.length === 0) return [];
  const shown = displayPath(file);
  const at = yamlLocator(await readFile(file, 'utf8'), shown);
  const requests = libraries.map(({ name, version }, i) => {
    const path = ['build', 'libraries', i];
    return { name, version, where: at(path), field: formatPath(path) };
  });
  return resolveLibraries(recipesDir, requests, shown);
}
