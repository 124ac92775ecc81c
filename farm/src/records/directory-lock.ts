import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';

/** A holder that stops refreshing the lock (crashed, or frozen) loses it after this long. */
const STALE_MS = 30_000;

/**
 * A lock directory with a heartbeat (proper-lockfile): taken at once or not at all. A crashed
 * holder stops refreshing it, so after STALE_MS the next process takes it over: the lock survives
 * a crash without anyone removing it by hand. `onLost` hears of a lock taken away while held.
 */
export async function tryDirectoryLock(
  path: string,
  { onLost = () => undefined }: { onLost?: (error: Error) => void } = {},
): Promise<(() => Promise<void>) | undefined> {
  await mkdir(dirname(path), { recursive: true });
  try {
    const release = await lockfile.lock(path, { realpath: false, lockfilePath: path, stale: STALE_MS, retries: 0, onCompromised: onLost });
    return () => release().catch(() => undefined);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw error;
  }
}
