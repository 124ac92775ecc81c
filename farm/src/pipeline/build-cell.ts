import { rm } from 'node:fs/promises';
import { BuildStepError, InterruptedError, interruption, PublishConflictError, WheelfarmError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import { BuildLog } from '../records/build-log.ts';
import type { BuildRequirement } from '../records/build-records.ts';
import { servesSeveralPythons } from '../wheels/python-tags.ts';
import { readWheelContents } from '../wheels/wheel-contents.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';
import { buildAndRepairWheel, stagingDirFor } from './build-wheel.ts';
import type { CellPlan } from './cell-plan.ts';
import type { CellOutcome } from './events.ts';
import { decideCellState, describeChange } from './cell-state.ts';
import { detectEngineLoss } from './detect-engine-loss.ts';
import { timeStep } from './run-step.ts';
import { testWheel } from './test-wheel.ts';
import { withWorkVolume } from './with-container.ts';

export interface CellResult {
  buildId: string;
  outcome: CellOutcome;
  seconds: number;
  wheel?: string;
  reason?: string;
  log?: string;
  error?: WheelfarmError;
}

/**
 * One cell, start to end: skip it if the index already serves its wheel built from the same
 * inputs; otherwise build and repair (with the next build tag when the served wheel is stale),
 * test in the runtime image, publish. The build record is written at the start and at the end.
 * Never throws for a failed build (the result says so); rethrows only an interruption. A cell whose
 * engine went away under it ends with an EngineLostError and no `cell` event: its caller decides
 * whether it runs again (build-package.ts, run-matrix.ts).
 */
export async function buildCell(context: FarmContext, basePlan: CellPlan): Promise<CellResult> {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const records = context.records();
  const state = decideCellState({
    files: await context.publisher.listFiles(basePlan.cell.name),
    cell: basePlan.cell,
    record: await records.latestDone(basePlan.buildId, context.indexId),
    inputs: basePlan.inputs,
    rebuild: basePlan.rebuild,
  });
  if (state.state === 'built') {
    return report(context, {
      buildId: basePlan.buildId,
      outcome: 'skipped',
      seconds: seconds(),
      wheel: state.wheel.filename,
      reason: 'already in the index',
    });
  }
  const plan: CellPlan = state.state === 'stale' ? { ...basePlan, buildTag: state.buildTag } : basePlan;
  const rebuilt = state.state === 'stale' ? `rebuilt with build tag ${state.buildTag}: ${describeChange(state.changed)}` : undefined;
  const log = await BuildLog.open({ home: context.settings.home, buildId: plan.buildId });
  const stagingDir = stagingDirFor(context.settings.home, plan.buildId);
  const recordId = await records.begin({
    buildId: plan.buildId,
    cell: plan.cell,
    index: context.indexId,
    inputs: plan.inputs,
    buildTag: plan.buildTag,
    log: log.path,
  });
  log.note(`build ${plan.buildId} from ${plan.sdist.filename} in ${plan.images.build} (record ${recordId})`);
  if (state.state === 'stale') log.note(`${state.wheel.filename} is stale: ${rebuilt}`);
  // Past the containers (publishing runs on this machine), a failure is never the engine's.
  let containersDone = false;
  let tested: { wheel: { name: string; sha256: string }; requires: BuildRequirement[] | undefined } | undefined;
  try {
    // Build, repair and test share the cell's work volume; it is gone before the wheel is published.
    const { wheel, requires, contents } = await withWorkVolume(context, plan.buildId, async (work) => {
      const built = await buildAndRepairWheel(context, { plan, log, stagingDir, work });
      const wheelContents = await readWheelContents(built.wheel.path);
      await testWheel(context, { plan, wheel: built.wheel, imports: plan.recipe.test.imports ?? wheelContents.topLevelModules, log, work });
      return { ...built, contents: wheelContents };
    });
    containersDone = true;
    tested = { wheel, requires };
    const outcome = await timeStep(context, { buildId: plan.buildId, step: 'publish', log }, () =>
      publish(context, { plan, wheel, requiresPython: contents.requiresPython }),
    );
    await records.finish(recordId, {
      state: outcome,
      steps: log.steps,
      wheel: wheel.name,
      wheelSha256: wheel.sha256,
      ...(requires ? { requires } : {}),
    });
    return report(context, {
      buildId: plan.buildId,
      outcome,
      seconds: seconds(),
      wheel: wheel.name,
      log: log.path,
      ...(rebuilt ? { reason: rebuilt } : {}),
    });
  } catch (error) {
    if (error instanceof InterruptedError || context.signal.aborted) {
      await records.finish(recordId, { state: 'interrupted', steps: log.steps });
      throw interruption(context.signal);
    }
    const lost = containersDone ? undefined : await detectEngineLoss(context, { buildId: plan.buildId, error });
    if (lost) {
      // Not the build's failure: the caller runs the cell again once the engine answers, so no cell event.
      log.note(`${lost.message}: this attempt ends here, the cell runs again from the start`);
      await records.finish(recordId, { state: 'failed', steps: log.steps, error: lost.message });
      return { buildId: plan.buildId, outcome: 'failed', seconds: seconds(), log: log.path, error: lost };
    }
    const wrapped =
      error instanceof WheelfarmError
        ? error
        : new WheelfarmError('internal-error', `${plan.buildId}: ${(error as Error).message}`, { cause: error });
    if (tested && wrapped.listedWheel === tested.wheel.name) {
      // The index lists the wheel (stored, in its manifest); only its pages are owed, and the next
      // run writes them before anything else. The record says what the index holds; the cell still
      // fails, so the run's exit status says the disk or the storage gave out.
      log.note(`${tested.wheel.name} is stored and listed in the index; its pages are owed: ${wrapped.message}`);
      await records.finish(recordId, {
        state: 'published',
        steps: log.steps,
        wheel: tested.wheel.name,
        wheelSha256: tested.wheel.sha256,
        ...(tested.requires ? { requires: tested.requires } : {}),
      });
    } else {
      await records.finish(recordId, { state: 'failed', steps: log.steps, error: wrapped.message });
    }
    return report(context, { buildId: plan.buildId, outcome: 'failed', seconds: seconds(), log: log.path, error: wrapped });
  } finally {
    await log.close();
    await rm(stagingDir, { recursive: true, force: true });
  }
}

async function publish(
  context: FarmContext,
  {
    plan,
    wheel,
    requiresPython,
  }: { plan: CellPlan; wheel: { name: string; path: string; sha256: string }; requiresPython: string | undefined },
): Promise<'published' | 'unchanged'> {
  try {
    return await context.publisher.publish({
      path: wheel.path,
      filename: wheel.name,
      sha256: wheel.sha256,
      project: plan.cell.name,
      ...(requiresPython ? { requiresPython } : {}),
    });
  } catch (error) {
    // Every cell of a pure or abi3 package makes the same file: the first one published wins.
    if (error instanceof PublishConflictError && servesSeveralPythons(parseWheelFilename(wheel.name))) return 'unchanged';
    throw error;
  }
}

function report(context: FarmContext, result: CellResult): CellResult {
  const { error } = result;
  context.emit({
    type: 'cell',
    buildId: result.buildId,
    outcome: result.outcome,
    seconds: result.seconds,
    ...(result.wheel ? { wheel: result.wheel } : {}),
    ...(result.reason ? { reason: result.reason } : {}),
    ...(result.log ? { log: result.log } : {}),
    ...(error
      ? {
          error: {
            code: error.code,
            message: error.message,
            ...(error.hint ? { hint: error.hint } : {}),
            ...(error instanceof BuildStepError ? { logTail: error.logTail } : {}),
          },
        }
      : {}),
  });
  return result;
}
