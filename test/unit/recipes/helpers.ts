import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { displayPath } from '../../../farm/src/recipes/display-path.ts';

export const SHA256 = 'ab'.repeat(32);
export const COMMIT = '0123456789abcdef0123456789abcdef01234567';

/** A fresh recipes folder per test: `dir()` inside a test gives its path. */
export function useRecipesDir(): () => string {
  let dir = '';
  beforeEach(async () => {
    dir = join(await mkdtemp(join(tmpdir(), 'wheelfarm-recipes-')), 'recipes');
    await mkdir(dir);
  });
  afterEach(async () => {
    await rm(dirname(dir), { recursive: true, force: true });
  });
  return () => dir;
}

export async function writeIn(dir: string, relativePath: string, text: string): Promise<string> {
  const path = join(dir, relativePath);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
  return path;
}

/** `file:line: \`field\`:` as the error message puts it. */
export function where(file: string, line: number, field: string): string {
  return `${displayPath(file)}:${line}: \`${field}\`:`;
}

export { lineOf, rejection } from '../../support/user-errors.ts';
