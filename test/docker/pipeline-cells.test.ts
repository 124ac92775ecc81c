import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../farm/src/config/settings.ts';
import { createFarm, runDepsOf, sdistFetcherOf } from '../../farm/src/farm.ts';
import type { Farm } from '../../farm/src/farm.ts';
import { cellDepsFor } from '../../farm/src/matrix/cell-runner.ts';
import type { CellDeps } from '../../farm/src/pipeline/cell-deps.ts';
import { buildHosts } from '../../farm/src/runtime/build-host.ts';
import { BuildStepError } from '../../farm/src/errors.ts';
import { buildCell } from '../../farm/src/pipeline/build-cell.ts';
import type { CellPlan } from '../../farm/src/pipeline/cell-plan.ts';
import type { FarmEvent } from '../../farm/src/pipeline/events.ts';
import { readBuildLog } from '../../farm/src/records/build-log.ts';
import { defaultRecipe } from '../../farm/src/recipes/recipe.ts';
import { formatBuildId } from '../../farm/src/wheels/build-id.ts';
import { REPO_ROOT, currentImages, makeTempDir, wheelfarmContainers } from './helpers.ts';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

/** Make a real sdist (`name-version.tar.gz` with one top-level folder) from a fixture folder. */
async function makeSdist(fixture: string, name: string, version: string): Promise<string> {
  const dir = await makeTempDir('sdist');
  const path = join(dir, `${name}-${version}.tar.gz`);
  await execa('tar', ['-czf', path, '--transform', `s,^\\.,${name}-${version},`, '-C', join(FIXTURES, 'sdists', fixture), '.']);
  return path;
}

/**
 * A cell driven through the pipeline directly (no CLI), for an sdist that does not compile: the
 * result carries the step, the log tail and the log; nothing is published; no container is left.
 * (Grafting and recipes are tested through the CLI in recipes.test.ts.)
 */
describe('pipeline cells with fixture sdists', () => {
  let images: Awaited<ReturnType<typeof currentImages>>;
  let farm: Farm;
  let deps: CellDeps;
  let index: string;
  const events: FarmEvent[] = [];

  beforeAll(async () => {
    images = await currentImages();
    index = await makeTempDir('index');
    const settings = await loadSettings({ root: REPO_ROOT });
    farm = createFarm({ settings, emit: (e) => events.push(e), signal: new AbortController().signal, indexTarget: index });
    const [host] = buildHosts(settings, { localRuntime: farm.runtime });
    deps = cellDepsFor(runDepsOf(farm, sdistFetcherOf(farm)), host!);
  });
  afterAll(async () => {
    await farm?.close();
  });

  async function plan(name: string, sdistPath: string, buildImage: string, python = 'cp313'): Promise<CellPlan> {
    const cell = { name, version: '0.1.0', python, platform: 'manylinux_2_31_x86_64' };
    return {
      cell,
      buildId: formatBuildId(cell),
      pythonDir: `${python}-${python}`,
      sdist: { filename: sdistPath.split('/').pop()!, path: sdistPath },
      images: { build: buildImage, runtime: images.runtime },
      user: { name: 'builder', uid: 1000, gid: 1000 },
      upstreamEnv: await farm.upstream.env(farm.runtime),
      recipe: defaultRecipe(name),
      inputs: { source: `sha256:${'0'.repeat(64)}`, recipe: 'default', image: buildImage },
      rebuild: false,
      native: [],
    };
  }

  it('a build that fails: the log tail names the compiler error, nothing is published, no container is left', async () => {
    const sdist = await makeSdist('broken', 'brokenext', '0.1.0');
    const result = await buildCell(deps, await plan('brokenext', sdist, images.build));
    expect(result.outcome).toBe('failed');
    expect(result.error).toBeInstanceOf(BuildStepError);
    const error = result.error as BuildStepError;
    expect(error.step).toBe('build');
    expect(error.logTail.join('\n')).toContain('WHEELFARM_EXPECTED_COMPILE_ERROR');
    expect(await readBuildLog(result.log!)).toContain('error:');
    await expect(readdir(join(index, 'files', 'brokenext'))).rejects.toThrow(/ENOENT/);
    expect(await farm.index.publisher.listFiles('brokenext')).toEqual([]);
    expect(await wheelfarmContainers('brokenext')).toEqual([]);
    const failedCell = events.find((e) => e.type === 'cell' && e.outcome === 'failed');
    expect(failedCell).toMatchObject({ buildId: 'brokenext-0.1.0-cp313-manylinux_2_31_x86_64' });
    const [record] = await farm.records().list({ buildId: result.buildId, limit: 1 });
    expect(record).toMatchObject({ state: 'failed', index: farm.index.id, log: result.log, wheel: undefined });
    expect(record!.error).toContain('the build step failed');
    expect(record!.steps.build).toBeGreaterThan(0);
  });
});
