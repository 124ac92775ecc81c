import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDiskFullTrial } from '../../farm/bench/faults/disk-full-trial.ts';
import { aimKillBuild, calibrate, prepareNetfixFarm, runKillTrial, runLeftoversTrial } from '../../farm/bench/faults/fault-trials.ts';
import type { Calibration, NetfixFarm, TrialOutcome } from '../../farm/bench/faults/fault-trials.ts';
import { FaultyS3 } from '../../farm/bench/faults/faulty-s3.ts';
import { runIndexDownTrial } from '../../farm/bench/faults/index-down-trial.ts';
import { EXIT } from '../../farm/src/cli/exit-codes.ts';
import { DockerRuntime } from '../../farm/src/runtime/docker-runtime.ts';
import { startS3TestServer } from '../servers/s3/s3-test-server.ts';
import { describeNeeding } from '../support/needs.ts';
import { unmountAll, whyNotMount } from '../support/tmpfs.ts';
import { currentImages, makeTempDir } from './helpers.ts';

/**
 * Fault injection, CI-sized: the trials and checks of scripts/bench-faults.sh (farm/bench/faults/),
 * a handful of each. `kill -9` of `wheelfarm build` in the middle of its cell and of publishing,
 * then the next run: right after the kill, every page link points to a complete file with its
 * sha256; after the next run the index is whole (pages, JSON pages and manifests agree, `.metadata`
 * files, pip downloads from it), no record is left running or says published for a wheel the index
 * does not serve, and nothing of the dead run is left on the engine once the next run has started.
 * And one trial of each lasting publish fault: the S3 index's endpoint going down (a real moto
 * server behind the fault proxy) and the directory index's disk full (a real tmpfs): the run fails
 * with its documented exit status and leaves the index as it was; the next run publishes. When
 * moto cannot be installed or a tmpfs cannot be mounted, those fail under CI and skip elsewhere (describeNeeding).
 */
const moto = await startS3TestServer();
const cannotMount = await whyNotMount();

describe('fault injection', () => {
  const runtime = new DockerRuntime();
  let farm: NetfixFarm;
  let measured: Calibration;

  beforeAll(async () => {
    farm = await prepareNetfixFarm({ dir: await makeTempDir('faults'), sleepSeconds: 0, runtime });
    measured = await calibrate(farm, join(farm.dir, 'index-calibration'));
  });

  afterAll(async () => {
    // Whatever failed: no mount and no moto may outlive the tests.
    await unmountAll();
    await moto.stop();
  });

  /**
   * The fault landed where the trial aimed it (a trial whose fault missed proves nothing, and
   * fails); nothing lost, corrupted or orphaned, and no debris: a kill between writing a temp file
   * and renaming it leaves that temp file (never linked), and the next run removes it.
   */
  function expectRecovered(outcome: TrialOutcome): void {
    const { missed, corrupt, orphans, debris } = outcome;
    expect({ missed, corrupt, orphans, debris }, `${outcome.fault}: ${outcome.hit} (${outcome.detail})`).toStrictEqual({
      missed: undefined,
      corrupt: [],
      orphans: [],
      debris: [],
    });
  }

  it.each([0.15, 0.45, 0.8])(
    'kill -9 at %s of the cell`s time before publishing: the next run completes, nothing lost or left',
    async (share) => {
      expectRecovered(
        await runKillTrial(farm, { fault: 'kill-build', ...aimKillBuild(measured, share), index: join(farm.dir, `index-build-${share}`) }),
      );
    },
  );

  it.each([0, 0.3, 0.7])(
    'kill -9 %s of the publish step`s time after it started: the next run completes, nothing lost or left',
    async (share) => {
      expectRecovered(
        await runKillTrial(farm, {
          fault: 'kill-publish',
          delayMs: share * measured.publishMs,
          index: join(farm.dir, `index-publish-${share}`),
        }),
      );
    },
  );

  it('containers and volumes of dead farm runs are removed by the next command; a live run`s stay', async () => {
    const outcome = await runLeftoversTrial({
      runtime,
      image: (await currentImages()).runtime,
      env: { WHEELFARM_HOME: join(farm.dir, 'leftovers-home') },
    });
    expect(outcome.missed, outcome.detail).toBeUndefined();
    expect(outcome.corrupt).toEqual([]);
    expect(outcome.orphans).toEqual([]);
  });

  describeNeeding(moto.missing, 'the S3 index going down', () => {
    it('down at the wheel`s PUT: exit 4 naming the index, nothing half-published; back up, the next run publishes', async () => {
      const s3 = await FaultyS3.open(moto.endpoint);
      try {
        const outcome = await runIndexDownTrial(farm, {
          s3,
          variant: 'down at the wheel PUT',
          prefix: 'index-down-test',
          dir: join(farm.dir, 'mirror'),
        });
        expect(
          outcome.exits.map((exit) => exit.exitCode),
          outcome.detail,
        ).toEqual([EXIT.transient, EXIT.ok]);
        expectRecovered(outcome);
      } finally {
        await s3.close();
      }
    });
  });

  describeNeeding(cannotMount, 'a full disk under the directory index', () => {
    it('the manifests` disk full: exit 3 naming it, the index as it was; space freed, the next run publishes', async () => {
      const outcome = await runDiskFullTrial(farm, { variant: 'manifests full', index: join(farm.dir, 'index-disk-full') });
      expect(
        outcome.exits.map((exit) => exit.exitCode),
        outcome.detail,
      ).toEqual([EXIT.environment, EXIT.ok]);
      expectRecovered(outcome);
    });
  });
});
