import { isAbsolute, relative } from 'node:path';

/** How messages name a file: relative to the working directory when inside it (`recipes/numpy.yaml`), else absolute. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  const rel = relative(cwd, file);
  return rel === '' || rel.startsWith('..') || isAbsolute(rel) ? file : rel;
}
