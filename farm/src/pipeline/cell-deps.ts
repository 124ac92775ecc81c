import type { IndexPublisher } from '../index/publisher.ts';
import type { BuildRecords } from '../records/build-records.ts';
import type { BuildHost } from '../runtime/build-host.ts';
import type { HostTrust } from '../runtime/host-trust.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';
import type { EmitEvent } from './events.ts';

/** The index cells publish to, and how the build records name it (no credentials). */
export interface PublishIndex {
  publisher: IndexPublisher;
  id: string;
}

/**
 * What one cell's steps use, and nothing more: the host it runs on, what containers get of this
 * machine, where it publishes and records, where its log goes, the upstream's problems for its
 * log, its events (already marked with the host) and the run's abort signal. Each step takes the
 * part of this it needs (ContainerDeps, StepDeps).
 */
export interface CellDeps {
  host: BuildHost;
  trust: HostTrust;
  index: PublishIndex;
  records: BuildRecords;
  /** The farm's home: build logs and the staging folder of repaired wheels. */
  home: string;
  upstream: Pick<UpstreamForContainers, 'watch'>;
  emit: EmitEvent;
  signal: AbortSignal;
}

/** What starting a contained container needs. */
export type ContainerDeps = Pick<CellDeps, 'host' | 'trust' | 'signal'>;

/** What running a step in a container needs. */
export type StepDeps = Pick<CellDeps, 'host' | 'upstream' | 'emit' | 'signal'>;
