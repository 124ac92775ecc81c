import type { ImageEvent } from '../images/ensure-images.ts';

/** The steps of one cell, in order; each is announced and timed. */
export type StepName = 'requires' | 'build' | 'repair' | 'test' | 'publish';

export type CellOutcome = 'published' | 'unchanged' | 'skipped' | 'failed';

/** Everything the farm reports while it works. The CLI renders these for people or as JSON lines. */
export type FarmEvent =
  | ImageEvent
  | HostEvent
  | { type: 'resolved'; project: string; version: string; sdist: string; upstream: string }
  | { type: 'fetched'; sdist: string; cached: boolean; path: string }
  /** A toolchain given to a package whose recipe writes none, because its sdist calls for it (pipeline/sdist-needs.ts). */
  | { type: 'toolchain-detected'; project: string; version: string; toolchain: 'rust' | 'fortran'; because: string }
  /** Containers and work volumes of farm processes that died, removed before this run starts. */
  | { type: 'swept'; containers: number; volumes: number }
  /** Builds of farm processes that died, marked abandoned; the index's pages rebuilt after them. */
  | { type: 'abandoned'; builds: number; repairedProjects?: number }
  /** Pages an earlier publish owed (it stopped between manifest and pages), written before this run builds. */
  | { type: 'settled'; projects: string[] }
  /** An application's closure, resolved per target Python: how many distributions are built, mirrored. */
  | { type: 'closure'; application: string; pythons: string[]; build: number; mirror: number; record: string }
  /** A pure wheel of a closure copied from the upstream into the index, byte for byte. */
  | {
      type: 'mirror';
      project: string;
      filename: string;
      outcome: 'published' | 'unchanged' | 'failed';
      seconds: number;
      error?: { code: string; message: string; hint?: string };
    }
  | { type: 'planned'; buildIds: string[]; skipped: { python: string; reason: string }[] }
  | { type: 'step'; buildId: string; step: StepName; status: 'started'; host?: string }
  | { type: 'step'; buildId: string; step: StepName; status: 'done' | 'failed'; seconds: number; detail?: string; host?: string }
  /** A cell whose engine went away under it runs again from the start (fresh containers). */
  | { type: 'retry'; buildId: string; reason: string; host?: string }
  | {
      type: 'cell';
      buildId: string;
      /** The Docker host it ran on, in a matrix build. */
      host?: string;
      outcome: CellOutcome;
      seconds: number;
      wheel?: string;
      reason?: string;
      log?: string;
      error?: { code: string; message: string; hint?: string; logTail?: string[] };
    };

/**
 * A Docker host: taken out when its engine stops answering under a cell (its cells go to the other
 * hosts), and back in once it answers again within `waitSeconds` (`containers.engine-wait`).
 */
export type HostEvent =
  | { type: 'host'; host: string; status: 'lost'; reason: string; waitSeconds: number }
  | { type: 'host'; host: string; status: 'back'; seconds: number }
  /** An image the host lacked, copied from another host's engine (save/load, no registry). */
  | { type: 'host'; host: string; status: 'image-copied'; tag: string; from: string; seconds: number };

export type EmitEvent = (event: FarmEvent) => void;
