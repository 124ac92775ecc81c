import { rm } from 'node:fs/promises';
import { BuildStepError, InterruptedError, interruption, PublishConflictError, WheelfarmError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import { BuildLog } from '../records/build-log.ts';
import { servesSeveralPythons } from '../wheels/python-tags.ts';
import { readWheelContents } from '../wheels/wheel-contents.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';
import { buildAndRepairWheel, stagingDirFor } from './build-wheel.ts';
import type { CellPlan } from './cell-plan.ts';
import type { CellOutcome } from './events.ts';
import { findPublishedWheel } from './find-published-wheel.ts';
import { timeStep } from './run-step.ts';
import { testWheel } from './test-wheel.ts';

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
 * One cell, start to end: skip it if the index already serves its wheel; otherwise build and
 * repair, test in the runtime image, publish. Never throws for a failed build (the result says
 * so); rethrows only an interruption.
 */
export async function buildCell(context: FarmContext, plan: CellPlan): Promise<CellResult> {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const existing = findPublishedWheel(await context.publisher.listFiles(plan.cell.name), plan.cell);
  if (existing) {
    return report(context, { buildId: plan.buildId, outcome: 'skipped', seconds: seconds(), wheel: existing.filename, reason: 'already in the index' });
  }
  const log = await BuildLog.open({ home: context.settings.home, buildId: plan.buildId });
  const stagingDir = stagingDirFor(context.settings.home, plan.buildId);
  log.note(`build ${plan.buildId} from ${plan.sdist.filename} in ${plan.images.build}`);
  try {
    const wheel = await buildAndRepairWheel(context, { plan, log, stagingDir });
    const contents = await readWheelContents(wheel.path);
    await testWheel(context, { plan, wheel, imports: plan.recipe.test.imports ?? contents.topLevelModules, log });
    const outcome = await timeStep(context, { buildId: plan.buildId, step: 'publish', log }, () =>
      publish(context, { plan, wheel, requiresPython: contents.requiresPython }),
    );
    return report(context, { buildId: plan.buildId, outcome, seconds: seconds(), wheel: wheel.name, log: log.path });
  } catch (error) {
    if (error instanceof InterruptedError || context.signal.aborted) throw interruption(context.signal);
    const wrapped =
      error instanceof WheelfarmError
        ? error
        : new WheelfarmError('internal-error', `${plan.buildId}: ${(error as Error).message}`, { cause: error });
    return report(context, { buildId: plan.buildId, outcome: 'failed', seconds: seconds(), log: log.path, error: wrapped });
  } finally {
    await log.close();
    await rm(stagingDir, { recursive: true, force: true });
  }
}

async function publish(
  context: FarmContext,
  { plan, wheel, requiresPython }: { plan: CellPlan; wheel: { name: string; path: string; sha256: string }; requiresPython: string | undefined },
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
