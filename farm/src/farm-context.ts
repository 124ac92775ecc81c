import { join } from 'node:path';
import type { ResolvedSettings } from './config/settings.ts';
import type { IndexPublisher } from './index/publisher.ts';
import { createPublisher } from './index/create-publisher.ts';
import { indexIdentity, parseIndexTarget } from './index/parse-index-target.ts';
import type { EmitEvent } from './pipeline/events.ts';
import type { BuildRecords } from './records/build-records.ts';
import { openBuildRecords } from './records/open-build-records.ts';
import type { ContainerRuntime } from './runtime/container-runtime.ts';
import { parseMemory } from './config/parse-memory.ts';
import { DockerRuntime } from './runtime/docker-runtime.ts';
import { findHostCaBundle, proxyEnv } from './runtime/host-trust.ts';
import { ContentCache } from './upstream/content-cache.ts';
import { discoverUpstreamIndex } from './upstream/upstream-index.ts';
import { UpstreamForContainers } from './upstream/upstream-for-containers.ts';
import type { UpstreamEnv } from './upstream/upstream-for-containers.ts';

/**
 * Everything a command works with, built once and passed in (no module-level singletons).
 * The upstream index is discovered lazily: `images list` should not ask pip anything.
 */
export interface FarmContext {
  settings: ResolvedSettings;
  runtime: ContainerRuntime;
  publisher: IndexPublisher;
  /** The publisher's index as the build records name it (no credentials). */
  indexId: string;
  /** Opened on first use (`<home>/records.db`, or the PostgreSQL database of `records.url`). */
  records(): BuildRecords;
  sdistCache: ContentCache;
  sourceCache: ContentCache;
  hostCaPath: string | undefined;
  proxyEnv: Record<string, string>;
  containerMemoryBytes: number;
  upstreamIndex(): Promise<{ url: string; source: string }>;
  /**
   * What points pip in a container on `runtime` at the upstream index: its URL, or, when that URL
   * carries credentials, the URL of the credential proxy started for that engine on first use (see
   * upstream/upstream-for-containers.ts). Rejects an engine on another machine then.
   */
  upstreamEnv(runtime: ContainerRuntime): Promise<UpstreamEnv>;
  /** Refuses what upstreamEnv would refuse for `runtime`, asking no engine anything. */
  checkUpstreamReach(runtime: ContainerRuntime): Promise<void>;
  /** Tells `watch` what goes wrong between the credential proxy and the upstream, until the returned function is called. */
  watchUpstream(watch: (problem: string) => void): () => void;
  emit: EmitEvent;
  signal: AbortSignal;
  /** Releases what the context started (the credential proxy); the command's end calls it. */
  close(): Promise<void>;
}

export function createFarmContext({
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
}): FarmContext {
  let upstream: Promise<{ url: string; source: string }> | undefined;
  let records: BuildRecords | undefined;
  const target = parseIndexTarget(indexTarget ?? settings.indexUrl ?? settings.indexDir);
  const upstreamIndex = () =>
    (upstream ??= discoverUpstreamIndex(settings.upstreamIndexUrl ? { configured: settings.upstreamIndexUrl } : {}));
  const env = proxyEnv();
  const forContainers = new UpstreamForContainers({ upstream: upstreamIndex, proxyEnv: env });
  return {
    settings,
    runtime,
    publisher: createPublisher(target),
    indexId: indexIdentity(target),
    records: () => (records ??= openBuildRecords({ home: settings.home, url: settings.recordsUrl })),
    sdistCache: new ContentCache({ root: join(settings.home, 'cache', 'sdists') }),
    sourceCache: new ContentCache({ root: join(settings.home, 'cache', 'sources') }),
    hostCaPath: findHostCaBundle(settings.trustHostCa),
    proxyEnv: env,
    containerMemoryBytes: parseMemory(settings.containerMemory),
    upstreamIndex,
    upstreamEnv: (on) => forContainers.env(on),
    checkUpstreamReach: (on) => forContainers.check(on),
    watchUpstream: (watch) => forContainers.watch(watch),
    emit,
    signal,
    close: () => forContainers.close(),
  };
}
