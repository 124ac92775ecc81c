import { isDeadOwner, isProcessAlive } from '../process/process-owner.ts';
import type { ContainerRuntime } from './container-runtime.ts';
import { LABEL } from './labels.ts';

/**
 * Remove wheelfarm containers, then cell work volumes, whose owning process (on this host) is
 * gone: leftovers of a run that was killed before it could clean up. Those of live runs, and of
 * other hosts, stay.
 */
export async function sweepContainers({
  runtime,
  isAlive = isProcessAlive,
}: {
  runtime: ContainerRuntime;
  isAlive?: (pid: number) => boolean;
}): Promise<{ containers: string[]; volumes: string[] }> {
  const orphaned = (labels: Record<string, string>) => {
    return isDeadOwner(labels[LABEL.owner] ?? '', isAlive);
  };
  const containers: string[] = [];
  for (const container of await runtime.listContainers([`${LABEL.managed}=1`])) {
    if (!orphaned(container.labels)) continue;
    await runtime.removeContainer(container.id);
    containers.push(container.id);
  }
  // After the containers: a volume still mounted cannot be removed.
  const volumes: string[] = [];
  for (const volume of await runtime.listVolumes([`${LABEL.managed}=1`])) {
    if (!orphaned(volume.labels)) continue;
    try {
      await runtime.removeVolume(volume.name);
    } catch (error) {
      // Still mounted: another farm process is sweeping the same dead run's container right now
      // (its removal is in progress). Whoever sweeps next removes the volume; this run goes on.
      if ((error as { statusCode?: number }).statusCode === 409) continue;
      throw error;
    }
    volumes.push(volume.name);
  }
  return { containers, volumes };
}
