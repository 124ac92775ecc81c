// Containers and work volumes that farm processes left on an engine.
import { hostname } from 'node:os';
import type { ContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { LABEL } from '../../src/runtime/labels.ts';

export interface Leftovers {
  containers: string[];
  volumes: string[];
}

/**
 * The farm's containers and volumes (label `wheelfarm=1`) on the engine owned by one of `pids` on
 * this machine, or by anyone when `pids` is `all` (an engine only the caller uses).
 */
export async function findLeftovers({ runtime, pids }: { runtime: ContainerRuntime; pids: number[] | 'all' }): Promise<Leftovers> {
  const owners = pids === 'all' ? undefined : new Set(pids.map((pid) => `${hostname()}:${pid}`));
  const owned = (labels: Record<string, string>) => owners === undefined || owners.has(labels[LABEL.owner] ?? '');
  const filter = [`${LABEL.managed}=1`];
  return {
    containers: (await runtime.listContainers(filter)).filter((c) => owned(c.labels)).map((c) => c.id.slice(0, 12)),
    volumes: (await runtime.listVolumes(filter)).filter((v) => owned(v.labels)).map((v) => v.name),
  };
}

export function countLeftovers(leftovers: Leftovers): number {
  return leftovers.containers.length + leftovers.volumes.length;
}
