// Fault injection: does the farm lose or corrupt anything, or leave containers behind, when it is
// killed, its engine restarts, its index fails or its disk is full? Run by scripts/bench-faults.sh:
//   node farm/bench/faults.ts [--trials N] [--faults kill-build,kill-publish,engine-restart,leftovers,index-down,disk-full] [--keep]
//
// kill-build      `kill -9` of `wheelfarm build netfix` at a moment drawn uniformly over the cell's
//                 time before its publish step (its set-up and the requires, build, repair and test
//                 steps; the faster of two clean builds), counted from the start of the step it falls
//                 in, then the next run into the same index
// kill-publish    the same, right after the publish step's `started` event, or a random small delay
//                 after it (up to the publish step's measured time, the shorter of the two)
// engine-restart  the cell's engine, a second dockerd of its own (scripts/start-second-engine.sh),
//                 killed and started again during the build step; `wheelfarm build` and `matrix build`
//                 (one host) in turn
// leftovers       containers (with mounted work volumes) and volumes labelled by dead farm pids and
//                 by a live one: `wheelfarm images list` must remove the dead ones only
// index-down      `wheelfarm build netfix` into an S3 index (a real moto server the bench starts, behind
//                 the tests' fault proxy) that fails under it, the variants in turn: 503 with Retry-After,
//                 500s, a hang (with `tries=4&timeout=3s` on the index URL), the endpoint down for good
//                 from the start, at the wheel's PUT, at the project page's PUT. Ridden out: the run
//                 publishes. Lasting: exit 4, an error naming the index, nothing half-published; the
//                 endpoint back, the next run publishes
// disk-full       the same into a directory index on small tmpfs disks (files/, the manifests, simple/),
//                 one filled up, the variants in turn: exit 3, a disk-full error naming it, the index as
//                 it was; the filler removed, the next run publishes. Needs root (mount)
//
// After each kill: what installers see is checked right away (every link's file exists with its
// sha256) and again after the next run, strictly (pages, JSON pages and manifests agree, every
// `.metadata`, `pip download` from the index, no record left running, no published record without
// its wheel); leftovers of the dead run are looked for once the next run has started and after it.
// The checks live in farm/bench/faults/ and are the ones test/docker/faults.test.ts makes.
//
// The index-down and disk-full trials check the index right after the failed run (it serves what it
// served before, nothing wrong; an S3 index is mirrored straight from the server), and after the next
// run as strictly as the kill trials; both seed the index with another project's wheel first.
//
// Every trial says where its fault landed, and a trial whose fault missed what it was aimed at is
// counted as missed, apart from the others: a kill after the run had ended or in another phase
// (events of the killed run), a restart that cost no build step, an index fault no request of the
// publish met, a full disk no write met. A missed trial proves nothing about its fault; it is still
// checked for loss and orphans like any other.
//
// Defaults: 50 kill-build + 50 kill-publish, 3 engine-restart, 3 leftovers, 6 index-down, 6 disk-full
// trials (--trials N: N of each). Each kill, index-down and disk-full trial reuses one warm home
// (images, sdist, pip cache) and gets a fresh index (an S3 prefix of its own for index-down).
// Exit status: 0 when no trial lost or corrupted anything and nothing was orphaned (missed trials
// allowed: they are counted and shown); 1 otherwise; 2 bad option.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { prepareImageDefinitions } from '../src/images/ensure-images.ts';
import { DockerRuntime } from '../src/runtime/docker-runtime.ts';
import { startS3TestServer } from '../../test/servers/s3/s3-test-server.ts';
import type { S3TestServer } from '../../test/servers/s3/s3-test-server.ts';
import { unmountAll, whyNotMount } from '../../test/support/tmpfs.ts';
import { DISK_FULL_VARIANTS, runDiskFullTrial } from './faults/disk-full-trial.ts';
import type { DiskFullVariant } from './faults/disk-full-trial.ts';
import {
  aimKillBuild,
  calibrate,
  prepareNetfixFarm,
  runEngineRestartTrial,
  runKillTrial,
  runLeftoversTrial,
} from './faults/fault-trials.ts';
import type { FaultName, TrialOutcome } from './faults/fault-trials.ts';
import { FaultyS3 } from './faults/faulty-s3.ts';
import { INDEX_DOWN_VARIANTS, runIndexDownTrial } from './faults/index-down-trial.ts';
import type { IndexDownVariant } from './faults/index-down-trial.ts';
import { SecondEngine } from './faults/second-engine.ts';
import { cleanUpOnExit } from './clean-up-on-exit.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const FAULTS: FaultName[] = ['kill-build', 'kill-publish', 'engine-restart', 'leftovers', 'index-down', 'disk-full'];
const DEFAULT_TRIALS: Record<FaultName, number> = {
  'kill-build': 50,
  'kill-publish': 50,
  'engine-restart': 3,
  leftovers: 3,
  'index-down': 6,
  'disk-full': 6,
};
/** The bench's own second engine: not the tests' (they may run at the same time). */
const ENGINE = {
  dir: process.env.WHEELFARM_BENCH_ENGINE_DIR ?? join(tmpdir(), 'wheelfarm-bench-faults-engine'),
  bridge: 'wfbenchfaults',
  address: '172.31.253.1/24',
};
/** How long the engine-restart trials' build sleeps: long enough to restart the engine under it. */
const RESTART_BUILD_SECONDS = 10;

// ---- options --------------------------------------------------------------------------------------
const args = process.argv.slice(2);
let trials: number | undefined;
let faults = FAULTS;
let keep = false;
for (let i = 0; i < args.length; i += 1) {
  const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
  const value = inline ?? args[i + 1];
  switch (flag) {
    case '--trials':
      trials = Number(value);
      if (inline === undefined) i += 1;
      break;
    case '--faults':
      faults = (value ?? '').split(',').filter(Boolean) as FaultName[];
      if (inline === undefined) i += 1;
      break;
    case '--keep':
      keep = true;
      break;
    default:
      usage(`unknown argument ${args[i]}`);
  }
}
if (trials !== undefined && (!Number.isInteger(trials) || trials < 1 || trials > 1000))
  usage(`--trials expects a whole number from 1 to 1000, got ${String(trials)}`);
const unknown = faults.filter((f) => !FAULTS.includes(f));
if (faults.length === 0 || unknown.length > 0)
  usage(`--faults expects a comma-separated list of ${FAULTS.join(', ')}; got ${faults.join(',') || 'nothing'}`);

function usage(message: string): never {
  console.error(`bench-faults: ${message}\nusage: scripts/bench-faults.sh [--trials N] [--faults ${FAULTS.join(',')}] [--keep]`);
  process.exit(2);
}

// ---- clean-up -------------------------------------------------------------------------------------
const work = await mkdtemp(join(tmpdir(), 'wheelfarm-bench-faults-'));
let engine: SecondEngine | undefined;
let moto: S3TestServer | undefined;
let s3: FaultyS3 | undefined;
async function cleanUp(): Promise<void> {
  await engine?.stop().catch((error: unknown) => console.error(`bench-faults: stopping the second engine: ${String(error)}`));
  await s3?.close();
  await moto?.stop().catch((error: unknown) => console.error(`bench-faults: stopping moto: ${String(error)}`));
  // Before removing `work`: the disk-full trials' disks are mounted in it.
  await unmountAll().catch((error: unknown) => console.error(`bench-faults: unmounting: ${String(error)}`));
  if (keep) console.error(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
cleanUpOnExit('bench-faults', cleanUp);

// ---- trials ---------------------------------------------------------------------------------------
const main = new DockerRuntime();
const outcomes = new Map<FaultName, TrialOutcome[]>(faults.map((f) => [f, []]));
const count = (fault: FaultName) => trials ?? DEFAULT_TRIALS[fault];
const record = (outcome: TrialOutcome, n: number): void => {
  outcomes.get(outcome.fault)!.push(outcome);
  console.error(
    `${outcome.fault} ${n}/${count(outcome.fault)}: ${outcome.hit} (${outcome.detail}); ${outcome.seconds.toFixed(1)} s; ${verdictOf(outcome)}`,
  );
  const missed = outcome.missed === undefined ? [] : [`missed: ${outcome.missed}`];
  for (const line of [...missed, ...outcome.corrupt, ...outcome.orphans, ...outcome.debris]) console.error(`    ${line}`);
};

// One farm on the main engine for the kill, index-down and disk-full trials, warmed by a clean build.
const netfix = faults.some((f) => ['kill-build', 'kill-publish', 'index-down', 'disk-full'].includes(f))
  ? await prepareNetfixFarm({ dir: join(work, 'netfix'), sleepSeconds: 0, runtime: main })
  : undefined;
const measured = netfix && (await calibrate(netfix, join(netfix.dir, 'index-calibration')));
if (measured) {
  console.error(
    `calibration: the cell takes ${(measured.beforePublishMs / 1000).toFixed(1)} s before publishing, its publish step ${measured.publishMs.toFixed(0)} ms`,
  );
}

if (netfix && measured) {
  for (const fault of ['kill-build', 'kill-publish'] as const) {
    if (!faults.includes(fault)) continue;
    for (let n = 1; n <= count(fault); n += 1) {
      const aim =
        fault === 'kill-build' ? aimKillBuild(measured, Math.random()) : { delayMs: n === 1 ? 0 : Math.random() * measured.publishMs };
      record(await runKillTrial(netfix, { fault, ...aim, index: join(netfix.dir, `index-${fault}-${n}`) }), n);
    }
  }
}

if (faults.includes('engine-restart')) {
  engine = await SecondEngine.start(ENGINE);
  const farm = await prepareNetfixFarm({
    dir: join(work, 'engine'),
    sleepSeconds: RESTART_BUILD_SECONDS,
    runtime: engine.runtime,
    dockerHost: engine.url,
  });
  for (let n = 1; n <= count('engine-restart'); n += 1) {
    const mode = n % 2 === 1 ? 'build' : 'matrix';
    const delayMs = 1_000 + Math.random() * (RESTART_BUILD_SECONDS - 4) * 1000;
    record(await runEngineRestartTrial(farm, { engine, mode, index: join(farm.dir, `index-${n}`), delayMs }), n);
  }
  await engine.stop();
  engine = undefined;
}

if (faults.includes('leftovers')) {
  const { plan } = await prepareImageDefinitions(join(ROOT, 'images'));
  for (let n = 1; n <= count('leftovers'); n += 1) {
    record(await runLeftoversTrial({ runtime: main, image: plan.runtime.tag, env: { WHEELFARM_HOME: join(work, 'leftovers-home') } }), n);
  }
}

if (netfix) {
  if (faults.includes('index-down')) {
    moto = await startS3TestServer();
    if (moto.missing) throw new Error(`the index-down trials need an S3 server: ${moto.missing}`);
    s3 = await FaultyS3.open(moto.endpoint);
    for (let n = 1; n <= count('index-down'); n += 1) {
      const variant = cycle(Object.keys(INDEX_DOWN_VARIANTS) as IndexDownVariant[], n);
      const prefix = `trial-${n}-${randomBytes(3).toString('hex')}`;
      record(await runIndexDownTrial(netfix, { s3, variant, prefix, dir: join(netfix.dir, `mirror-${n}`) }), n);
    }
  }
  if (faults.includes('disk-full')) {
    const why = await whyNotMount();
    if (why) throw new Error(`the disk-full trials cannot run: ${why}`);
    for (let n = 1; n <= count('disk-full'); n += 1) {
      const variant = cycle(Object.keys(DISK_FULL_VARIANTS) as DiskFullVariant[], n);
      record(await runDiskFullTrial(netfix, { variant, index: join(netfix.dir, `index-disk-full-${n}`) }), n);
    }
  }
}

/** A trial that lost or orphaned something FAILED, whether or not its fault landed; else one whose fault missed is `missed`. */
function verdictOf(outcome: TrialOutcome): string {
  if (outcome.corrupt.length + outcome.orphans.length > 0) return 'FAILED';
  if (outcome.missed !== undefined) return 'missed';
  return outcome.debris.length > 0 ? 'ok, debris left' : 'ok';
}

/** Trial `n` (from 1) plays the variants in turn. */
function cycle<T>(variants: T[], n: number): T {
  return variants[(n - 1) % variants.length]!;
}

// ---- report ---------------------------------------------------------------------------------------
const rows = faults.map((fault) => {
  const done = outcomes.get(fault)!;
  const total = done.reduce((sum, o) => sum + o.seconds, 0);
  return [
    fault,
    String(done.length),
    String(done.filter((o) => o.missed !== undefined).length),
    String(done.filter((o) => o.corrupt.length > 0).length),
    String(done.reduce((sum, o) => sum + o.orphans.length, 0)),
    String(done.filter((o) => o.debris.length > 0).length),
    `${(total / Math.max(1, done.length)).toFixed(1)} s`,
    `${total.toFixed(0)} s`,
  ];
});
const heads = ['FAULT', 'TRIALS', 'MISSED', 'LOST/CORRUPT', 'ORPHANED', 'DEBRIS LEFT', 'TIME/TRIAL', 'TIME'];
const widths = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(line(heads));
for (const row of rows) console.log(line(row));
console.log('');
console.log(
  'MISSED: trials whose fault did not land where it was aimed (the run had ended, or was in another phase; no request or write met it):',
);
console.log('  they prove nothing about the fault, are neither lost nor ok, and are checked for loss and orphans all the same');
console.log(
  'LOST/CORRUPT: trials after which the index served something wrong (or right after the kill or the failed run), the records lied,',
);
console.log(
  '  the next run failed (or the run a transient index fault hit), or a run a lasting fault stopped failed otherwise than documented',
);
console.log('  (exit 4 index-down, 3 disk-full; an error naming the index or the full directory) or changed what the index served');
console.log('ORPHANED: containers and volumes of the dead (or failed) farm process left once the next run had started (or after it)');
console.log('DEBRIS LEFT: trials after which a temp file of the killed or failed process (unlinked, never served) was still in the index');
console.log('');
console.log('where the faults landed (index-down, disk-full: the variant played; missed ones too):');
for (const fault of faults) {
  const hits = new Map<string, number>();
  for (const o of outcomes.get(fault)!) {
    const where = o.missed === undefined ? o.hit : `${o.hit} (missed)`;
    hits.set(where, (hits.get(where) ?? 0) + 1);
  }
  console.log(`  ${fault}: ${[...hits].map(([hit, n]) => `${hit} x${n}`).join('; ')}`);
}
const failed = [...outcomes.values()].flat().filter((o) => o.corrupt.length + o.orphans.length > 0);
await cleanUp();
process.exit(failed.length > 0 ? 1 : 0);
