import PQueue from 'p-queue';
import { UserInputError, WheelfarmError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import { prepareImageDefinitions } from '../images/ensure-images.ts';
import { applyImageRefresh, readImageRefresh } from '../images/refresh-images.ts';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import { effectivePolicy, pythonTag } from '../images/image-definitions.ts';
import { recipeHash } from '../pipeline/build-inputs.ts';
import { recipeImagePlan } from '../pipeline/prepare-recipe-image.ts';
import type { ResolvedSource } from '../pipeline/resolve-source.ts';
import { indexSource, recipeOwnSource } from '../pipeline/resolve-source.ts';
import { loadAllRecipes } from '../recipes/load-all-recipes.ts';
import { loadRecipe } from '../recipes/load-recipe.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { releasesWithSdists, selectSdist } from '../upstream/select-sdist.ts';
import { fetchProjectFiles } from '../upstream/simple-api-client.ts';
import { normalizeName } from '../wheels/names.ts';
import { chooseReleases } from './choose-releases.ts';
import type { MatrixPackage, MatrixPython, PlanEnvironment } from './plan-matrix.ts';

/** How many upstream pages and index listings are read at once. */
const READ_CONCURRENCY = 8;

/** A package the plan could not include, with why (a bad recipe, an unknown project...). */
export interface MatrixProblem {
  name: string;
  code: string;
  message: string;
  hint?: string;
}

export interface GatheredMatrix {
  packages: MatrixPackage[];
  problems: MatrixProblem[];
  environment: PlanEnvironment;
  prepared: PreparedDefinitions;
  /** Per package (normalized name): the version choice's skipped newer releases, for the plan's readers. */
  skipped: Map<string, { version: string; reason: string }[]>;
}

/**
 * Everything the planner needs, read in parallel and without a container engine: recipes, image
 * tags (hashes of their inputs), upstream release lists, the index's file lists, the build records.
 * A package that cannot be read becomes a problem of its own; the others are planned.
 */
export async function gatherMatrix(
  context: FarmContext,
  { names, now = new Date(), rebuild = false }: { names?: string[]; now?: Date; rebuild?: boolean } = {},
): Promise<GatheredMatrix> {
  const definitions0 = await prepareImageDefinitions(context.settings.imagesDir);
  // The refreshed images, when `images build --refresh` made them: their tags are the cells' image input.
  const prepared = { ...definitions0, plan: applyImageRefresh(definitions0.plan, await readImageRefresh(context.settings.home)) };
  const { definitions } = prepared.loaded;
  const problems: MatrixProblem[] = [];
  const recipes = await loadRecipes(context, names, problems);
  const upstream = recipes.some((r) => r.source.kind === 'index') ? await context.upstreamIndex() : undefined;
  const histories = context.records().histories(context.indexId);
  const queue = new PQueue({ concurrency: READ_CONCURRENCY });
  const skipped = new Map<string, { version: string; reason: string }[]>();
  const gathered = await Promise.all(
    recipes.map(
      (recipe) =>
        queue.add(async (): Promise<MatrixPackage | undefined> => {
          try {
            const [releases, indexFiles, image, hash] = await Promise.all([
              releasesOf(context, recipe, upstream?.url, skipped),
              context.publisher.listFiles(recipe.name),
              recipeImagePlan(context, { prepared, buildImage: prepared.plan.build.tag, recipe }),
              recipeHash(recipe),
            ]);
            return { recipe, releases, indexFiles, image: image?.tag ?? prepared.plan.build.tag, recipeHash: hash };
          } catch (error) {
            if (!(error instanceof WheelfarmError)) throw error;
            problems.push({ name: recipe.name, code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) });
            return undefined;
          }
        }) as Promise<MatrixPackage | undefined>,
    ),
  );
  const available = new Map(definitions.pythons.map((p) => [p.version.split('.').slice(0, 2).join('.'), p]));
  const wanted = context.settings.matrix.pythons ?? [...available.keys()];
  const pythons: MatrixPython[] = wanted.map((minor) => {
    const source = available.get(minor);
    return { minor, tag: source ? pythonTag(source) : `cp${minor.replace('.', '')}`, inImage: source !== undefined };
  });
  return {
    packages: gathered.filter((p): p is MatrixPackage => p !== undefined),
    problems: problems.sort((a, b) => a.name.localeCompare(b.name)),
    environment: {
      pythons,
      platform: effectivePolicy(definitions),
      histories: await histories,
      now,
      retry: context.settings.matrix.retry,
      rebuild,
    },
    prepared,
    skipped,
  };
}

/** Every recipe, or the named packages (with the defaults when a package has no recipe). */
async function loadRecipes(context: FarmContext, names: string[] | undefined, problems: MatrixProblem[]): Promise<Recipe[]> {
  if (names && names.length > 0) {
    const recipes: Recipe[] = [];
    for (const name of [...new Set(names.map(normalizeName))]) {
      try {
        recipes.push(await loadRecipe({ recipesDir: context.settings.recipesDir, name }));
      } catch (error) {
        if (!(error instanceof UserInputError)) throw error;
        problems.push({ name, code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) });
      }
    }
    return recipes;
  }
  const loaded = await loadAllRecipes(context.settings.recipesDir);
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
  context: FarmContext,
  recipe: Recipe,
  indexUrl: string | undefined,
  skipped: Map<string, { version: string; reason: string }[]>,
): Promise<ResolvedSource[]> {
  const own = recipeOwnSource(recipe.name, recipe);
  if (own) return [own];
  const project = await fetchProjectFiles({ indexUrl: indexUrl!, project: recipe.name, signal: context.signal });
  const chosen = chooseReleases(releasesWithSdists(project.name, project.files), recipe, context.settings.matrix);
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
