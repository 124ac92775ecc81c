import type { FarmContext } from '../farm-context.ts';
import { ensureImages, prepareImageDefinitions } from '../images/ensure-images.ts';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import type { ImagePlan } from '../images/image-plan.ts';
import { applyImageRefresh, ensureRefreshedImages, readImageRefresh, refreshImages } from '../images/refresh-images.ts';

/**
 * prepare: the build and runtime images for the definitions, built only when their inputs changed;
 * then the refreshed ones when `wheelfarm images build --refresh` made some (see refresh-images.ts),
 * or, with `refresh`, a new refresh: the distribution's pending updates applied now.
 */
export async function prepareImages(
  context: FarmContext,
  { refresh = false }: { refresh?: boolean } = {},
): Promise<{ plan: ImagePlan; prepared: PreparedDefinitions }> {
  const prepared = await prepareImageDefinitions(context.settings.imagesDir);
  // The tools stage installs pip, build and auditwheel from the upstream index. Build arguments stay in
  // the image's history (`docker history`): an upstream URL with credentials goes in as the credential
  // proxy's, which the classic builder's containers, on the default bridge network, reach like a cell's.
  const upstreamEnv = await context.upstreamEnv(context.runtime);
  const basePlan = await ensureImages({
    runtime: context.runtime,
    imagesDir: context.settings.imagesDir,
    home: context.settings.home,
    sourceCache: context.sourceCache,
    debianMirror: context.settings.debianMirror,
    hostCaPath: context.hostCaPath,
    buildArgs: { ...context.proxyEnv, ...upstreamEnv },
    onEvent: context.emit,
    signal: context.signal,
  });
  const options = {
    runtime: context.runtime,
    home: context.settings.home,
    user: prepared.loaded.definitions.user.name,
    buildArgs: { ...context.proxyEnv },
    onEvent: context.emit,
    signal: context.signal,
  };
  let plan: ImagePlan;
  if (refresh) {
    plan = await refreshImages({ ...options, plan: basePlan });
  } else {
    const recorded = await readImageRefresh(context.settings.home);
    plan = applyImageRefresh(basePlan, recorded);
    if (recorded && plan !== basePlan) await ensureRefreshedImages({ ...options, refresh: recorded, plan });
  }
  return { plan, prepared: { ...prepared, plan } };
}
