import { describe, expect, it } from 'vitest';
import { IndexUnavailableError, TransientError, UserInputError } from '../../../farm/src/errors.ts';
import { DEFAULT_INDEX_RETRY_POLICY, resolveIndexRetryPolicy, retryIndexRequest } from '../../../farm/src/index/retry-policy.ts';
import { rejection } from '../../support/html.ts';

const QUICK = { ...DEFAULT_INDEX_RETRY_POLICY, tries: 3, retryDelayMs: 1 };

describe('resolveIndexRetryPolicy', () => {
  it('fills in the defaults and checks each value up front', () => {
    expect(resolveIndexRetryPolicy(undefined)).toEqual({ tries: 5, retryDelayMs: 500, maxRetryDelayMs: 10_000, timeoutMs: 30_000 });
    expect(resolveIndexRetryPolicy({ tries: 2, timeoutMs: undefined })).toEqual({ ...DEFAULT_INDEX_RETRY_POLICY, tries: 2 });
    expect(() => resolveIndexRetryPolicy({ tries: 0 })).toThrow('Expected `retry.tries` to be an integer >= 1, got `0` (number)');
    expect(() => resolveIndexRetryPolicy({ timeoutMs: -1 })).toThrow(
      'Expected `retry.timeoutMs` to be a finite number >= 1, got `-1` (number)',
    );
  });
});

describe('retryIndexRequest', () => {
  it('tries a transient failure again and returns the first success', async () => {
    const seen: number[] = [];
    const result = await retryIndexRequest(
      async (tryNumber) => {
        seen.push(tryNumber);
        if (tryNumber < 3) throw new TransientError('s3-unavailable', 'PUT s3://b/k failed: SlowDown (HTTP 503)');
        return 'stored';
      },
      { policy: QUICK },
    );
    expect(result).toBe('stored');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('after the last try: an IndexUnavailableError with the same code and hint, saying how often it tried', async () => {
    const error = await rejection(
      retryIndexRequest(
        async () => {
          throw new TransientError('index-unavailable', 'the pypiserver at http://h/ is unavailable: POST http://h/ answered HTTP 503', {
            hint: 'check it',
          });
        },
        { policy: QUICK },
      ),
    );
    expect(error).toBeInstanceOf(IndexUnavailableError);
    expect(error).toMatchObject({ code: 'index-unavailable', hint: 'check it', tries: 3 });
    expect((error as Error).message).toMatch(
      /^the pypiserver at http:\/\/h\/ is unavailable: POST http:\/\/h\/ answered HTTP 503 \(tried 3 times over \d+\.\d s\)$/,
    );
    expect((error as Error).cause).toBeInstanceOf(TransientError);
  });

  it('never retries what is not transient, nor what another layer already gave up on', async () => {
    let tries = 0;
    const refused = new UserInputError('index-auth', 'refused');
    expect(
      await rejection(
        retryIndexRequest(
          async () => {
            tries += 1;
            throw refused;
          },
          { policy: QUICK },
        ),
      ),
    ).toBe(refused);
    const exhausted = new IndexUnavailableError('s3-timeout', 'gone', { tries: 5 });
    expect(
      await rejection(
        retryIndexRequest(
          async () => {
            tries += 1;
            throw exhausted;
          },
          { policy: QUICK },
        ),
      ),
    ).toBe(exhausted);
    expect(tries).toBe(2);
  });

  it('waits as long as the server asked (Retry-After), within the cap', async () => {
    const started = performance.now();
    let tries = 0;
    await retryIndexRequest(
      async () => {
        tries += 1;
        if (tries === 1) throw new TransientError('index-unavailable', 'busy', { retryAfterMs: 60_000 });
        return 'ok';
      },
      { policy: { ...QUICK, maxRetryDelayMs: 300 } },
    );
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(waited).toBeLessThan(2000);
  });
});
