import { parseMemory } from '../config/parse-memory.ts';
import type { ResolvedSettings } from '../config/settings.ts';
import type { ContainerRuntime } from './container-runtime.ts';
import { defaultHosts, runtimeForHost } from './docker-hosts.ts';

/** What every container a cell starts on a host is limited to (a recipe's `limits` may say otherwise). */
export interface ContainerLimits {
  /** `containers.memory`, within the host's share of its `memory` (its memory over its slots). */
  memoryBytes: number;
  cpus: number | undefined;
  pids: number;
  /** `containers.timeout`: how long one step may run. */
  stepTimeoutSeconds: number;
}

/** A Docker engine cells run on: its name in events and summaries, its slots, its engine and limits. */
export interface BuildHost {
  name: string;
  slots: number;
  runtime: ContainerRuntime;
  limits: ContainerLimits;
  /** The names of the engine's shared cache volumes start with this; default `wheelfarm-cache` (tests use their own). */
  cachePrefix?: string;
}

/**
 * The hosts cells run on: the settings' `hosts`, or the local engine (`local`, on `localRuntime`:
 * DOCKER_HOST, else the default socket) with `slots` cells at once (`jobs`, or --jobs).
 */
export function buildHosts(
  settings: Pick<ResolvedSettings, 'hosts' | 'jobs' | 'containerMemory' | 'containerCpus' | 'containerPids' | 'stepTimeoutSeconds'>,
  { localRuntime, slots = settings.jobs }: { localRuntime: ContainerRuntime; slots?: number },
): BuildHost[] {
  const configured = settings.hosts !== undefined;
  return defaultHosts({ hosts: settings.hosts, jobs: slots }).map((host) => {
    const share = host.memory ? Math.floor(parseMemory(host.memory) / host.slots) : Number.POSITIVE_INFINITY;
    return {
      name: host.name,
      slots: host.slots,
      runtime: configured ? runtimeForHost(host) : localRuntime,
      limits: {
        memoryBytes: Math.min(parseMemory(settings.containerMemory), share),
        cpus: settings.containerCpus,
        pids: settings.containerPids,
        stepTimeoutSeconds: settings.stepTimeoutSeconds,
      },
    };
  });
}
