import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { WheelfarmError } from '../errors.ts';
import { KeyedMutex } from './keyed-mutex.ts';

// Shared by every publisher in the process: the file lock alone would make same-process callers poll.
const inProcess = new KeyedMutex();

/** A lock held longer than this without its heartbeat is considered abandoned by a crashed process. */
const STALE_MS = 30_000;

/**
 * Runs `section` holding both an in-process mutex and a cross-process lock directory at `lockPath`.
 * `assertHeld` throws if the lock was lost (e.g. the process stalled past the stale time); call it
 * right before each step that makes a change visible.
 */
export async function withFileLock<T>(lockPath: string, section: (assertHeld: () => void) => Promise<T>): Promise<T> {
  const absolute = resolve(lockPath);
  return inProcess.run(absolute, async () => {
    await mkdir(dirname(absolute), { recursive: true });
    let lost: Error | undefined;
    const release = await acquire(absolute, (error) => {
      lost = error;
    });
    const assertHeld = (): void => {
      if (lost) {
        throw new WheelfarmError('lock-lost', `lost the lock ${absolute} before finishing`, {
          hint: 'Another process may have taken it over; retry the publish.',
          cause: lost,
        });
      }
    };
    try {
      return await section(assertHeld);
    } finally {
      // After a compromise the library has already let go; releasing again only reports that.
      await release().catch(() => undefined);
    }
  });
}

async function acquire(lockPath: string, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
  try {
    return await lockfile.lock(lockPath, {
      realpath: false,
      lockfilePath: lockPath,
      stale: STALE_MS,
      retries: { retries: 80, factor: 1.3, minTimeout: 20, maxTimeout: 1000, randomize: true },
      onCompromised,
    });
  } catch (error) {
    throw new WheelfarmError('index-locked', `could not take the lock ${lockPath}: ${(error as Error).message}`, {
      hint: `Another publish is holding it. If no wheelfarm process is running, remove the directory ${lockPath}.`,
      cause: error,
    });
  }
}
