import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../errors.ts';

/** Default number of retries after the first attempt: 3 tries in all. */
export const DEFAULT_RETRIES = 2;
/** Default delay before the first retry; it doubles for each further retry (500 ms, 1 s, ...). */
export const DEFAULT_RETRY_DELAY_MS = 500;
/** Default longest wait between two tries, a server's `Retry-After` included. */
export const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;

export interface RetryOptions {
  /** Retries after the first attempt. */
  retries: number;
  /** Delay before the first retry, doubled for each further one. Tests pass 0 or 1. */
  retryDelayMs: number;
  /** Caps the doubling and a server's `Retry-After` (default 30 s): a farm waits, it does not sleep for hours. */
  maxRetryDelayMs?: number | undefined;
  /** Which errors are worth another try; default: every TransientError. */
  shouldRetry?: ((error: unknown) => boolean) | undefined;
  signal?: AbortSignal | undefined;
}

/**
 * Runs `attempt` until it succeeds, retrying only TransientError (HTTP 429/5xx, network faults)
 * with exponential backoff, or longer when the server asked for it (`retryAfterMs`). Any other
 * error, or an aborted `signal`, ends the loop at once. After the last try the last error is thrown.
 */
export async function withRetry<T>(attempt: (tryNumber: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.shouldRetry ?? ((error: unknown) => error instanceof TransientError);
  for (let tryNumber = 1; ; tryNumber++) {
    options.signal?.throwIfAborted();
    let delay: number;
    try {
      return await attempt(tryNumber);
    } catch (error) {
      if (!shouldRetry(error) || tryNumber > options.retries || options.signal?.aborted) throw error;
      delay = retryDelay(tryNumber, error, options);
    }
    if (delay > 0) await sleep(delay, undefined, options.signal ? { signal: options.signal } : undefined);
  }
}

/** The wait after failed try `tryNumber`: the doubled base delay or the server's `Retry-After`, whichever is longer, capped. */
export function retryDelay(tryNumber: number, error: unknown, options: Pick<RetryOptions, 'retryDelayMs' | 'maxRetryDelayMs'>): number {
  const backoff = options.retryDelayMs * 2 ** (tryNumber - 1);
  const asked = error instanceof TransientError ? (error.retryAfterMs ?? 0) : 0;
  return Math.min(Math.max(backoff, asked), options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS);
}

/**
 * An HTTP `Retry-After` value (delay-seconds or an HTTP date) in milliseconds from `now`; undefined
 * when absent or unreadable, 0 for a date in the past.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
