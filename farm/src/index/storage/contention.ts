import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../../errors.ts';

/** Rounds of a conditional write before giving up: enough for dozens of farms on one project, each round won by one of them. */
export const MAX_ROUNDS = 40;

/**
 * Waits before the next round of a conditional write that another writer beat: exponential with full
 * jitter, capped at a second, so racing publishers spread out.
 */
export function backoff(round: number): Promise<void> {
  const cap = Math.min(1000, 20 * 2 ** round);
  return sleep(5 + Math.random() * cap);
}

/** The error when other writers won every one of MAX_ROUNDS rounds on the object at `where`. */
export function contentionError(where: string): TransientError {
  return new TransientError(
    'index-contention',
    `gave up updating ${where} after ${MAX_ROUNDS} attempts: other publishers kept changing it`,
    {
      hint: 'Many publishers are writing to the same project at once; publish again.',
    },
  );
}
