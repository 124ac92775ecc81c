import type { ResolvedSettings } from '../config/settings.ts';
import { ensureImages, prepareImageDefinitions } from '../images/ensure-images.ts';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import type { ImagePlan } from '../images/image-plan.ts';
import { applyImageRefresh, ensureRefreshedImages, readImageRefresh, refreshImages } from '../images/refresh-images.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import type { HostTrust } from '../runtime/host-trust.ts';
import type { ContentCache } from '../upstream/content-cache.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';
import type { EmitEvent } from './events.ts';

/** What preparing images on an engine needs, whichever engine it is. */
export interface ImageDeps {
  settings: Pick<ResolvedSettings, 'imagesDir' | 'recipesDir' | 'home' | 'debianMirror' | 'rust'>;
  /** Where CPython sources are cached. */
  sources: ContentCache;
  trust: HostTrust;
  upstream: Pick<UpstreamForContainers, 'env'>;
  emit: EmitEvent;
  signal: AbortSignal;
}

/**
 * prepare: the build and runtime images for the definitions on `runtime`, built only when their
 * inputs changed; then the refreshed ones when `wheelfarm images build --refresh` made some (see
 * refresh-images.ts), or, with `refresh`, a new refresh: the distribution's pending updates applied now.
 */
export async function prepareImages(
  runtime: ContainerRuntime,
  deps: ImageDeps,
  { refresh = false }: { refresh?: boolean } = {},
): Promise<{ plan: ImagePlan; prepared: PreparedDefinitions }> {
  const { settings, trust, emit, signal } = deps;
  const prepared = await prepareImageDefinitions(settings.imagesDir);
  // The tools stage installs pip, build and auditwheel from the upstream index. Build arguments stay in
  // the image's history (`docker history`): an upstream URL with credentials goes in as the credential
  // proxy's, which the classic builder's containers, on the default bridge network, reach like a cell's.
  const upstreamEnv = await deps.upstream.env(runtime);
  const basePlan = await ensureImages({
    runtime,
    imagesDir: settings.imagesDir,
    home: settings.home,
    sourceCache: deps.sources,
    debianMirror: settings.debianMirror,
    hostCaPath: trust.caPath,
    buildArgs: { ...trust.proxyEnv, ...upstreamEnv },
    onEvent: emit,
    signal,
  });
  const options = {
    runtime,
    home: settings.home,
    user: prepared.loaded.definitions.user.name,
    buildArgs: { ...trust.proxyEnv },
    onEvent: emit,
    signal,
  };
  let plan: ImagePlan;
  if (refresh) {
    plan = await refreshImages({ ...options, plan: basePlan });
  } else {
    const recorded = await readImageRefresh(settings.home);
    plan = applyImageRefresh(basePlan, recorded);
    if (recorded && plan !== basePlan) await ensureRefreshedImages({ ...options, refresh: recorded, plan });
  }
  return { plan, prepared: { ...prepared, plan } };
}
