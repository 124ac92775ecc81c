import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSdistFiles } from '../../farm/src/archives/read-sdist-files.ts';
import { loadSettings } from '../../farm/src/config/settings.ts';
import { BuildStepError } from '../../farm/src/errors.ts';
import { createFarm, imageDepsOf, runDepsOf, sdistFetcherOf } from '../../farm/src/farm.ts';
import type { Farm } from '../../farm/src/farm.ts';
import { cellDepsFor } from '../../farm/src/matrix/cell-runner.ts';
import { readPreparedDefinitions } from '../../farm/src/matrix/gather-parts.ts';
import { fetchBuildRequirements, stagingDirFor } from '../../farm/src/pipeline/build-wheel.ts';
import type { CellDeps } from '../../farm/src/pipeline/cell-deps.ts';
import type { CellPlan } from '../../farm/src/pipeline/cell-plan.ts';
import type { SdistNeeds } from '../../farm/src/pipeline/sdist-needs.ts';
import { isNeedsText, sdistNeeds } from '../../farm/src/pipeline/sdist-needs.ts';
import { prepareRecipeImage } from '../../farm/src/pipeline/prepare-recipe-image.ts';
import { withWorkVolume } from '../../farm/src/pipeline/with-container.ts';
import { BuildLog } from '../../farm/src/records/build-log.ts';
import { defaultRecipe } from '../../farm/src/recipes/recipe.ts';
import { buildHosts } from '../../farm/src/runtime/build-host.ts';
import { formatBuildId } from '../../farm/src/wheels/build-id.ts';
import { REPO_ROOT, currentImages, docker, packFixture, runInImage } from './helpers.ts';

const CELLS = 4;
const ROUNDS = 3;

/**
 * Several cells of one Rust package fetching the same crates at the same moment, into one fresh
 * set of cache volumes (as `--jobs N` does on a new engine): the real requires step (unpack, pip
 * download of maturin through pip's shared cache, the cargo fetch into the shared cargo cache) in
 * CELLS real containers at once, ROUNDS times, each round on cache volumes of its own that start
 * empty. Every cell must succeed, and the crates must be in the shared cache afterwards.
 */
describe('concurrent cells sharing the cache volumes', () => {
  let farm: Farm;
  let deps: CellDeps;
  let recipeImage: string;
  let runtimeImage: string;
  let sdist: { path: string; sha256: string };
  let needs: SdistNeeds;
  const recipe = { ...defaultRecipe('rustfix'), build: { ...defaultRecipe('rustfix').build, toolchains: { rust: {} } } };

  beforeAll(async () => {
    const settings = await loadSettings({ root: REPO_ROOT });
    farm = createFarm({ settings, emit: () => undefined, signal: new AbortController().signal });
    const [host] = buildHosts(settings, { localRuntime: farm.runtime });
    deps = cellDepsFor(runDepsOf(farm, sdistFetcherOf(farm)), host!);
    const prepared = await readPreparedDefinitions(settings);
    recipeImage = await prepareRecipeImage(farm.runtime, imageDepsOf(farm), { prepared, buildImage: prepared.plan.build.tag, recipe });
    runtimeImage = (await currentImages()).runtime;
    sdist = await packFixture('rustfix', 'rustfix', '0.1.0');
    // As the farm reads it: the Cargo manifest the requires step fetches (Cargo.toml, with its lock).
    needs = sdistNeeds((await readSdistFiles(sdist.path, isNeedsText))!);
    expect(needs.cargo).toEqual([{ manifest: 'Cargo.toml', lock: 'Cargo.lock' }]);
  });
  afterAll(async () => {
    await removeVolumes(`wheelfarm-test-race-${process.pid}-`);
    await farm?.close();
  });

  async function plan(round: number, i: number): Promise<CellPlan> {
    const python = i % 2 === 0 ? 'cp313' : 'cp311';
    const cell = { name: 'rustfix', version: `0.1.${round * CELLS + i}`, python, platform: 'manylinux_2_31_x86_64' };
    return {
      cell,
      buildId: formatBuildId(cell),
      pythonDir: `${python}-${python}`,
      sdist: { filename: 'rustfix-0.1.0.tar.gz', path: sdist.path },
      images: { build: recipeImage, runtime: runtimeImage },
      user: { name: 'builder', uid: 1000, gid: 1000 },
      upstreamEnv: await farm.upstream.env(farm.runtime),
      recipe,
      inputs: { source: `sha256:${sdist.sha256}`, recipe: 'test', image: recipeImage },
      rebuild: false,
      cargo: needs.cargo,
      native: [],
    };
  }

  /** One cell's requires step on the round's caches; a failure is returned with its log's tail. */
  async function requiresStep(round: number, i: number, cachePrefix: string): Promise<string | undefined> {
    const cellPlan = await plan(round, i);
    const log = await BuildLog.open({ home: farm.settings.home, buildId: cellPlan.buildId });
    try {
      await withWorkVolume(farm.runtime, cellPlan.buildId, (work) =>
        fetchBuildRequirements(
          { ...deps, host: { ...deps.host, cachePrefix } },
          { plan: cellPlan, log, work, stagingDir: stagingDirFor(farm.settings.home, `${cellPlan.buildId}-${i}`) },
        ),
      );
      return undefined;
    } catch (error) {
      const tail = error instanceof BuildStepError ? error.logTail.slice(-8).join('\n') : String(error);
      return `cell ${i}: ${(error as Error).message}\n${tail}`;
    } finally {
      await log.close();
    }
  }

  it(`${CELLS} cells fetching the same crates at once succeed, ${ROUNDS} rounds on fresh caches`, async () => {
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const cachePrefix = `wheelfarm-test-race-${process.pid}-${round}`;
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: CELLS }, (_, i) => requiresStep(round, i, cachePrefix)));
      const failed = results.filter((r): r is string => r !== undefined);
      console.log(
        `round ${round + 1}: ${CELLS - failed.length}/${CELLS} cells fetched in ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      for (const f of failed) console.log(f);
      failures.push(...failed.map((f) => `round ${round + 1}, ${f}`));
      // The crates are in the shared cache, beside cargo's lock, for the build steps that follow.
      const cached = await runInImage(runtimeImage, ['sh', '-c', 'ls /cargo/.package-cache /cargo/registry/cache/*/pyo3-ffi-*.crate'], {
        binds: [`${cachePrefix}-cargo:/cargo:ro`],
      });
      if (cached.exitCode !== 0) failures.push(`round ${round + 1}: the shared cargo cache lacks the crates: ${cached.output}`);
      await removeVolumes(`${cachePrefix}-`);
    }
    expect(failures, failures.join('\n\n')).toEqual([]);
  });
});

async function removeVolumes(prefix: string): Promise<void> {
  const { Volumes } = await docker.listVolumes();
  for (const volume of Volumes.filter((v) => v.Name.startsWith(prefix))) await docker.getVolume(volume.Name).remove({ force: true });
}
