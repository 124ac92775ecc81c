import PQueue from 'p-queue';
import { UserInputError, WheelfarmError } from '../errors.ts';
import type { ResolvedSource } from '../pipeline/resolve-source.ts';
import { indexSource, recipeOwnSource } from '../pipeline/resolve-source.ts';
import { loadAllRecipes } from '../recipes/load-all-recipes.ts';
import { loadRecipe } from '../recipes/load-recipe.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { releasesWithSdists, selectSdist } from '../upstream/select-sdist.ts';
import { fetchProjectFiles } from '../upstream/simple-api-client.ts';
import { normalizeName } from '../wheels/names.ts';
import { chooseReleases } from './choose-releases.ts';
import { describePackage, planEnvironment, readPreparedDefinitions } from './gather-parts.ts';
import type { GatherDeps, GatheredMatrix, MatrixProblem } from './gather-parts.ts';
import type { MatrixPackage } from './plan-matrix.ts';

/** How many upstream pages and index listings are read at once. */
const READ_CONCURRENCY = 8;

/**
 * Everything the matrix planner needs, read in parallel and without a container engine: recipes,
 * image tags (hashes of their inputs), upstream release lists, the index's file lists, the build
 * records. A package that cannot be read becomes a problem of its own; the others are planned.
 */
export async function gatherMatrix(
  deps: GatherDeps,
  { names, now = new Date(), rebuild = false }: { names?: string[]; now?: Date; rebuild?: boolean } = {},
): Promise<GatheredMatrix> {
  const prepared = await readPreparedDefinitions(deps.settings);
  const problems: MatrixProblem[] = [];
  const recipes = await loadRecipes(deps.settings.recipesDir, names, problems);
  const upstream = recipes.some((r) => r.source.kind === 'index') ? await deps.upstream.index() : undefined;
  // Named packages: their records only (an unnamed matrix plans every recipe, and reads every history).
  const projects = names && names.length > 0 ? names : undefined;
  const environment = planEnvironment(deps, prepared, {
    pythons: deps.settings.matrix.pythons,
    ...(projects ? { projects } : {}),
    now,
    rebuild,
  });
  const queue = new PQueue({ concurrency: READ_CONCURRENCY });
  const skipped = new Map<string, { version: string; reason: string }[]>();
  const gathered = await Promise.all(
    recipes.map(
      (recipe) =>
        queue.add(async (): Promise<MatrixPackage | undefined> => {
          try {
            return await describePackage(deps, prepared, recipe, () => releasesOf(deps, recipe, upstream?.url, skipped));
          } catch (error) {
            if (!(error instanceof WheelfarmError)) throw error;
            problems.push({ name: recipe.name, code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) });
            return undefined;
          }
        }) as Promise<MatrixPackage | undefined>,
    ),
  );
  return {
    packages: gathered.filter((p): p is MatrixPackage => p !== undefined),
    problems: problems.sort((a, b) => a.name.localeCompare(b.name)),
    environment: await environment,
    prepared,
    skipped,
  };
}

/** Every recipe, or the named packages (with the defaults when a package has no recipe). */
async function loadRecipes(recipesDir: string, names: string[] | undefined, problems: MatrixProblem[]): Promise<Recipe[]> {
  if (names && names.length > 0) {
    const recipes: Recipe[] = [];
    for (const name of [...new Set(names.map(normalizeName))]) {
      try {
        recipes.push(await loadRecipe({ recipesDir, name }));
      } catch (error) {
        if (!(error instanceof UserInputError)) throw error;
        problems.push({ name, code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) });
      }
    }
    return recipes;
  }
  const loaded = await loadAllRecipes(recipesDir);
  for (const problem of loaded.problems) {
    problems.push({
      name: problem.name ?? problem.file,
      code: problem.error.code,
      message: problem.error.message,
      ...(problem.error.hint ? { hint: problem.error.hint } : {}),
    });
  }
  return loaded.recipes;
}

async function releasesOf(
  deps: Pick<GatherDeps, 'settings' | 'signal'>,
  recipe: Recipe,
  indexUrl: string | undefined,
  skipped: Map<string, { version: string; reason: string }[]>,
): Promise<ResolvedSource[]> {
  const own = recipeOwnSource(recipe.name, recipe);
  if (own) return [own];
  const project = await fetchProjectFiles({ indexUrl: indexUrl!, project: recipe.name, signal: deps.signal });
  const chosen = chooseReleases(releasesWithSdists(project.name, project.files), recipe, deps.settings.matrix);
  if (chosen.skipped.length > 0) skipped.set(recipe.name, chosen.skipped);
  if (chosen.versions.length === 0) {
    throw new UserInputError('no-release-in-policy', `no release of ${project.name} is kept built: ${describeSkipped(chosen.skipped)}`, {
      hint: `widen \`versions\` in ${recipe.file ?? 'its recipe'}, or set matrix.prereleases: true in the settings`,
    });
  }
  return chosen.versions.map((version) => indexSource(selectSdist({ project: project.name, files: project.files, version }), indexUrl!));
}

function describeSkipped(skipped: { version: string; reason: string }[]): string {
  return skipped.length === 0 ? 'the upstream index has no sdist' : skipped.map((s) => `${s.version} (${s.reason})`).join(', ');
}
