import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { calibrate, prepareNetfixFarm, runKillTrial, runLeftoversTrial } from '../../farm/bench/faults/fault-trials.ts';
import type { Calibration, NetfixFarm, TrialOutcome } from '../../farm/bench/faults/fault-trials.ts';
import { DockerRuntime } from '../../farm/src/runtime/docker-runtime.ts';
import { currentImages, makeTempDir } from './helpers.ts';

/**
 * Fault injection, CI-sized: the trials and checks of scripts/bench-faults.sh (farm/bench/faults/),
 * a handful of each. `kill -9` of `wheelfarm build` in the middle of its cell and of publishing,
 * then the next run: right after the kill, every page link points to a complete file with its
 * sha256; after the next run the index is whole (pages, JSON pages and manifests agree, `.metadata`
 * files, pip downloads from it), no record is left running or says published for a wheel the index
 * does not serve, and nothing of the dead run is left on the engine once the next run has started.
 */
describe('fault injection', () => {
  const runtime = new DockerRuntime();
  let farm: NetfixFarm;
  let measured: Calibration;

  beforeAll(async () => {
    farm = await prepareNetfixFarm({ dir: await makeTempDir('faults'), sleepSeconds: 0, runtime });
    measured = await calibrate(farm, join(farm.dir, 'index-calibration'));
  });

  /**
   * Nothing lost, corrupted or orphaned. A kill between writing a temp file and renaming it leaves
   * that temp file (named with the dead pid, never linked): nothing in the directory index removes
   * those yet, so they are allowed here, and only those.
   */
  function expectRecovered(outcome: TrialOutcome): void {
    expect(outcome.corrupt, outcome.hit).toEqual([]);
    expect(outcome.orphans, outcome.hit).toEqual([]);
    for (const debris of outcome.debris) expect(debris).toMatch(new RegExp(`\\.${outcome.killedPid}\\.[0-9a-f]{8}\\.tmp$`));
  }

  it.each([0.15, 0.45, 0.8])('kill -9 at %s of the cell`s time: the next run completes, nothing lost or left', async (share) => {
    expectRecovered(await runKillTrial(farm, { fault: 'kill-build', delayMs: share * measured.cellMs, index: join(farm.dir, `index-build-${share}`) }));
  });

  it.each([0, 0.3, 0.7])('kill -9 %s of the publish step`s time after it started: the next run completes, nothing lost or left', async (share) => {
    expectRecovered(await runKillTrial(farm, { fault: 'kill-publish', delayMs: share * measured.publishMs, index: join(farm.dir, `index-publish-${share}`) }));
  });

  it('containers and volumes of dead farm runs are removed by the next command; a live run`s stay', async () => {
    const outcome = await runLeftoversTrial({ runtime, image: (await currentImages()).runtime, env: { WHEELFARM_HOME: join(farm.dir, 'leftovers-home') } });
    expect(outcome.corrupt).toEqual([]);
    expect(outcome.orphans).toEqual([]);
  });
});
