import PQueue from 'p-queue';
import { InterruptedError, WheelfarmError } from '../errors.ts';
import type { PublishedFile } from '../index/publisher.ts';
import type { PublishIndex } from '../pipeline/cell-deps.ts';
import type { EmitEvent } from '../pipeline/events.ts';
import type { ContentCache } from '../upstream/content-cache.ts';
import type { ClosureEntry } from './classify-closure.ts';

export type MirrorEntry = Extract<ClosureEntry, { kind: 'mirror' }>;

/** A pure wheel of a closure: in the index already (`mirrored`), or to copy (`missing`). */
export interface PlannedMirror {
  entry: MirrorEntry;
  state: 'mirrored' | 'missing';
  reason: string;
}

export interface MirrorResult {
  project: string;
  filename: string;
  outcome: 'published' | 'unchanged' | 'failed';
  seconds: number;
  error?: WheelfarmError;
}

/** Mirrors this many files at once: downloads and publishes overlap, and a slow one does not hold up the rest. */
export const MIRROR_CONCURRENCY = 4;

/**
 * Which pure wheels the index lacks (pure): a file it serves under the same name counts as there,
 * whoever put it (the upstream's bytes, or a build of the farm's when `closure.pure` was `build`).
 */
export function planMirrors(entries: MirrorEntry[], indexFiles: Map<string, PublishedFile[]>): PlannedMirror[] {
  return entries.map((entry) => {
    const served = indexFiles.get(entry.dist.normalized)?.find((f) => f.filename === entry.file.filename);
    if (!served) return { entry, state: 'missing', reason: 'not in the index' };
    const same = served.sha256 === entry.file.sha256?.toLowerCase();
    return { entry, state: 'mirrored', reason: same ? 'in the index' : "in the index (the farm's own build of it)" };
  });
}

export interface MirrorDeps {
  /** Where mirrored wheels are downloaded to (content-addressed, verified by sha256). */
  wheels: ContentCache;
  index: PublishIndex;
  emit: EmitEvent;
  signal: AbortSignal;
}

/**
 * Copies the missing wheels into the index, MIRROR_CONCURRENCY at a time: each streamed from the
 * upstream into the cache (its sha256 checked against the upstream's on the way, never whole in
 * memory), then published like a built wheel (the same protocol: immutable file, `.metadata`,
 * manifest, pages). A failed one is reported and the others go on.
 */
export async function runMirrors(deps: MirrorDeps, planned: PlannedMirror[]): Promise<MirrorResult[]> {
  const queue = new PQueue({ concurrency: MIRROR_CONCURRENCY });
  const missing = planned.filter((p) => p.state === 'missing');
  return Promise.all(missing.map((p) => queue.add(() => mirrorOne(deps, p.entry)) as Promise<MirrorResult>));
}

async function mirrorOne(deps: MirrorDeps, entry: MirrorEntry): Promise<MirrorResult> {
  const started = performance.now();
  const { file, dist } = entry;
  const result = (outcome: MirrorResult['outcome'], error?: WheelfarmError): MirrorResult => {
    const seconds = Math.round((performance.now() - started) / 100) / 10;
    deps.emit({
      type: 'mirror',
      project: dist.name,
      filename: file.filename,
      outcome,
      seconds,
      ...(error ? { error: { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } } : {}),
    });
    return { project: dist.name, filename: file.filename, outcome, seconds, ...(error ? { error } : {}) };
  };
  try {
    if (!file.sha256)
      throw new WheelfarmError(
        'upstream-without-sha256',
        `the upstream gives no sha256 for ${file.filename}: the farm mirrors only verified files`,
      );
    const fetched = await deps.wheels.fetchVerified({
      urls: [file.url],
      sha256: file.sha256,
      filename: file.filename,
      signal: deps.signal,
    });
    const outcome = await deps.index.publisher.publish({
      path: fetched.path,
      filename: file.filename,
      sha256: file.sha256,
      project: dist.name,
      ...(file.requiresPython ? { requiresPython: file.requiresPython } : {}),
    });
    return result(outcome);
  } catch (error) {
    if (error instanceof InterruptedError || deps.signal.aborted) throw error;
    return result(
      'failed',
      error instanceof WheelfarmError ? error : new WheelfarmError('internal-error', (error as Error).message, { cause: error }),
    );
  }
}
