import { readFile } from 'node:fs/promises';
import { displayPath } from '../display-path.ts';
import type { Recipe } from '../recipe.ts';
import type { LibraryDefinition, LibraryRequest } from './library-definition.ts';
import { parseLibraryVersion } from './library-version.ts';
import { resolveLibraries } from './resolve-libraries.ts';
import { formatPath, yamlLocator } from '../../config/yaml-file.ts';

/** What a recipe builds from pinned source: its toolchains (GCC) and its native libraries, dependencies first. */
export interface RecipeFromSource {
  toolchains: LibraryDefinition[];
  libraries: LibraryDefinition[];
}

/**
 * The toolchains (`build.toolchains.gcc`) and libraries (`build.libraries`) a recipe file asks for,
 * resolved against `recipes/toolchains/` and `recipes/libraries/`, each request named in errors by
 * the recipe's file and line (`recipes/numpy.yaml:7`). Nothing is read when it asks for none.
 * Throws what resolveLibraries throws.
 */
export async function checkRecipeLibraries({
  file,
  recipesDir,
  build,
}: {
  file: string | undefined;
  recipesDir: string;
  build: Pick<Recipe['build'], 'libraries' | 'toolchains'>;
}): Promise<RecipeFromSource> {
  const gcc = build.toolchains.gcc;
  if (file === undefined || (build.libraries.length === 0 && !gcc)) return { toolchains: [], libraries: [] };
  const shown = displayPath(file);
  const at = yamlLocator(await readFile(file, 'utf8'), shown);
  const requests = build.libraries.map(({ name, version }, i): LibraryRequest => {
    const path = ['build', 'libraries', i];
    return { name, version, where: at(path), field: formatPath(path) };
  });
  const gccPath = ['build', 'toolchains', 'gcc'];
  const gccRequest = { name: 'gcc', version: seriesConstraint(gcc?.version), where: at(gccPath), field: formatPath(gccPath) };
  return {
    toolchains: gcc ? await resolveLibraries(recipesDir, [gccRequest], shown, 'toolchain') : [],
    libraries: await resolveLibraries(recipesDir, requests, shown),
  };
}

/** A toolchain's version as written: a bare `14` or `14.2` is that series (`>=14,<15`); anything else is a constraint. */
export function seriesConstraint(version: string | undefined): string | undefined {
  const numbers = version === undefined ? undefined : parseLibraryVersion(version);
  if (!numbers) return version;
  const next = [...numbers.slice(0, -1), numbers.at(-1)! + 1];
  return `>=${numbers.join('.')},<${next.join('.')}`;
}
