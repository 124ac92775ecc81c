import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../errors.ts';

/** Default number of retries after the first attempt: 3 tries in all. */
export const DEFAULT_RETRIES = 2;
/** Default delay before the first retry; it doubles for each further retry (500 ms, 1 s, ...). */
export const DEFAULT_RETRY_DELAY_MS = 500;

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Delay before the first retry, doubled for each further one. Tests pass 0 or 1. */
  retryDelayMs: number;
  signal?: AbortSignal | undefined;
}

/**
 * Runs `attempt` until it succeeds, retrying only TransientError (HTTP 429/5xx, network faults)
 * with exponential backoff. Any other error, or an aborted `signal`, ends the loop at once.
 * After the last try the last TransientError is thrown.
 */
export async function withRetry<T>(attempt: (tryNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  for (let tryNumber = 1; ; tryNumber++) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(tryNumber);
    } catch (error) {
      if (!(error instanceof TransientError) || tryNumber > options.retries || options.signal?.aborted) throw error;
    }
    const delay = options.retryDelayMs * 2 ** (tryNumber - 1);
    if (delay > 0) await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}
