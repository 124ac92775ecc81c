import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { UserInputError } from '../errors.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { LABEL } from '../runtime/labels.ts';
import { writeFileAtomic } from '../index/atomic-write.ts';
import { packBuildContext } from './build-context.ts';
import type { ImageEvent } from './ensure-images.ts';
import { withImageBuildLog } from './image-build-log.ts';
import type { ImagePlan, PlannedImage } from './image-plan.ts';
import { IMAGE_REPOSITORY } from './image-plan.ts';
import { hashImageInputs, shortHash } from './input-hash.ts';

/**
 * Image freshness. Image tags hash their inputs, so a tag never changes by itself while the
 * distribution publishes security updates. `wheelfarm images build --refresh` builds, on top of the
 * current build and runtime images, a layer with every pending update of the distribution applied
 * (its security and updates suites added when the image's sources lack them), tagged by a hash of
 * the image it refreshes and the time of the refresh. `<home>/images/refresh.json` remembers the
 * pair, and from then on the farm uses the refreshed tags in place of the ones they refresh: recipe
 * images are rebuilt from them, and every cell built in the old image is stale (its image input
 * changed) and is rebuilt with the next build tag by the next matrix build.
 *
 * A change of the definitions makes new tags, which no refresh names: those images are built fresh,
 * with the updates of the day, and the refresh is simply no longer used.
 */
export interface ImageRefresh {
  refreshedAt: string;
  build: { from: string; tag: string };
  runtime: { from: string; tag: string };
}

export function refreshFile(home: string): string {
  return join(home, 'images', 'refresh.json');
}

export async function readImageRefresh(home: string): Promise<ImageRefresh | undefined> {
  const file = refreshFile(home);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as ImageRefresh;
    if (typeof parsed.refreshedAt !== 'string' || !parsed.build?.tag || !parsed.runtime?.tag) throw new Error('missing fields');
    return parsed;
  } catch (error) {
    throw new UserInputError('bad-image-refresh', `${file} is not a refresh record wheelfarm wrote (${(error as Error).message})`, {
      hint: `delete it to use the images of the definitions as they are, or run \`./wheelfarm images build --refresh\` again`,
    });
  }
}

/** The plan with the refreshed build and runtime tags where the refresh is of the plan's own images. */
export function applyImageRefresh(plan: ImagePlan, refresh: ImageRefresh | undefined): ImagePlan {
  if (!refresh) return plan;
  const swap = (image: PlannedImage, entry: { from: string; tag: string }): PlannedImage =>
    entry.from === image.tag
      ? {
          ...image,
          tag: entry.tag,
          inputsHash: hashImageInputs({ kind: image.kind, texts: { from: image.tag, refreshedAt: refresh.refreshedAt } }),
        }
      : image;
  return { ...plan, build: swap(plan.build, refresh.build), runtime: swap(plan.runtime, refresh.runtime) };
}

export function refreshedTag(kind: 'build' | 'runtime', from: string, refreshedAt: string): string {
  return `${IMAGE_REPOSITORY}/${kind}:${shortHash(hashImageInputs({ kind, texts: { from, refreshedAt } }))}`;
}

/** The layer: root, the distribution's pending updates, back to the image's user. */
export function refreshDockerfile({ from, user }: { from: string; user: string }): string {
  return `FROM ${from}
USER root
RUN set -eu; \\
    if command -v apt-get >/dev/null; then \\
      . /etc/os-release; \\
      main="$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list)"; \\
      if ! grep -rqs -- "\${VERSION_CODENAME}-security" /etc/apt/sources.list /etc/apt/sources.list.d; then \\
        echo "deb \${main%/debian}/debian-security \${VERSION_CODENAME}-security main" >> /etc/apt/sources.list; fi; \\
      if ! grep -rqs -- "\${VERSION_CODENAME}-updates" /etc/apt/sources.list /etc/apt/sources.list.d; then \\
        echo "deb \${main} \${VERSION_CODENAME}-updates main" >> /etc/apt/sources.list; fi; \\
      apt-get update; \\
      apt-get -s upgrade | awk '/^Inst/ { print "update: " $2 " " $3 " -> " $4 }'; \\
      DEBIAN_FRONTEND=noninteractive apt-get -y upgrade; \\
      apt-get clean; rm -rf /var/lib/apt/lists/*; \\
    elif command -v dnf >/dev/null; then \\
      dnf -y upgrade --refresh; dnf clean all; \\
    else echo "no apt-get or dnf in ${from}: nothing to refresh with" >&2; exit 1; fi
USER ${user}
`;
}

/** Where and how refreshed images are built: the engine, the farm's home (logs, the record), the images' user. */
export interface RefreshEnvironment {
  runtime: ContainerRuntime;
  home: string;
  user: string;
  buildArgs: Record<string, string>;
  onEvent: (event: ImageEvent) => void;
  signal: AbortSignal;
}

/**
 * Build the refreshed build and runtime images of `plan` (which must exist) and record them.
 * Returns the plan with the refreshed tags.
 */
export async function refreshImages({
  plan,
  now = new Date(),
  ...environment
}: RefreshEnvironment & { plan: ImagePlan; now?: Date }): Promise<ImagePlan> {
  const { home } = environment;
  const refreshedAt = now.toISOString();
  const refresh: ImageRefresh = {
    refreshedAt,
    build: { from: plan.build.tag, tag: refreshedTag('build', plan.build.tag, refreshedAt) },
    runtime: { from: plan.runtime.tag, tag: refreshedTag('runtime', plan.runtime.tag, refreshedAt) },
  };
  for (const kind of ['build', 'runtime'] as const) await buildRefreshed(environment, { kind, entry: refresh[kind], refreshedAt });
  await mkdir(join(home, 'images'), { recursive: true });
  await writeFileAtomic(refreshFile(home), `${JSON.stringify(refresh, null, 2)}\n`);
  return applyImageRefresh(plan, refresh);
}

/**
 * A refreshed image the record names but the engine lacks (pruned, or another host's engine) is
 * built again under the same tag: the updates of today, on the same base.
 */
export async function ensureRefreshedImages({
  refresh,
  plan,
  ...environment
}: RefreshEnvironment & { refresh: ImageRefresh; plan: ImagePlan }): Promise<void> {
  for (const kind of ['build', 'runtime'] as const) {
    const entry = refresh[kind];
    if (plan[kind].tag !== entry.tag) continue;
    if (await environment.runtime.inspectImage(entry.tag)) {
      environment.onEvent({ type: 'image', kind, tag: entry.tag, status: 'present' });
      continue;
    }
    await buildRefreshed(environment, { kind, entry, refreshedAt: refresh.refreshedAt });
  }
}

async function buildRefreshed(
  { runtime, home, user, buildArgs, onEvent, signal }: RefreshEnvironment,
  { kind, entry, refreshedAt }: { kind: 'build' | 'runtime'; entry: { from: string; tag: string }; refreshedAt: string },
): Promise<void> {
  await withImageBuildLog(
    { home, onEvent },
    { kind, tag: entry.tag, hint: "the distribution's mirrors must be reachable from the engine (proxies are passed as build arguments)" },
    async (write) => {
      await runtime.buildImage({
        context: packBuildContext({
          dockerfile: refreshDockerfile({ from: entry.from, user }),
          scripts: {},
          sources: [],
          hostCaPath: undefined,
        }),
        tag: entry.tag,
        buildArgs,
        labels: {
          [LABEL.managed]: '1',
          [LABEL.imageKind]: kind,
          [LABEL.imageInputs]: entry.from,
          'wheelfarm.image.refreshed-at': refreshedAt,
        },
        onOutput: write,
        signal,
      });
    },
  );
}
