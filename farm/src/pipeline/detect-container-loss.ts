import { EngineLostError } from '../errors.ts';
import type { ContainerRuntime, RunningContainer } from '../runtime/container-runtime.ts';
import { LABEL } from '../runtime/labels.ts';
import type { StepName } from './events.ts';

/**
 * A step whose exec stream broke, or that ended by a signal (exit code >= 128): did its container
 * die under it because the engine went away? Yes when the engine does not answer, or answers but
 * the container is gone or stopped: an engine that restarts stops its containers, while a build
 * that the kernel's OOM killer ends or that crashes leaves its container running. Returns the loss
 * as an EngineLostError, else undefined (the step's failure is the build's own).
 */
export async function detectContainerLoss(
  runtime: ContainerRuntime,
  { container, buildId, step, ending }: { container: RunningContainer; buildId: string; step: StepName; ending: string },
): Promise<EngineLostError | undefined> {
  const engine = runtime.description;
  const hint = 'the cell runs again from the start once the engine answers (for up to `containers.engine-wait`)';
  let state: string;
  try {
    const listed = await runtime.listContainers([`${LABEL.managed}=1`, `${LABEL.buildId}=${buildId}`]);
    state = listed.find((c) => c.id === container.id)?.state ?? 'gone';
  } catch (error) {
    return new EngineLostError({
      buildId,
      engine,
      message: `${buildId}: the Docker engine at ${engine} stopped answering during the ${step} step (${ending})`,
      cause: error,
      hint,
    });
  }
  if (state === 'running') return undefined;
  return new EngineLostError({
    buildId,
    engine,
    message: `${buildId}: the ${step} step's container stopped under it (${ending}; the container is ${state}): the Docker engine at ${engine} restarted or stopped`,
    hint,
  });
}
