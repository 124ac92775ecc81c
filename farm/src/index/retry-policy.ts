import { IndexUnavailableError, TransientError } from '../errors.ts';
import { expectFiniteNumberAtLeast, expectIntegerAtLeast, expectObject } from '../upstream/validate-options.ts';
import { withRetry } from '../upstream/with-retry.ts';

/** How hard a publisher tries each request to its index backend (S3, devpi, pypiserver). */
export interface IndexRetryPolicy {
  /** Tries in all, the first included (1: never retry). */
  tries: number;
  /** Wait before the second try; doubled for each further one. */
  retryDelayMs: number;
  /** Longest wait between two tries, a server's `Retry-After` included. */
  maxRetryDelayMs: number;
  /**
   * A try that makes no progress for this long is abandoned (and counts as a failed try): no
   * connection, no byte sent or received (S3), no answer (devpi and pypiserver, except the upload itself).
   */
  timeoutMs: number;
}

/**
 * Publishing comes after minutes of building, so a blip is worth riding out: 5 tries, waiting
 * 0.5, 1, 2 and 4 s between them (longer if the server says so in `Retry-After`, up to 10 s).
 */
export const DEFAULT_INDEX_RETRY_POLICY: Readonly<IndexRetryPolicy> = Object.freeze({
  tries: 5,
  retryDelayMs: 500,
  maxRetryDelayMs: 10_000,
  timeoutMs: 30_000,
});

/** The defaults with `options` applied, each checked up front. */
export function resolveIndexRetryPolicy(options: Partial<IndexRetryPolicy> | undefined): IndexRetryPolicy {
  if (options === undefined) return { ...DEFAULT_INDEX_RETRY_POLICY };
  expectObject('retry', options);
  const policy = { ...DEFAULT_INDEX_RETRY_POLICY, ...withoutUndefined(options) };
  expectIntegerAtLeast('retry.tries', policy.tries, 1);
  expectFiniteNumberAtLeast('retry.retryDelayMs', policy.retryDelayMs, 0);
  expectFiniteNumberAtLeast('retry.maxRetryDelayMs', policy.maxRetryDelayMs, 0);
  expectFiniteNumberAtLeast('retry.timeoutMs', policy.timeoutMs, 1);
  return policy;
}

/**
 * Runs one request to an index backend under `policy`: a TransientError from `attempt` is tried
 * again after a back-off; once every try failed, the last error becomes an IndexUnavailableError
 * with the same code and hint, saying how often and how long it was tried. `attempt` must build
 * its request afresh each time (a stream body is spent by a failed try).
 */
export async function retryIndexRequest<T>(
  attempt: (tryNumber: number) => Promise<T>,
  { policy, signal }: { policy: IndexRetryPolicy; signal?: AbortSignal | undefined },
): Promise<T> {
  const started = performance.now();
  let tries = 0;
  try {
    return await withRetry(
      (tryNumber) => {
        tries = tryNumber;
        return attempt(tryNumber);
      },
      {
        retries: policy.tries - 1,
        retryDelayMs: policy.retryDelayMs,
        maxRetryDelayMs: policy.maxRetryDelayMs,
        signal,
        // Another layer already gave up on it: trying again would multiply the tries.
        shouldRetry: (error) => error instanceof TransientError && !(error instanceof IndexUnavailableError),
      },
    );
  } catch (error) {
    if (!(error instanceof TransientError) || error instanceof IndexUnavailableError || signal?.aborted) throw error;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const summary = tries === 1 ? 'tried once' : `tried ${tries} times over ${seconds} s`;
    throw new IndexUnavailableError(error.code, `${error.message} (${summary})`, {
      ...(error.hint ? { hint: error.hint } : {}),
      cause: error,
      tries,
    });
  }
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
