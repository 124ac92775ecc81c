import { BuildStepError, EngineLostError, IntegrityError, PublishConflictError, UserInputError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
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
  context: Pick<FarmContext, 'runtime'>,
  { buildId, error }: { buildId: string; error: unknown },
): Promise<EngineLostError | undefined> {
  if (error instanceof EngineLostError) return error;
  if (isBuildsOwnFault(error)) return undefined;
  if (await engineAnswers(context.runtime)) return undefined;
  const engine = context.runtime.description;
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
