import { describe, expect, it } from 'vitest';
import { TransientError } from '../../../farm/src/errors.ts';
import { parseRetryAfter, retryDelay } from '../../../farm/src/upstream/with-retry.ts';

describe('retryDelay', () => {
  it('doubles the base delay, or takes a longer Retry-After, and caps both', () => {
    const options = { retryDelayMs: 500, maxRetryDelayMs: 10_000 };
    expect([1, 2, 3, 4, 6].map((tryNumber) => retryDelay(tryNumber, new Error('x'), options))).toEqual([500, 1000, 2000, 4000, 10_000]);
    expect(retryDelay(1, new TransientError('c', 'm', { retryAfterMs: 3000 }), options)).toBe(3000);
    expect(retryDelay(3, new TransientError('c', 'm', { retryAfterMs: 100 }), options)).toBe(2000);
    expect(retryDelay(1, new TransientError('c', 'm', { retryAfterMs: 3_600_000 }), options)).toBe(10_000);
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates; ignores what it cannot read', () => {
    const now = Date.parse('Sun, 22 Nov 2026 11:00:00 GMT');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 1.5 ', now)).toBe(1500);
    expect(parseRetryAfter('Sun, 22 Nov 2026 11:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 22 Nov 2026 10:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});
