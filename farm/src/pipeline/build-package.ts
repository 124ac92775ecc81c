import PQueue from 'p-queue';
import { EngineLostError, EnvironmentError, UserInputError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import { effectivePolicy, pythonTag } from '../images/image-definitions.ts';
import { pythonDir } from '../images/render-dockerfile.ts';
import { loadRecipe } from '../recipes/load-recipe.ts';
import { removeCellLeftovers } from '../runtime/remove-cell-leftovers.ts';
import { waitForEngine } from '../runtime/wait-for-engine.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { formatBuildId } from '../wheels/build-id.ts';
import type { PythonSelection } from '../wheels/select-pythons.ts';
import { selectPythons } from '../wheels/select-pythons.ts';
import type { CellResult } from './build-cell.ts';
import { buildInputs } from './build-inputs.ts';
import { buildCell } from './build-cell.ts';
import { MAX_ENGINE_LOSSES } from './detect-engine-loss.ts';
import type { CellPlan } from './cell-plan.ts';
import type { PackageSpec } from './parse-package-spec.ts';
import { prepareImages } from './prepare-images.ts';
import { prepareRecipeImage } from './prepare-recipe-image.ts';
import { recoverFromCrashes } from './recover-from-crashes.ts';
import type { ResolvedSource } from './resolve-source.ts';
import { fetchSource, resolveSource } from './resolve-source.ts';

/**
 * `wheelfarm build NAME[==VERSION]`: recipe -> resolve -> fetch -> prepare images (build, runtime,
 * recipe) -> one cell per selected Python, `jobs` at a time. A cell whose engine restarts under it
 * runs again once the engine is back.
 */
export async function buildPackage(
  context: FarmContext,
  { spec, pythons, jobs, rebuild = false }: { spec: PackageSpec; pythons?: string[]; jobs: number; rebuild?: boolean },
): Promise<CellResult[]> {
  await recoverFromCrashes(context);
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
  const buildImage =
    selection.selected.length > 0
      ? await prepareRecipeImage(context, { prepared, buildImage: images.build.tag, recipe })
      : images.build.tag;
  const upstreamEnv = await context.upstreamEnv(context.runtime);
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
      upstreamEnv,
      recipe,
      inputs,
      rebuild,
    };
  });
  context.emit({ type: 'planned', buildIds: plans.map((p) => p.buildId), skipped: selection.skipped });
  const queue = new PQueue({ concurrency: jobs });
  const awaitEngine = sharedEngineWait(context);
  // allSettled: on Ctrl-C every cell must finish removing its containers before we report.
  const settled = await Promise.allSettled(
    plans.map((plan) => queue.add(() => buildCellAcrossRestarts(context, plan, awaitEngine)) as Promise<CellResult>),
  );
  const rejected = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (rejected) throw rejected.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<CellResult>).value);
}

/** The local engine, as the matrix names it when there are no `hosts` (see docker-hosts.ts). */
const LOCAL_HOST = 'local';

/**
 * One cell, run again from the start (fresh containers, a new record) each time its engine goes away
 * under it: once the engine answers again and what the lost attempt left there is removed. The
 * lost attempt's record says failed, with why; nothing of it was published.
 */
async function buildCellAcrossRestarts(
  context: FarmContext,
  plan: CellPlan,
  awaitEngine: (reason: string) => Promise<void>,
): Promise<CellResult> {
  for (let losses = 1; ; losses += 1) {
    const result = await buildCell(context, plan);
    if (!(result.error instanceof EngineLostError)) return result;
    if (losses >= MAX_ENGINE_LOSSES) {
      throw new EnvironmentError(
        'engine-unstable',
        `the Docker engine at ${context.runtime.description} went away ${losses} times while ${plan.buildId} was building`,
        {
          cause: result.error,
          hint: 'check why it restarts (its log: `journalctl -u docker`), then run the command again: only what is missing is built',
        },
      );
    }
    await awaitEngine(result.error.message);
    // An engine that goes away again meanwhile: the next attempt finds out, and a later run sweeps what is left.
    await removeCellLeftovers({ runtime: context.runtime, buildIds: [plan.buildId] }).catch(() => undefined);
    context.emit({ type: 'retry', buildId: plan.buildId, reason: result.error.message });
  }
}

/**
 * Waits for the engine to answer again (up to `containers.engine-wait`), once for all the cells
 * that lost it at the same time. Rejects with the EnvironmentError naming the engine when it does not.
 */
function sharedEngineWait(context: FarmContext): (reason: string) => Promise<void> {
  let waiting: Promise<void> | undefined;
  return (reason) =>
    (waiting ??= (async () => {
      const waitSeconds = context.settings.engineWaitSeconds;
      context.emit({ type: 'host', host: LOCAL_HOST, status: 'lost', reason, waitSeconds });
      const { seconds } = await waitForEngine({ runtime: context.runtime, timeoutSeconds: waitSeconds, signal: context.signal });
      context.emit({ type: 'host', host: LOCAL_HOST, status: 'back', seconds: Math.round(seconds * 10) / 10 });
    })().finally(() => (waiting = undefined)));
}

/** The requested Pythons the recipe's `python` and the package's requires-python both admit. */
function choosePythons(requested: string[], recipe: Recipe, source: ResolvedSource): PythonSelection {
  const byRecipe = recipe.python
    ? relabel(selectPythons({ requested, requiresPython: recipe.python }), `recipe python ${recipe.python}`)
    : { selected: requested, skipped: [] };
  const byPackage = selectPythons({
    requested: byRecipe.selected,
    ...(source.requiresPython ? { requiresPython: source.requiresPython } : {}),
  });
  return { selected: byPackage.selected, skipped: [...byRecipe.skipped, ...byPackage.skipped] };
}

function relabel(selection: PythonSelection, reason: string): PythonSelection {
  return { selected: selection.selected, skipped: selection.skipped.map((s) => ({ ...s, reason })) };
}
