import { mkdir, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { UserInputError } from '../errors.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { LABEL } from '../runtime/labels.ts';
import type { ContentCache } from '../upstream/content-cache.ts';
import { bootstrapBaseImage } from './base-rootfs.ts';
import { withImageBuildLog } from './image-build-log.ts';
import type { ImageKind } from './image-build-log.ts';
import { packBuildContext } from './build-context.ts';
import { findDebianMirror, resolveSourceUrl } from './debian-mirror.ts';
import type { LoadedImageDefinitions } from './image-definitions.ts';
import { loadImageDefinitions } from './image-definitions.ts';
import type { ImagePlan } from './image-plan.ts';
import { planImages } from './image-plan.ts';
import { findUnfilledPlaceholders, renderDockerfile, sourceFileName } from './render-dockerfile.ts';

export type ImageEvent =
  | { type: 'image'; kind: ImageKind; tag: string; status: 'present' }
  | { type: 'image'; kind: ImageKind; tag: string; status: 'building'; log: string }
  | { type: 'image'; kind: ImageKind; tag: string; status: 'built'; seconds: number }
  | { type: 'image-progress'; kind: ImageKind; line: string };

export interface ImagesContext {
  runtime: ContainerRuntime;
  imagesDir: string;
  home: string;
  sourceCache: ContentCache;
  debianMirror: string | undefined;
  hostCaPath: string | undefined;
  buildArgs: Record<string, string>;
  onEvent: (event: ImageEvent) => void;
  signal?: AbortSignal;
}

export interface PreparedDefinitions {
  loaded: LoadedImageDefinitions;
  dockerfile: string;
  scripts: Record<string, string>;
  plan: ImagePlan;
}

/** Load and render the image definitions and compute their tags. No Docker, no network. */
export async function prepareImageDefinitions(imagesDir: string): Promise<PreparedDefinitions> {
  const loaded = await loadImageDefinitions(imagesDir);
  const upstream = 'upstream' in loaded.definitions.base;
  const buildDir = join(imagesDir, 'build');
  const templateName = upstream ? 'Dockerfile.manylinux.tmpl' : 'Dockerfile.tmpl';
  const template = await readFile(join(buildDir, templateName), 'utf8');
  const dockerfile = renderDockerfile(template, loaded.definitions);
  const unfilled = findUnfilledPlaceholders(dockerfile);
  if (unfilled.length > 0) {
    throw new UserInputError('bad-image-template', `${join(buildDir, templateName)} uses unknown placeholders: ${unfilled.join(', ')}`, {
      hint: 'use only the keys of images.yaml (see images/README.md)',
    });
  }
  const scripts: Record<string, string> = {};
  for (const name of (await readdir(buildDir)).filter((n) => n.endsWith('.sh')).sort()) {
    scripts[name] = await readFile(join(buildDir, name), 'utf8');
  }
  return { loaded, dockerfile, scripts, plan: planImages({ loaded, renderedDockerfile: dockerfile, contextFiles: scripts }) };
}

/**
 * Make sure the base, build and runtime images of the definitions exist, building only what is
 * missing. One process at a time builds (a lock under the farm's home); others wait, then reuse.
 */
export async function ensureImages(context: ImagesContext): Promise<ImagePlan> {
  const prepared = await prepareImageDefinitions(context.imagesDir);
  const { plan } = prepared;
  if (await allPresent(context, plan)) {
    for (const image of [plan.base, plan.build, plan.runtime])
      context.onEvent({ type: 'image', kind: image.kind, tag: image.tag, status: 'present' });
    return plan;
  }
  await mkdir(join(context.home, 'locks'), { recursive: true });
  const release = await lockfile.lock(join(context.home, 'locks'), {
    lockfilePath: join(context.home, 'locks', 'images.lock'),
    retries: { retries: 720, minTimeout: 1000, maxTimeout: 5000 },
    stale: 120_000,
  });
  try {
    await ensureBase(context, prepared);
    await ensureBuildAndRuntime(context, prepared);
  } finally {
    await release();
  }
  return plan;
}

async function allPresent(context: ImagesContext, plan: ImagePlan): Promise<boolean> {
  for (const image of [plan.base, plan.build, plan.runtime]) {
    if (!(await context.runtime.inspectImage(image.tag))) return false;
  }
  return true;
}

async function ensureBase(context: ImagesContext, { loaded, plan }: PreparedDefinitions): Promise<void> {
  const image = plan.base;
  if (await context.runtime.inspectImage(image.tag)) {
    context.onEvent({ type: 'image', kind: 'base', tag: image.tag, status: 'present' });
    return;
  }
  await withImageBuildLog({ home: context.home, onEvent: context.onEvent }, image, async (write) => {
    const { base } = loaded.definitions;
    if ('upstream' in base) {
      await context.runtime.pullImage({ reference: plan.base.reference!, onOutput: write });
      await context.runtime.tagImage({ source: plan.base.reference!, tag: image.tag });
      return;
    }
    const mirror = await findDebianMirror(context.debianMirror ? { configured: context.debianMirror } : {});
    await bootstrapBaseImage({
      runtime: context.runtime,
      tag: image.tag,
      suite: base.debootstrap.suite,
      variant: base.debootstrap.variant,
      mirror,
      workDir: join(context.home, 'tmp'),
      onOutput: write,
      ...(context.signal ? { signal: context.signal } : {}),
    });
  });
}

async function ensureBuildAndRuntime(context: ImagesContext, prepared: PreparedDefinitions): Promise<void> {
  const { plan } = prepared;
  const missing = [];
  for (const image of [plan.build, plan.runtime]) {
    if (await context.runtime.inspectImage(image.tag))
      context.onEvent({ type: 'image', kind: image.kind, tag: image.tag, status: 'present' });
    else missing.push(image);
  }
  if (missing.length === 0) return;
  const sources = await fetchPythonSources(context, prepared.loaded);
  for (const image of missing) {
    await withImageBuildLog({ home: context.home, onEvent: context.onEvent }, image, async (write) => {
      await context.runtime.buildImage({
        context: packBuildContext({ dockerfile: prepared.dockerfile, scripts: prepared.scripts, sources, hostCaPath: context.hostCaPath }),
        tag: image.tag,
        target: image.kind,
        buildArgs: { ...context.buildArgs, BASE_IMAGE: plan.base.tag },
        labels: { [LABEL.managed]: '1', [LABEL.imageKind]: image.kind, [LABEL.imageInputs]: image.inputsHash },
        onOutput: write,
        ...(context.signal ? { signal: context.signal } : {}),
      });
    });
  }
}

async function fetchPythonSources(context: ImagesContext, loaded: LoadedImageDefinitions): Promise<{ name: string; path: string }[]> {
  if ('upstream' in loaded.definitions.base) return [];
  const needsMirror = loaded.definitions.pythons.some((p) => p.urls.some((u) => u.startsWith('debian:')));
  const mirror = needsMirror
    ? await findDebianMirror(context.debianMirror ? { configured: context.debianMirror } : {}).catch(() => undefined)
    : undefined;
  const sources = [];
  for (const python of loaded.definitions.pythons) {
    const urls = python.urls.map((url) => resolveSourceUrl(url, mirror)).filter((url): url is string => url !== undefined);
    const name = sourceFileName(python);
    const { path } = await context.sourceCache.fetchVerified({
      urls,
      sha256: python.sha256,
      filename: name,
      ...(context.signal ? { signal: context.signal } : {}),
    });
    sources.push({ name, path });
  }
  return sources;
}
