import { hostname } from 'node:os';
import type { ContainerRuntime } from './container-runtime.ts';
import { LABEL } from './labels.ts';

/**
 * Remove wheelfarm containers whose owning process (on this host) is gone: leftovers of a run
 * that was killed before it could clean up. Containers of live runs, and of other hosts, stay.
 */
export async function sweepContainers({
  runtime,
  isAlive = isProcessAlive,
}: {
  runtime: ContainerRuntime;
  isAlive?: (pid: number) => boolean;
}): Promise<string[]> {
  const containers = await runtime.listContainers([`${LABEL.managed}=1`]);
  const removed: string[] = [];
  for (const container of containers) {
    const [host, pid] = (container.labels[LABEL.owner] ?? '').split(':');
    const orphaned = host === hostname() && pid !== undefined && !isAlive(Number(pid));
    if (!orphaned) continue;
    await runtime.removeContainer(container.id);
    removed.push(container.id);
  }
  return removed;
}

export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
