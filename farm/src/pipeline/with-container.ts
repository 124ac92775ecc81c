import type { FarmContext } from '../farm-context.ts';
import type { ContainerSpec, RunningContainer } from '../runtime/container-runtime.ts';
import { CONTAINER_CA_PATH, trustEnv } from '../runtime/host-trust.ts';

/**
 * Start a labelled container, hand it to `use`, and always remove it: on success, on failure,
 * and when the run is interrupted (the abort removes it at once, which also ends a running step).
 * The host's CA bundle and proxy settings go in; credentials beyond the index URL do not.
 */
export async function withContainer<T>(
  context: FarmContext,
  spec: Omit<ContainerSpec, 'env' | 'memoryBytes'> & { env?: Record<string, string> },
  use: (container: RunningContainer) => Promise<T>,
): Promise<T> {
  context.signal.throwIfAborted();
  const container = await context.runtime.startContainer({
    ...spec,
    env: { ...context.proxyEnv, ...trustEnv(context.hostCaPath), ...spec.env },
    memoryBytes: context.containerMemoryBytes,
  });
  const onAbort = () => void container.remove().catch(() => undefined);
  context.signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (context.hostCaPath) {
      const [dir, name] = [CONTAINER_CA_PATH.slice(0, CONTAINER_CA_PATH.lastIndexOf('/')), CONTAINER_CA_PATH.split('/').pop()!];
      await container.putFiles('/', [{ name: `${dir.slice(1)}/${name}`, source: { path: context.hostCaPath }, mode: 0o644 }]);
    }
    return await use(container);
  } finally {
    context.signal.removeEventListener('abort', onAbort);
    await container.remove();
  }
}
