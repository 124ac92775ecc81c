import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { IntegrityError, WheelfarmError } from '../errors.ts';
import { KeyedMutex } from '../index/keyed-mutex.ts';
import { displayPath } from '../recipes/display-path.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { LABEL } from '../runtime/labels.ts';
import { packFiles } from '../runtime/tar-streams.ts';
import type { ContentCache } from '../upstream/content-cache.ts';
import { findDebianMirror, resolveSourceUrl } from './debian-mirror.ts';
import type { ImageEvent } from './ensure-images.ts';
import type { FromSourceImagePlan } from './from-source-image.ts';
import { imageBuildLogPath, withImageBuildLog } from './image-build-log.ts';

export interface FromSourceContext {
  runtime: ContainerRuntime;
  home: string;
  baseImage: string;
  sourceCache: ContentCache;
  debianMirror: string | undefined;
  buildArgs: Record<string, string>;
  onEvent: (event: ImageEvent) => void;
  signal?: AbortSignal;
}

// Cells of one process that need the same library wait for one build of it.
const inProcess = new KeyedMutex();

/** How many lines of a failed build's log its error shows. */
const LOG_TAIL_LINES = 25;

/**
 * Each planned library or toolchain image, in order (dependencies first), built when missing: its
 * source downloaded and verified by sha256 (cached by content; nothing is cached when no URL serves
 * the pinned bytes), then built on the base image with the network (never in a cell's build step).
 * One build per tag at a time, across cells and processes; the others wait and reuse it.
 */
export async function ensureFromSourceImages(context: FromSourceContext, plans: FromSourceImagePlan[]): Promise<void> {
  for (const plan of plans) {
    await inProcess.run(plan.tag, () => withTagLock(context.home, plan.tag, () => ensureOne(context, plan)));
  }
}

async function ensureOne(context: FromSourceContext, plan: FromSourceImagePlan): Promise<void> {
  if (await context.runtime.inspectImage(plan.tag)) {
    context.onEvent({ type: 'image', kind: plan.kind, tag: plan.tag, status: 'present' });
    return;
  }
  const source = await fetchSource(context, plan);
  const { definition } = plan;
  try {
    await withImageBuildLog({ home: context.home, onEvent: context.onEvent }, { kind: plan.kind, tag: plan.tag }, (write) =>
      context.runtime.buildImage({
        context: packFiles([
          { name: 'Dockerfile', source: { content: plan.dockerfile } },
          { name: 'build.sh', source: { content: plan.buildScript } },
          { name: `source/${plan.sourceName}`, source: { path: source.path } },
        ]),
        tag: plan.tag,
        buildArgs: { ...context.buildArgs, BASE_IMAGE: context.baseImage },
        labels: {
          [LABEL.managed]: '1',
          [LABEL.imageKind]: plan.kind,
          [LABEL.imageInputs]: plan.inputsHash,
          [LABEL.fromSource]: `${definition.name} ${definition.version}`,
          [LABEL.sourceSha256]: source.sha256,
        },
        onOutput: write,
        ...(context.signal ? { signal: context.signal } : {}),
      }),
    );
  } catch (error) {
    if (!(error instanceof WheelfarmError) || context.signal?.aborted) throw error;
    throw await buildFailed(context.home, plan, error);
  }
}

async function fetchSource(context: FromSourceContext, plan: FromSourceImagePlan): Promise<{ path: string; sha256: string }> {
  const { definition } = plan;
  const needsMirror = definition.sources.some((source) => source.url.startsWith('debian:'));
  const mirror = needsMirror
    ? await findDebianMirror(context.debianMirror ? { configured: context.debianMirror } : {}).catch(() => undefined)
    : undefined;
  // Sources are tried in order; those pinning the same bytes go to the cache together (it tries each URL).
  const bySha = new Map<string, string[]>();
  for (const source of definition.sources) {
    const url = resolveSourceUrl(source.url, mirror);
    if (url !== undefined) bySha.set(source.sha256, [...(bySha.get(source.sha256) ?? []), url]);
  }
  let failure: unknown;
  for (const [sha256, urls] of bySha) {
    try {
      const fetched = await context.sourceCache.fetchVerified({
        urls,
        sha256,
        filename: plan.sourceName,
        ...(context.signal ? { signal: context.signal } : {}),
      });
      return { path: fetched.path, sha256 };
    } catch (error) {
      if (context.signal?.aborted) throw error;
      if (!(failure instanceof IntegrityError)) failure = error;
    }
  }
  throw sourceFailed(plan, failure, definition.sources[0]!.sha256);
}

function sourceFailed(plan: FromSourceImagePlan, error: unknown, sha256: string): WheelfarmError {
  const { definition } = plan;
  const file = displayPath(definition.file);
  const mismatch = error instanceof IntegrityError;
  const reason = error instanceof Error ? error.message : 'no URL could be used (a `debian:` source needs a Debian mirror)';
  return new (mismatch ? IntegrityError : WheelfarmError)(
    mismatch ? 'library-source-mismatch' : 'library-source-unavailable',
    `${plan.kind} ${definition.name} ${definition.version} (${file}): ${mismatch ? 'no source served the pinned bytes' : 'no source could be downloaded'}: ${reason}`,
    {
      cause: error,
      hint: mismatch
        ? `nothing was cached; check the sha256 in ${file} (first source: ${sha256}) against the release's published checksum`
        : `check the sources' URLs in ${file}, the network, or images.debian-mirror in wheelfarm.yaml`,
    },
  );
}

async function buildFailed(home: string, plan: FromSourceImagePlan, error: WheelfarmError): Promise<WheelfarmError> {
  const log = imageBuildLogPath(home, plan.kind, plan.tag);
  const tail = await readFile(log, 'utf8')
    .then((text) => text.trimEnd().split('\n').slice(-LOG_TAIL_LINES).join('\n'))
    .catch(() => '');
  const { definition } = plan;
  return new WheelfarmError(
    plan.kind === 'library' ? 'library-build-failed' : 'toolchain-build-failed',
    `building ${plan.kind} ${definition.name} ${definition.version} from source failed (${displayPath(definition.file)})${tail ? `; the end of its log:\n${tail}` : ''}`,
    {
      cause: error,
      hint: `fix the build in ${displayPath(definition.file)} (its \`build\`, \`system\` packages or \`depends\`); full log: ${log}`,
    },
  );
}

/** A lock per image tag under the farm's home: a second process waits (up to an hour: GCC builds long) and then reuses. */
async function withTagLock<T>(home: string, tag: string, section: () => Promise<T>): Promise<T> {
  const dir = join(home, 'locks');
  await mkdir(dir, { recursive: true });
  const release = await lockfile.lock(dir, {
    lockfilePath: join(dir, `${tag.replaceAll(/[/:]/g, '_')}.lock`),
    retries: { retries: 720, minTimeout: 1000, maxTimeout: 5000 },
    stale: 120_000,
  });
  try {
    return await section();
  } finally {
    await release();
  }
}
