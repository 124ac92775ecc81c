import type { FarmContext } from '../farm-context.ts';
import { ensureImages, prepareImageDefinitions } from '../images/ensure-images.ts';
import type { PreparedDefinitions } from '../images/ensure-images.ts';
import type { ImagePlan } from '../images/image-plan.ts';

/** prepare: the build and runtime images for the definitions, built only when their inputs changed. */
export async function prepareImages(context: FarmContext): Promise<{ plan: ImagePlan; prepared: PreparedDefinitions }> {
  const prepared = await prepareImageDefinitions(context.settings.imagesDir);
  // The tools stage installs pip, build and auditwheel from the upstream index.
  const upstream = await context.upstreamIndex();
  const plan = await ensureImages({
    runtime: context.runtime,
    imagesDir: context.settings.imagesDir,
    home: context.settings.home,
    sourceCache: context.sourceCache,
    debianMirror: context.settings.debianMirror,
    hostCaPath: context.hostCaPath,
    buildArgs: { ...context.proxyEnv, PIP_INDEX_URL: upstream.url },
    onEvent: context.emit,
    signal: context.signal,
  });
  return { plan, prepared };
}
