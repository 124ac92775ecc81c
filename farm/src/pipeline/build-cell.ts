import { rm } from 'node:fs/promises';
import { BuildStepError, InterruptedError, interruption, PublishConflictError, WheelfarmError } from '../errors.ts';
import { BuildLog } from '../records/build-log.ts';
import type { BuildRequirement } from '../records/build-records.ts';
import type { CopiedFile } from '../runtime/container-runtime.ts';
import { servesSeveralPythons } from '../wheels/python-tags.ts';
import { readWheelContents, requiresDistOf } from '../wheels/wheel-contents.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';
import { buildAndRepairWheel, stagingDirFor } from './build-wheel.ts';
import type { CellDeps } from './cell-deps.ts';
import type { CellPlan } from './cell-plan.ts';
import { decideCellState, describeChange } from './cell-state.ts';
import { detectEngineLoss } from './detect-engine-loss.ts';
import type { CellOutcome, EmitEvent } from './events.ts';
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
  /** The built wheel's `Requires-Dist` (a cell that built one): what `build` brings in after it. */
  requiresDist?: string[];
}

/** What one attempt of a cell has done so far, for its record and its result. */
interface Attempt {
  plan: CellPlan;
  log: BuildLog;
  recordId: number;
  seconds: () => number;
  /** Past the containers (publishing runs on this machine), a failure is never the engine's. */
  containersDone: boolean;
  tested?: { wheel: CopiedFile; requires: BuildRequirement[] | undefined; requiresDist?: string[] };
}

/**
 * One cell, start to end: skip it if the index already serves its wheel built from the same
 * inputs; otherwise build and repair (with the next build tag when the served wheel is stale),
 * test in the runtime image, publish. The build record is written at the start and at the end.
 * Never throws for a failed build (the result says so); rethrows only an interruption. A cell whose
 * engine went away under it ends with an EngineLostError and no `cell` event: the scheduler
 * decides where it runs again (matrix/cell-scheduler.ts).
 */
export async function buildCell(deps: CellDeps, basePlan: CellPlan): Promise<CellResult> {
  const started = performance.now();
  const seconds = () => Math.round((performance.now() - started) / 100) / 10;
  const state = decideCellState({
    files: await deps.index.publisher.listFiles(basePlan.cell.name),
    cell: basePlan.cell,
    record: await deps.records.latestDone(basePlan.buildId, deps.index.id),
    inputs: basePlan.inputs,
    rebuild: basePlan.rebuild,
  });
  if (state.state === 'built') {
    const skipped = { buildId: basePlan.buildId, seconds: seconds(), wheel: state.wheel.filename, reason: 'already in the index' };
    const metadata = await deps.index.publisher.coreMetadata(basePlan.cell.name, state.wheel.filename);
    return {
      ...reportCell(deps.emit, { ...skipped, outcome: 'skipped' }),
      ...(metadata !== undefined ? { requiresDist: requiresDistOf(metadata) } : {}),
    };
  }
  const plan: CellPlan = state.state === 'stale' ? { ...basePlan, buildTag: state.buildTag } : basePlan;
  const rebuilt = state.state === 'stale' ? `rebuilt with build tag ${state.buildTag}: ${describeChange(state.changed)}` : undefined;
  const log = await BuildLog.open({ home: deps.home, buildId: plan.buildId });
  const stagingDir = stagingDirFor(deps.home, plan.buildId);
  const { buildId, cell, inputs, buildTag, native } = plan;
  const recordId = await deps.records.begin({ buildId, cell, index: deps.index.id, inputs, buildTag, log: log.path, native });
  log.note(`build ${plan.buildId} from ${plan.sdist.filename} in ${plan.images.build} (record ${recordId})`);
  for (const n of native) log.note(`  with ${n.kind} ${n.name} ${n.version} built from source (sha256 ${n.sha256}) in ${n.image}`);
  for (const found of plan.detected ?? []) log.note(`${found.toolchain} toolchain detected from the sdist (${found.because})`);
  if (state.state === 'stale') log.note(`${state.wheel.filename} is stale: ${rebuilt}`);
  const attempt: Attempt = { plan, log, recordId, seconds, containersDone: false };
  try {
    const outcome = await buildTestPublish(deps, attempt, stagingDir);
    const { wheel, requires } = attempt.tested!;
    await deps.records.finish(recordId, {
      state: outcome,
      steps: log.steps,
      wheel: wheel.name,
      wheelSha256: wheel.sha256,
      ...(requires ? { requires } : {}),
    });
    const result = { buildId, outcome, seconds: seconds(), wheel: wheel.name, log: log.path, ...(rebuilt ? { reason: rebuilt } : {}) };
    return { ...reportCell(deps.emit, result), requiresDist: attempt.tested!.requiresDist ?? [] };
  } catch (error) {
    return await endInFailure(deps, attempt, error);
  } finally {
    await log.close();
    await rm(stagingDir, { recursive: true, force: true });
  }
}

/** Build, repair and test share the cell's work volume; it is gone before the wheel is published. */
async function buildTestPublish(deps: CellDeps, attempt: Attempt, stagingDir: string): Promise<'published' | 'unchanged'> {
  const { plan, log } = attempt;
  const { wheel, requires, contents } = await withWorkVolume(deps.host.runtime, plan.buildId, async (work) => {
    const built = await buildAndRepairWheel(deps, { plan, log, stagingDir, work });
    const wheelContents = await readWheelContents(built.wheel.path);
    await testWheel(deps, { plan, wheel: built.wheel, imports: plan.recipe.test.imports ?? wheelContents.topLevelModules, log, work });
    return { ...built, contents: wheelContents };
  });
  attempt.containersDone = true;
  attempt.tested = { wheel, requires, requiresDist: contents.requiresDist };
  return timeStep(deps.emit, { buildId: plan.buildId, step: 'publish', log }, () =>
    publish(deps, { plan, wheel, requiresPython: contents.requiresPython }),
  );
}

/**
 * How an attempt that threw ends: an interruption is rethrown (the record says interrupted); an
 * engine that went away ends it with an EngineLostError and no `cell` event; a wheel the index lists
 * although the publish failed after that (its pages are owed) is recorded as published; anything
 * else is the cell's failure.
 */
async function endInFailure(deps: CellDeps, attempt: Attempt, error: unknown): Promise<CellResult> {
  const { plan, log, recordId, seconds, tested } = attempt;
  const { records } = deps;
  if (error instanceof InterruptedError || deps.signal.aborted) {
    await records.finish(recordId, { state: 'interrupted', steps: log.steps });
    throw interruption(deps.signal);
  }
  const lost = attempt.containersDone ? undefined : await detectEngineLoss(deps.host.runtime, { buildId: plan.buildId, error });
  if (lost) {
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
    const { wheel, requires } = tested;
    await records.finish(recordId, {
      state: 'published',
      steps: log.steps,
      wheel: wheel.name,
      wheelSha256: wheel.sha256,
      ...(requires ? { requires } : {}),
    });
  } else {
    await records.finish(recordId, { state: 'failed', steps: log.steps, error: wrapped.message });
  }
  return reportCell(deps.emit, { buildId: plan.buildId, outcome: 'failed', seconds: seconds(), log: log.path, error: wrapped });
}

async function publish(
  deps: Pick<CellDeps, 'index'>,
  {
    plan,
    wheel,
    requiresPython,
  }: { plan: CellPlan; wheel: { name: string; path: string; sha256: string }; requiresPython: string | undefined },
): Promise<'published' | 'unchanged'> {
  try {
    return await deps.index.publisher.publish({
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

/** The `cell` event of a cell's end, however it ended; returns the result. */
export function reportCell(emit: EmitEvent, result: CellResult): CellResult {
  const { error } = result;
  emit({
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
