import type { Cell } from '../wheels/build-id.ts';

/**
 * What decides a wheel's bytes, recorded with every build. A cell whose wheel was built from other
 * inputs than today's is stale and is rebuilt with the next build tag.
 */
export interface BuildInputs {
  /** `sha256:<hex>` of the sdist, or `git:<url>@<commit>` for a recipe's git source. */
  source: string;
  /** Hash of the recipe's build inputs (see pipeline/build-inputs.ts). */
  recipe: string;
  /** The image the wheel was built in (a content-hashed tag: toolchains and system packages included). */
  image: string;
}

/**
 * `running` until the build ends. Only `published` and `unchanged` mean the index serves the wheel;
 * a crash leaves `running` behind, which the next start marks `abandoned` once its process is gone.
 */
export type BuildState = 'running' | 'published' | 'unchanged' | 'failed' | 'interrupted' | 'abandoned';

export const DONE_STATES: readonly BuildState[] = ['published', 'unchanged'];

export interface BuildRecord {
  /** The record's own number, what `wheelfarm logs <id>` takes. */
  id: number;
  buildId: string;
  cell: Cell;
  /** The index the wheel is for (credential-free identity, see indexIdentity). */
  index: string;
  inputs: BuildInputs;
  /** PEP 427 build tag given to the wheel; undefined for the first build of a version. */
  buildTag: string | undefined;
  state: BuildState;
  startedAt: string;
  finishedAt: string | undefined;
  /** Seconds per step (`build`, `repair`, `test`, `publish`). */
  steps: Record<string, number>;
  wheel: string | undefined;
  wheelSha256: string | undefined;
  log: string | undefined;
  error: string | undefined;
  /** What the build phase installed, fetched beforehand; undefined for builds with the network on. */
  requires: BuildRequirement[] | undefined;
  /** The libraries and toolchains built from source that the build image holds (empty for none). */
  native: NativeComponent[];
  /** The farm process that ran the build (host name and pid), to tell a crash from a build in progress. */
  host: string;
  pid: number;
}

/**
 * A library or toolchain built from pinned source into the image a wheel was built in: what traces
 * the native code in the wheel (grafted libraries, statically linked runtimes) to its source bytes.
 */
export interface NativeComponent {
  kind: 'library' | 'toolchain';
  name: string;
  version: string;
  /** The sha256 of the source tarball it was built from (the one of its pinned sources that downloaded). */
  sha256: string;
  /** Its image (`wheelfarm/library-geos:3.13.1-<hash>`). */
  image: string;
}

/** One file of a build's PEP 517 requirements (a wheel), as the fetch phase downloaded it. */
export interface BuildRequirement {
  file: string;
  sha256: string;
}

export interface BeginBuild {
  buildId: string;
  cell: Cell;
  index: string;
  inputs: BuildInputs;
  buildTag: string | undefined;
  log: string | undefined;
  native?: NativeComponent[];
}

export interface FinishBuild {
  state: Exclude<BuildState, 'running' | 'abandoned'>;
  steps: Record<string, number>;
  wheel?: string;
  wheelSha256?: string;
  error?: string;
  requires?: BuildRequirement[];
  /** Where the log ended up (compressed), when it moved since `begin`. */
  log?: string;
}

/** What the planner and the scheduler need to know of one cell's past, for one index. */
export interface CellHistory {
  buildId: string;
  /** The newest build that ended with its wheel in the index. */
  done: BuildRecord | undefined;
  /** Failed builds after `done` (all of them when there is none), newest first. */
  failures: BuildRecord[];
}

/** Seconds a build took, from its record (the sum of its steps). */
export function recordSeconds(record: BuildRecord): number {
  return Object.values(record.steps).reduce((sum, s) => sum + s, 0);
}

/**
 * The port for build records: the embedded SQLite file by default. Records are written twice, at
 * the start (`running`) and at the end, so a crash never leaves a build marked done that did not publish.
 */
export interface BuildRecords {
  begin(build: BeginBuild): Promise<number>;
  finish(id: number, result: FinishBuild): Promise<void>;
  /** The newest build of a cell for an index that ended with its wheel in the index. */
  latestDone(buildId: string, index: string): Promise<BuildRecord | undefined>;
  get(id: number): Promise<BuildRecord | undefined>;
  /** Newest first. `buildId` may end in `*` to match a prefix (e.g. `numpy-*`). */
  list(filter?: { buildId?: string; state?: BuildState; limit?: number }): Promise<BuildRecord[]>;
  /**
   * Every cell's history for an index, keyed by build identifier, in one read; with `projects`
   * (names, any spelling), only their cells: a one-package build reads its own history, not the index's.
   */
  histories(index: string, filter?: { projects?: string[] }): Promise<Map<string, CellHistory>>;
  /**
   * An exclusive lock shared by every farm process using these records (e.g. one matrix build at a
   * time). Freed when the holder releases it or dies. Undefined when another process holds it.
   */
  tryLock(name: string): Promise<(() => Promise<void>) | undefined>;
  /** Marks `running` records of processes on this host that no longer exist as `abandoned`; returns how many. */
  abandonOrphans(isAlive: (pid: number) => boolean): Promise<number>;
  close(): Promise<void>;
}
