import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerRuntime } from './container-runtime.ts';
import { LABEL, ownerLabel } from './labels.ts';

/** A volume whose container the engine is still tearing down is in use for a moment. */
const VOLUME_TRIES = 5;
const VOLUME_PAUSE_MS = 1_000;

/**
 * Removes the containers, then the work volumes, that cells of this process left on an engine that
 * went away under them. After a restart they are dead but still carry this live process's owner
 * label, so the sweeper (which takes only dead owners' leftovers) would keep them. Only the named
 * cells' are removed: other cells of this process may still be running on that engine.
 */
export async function removeCellLeftovers({
  runtime,
  buildIds,
}: {
  runtime: Pick<ContainerRuntime, 'listContainers' | 'removeContainer' | 'listVolumes' | 'removeVolume'>;
  buildIds: Iterable<string>;
}): Promise<{ containers: string[]; volumes: string[] }> {
  const removed = { containers: [] as string[], volumes: [] as string[] };
  for (const buildId of buildIds) {
    const labels = [`${LABEL.managed}=1`, `${LABEL.owner}=${ownerLabel()}`, `${LABEL.buildId}=${buildId}`];
    for (const container of await runtime.listContainers(labels)) {
      await runtime.removeContainer(container.id);
      removed.containers.push(container.id);
    }
    for (const volume of await runtime.listVolumes(labels)) {
      await removeVolumeSoon(runtime, volume.name);
      removed.volumes.push(volume.name);
    }
  }
  return removed;
}

async function removeVolumeSoon(runtime: Pick<ContainerRuntime, 'removeVolume'>, name: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await runtime.removeVolume(name);
      return;
    } catch (error) {
      if (attempt >= VOLUME_TRIES) throw error;
      await sleep(VOLUME_PAUSE_MS);
    }
  }
}
