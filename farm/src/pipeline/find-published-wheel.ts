import { eq } from '@renovatebot/pep440';
import type { PublishedFile } from '../index/publisher.ts';
import type { Cell } from '../wheels/build-id.ts';
import { normalizeName } from '../wheels/names.ts';
import { isPureWheel, wheelMatchesPolicy } from '../wheels/platform-tags.ts';
import { wheelServesPython } from '../wheels/python-tags.ts';
import type { BuildTag } from '../wheels/wheel-filename.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';

export interface PublishedWheel {
  file: PublishedFile;
  buildTag: BuildTag | undefined;
}

/**
 * Every wheel the index serves for a cell, whatever its build tag: same project and version (PEP
 * 440 equality), installable on the cell's CPython (Python and ABI tags) and under its policy.
 * Newest build tag first, the order pip prefers them in. Pure, so "what is already built" is unit-tested.
 */
export function findPublishedWheels(files: PublishedFile[], cell: Cell): PublishedWheel[] {
  const found: PublishedWheel[] = [];
  for (const file of files) {
    if (!file.filename.endsWith('.whl')) continue;
    let parts: ReturnType<typeof parseWheelFilename>;
    try {
      parts = parseWheelFilename(file.filename);
    } catch {
      continue;
    }
    if (normalizeName(parts.name) !== normalizeName(cell.name) || !eq(parts.version, cell.version)) continue;
    if (!wheelServesPython(parts, cell.python)) continue;
    if (isPureWheel(parts) || wheelMatchesPolicy(parts, cell.platform)) found.push({ file, buildTag: parts.buildTag });
  }
  return found.sort((a, b) => compareBuildTags(b.buildTag, a.buildTag));
}

/** The wheel pip would pick for the cell among those the index serves (the highest build tag). */
export function findPublishedWheel(files: PublishedFile[], cell: Cell): PublishedFile | undefined {
  return findPublishedWheels(files, cell)[0]?.file;
}

/** PEP 427: no build tag sorts first; then by the number, then by the rest as a string. */
export function compareBuildTags(a: BuildTag | undefined, b: BuildTag | undefined): number {
  if (!a || !b) return (a ? 1 : 0) - (b ? 1 : 0);
  if (a.number !== b.number) return a.number - b.number;
  return a.suffix < b.suffix ? -1 : a.suffix > b.suffix ? 1 : 0;
}

/** The build tag a rebuild gets: one more than the highest number among the cell's wheels. */
export function nextBuildTag(wheels: PublishedWheel[]): string {
  return String(Math.max(0, ...wheels.map((w) => w.buildTag?.number ?? 0)) + 1);
}
