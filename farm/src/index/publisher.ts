/**
 * The port every package index backend implements: the indexes wheelfarm writes itself (a directory,
 * S3: stored-index.ts over a storage adapter) and the servers it uploads to (devpi, pypiserver:
 * upload/). The pipeline only ever talks to this interface.
 */

export interface WheelToPublish {
  /** Where the built wheel is on disk now. */
  path: string;
  /** The name it is published under, a valid wheel filename. */
  filename: string;
  /** Lower-case hex sha256 of the bytes at `path`; verified while publishing. */
  sha256: string;
  /** Project name (any spelling; compared normalized with the wheel's own name). */
  project: string;
  requiresPython?: string;
}

/** `unchanged`: the index already served these exact bytes under this filename. */
export type PublishOutcome = 'published' | 'unchanged';

export interface PublishedFile {
  filename: string;
  sha256: string;
  requiresPython?: string;
  size: number;
}

export interface IndexPublisher {
  /** For people: where the wheels go, e.g. `local index at /srv/wheels`. */
  readonly description: string;
  /**
   * What wheelfarm can do to this index besides publishing, as the backend declares it: yank, repair,
   * settle the pages of interrupted publishes. Undefined for indexes that serve pages of their own
   * (devpi, pypiserver): they are looked after with their own tools.
   */
  readonly maintenance: IndexMaintenance | undefined;
  /**
   * Makes the wheel installable from the index. Must refuse (PublishConflictError) to replace a
   * filename the index already serves with different bytes, and return `unchanged` for the same bytes.
   */
  publish(wheel: WheelToPublish): Promise<PublishOutcome>;
  /** The files the index serves for a project; empty if it has none. */
  listFiles(project: string): Promise<PublishedFile[]>;
  /**
   * The core metadata (PEP 658 `.metadata`) of a wheel the index serves, as text: what a wheel already
   * there depends on. Undefined when there is none, or the backend keeps it where wheelfarm does not read.
   */
  coreMetadata(project: string, filename: string): Promise<string | undefined>;
}

/** The upkeep of an index whose pages wheelfarm writes itself (see IndexPublisher.maintenance). */
export interface IndexMaintenance {
  /** PEP 592 for every file of one version; returns the filenames whose state changed. */
  setYanked(project: string, version: string, yanked: { reason?: string } | false): Promise<string[]>;
  /** Rebuilds every page from the stored file lists, writes missing `.metadata`, removes dead writers' temp files. */
  repair(): Promise<RepairResult>;
  /**
   * Writes the pages of the projects whose publish stopped between the manifest and the pages (a
   * crash, a full disk, the storage giving out), as the note each such publish left says; cheap when
   * there is none (one directory read or LIST). Returns those projects.
   */
  settlePending(): Promise<string[]>;
}

export interface RepairResult {
  projects: number;
  /** `.metadata` files written beside wheels that lacked them. */
  metadataWritten: number;
  /** Temp files of writers that died, removed (a directory's; none on S3). */
  tempFilesRemoved: number;
}
