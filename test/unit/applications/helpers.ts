import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';

/** test/fixtures/applications, absolute. */
export const FIXTURES = join(import.meta.dirname, '..', '..', 'fixtures', 'applications');

/** A fresh folder per test: `write(name, text)` puts a file there and gives its path. */
export function useTempDir(): { dir: () => string; write: (name: string, text: string) => Promise<string> } {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wheelfarm-applications-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir: () => dir,
    write: async (name, text) => {
      const path = join(dir, name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      return path;
    },
  };
}

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
