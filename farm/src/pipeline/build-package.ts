import PQueue from 'p-queue';
import { UserInputError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import { effectivePolicy, pythonTag } from '../images/image-definitions.ts';
import { pythonDir } from '../images/render-dockerfile.ts';
import { loadRecipe } from '../recipes/load-recipe.ts';
import { isProcessAlive } from '../runtime/sweep-containers.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { formatBuildId } from '../wheels/build-id.ts';
import type { PythonSelection } from '../wheels/select-pythons.ts';
import { selectPythons } from '../wheels/select-pythons.ts';
import type { CellResult } from './build-cell.ts';
import { buildInputs } from './build-inputs.ts';
import { buildCell } from './build-cell.ts';
import type { CellPlan } from './cell-plan.ts';
import type { PackageSpec } from './parse-package-spec.ts';
import { prepareImages } from './prepare-images.ts';
import { prepareRecipeImage } from './prepare-recipe-image.ts';
import type { ResolvedSource } from './resolve-source.ts';
import { fetchSource, resolveSource } from './resolve-source.ts';

/**
 * `wheelfarm build NAME[==VERSION]`: recipe -> resolve -> fetch -> prepare images (build, runtime,
 * recipe) -> one cell per selected Python, `jobs` at a time.
 */
export async function buildPackage(
  context: FarmContext,
  { spec, pythons, jobs, rebuild = false }: { spec: PackageSpec; pythons?: string[]; jobs: number; rebuild?: boolean },
): Promise<CellResult[]> {
  await context.records().abandonOrphans(isProcessAlive);
  const recipe = await loadRecipe({ recipesDir: context.settings.recipesDir, name: spec.name });
  const source = await resolveSource(context, spec, recipe);
  const sdist = await fetchSource(context, source);
  const { plan: images, prepared } = await prepareImages(context);
  const { definitions } = prepared.loaded;
  const available = new Map(definitions.pythons.map((p) => [p.version.split('.').slice(0, 2).join('.'), p]));
  const requested = pythons ?? [...available.keys()];
  const unknown = requested.filter((p) => !available.has(p));
  if (unknown.length > 0) {
    throw new UserInputError('python-not-in-image', `the build image has no Python ${unknown.join(', ')}`, {
      hint: `choose from ${[...available.keys()].join(', ')}, or add a CPython to ${prepared.loaded.file}`,
    });
  }
  const selection = choosePythons(requested, recipe, source);
  const buildImage = selection.selected.length > 0 ? await prepareRecipeImage(context, { prepared, buildImage: images.build.tag, recipe }) : images.build.tag;
  const upstream = await context.upstreamIndex();
  const inputs = await buildInputs({ source, recipe, image: buildImage });
  const plans: CellPlan[] = selection.selected.map((python) => {
    const pythonSource = available.get(python)!;
    const cell = { name: source.name, version: source.version, python: pythonTag(pythonSource), platform: effectivePolicy(definitions) };
    return {
      cell,
      buildId: formatBuildId(cell),
      pythonDir: pythonDir(pythonSource),
      sdist: { filename: sdist.filename, path: sdist.path, ...(source.requiresPython ? { requiresPython: source.requiresPython } : {}) },
      images: { build: buildImage, runtime: images.runtime.tag },
      user: definitions.user,
      upstreamIndexUrl: upstream.url,
      recipe,
      inputs,
      rebuild,
    };
  });
  context.emit({ type: 'planned', buildIds: plans.map((p) => p.buildId), skipped: selection.skipped });
  const queue = new PQueue({ concurrency: jobs });
  // allSettled: on Ctrl-C every cell must finish removing its containers before we report.
  const settled = await Promise.allSettled(plans.map((plan) => queue.add(() => buildCell(context, plan)) as Promise<CellResult>));
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<CellResult>).value);
}

/** The requested Pythons the recipe's `python` and the package's requires-python both admit. */
function choosePythons(requested: string[], recipe: Recipe, source: ResolvedSource): PythonSelection {
  const byRecipe = recipe.python
    ? relabel(selectPythons({ requested, requiresPython: recipe.python }), `recipe python ${recipe.python}`)
    : { selected: requested, skipped: [] };
  const byPackage = selectPythons({ requested: byRecipe.selected, ...(source.requiresPython ? { requiresPython: source.requiresPython } : {}) });
  return { selected: byPackage.selected, skipped: [...byRecipe.skipped, ...byPackage.skipped] };
}

function relabel(selection: PythonSelection, reason: string): PythonSelection {
  return { selected: selection.selected, skipped: selection.skipped.map((s) => ({ ...s, reason })) };
}
