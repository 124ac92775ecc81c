import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WheelfarmError } from '../errors.ts';
import type { BuildLog } from '../records/build-log.ts';
import type { BuildRequirement } from '../records/build-records.ts';
import type { CopiedFile, RunningContainer } from '../runtime/container-runtime.ts';
import { containerLabels } from '../runtime/labels.ts';
import type { ContainerDeps, StepDeps } from './cell-deps.ts';
import type { CellPlan } from './cell-plan.ts';
import { runStep, stepTimeoutSeconds } from './run-step.ts';
import { offlineBuildScript, patchName, prepareSourceScript, repairScript, requiresScript, wheelBuildCommands } from './cell-scripts.ts';
import { WORK, withContainer } from './with-container.ts';

export interface BuiltWheel {
  wheel: CopiedFile;
  /** The files the build phase installed; undefined when the recipe gives the build the network. */
  requires: BuildRequirement[] | undefined;
}

/**
 * build + repair, as the non-root build user in contained containers of the build image that share
 * the cell's work volume (see with-container.ts):
 *
 * - requires (network on): unpack the sdist, apply the recipe's patches and `build.before`, then
 *   download every PEP 517 build requirement, static (`build-system.requires`) and dynamic (what
 *   the backend's `get_requires_for_build_wheel` asks for), with their dependencies, as wheels
 *   into /work/wheels (pip checks the index's hashes; one that exists only as an sdist is built
 *   into a wheel here), checking that they install with no index; Rust crates with `cargo fetch`.
 *   Their names and sha256 go to the build record.
 * - build (NetworkMode none): the wheels' hashes checked again, then `python -m build --wheel`,
 *   installing only from /work/wheels; cargo offline. A build that reaches for the network fails
 *   with a message that says so.
 * - repair: `auditwheel repair` to the image's policy. No `auditwheel show` after it: it parses every
 *   grafted library again (2.5 s of CPU for lxml or psycopg2, half the repair), and the test step,
 *   in an image without those libraries, is the check that counts.
 *
 * A recipe with `build.network: <reason>` builds in one container with the network on instead.
 * The repaired wheel is streamed out to `stagingDir`.
 */
export async function buildAndRepairWheel(
  deps: ContainerDeps & StepDeps,
  { plan, log, stagingDir, work }: { plan: CellPlan; log: BuildLog; stagingDir: string; work: string },
): Promise<BuiltWheel> {
  const { buildId } = plan;
  const offline = plan.recipe.build.network === undefined;
  const timeoutSeconds = stepTimeoutSeconds(deps.host.limits, plan.recipe);
  const contained = containedSpec(deps, plan, work);
  const online = onlineEnv(plan);
  let requires: BuildRequirement[] | undefined;
  if (offline) requires = await fetchBuildRequirements(deps, { plan, log, stagingDir, work });
  else log.note(`build.network: the build runs with the network on (${plan.recipe.build.network})`);
  const offlineEnv = {
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: `${WORK}/wheels`,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    CARGO_NET_OFFLINE: 'true',
  };
  return withContainer(
    deps,
    {
      ...contained,
      labels: containerLabels({ buildId, step: 'build' }),
      env: offline ? offlineEnv : online,
      network: offline ? 'none' : 'default',
    },
    async (container) => {
      if (!offline) await putSources(container, plan);
      const script = offline ? offlineBuildScript(plan) : `${prepareSourceScript(plan)}${wheelBuildCommands(plan)}`;
      await runStep(deps, { container, buildId, step: 'build', log, script, env: plan.recipe.build.env, timeoutSeconds, offline });
      await runStep(deps, { container, buildId, step: 'repair', log, script: repairScript(plan), timeoutSeconds });
      const wheels = await container.copyOut(`${WORK}/wheelhouse`, stagingDir, (name) => name.endsWith('.whl'));
      if (wheels.length !== 1) {
        throw new WheelfarmError('unexpected-wheels', `${buildId}: expected one repaired wheel, found ${wheels.length}`, {
          hint: `read the log: ${log.path}`,
        });
      }
      return { wheel: wheels[0]!, requires };
    },
  );
}

/**
 * The requires step (network on) in a container of its own: the sdist unpacked, patched, its build
 * requirements downloaded as wheels and its crates fetched into the shared cargo cache; returns the
 * requirement files (name, sha256) it wrote to requires.json.
 */
export async function fetchBuildRequirements(
  deps: ContainerDeps & StepDeps,
  { plan, log, stagingDir, work }: { plan: CellPlan; log: BuildLog; stagingDir: string; work: string },
): Promise<BuildRequirement[]> {
  const { buildId } = plan;
  const timeoutSeconds = stepTimeoutSeconds(deps.host.limits, plan.recipe);
  const spec = { ...containedSpec(deps, plan, work), labels: containerLabels({ buildId, step: 'requires' }), env: onlineEnv(plan) };
  return withContainer(deps, spec, async (container) => {
    await putSources(container, plan);
    const script = requiresScript(plan);
    await runStep(deps, { container, buildId, step: 'requires', log, script, env: plan.recipe.build.env, timeoutSeconds });
    const [list] = await container.copyOut(`${WORK}/requires.json`, stagingDir, (name) => name.endsWith('requires.json'));
    if (!list)
      throw new WheelfarmError('internal-error', `${buildId}: the requires step wrote no requires.json`, {
        hint: `read the log: ${log.path}`,
      });
    return JSON.parse(await readFile(list.path, 'utf8')) as BuildRequirement[];
  });
}

/** What every container of a cell's build runs with: the (recipe) build image, its user, work volume, limits and the engine's caches. */
function containedSpec(deps: ContainerDeps, plan: CellPlan, work: string) {
  const volumes = cacheVolumes(plan.user.name, deps.host.cachePrefix);
  return { image: plan.images.build, user: plan.user, work, limits: plan.recipe.limits, volumes };
}

function onlineEnv(plan: CellPlan): Record<string, string> {
  return { ...plan.upstreamEnv, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
}

/** The sdist and the recipe's patches, into the work volume. */
async function putSources(container: RunningContainer, plan: CellPlan): Promise<void> {
  const owned = { uid: plan.user.uid, gid: plan.user.gid };
  await container.putFiles(WORK, [
    { name: `in/${plan.sdist.filename}`, source: { path: plan.sdist.path }, ...owned },
    ...plan.recipe.patches.map((path, i) => ({ name: `patches/${patchName(path, i)}`, source: { path }, ...owned })),
  ]);
}

/**
 * The caches every build on an engine shares, one named volume each: ccache (C/C++ objects), pip's
 * cache (build requirements are downloaded once) and cargo's home (crates and git checkouts). The
 * build image puts ccache first on PATH and points CCACHE_DIR, PIP_CACHE_DIR and CARGO_HOME at these
 * directories. Concurrent cells are safe on each: ccache and pip write every entry to a temporary
 * file and rename it into place (and ccache locks its stats); cargo takes a file lock,
 * `$CARGO_HOME/.package-cache`, around downloading and unpacking crates, which is why the volume is
 * the whole of CARGO_HOME and not only its registry: a lock in each container's own home left two
 * cells unpacking one crate into the shared registry at once (`.cargo-ok: File exists`).
 */
export function cacheVolumes(user: string, prefix = CACHE_VOLUME_PREFIX): { name: string; target: string }[] {
  const home = `/home/${user}`;
  return [
    { name: `${prefix}-ccache`, target: `${home}/.cache/ccache` },
    { name: `${prefix}-pip`, target: `${home}/.cache/pip` },
    { name: `${prefix}-cargo`, target: `${home}/.cargo` },
  ];
}

/** The names of an engine's cache volumes start with this (a host's `cachePrefix` may say otherwise). */
export const CACHE_VOLUME_PREFIX = 'wheelfarm-cache';

export function stagingDirFor(home: string, buildId: string): string {
  return join(home, 'staging', `${buildId}-${process.pid}`);
}
