import { setTimeout as sleep } from 'node:timers/promises';
import { BuildStepError, EngineLostError, IntegrityError, PublishConflictError, UserInputError } from '../errors.ts';
import type { WheelfarmError } from '../errors.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { engineAnswers } from '../runtime/engine-answers.ts';

/** How many times one cell may lose its engine before the run stops trying it again. */
export const MAX_ENGINE_LOSSES = 3;

/**
 * Did a cell fail because its Docker engine went away (stopped, crashed, restarted) rather than by
 * a fault of its own? A step says so itself when its container died under it (see
 * detect-container-loss.ts); any other failure that is not the build's own counts when the engine
 * does not answer now (a refused API call, a cut stream). Returns the loss as an EngineLostError
 * naming the engine, else undefined.
 */
export async function detectEngineLoss(
  runtime: ContainerRuntime,
  { buildId, error }: { buildId: string; error: unknown },
): Promise<EngineLostError | undefined> {
  if (error instanceof EngineLostError) return error;
  if (isBuildsOwnFault(error)) return undefined;
  if (await engineAnswers(runtime)) return undefined;
  const engine = runtime.description;
  return new EngineLostError({
    buildId,
    engine,
    message: `${buildId}: the Docker engine at ${engine} stopped answering (${error instanceof Error ? error.message : String(error)})`,
    cause: error,
    hint: 'the cell runs again from the start once the engine answers (for up to `containers.engine-wait`)',
  });
}

/** Failures that are the build's, whatever its engine does: a failing step, a refused wheel, bad input. */
export function isBuildsOwnFault(error: unknown): boolean {
  return (
    error instanceof BuildStepError ||
    error instanceof PublishConflictError ||
    error instanceof IntegrityError ||
    error instanceof UserInputError
  );
}

/** How long a host whose cell was killed is watched before the failure counts as the build's own. */
const KILLED_WATCH_MS = 10_000;
const KILLED_PING_EVERY_MS = 2_000;

/**
 * Did a cell that failed do so because its engine went away? Yes if the engine does not answer now.
 * A step killed by a signal (an engine stopping kills its containers first, then answers a few
 * seconds longer) or an error that is not the build's own is watched for a while before it counts
 * as the build's failure.
 */
export async function engineWentAway(
  runtime: Pick<ContainerRuntime, 'ping'>,
  error: WheelfarmError | undefined,
  { watchMs = KILLED_WATCH_MS, pingEveryMs = KILLED_PING_EVERY_MS }: { watchMs?: number; pingEveryMs?: number } = {},
): Promise<boolean> {
  if (!(await engineAnswers(runtime))) return true;
  const suspicious = error instanceof BuildStepError ? error.exitCode !== undefined && error.exitCode >= 128 : !isBuildsOwnFault(error);
  if (!suspicious) return false;
  for (let waited = 0; waited < watchMs; waited += pingEveryMs) {
    await sleep(pingEveryMs);
    if (!(await engineAnswers(runtime))) return true;
  }
  return false;
}
