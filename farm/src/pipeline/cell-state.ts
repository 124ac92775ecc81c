import type { PublishedFile } from '../index/publisher.ts';
import type { BuildInputs, BuildRecord } from '../records/build-records.ts';
import type { Cell } from '../wheels/build-id.ts';
import { findPublishedWheels, nextBuildTag } from './find-published-wheel.ts';

export type InputName = keyof BuildInputs;

/**
 * Where a cell stands against the index and the build records:
 * - `missing`: the index serves no wheel for it: build (no build tag);
 * - `built`: it serves one built from today's inputs, or one the records know nothing about
 *   (another farm's, or records moved aside): nothing to do;
 * - `stale`: the newest wheel was built from other inputs (or a rebuild was asked for): build again
 *   with the next PEP 427 build tag, so pip prefers the new wheel and no file is overwritten.
 */
export type CellState =
  | { state: 'missing' }
  | { state: 'built'; wheel: PublishedFile }
  | { state: 'stale'; wheel: PublishedFile; changed: (InputName | 'requested')[]; buildTag: string };

export function decideCellState({
  files,
  cell,
  record,
  inputs,
  rebuild = false,
}: {
  files: PublishedFile[];
  cell: Cell;
  /** The newest build of this cell for this index that ended with its wheel in the index. */
  record: BuildRecord | undefined;
  inputs: BuildInputs;
  rebuild?: boolean;
}): CellState {
  const wheels = findPublishedWheels(files, cell);
  const newest = wheels[0];
  if (!newest) return { state: 'missing' };
  // The records only speak for the wheel they made: a newer one published by another farm is taken as built.
  const known = record !== undefined && record.wheel === newest.file.filename;
  const changed: (InputName | 'requested')[] = rebuild
    ? ['requested']
    : known
      ? (Object.keys(inputs) as InputName[]).filter((key) => record.inputs[key] !== inputs[key])
      : [];
  if (changed.length === 0) return { state: 'built', wheel: newest.file };
  return { state: 'stale', wheel: newest.file, changed, buildTag: nextBuildTag(wheels) };
}

/** For people: what made a cell stale, e.g. `recipe changed, image changed`. */
export function describeChange(changed: (InputName | 'requested')[]): string {
  const words: Record<InputName | 'requested', string> = {
    requested: '--rebuild',
    source: 'sdist changed',
    recipe: 'recipe changed',
    image: 'image changed',
  };
  return changed.map((c) => words[c]).join(', ');
}
