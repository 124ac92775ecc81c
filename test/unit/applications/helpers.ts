import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

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

export { lineOf, rejection } from '../../support/user-errors.ts';
