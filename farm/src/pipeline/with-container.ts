import { randomBytes } from 'node:crypto';
import type { Recipe } from '../recipes/recipe.ts';
import type { ContainerRuntime, ContainerSpec, RunningContainer } from '../runtime/container-runtime.ts';
import { parseMemory } from '../config/parse-memory.ts';
import { CONTAINER_CA_PATH, trustEnv } from '../runtime/host-trust.ts';
import { containerLabels } from '../runtime/labels.ts';
import type { ContainerDeps } from './cell-deps.ts';

/** Where a cell's work volume is mounted in each of its containers. */
export const WORK = '/work';

/** The non-root user of the farm's images, who runs every step. */
export interface BuildUser {
  name: string;
  uid: number;
  gid: number;
}

/**
 * A cell's work volume: a named volume on the cell's engine, labelled like its containers (so the
 * sweeper removes it when the farm process that made it is gone), mounted at /work in each of the
 * cell's containers in turn. The sdist, the fetched build requirements, the source tree and the
 * wheel live there; the containers' root filesystems stay read-only. Removed when `use` ends.
 */
export async function withWorkVolume<T>(runtime: ContainerRuntime, buildId: string, use: (volume: string) => Promise<T>): Promise<T> {
  const volume = `wheelfarm-work-${buildId}-${process.pid}-${randomBytes(3).toString('hex')}`;
  await runtime.createVolume({ name: volume, labels: containerLabels({ buildId, step: 'work' }) });
  try {
    return await use(volume);
  } finally {
    await runtime.removeVolume(volume).catch(() => undefined);
  }
}

export interface ContainedSpec {
  image: string;
  labels: Record<string, string>;
  env?: Record<string, string>;
  user: BuildUser;
  /** The cell's work volume (withWorkVolume), mounted at /work. */
  work: string;
  /** Caches shared across cells (ccache, pip, cargo), mounted beside the work volume. */
  volumes?: { name: string; target: string }[];
  /** `none` for the build phase. */
  network?: 'default' | 'none';
  limits: Recipe['limits'];
}

/**
 * Start a contained container, hand it to `use`, and always remove it: on success, on failure,
 * and when the run is interrupted (the abort removes it at once, which also ends a running step).
 *
 * Contained: the image's non-root user, every capability dropped, no-new-privileges, a pids limit,
 * memory and CPU limits (the recipe's `limits`, else the settings' `containers`, within the host's
 * share), a read-only root filesystem with tmpfs on /tmp and the user's home, the work volume on
 * /work (TMPDIR points there: big temporary trees do not eat memory), and nothing of the host
 * mounted. The host's CA bundle (copied, not mounted) and proxy settings go in; credentials of the
 * index the farm publishes to never do: only what `spec.env` names.
 */
export async function withContainer<T>(
  { host, trust, signal }: ContainerDeps,
  spec: ContainedSpec,
  use: (container: RunningContainer) => Promise<T>,
): Promise<T> {
  signal.throwIfAborted();
  const home = `/home/${spec.user.name}`;
  const owned = `uid=${spec.user.uid},gid=${spec.user.gid}`;
  const container = await host.runtime.startContainer({
    image: spec.image,
    labels: spec.labels,
    user: spec.user.name,
    env: { ...trust.proxyEnv, ...trustEnv(trust.caPath), TMPDIR: `${WORK}/tmp`, ...spec.env },
    memoryBytes: spec.limits.memory ? parseMemory(spec.limits.memory) : host.limits.memoryBytes,
    ...containerCpus(spec.limits.cpus ?? host.limits.cpus),
    pidsLimit: host.limits.pids,
    network: spec.network ?? 'default',
    readOnlyRoot: true,
    tmpfs: {
      // exec: Docker's tmpfs default is noexec, and test venvs in /tmp load the wheel's extension modules.
      '/tmp': 'rw,exec,nosuid,nodev,size=1g,mode=1777',
      [home]: `rw,exec,nosuid,nodev,size=1g,mode=0755,${owned}`,
    },
    volumes: [{ name: spec.work, target: WORK }, ...(spec.volumes ?? [])],
  } satisfies ContainerSpec);
  const onAbort = () => void container.remove().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  let failed = false;
  try {
    if (trust.caPath) {
      await container.putFiles(WORK, [{ name: CONTAINER_CA_PATH.slice(WORK.length + 1), source: { path: trust.caPath }, mode: 0o644 }]);
    }
    return await use(container);
  } catch (error) {
    failed = true;
    throw error;
  } finally {
    signal.removeEventListener('abort', onAbort);
    // When the step already failed (say, its engine went away), that failure is the one to report;
    // a container the removal missed carries this process's label, and a later run's sweep removes it.
    await container.remove().catch((error: unknown) => {
      if (!failed) throw error;
    });
  }
}

function containerCpus(cpus: number | undefined): { cpus?: number } {
  return cpus === undefined ? {} : { cpus };
}
