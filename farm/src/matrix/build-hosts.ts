import type { FarmContext } from '../farm-context.ts';
import { defaultHosts, runtimeForHost } from '../runtime/docker-hosts.ts';
import { parseMemory } from '../config/parse-memory.ts';
import type { BuildHost } from './run-matrix.ts';

/**
 * The hosts a matrix build runs on: the settings' `hosts`, or the local engine with `jobs` slots.
 * Each gets a context of its own: its engine, a memory limit per container that keeps its cells
 * together within the host's `memory`, and events marked with its name. A host whose containers
 * could not reach the upstream index without its credentials (an engine on another machine, when the
 * upstream URL carries them) is refused here, before any cell: not as a failure of each of its cells.
 */
export async function buildHosts(context: FarmContext): Promise<BuildHost[]> {
  const configured = context.settings.hosts !== undefined;
  const hosts = defaultHosts(context.settings).map((host): BuildHost => {
    const share = host.memory ? Math.floor(parseMemory(host.memory) / host.slots) : Number.POSITIVE_INFINITY;
    return {
      name: host.name,
      slots: host.slots,
      context: {
        ...context,
        runtime: configured ? runtimeForHost(host) : context.runtime,
        containerMemoryBytes: Math.min(context.containerMemoryBytes, share),
        emit: (event) =>
          context.emit(event.type === 'step' || event.type === 'cell' || event.type === 'retry' ? { ...event, host: host.name } : event),
      },
    };
  });
  for (const host of hosts) await context.checkUpstreamReach(host.context.runtime);
  return hosts;
}
