import { expect } from 'vitest';
import { UserInputError } from '../../farm/src/errors.ts';

/** Awaits a promise that must reject with a UserInputError, and returns that error. */
export async function rejection(promise: Promise<unknown>): Promise<UserInputError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UserInputError);
  return error as UserInputError;
}

/** 1-based number of the (first) line of `text` containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle));
  if (index < 0) throw new Error(`test bug: ${needle} not in text`);
  return index + 1;
}
