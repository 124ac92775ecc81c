import { join } from 'node:path';
import type { ResolvedSettings } from './config/settings.ts';
import { createPublisher } from './index/create-publisher.ts';
import { indexIdentity, parseIndexTarget } from './index/parse-index-target.ts';
import type { PublishIndex } from './pipeline/cell-deps.ts';
import type { RunDeps } from './matrix/cell-runner.ts';
import type { GatherDeps } from './matrix/gather-parts.ts';
import type { ApplicationDeps } from './matrix/gather-application.ts';
import { UpstreamProjects } from './applications/upstream-projects.ts';
import type { MirrorDeps } from './applications/mirror-files.ts';
import type { BuildHost } from './runtime/build-host.ts';
import type { EmitEvent } from './pipeline/events.ts';
import type { ImageDeps } from './pipeline/prepare-images.ts';
import type { ResolveDeps } from './pipeline/resolve-source.ts';
import { SdistFetcher } from './pipeline/sdist-fetcher.ts';
import type { BuildRecords } from './records/build-records.ts';
import { openBuildRecords } from './records/open-build-records.ts';
import type { ContainerRuntime } from './runtime/container-runtime.ts';
import { DockerRuntime } from './runtime/docker-runtime.ts';
import type { HostTrust } from './runtime/host-trust.ts';
import { findHostCaBundle, proxyEnv } from './runtime/host-trust.ts';
import { ContentCache } from './upstream/content-cache.ts';
import { discoverUpstreamIndex } from './upstream/upstream-index.ts';
import { UpstreamForContainers } from './upstream/upstream-for-containers.ts';

/**
 * The parts a command is made of, built once by the command frame (cli/run-command.ts). Only
 * commands see it whole: each part goes on to the functions that use it, never the bundle.
 */
export interface Farm {
  settings: ResolvedSettings;
  /** The local engine (DOCKER_HOST, else the default socket): images, the sweeper, the default host. */
  runtime: ContainerRuntime;
  index: PublishIndex;
  /** Opened on first use (`<home>/records.db`, or the PostgreSQL database of `records.url`). */
  records(): BuildRecords;
  caches: { sdists: ContentCache; sources: ContentCache; wheels: ContentCache };
  trust: HostTrust;
  /** The upstream index (discovered on first use) and how containers reach it. */
  upstream: UpstreamForContainers;
  emit: EmitEvent;
  signal: AbortSignal;
  /** Releases what the parts started (the credential proxy); the command's end calls it. */
  close(): Promise<void>;
}

export function createFarm({
  settings,
  emit,
  signal,
  indexTarget,
  runtime = new DockerRuntime(),
}: {
  settings: ResolvedSettings;
  emit: EmitEvent;
  signal: AbortSignal;
  /** A directory or an index URL (see index/parse-index-target.ts); default: the settings' index. */
  indexTarget?: string;
  runtime?: ContainerRuntime;
}): Farm {
  let records: BuildRecords | undefined;
  let upstreamIndex: Promise<{ url: string; source: string }> | undefined;
  const target = parseIndexTarget(indexTarget ?? settings.indexUrl ?? settings.indexDir);
  const trust = { caPath: findHostCaBundle(settings.trustHostCa), proxyEnv: proxyEnv() };
  const discover = () =>
    (upstreamIndex ??= discoverUpstreamIndex(settings.upstreamIndexUrl ? { configured: settings.upstreamIndexUrl } : {}));
  const upstream = new UpstreamForContainers({ upstream: discover, proxyEnv: trust.proxyEnv });
  return {
    settings,
    runtime,
    index: { publisher: createPublisher(target), id: indexIdentity(target) },
    records: () => (records ??= openBuildRecords({ home: settings.home, url: settings.recordsUrl })),
    caches: {
      sdists: new ContentCache({ root: join(settings.home, 'cache', 'sdists') }),
      sources: new ContentCache({ root: join(settings.home, 'cache', 'sources') }),
      wheels: new ContentCache({ root: join(settings.home, 'cache', 'wheels') }),
    },
    trust,
    upstream,
    emit,
    signal,
    close: () => upstream.close(),
  };
}

/** Each release's sdist fetched once per run (one per command run: a failed fetch is tried again by the next). */
export function sdistFetcherOf(farm: Farm): SdistFetcher {
  const { settings, emit, signal } = farm;
  return new SdistFetcher({ home: settings.home, sdists: farm.caches.sdists, emit, signal });
}

/** The parts running cells uses (matrix/cell-runner.ts), wired from the farm. */
export function runDepsOf(farm: Farm, sdists: SdistFetcher): RunDeps {
  const { settings, index, trust, upstream, emit, signal } = farm;
  return { settings, index, records: farm.records(), trust, upstream, sources: farm.caches.sources, sdists, emit, signal };
}

/** The parts gathering a plan's inputs uses (matrix/gather-parts.ts), with what resolving a source needs. */
export function gatherDepsOf(farm: Farm, sdists: SdistFetcher): GatherDeps & ResolveDeps {
  const { settings, index, upstream, emit, signal } = farm;
  return { settings, index, records: farm.records(), upstream, sdists, emit, signal };
}

/** The parts preparing images uses (pipeline/prepare-images.ts), wired from the farm. */
export function imageDepsOf(farm: Farm): ImageDeps {
  const { settings, trust, upstream, emit, signal } = farm;
  return { settings, sources: farm.caches.sources, trust, upstream, emit, signal };
}

/** The parts gathering an application uses (matrix/gather-application.ts); its resolver runs on `host`. */
export function applicationDepsOf(farm: Farm, host: BuildHost, sdists: SdistFetcher): ApplicationDeps {
  const { settings, trust, upstream, emit, signal } = farm;
  const resolver = { host, trust, upstream, home: settings.home, emit, signal };
  const projects = new UpstreamProjects({ upstream, signal });
  return { ...gatherDepsOf(farm, sdists), settings, resolver, images: imageDepsOf(farm), projects };
}

/** The parts mirroring pure wheels uses (applications/mirror-files.ts). */
export function mirrorDepsOf(farm: Farm): MirrorDeps {
  const { index, emit, signal } = farm;
  return { wheels: farm.caches.wheels, index, emit, signal };
}
