// The disk-full fault: `wheelfarm build` of the netfix cell publishing to a directory index whose
// disk has no room left, for real: files/, the manifests and simple/ each on a small tmpfs of its
// own (as in test/unit/index/local-dir-disk-full.test.ts), one of them filled to the brim (the
// variant). The run must stop with the documented exit status and a disk-full error naming the
// full directory, leaving the index as it was; once space is freed, the next run must publish.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { fill, mountTmpfs, unmount } from '../../../test/support/tmpfs.ts';
import { directoryIndex } from './check-index.ts';
import { findLeftovers } from './check-leftovers.ts';
import { FarmProcess, stepEvent } from './farm-process.ts';
import type { FarmExit } from './farm-process.ts';
import { addOrphans, checkFailedRun, checkRecovery, describeExit, expectPublishedOnce, failureOf, seedIndex } from './fault-trials.ts';
import type { NetfixFarm, TrialOutcome } from './fault-trials.ts';

/** Each part of the index on a disk of its own; the variants, in the order trials cycle through them, say which one is full. */
export const DISK_FULL_VARIANTS = {
  'files/ full': 'files',
  'manifests full': join('.wheelfarm', 'projects'),
  'simple/ full': 'simple',
} as const;

export type DiskFullVariant = keyof typeof DISK_FULL_VARIANTS;

/** Room for the seed and the netfix wheel many times over: what makes the publish fail is the filler. */
const DISK_SIZE = '1m';

/**
 * The index at `index` (a fresh directory) on its disks, seeded with another project's wheel; the
 * variant's disk filled; one run of the cell, whose publish step must meet ENOSPC writing into the
 * full directory (else the trial is missed), which must fail with exit status 3 and a `disk-full`
 * error naming the full disk's directory, and leave the index serving what it served, with nothing
 * wrong; the filler removed, the next run, checked as after a kill (the index strictly, pip
 * download, one published record, no temp file left). The disks are unmounted whatever happens.
 * Returns the runs' exits too.
 */
export async function runDiskFullTrial(
  farm: NetfixFarm,
  { variant, index }: { variant: DiskFullVariant; index: string },
): Promise<TrialOutcome & { exits: FarmExit[] }> {
  const started = performance.now();
  const outcome: TrialOutcome = { fault: 'disk-full', seconds: 0, hit: variant, detail: '', corrupt: [], orphans: [], debris: [] };
  const exits: FarmExit[] = [];
  const full = join(index, DISK_FULL_VARIANTS[variant]);
  const mounted: string[] = [];
  try {
    for (const part of Object.values(DISK_FULL_VARIANTS)) {
      await mountTmpfs(join(index, part), DISK_SIZE);
      mounted.push(join(index, part));
    }
    const trialIndex = directoryIndex(index);
    const before = await seedIndex(trialIndex, farm.dir);
    const filler = fill(full);
    const run = new FarmProcess(farm.buildArgs(index), { env: farm.env });
    const exit = await run.done;
    exits.push(exit);
    const explains = (error: { code: string; message: string }) =>
      error.code === 'disk-full' && error.message.startsWith(`no space left in ${full}`);
    // The farm says `no space left` only for ENOSPC from a write (farm/src/index/explain-disk-full.ts).
    const error = failureOf(exit);
    if (!exit.events.some(stepEvent('publish', 'failed')) || !error || !explains(error)) {
      outcome.missed = `aimed at a write of the publish step into ${full}, full: no such write met ENOSPC (${describeExit(exit)})`;
    }
    await checkFailedRun({ exit, index: trialIndex, before, status: EXIT.environment, explains, outcome });
    outcome.detail = describeExit(exit);
    await rm(filler);
    const next = new FarmProcess(farm.buildArgs(index), { env: farm.env });
    exits.push(await next.done);
    expectPublishedOnce((await checkRecovery(farm, { index: trialIndex, pip: true, exit: exits[1]!, outcome })).records, outcome);
    addOrphans(outcome, 'after the runs', await findLeftovers({ runtime: farm.runtime, pids: [run.pid, next.pid] }));
  } finally {
    for (const disk of mounted.reverse()) await unmount(disk);
  }
  outcome.seconds = (performance.now() - started) / 1000;
  return { ...outcome, exits };
}
