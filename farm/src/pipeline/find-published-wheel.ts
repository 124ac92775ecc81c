import { eq } from '@renovatebot/pep440';
import type { PublishedFile } from '../index/publisher.ts';
import type { Cell } from '../wheels/build-id.ts';
import { normalizeName } from '../wheels/names.ts';
import { isPureWheel, wheelMatchesPolicy } from '../wheels/platform-tags.ts';
import { wheelServesPython } from '../wheels/python-tags.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';

/**
 * The wheel the index already serves for a cell, if any: same project and version (PEP 440
 * equality), installable on the cell's CPython (Python and ABI tags) and under its policy. Pure, so "what is already built" is unit-tested.
 */
export function findPublishedWheel(files: PublishedFile[], cell: Cell): PublishedFile | undefined {
  return files.find((file) => {
    if (!file.filename.endsWith('.whl')) return false;
    let parts;
    try {
      parts = parseWheelFilename(file.filename);
    } catch {
      return false;
    }
    if (normalizeName(parts.name) !== normalizeName(cell.name) || !eq(parts.version, cell.version)) return false;
    if (!wheelServesPython(parts, cell.python)) return false;
    return isPureWheel(parts) || wheelMatchesPolicy(parts, cell.platform);
  });
}
