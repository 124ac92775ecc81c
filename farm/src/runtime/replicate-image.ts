import { Transform, pipeline } from 'node:stream';
import type { Readable } from 'node:stream';
import { EnvironmentError, InterruptedError, interruption } from '../errors.ts';
import type { ContainerRuntime } from './container-runtime.ts';

export interface ReplicateProgress {
  /** Archive bytes sent so far. */
  bytes: number;
  /** The image's size on the source engine: roughly the archive's size (layers are not compressed). */
  approximateTotalBytes: number;
}

export interface ReplicateResult {
  /** False when the target already had the tag: nothing was sent. */
  copied: boolean;
  bytes: number;
  seconds: number;
}

export interface ReplicateImageOptions {
  from: ContainerRuntime;
  to: ContainerRuntime;
  tag: string;
  /** Called about once a second while the archive streams, and once at its end. */
  onProgress?: (progress: ReplicateProgress) => void;
  signal?: AbortSignal;
}

/** Copies running now, per target engine and tag: cells that need the same image wait for one copy. */
const inFlight = new WeakMap<ContainerRuntime, Map<string, Promise<ReplicateResult>>>();

/**
 * Makes `tag` present on `to` by streaming `docker save` of it on `from` into `docker load` on
 * `to` (no registry is reachable from the hosts, so save/load is the one way images move). A no-op
 * when `to` has the tag already. Image tags are content hashes of their inputs, so a present tag
 * is the same image.
 */
export function replicateImage(options: ReplicateImageOptions): Promise<ReplicateResult> {
  const running = inFlight.get(options.to) ?? new Map<string, Promise<ReplicateResult>>();
  inFlight.set(options.to, running);
  const pending = running.get(options.tag);
  if (pending) return pending;
  const copy = copyImage(options).finally(() => running.delete(options.tag));
  running.set(options.tag, copy);
  return copy;
}

async function copyImage({ from, to, tag, onProgress, signal }: ReplicateImageOptions): Promise<ReplicateResult> {
  const what = `copying image ${tag} from ${from.description} to ${to.description}`;
  if (await to.inspectImage(tag)) return { copied: false, bytes: 0, seconds: 0 };
  const source = await from.inspectImage(tag);
  if (!source) {
    throw new EnvironmentError('image-not-found', `${what}: ${from.description} does not have it either`, {
      hint: `build the images on ${from.description} first (\`./wheelfarm images build\`)`,
    });
  }
  if (signal?.aborted) throw interruption(signal);

  const started = performance.now();
  let bytes = 0;
  let reported = started;
  const report = (): void => onProgress?.({ bytes, approximateTotalBytes: source.sizeBytes });
  let archive: Readable | undefined;
  const stopSource = (): void => {
    archive?.destroy();
  };
  signal?.addEventListener('abort', stopSource, { once: true });
  try {
    archive = await from.saveImage(tag);
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (performance.now() - reported >= 1000) {
          reported = performance.now();
          report();
        }
        done(null, chunk);
      },
    });
    // A failing save destroys `counted` with its error, which fails the load.
    pipeline(archive, counted, () => undefined);
    await to.loadImage(counted, signal ? { signal } : {});
    report();
  } catch (error) {
    if (error instanceof InterruptedError) throw error;
    if (signal?.aborted) throw interruption(signal);
    throw new EnvironmentError('image-copy-failed', `${what} failed: ${(error as Error).message}`, {
      cause: error,
      hint: `check that both engines answer and that ${to.description} has room for the image (\`docker system df\` there)`,
    });
  } finally {
    signal?.removeEventListener('abort', stopSource);
    stopSource();
  }

  const loaded = await to.inspectImage(tag);
  if (!loaded) {
    throw new EnvironmentError('image-copy-failed', `${what}: the engine accepted the archive, and still has no image ${tag}`, {
      hint: `look at the log of the engine at ${to.description}`,
    });
  }
  if (loaded.id !== source.id) {
    throw new EnvironmentError(
      'image-copy-failed',
      `${what}: ${tag} is ${loaded.id} on ${to.description}, not ${source.id} as on ${from.description}`,
      {
        hint: `remove the tag on ${to.description} (\`docker rmi ${tag}\`) and try again`,
      },
    );
  }
  return { copied: true, bytes, seconds: (performance.now() - started) / 1000 };
}
