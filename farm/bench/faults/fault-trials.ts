// One trial of each fault the farm must survive, with the same checks for the benchmark
// (farm/bench/faults.ts) and the tests (test/docker/faults.test.ts, engine-restart.test.ts):
//   kill-build      `kill -9` of `wheelfarm build` at a chosen moment of its cell, then the next run
//   kill-publish    the same, aimed at the publish step
//   engine-restart  the cell's Docker engine (a second one) crashes and starts again mid-build
//   leftovers       containers and volumes of dead farm processes, swept by the next command
//   index-down      the S3 index fails while the cell publishes (index-down-trial.ts)
//   disk-full       the directory index's disk is full when the cell publishes (disk-full-trial.ts)
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import type { ContainerRuntime } from '../../src/runtime/container-runtime.ts';
import { LABEL, containerLabels, ownerLabel } from '../../src/runtime/labels.ts';
import type { BuildRecord } from '../../src/records/build-records.ts';
import { makePureWheel } from '../../../test/fixtures/wheels/make-zip.ts';
import { checkIndex, directoryIndex, pipDownload } from './check-index.ts';
import type { IndexCheck, TrialIndex } from './check-index.ts';
import { countLeftovers, findLeftovers } from './check-leftovers.ts';
import type { Leftovers } from './check-leftovers.ts';
import { checkRecords } from './check-records.ts';
import { FarmProcess, stepEvent } from './farm-process.ts';
import type { FarmEventLine, FarmExit } from './farm-process.ts';
import type { SecondEngine } from './second-engine.ts';
import { whereKillLanded } from './where-kill-landed.ts';

const ROOT = resolve(import.meta.dirname, '..', '..', '..');
const PROJECT = 'netfix';

export type FaultName = 'kill-build' | 'kill-publish' | 'engine-restart' | 'leftovers' | 'index-down' | 'disk-full';

export interface TrialOutcome {
  fault: FaultName;
  seconds: number;
  /** Where the fault landed, e.g. `build step`, `publish: wheel stored, not listed`; the variant played (index-down, disk-full). */
  hit: string;
  /**
   * Why the fault missed what the trial aimed it at: the run had ended, or was in another phase, or
   * no request met the fault. Such a trial proves nothing about the fault (the tests fail it, the
   * benchmark counts it apart). Undefined when the fault landed where it was aimed.
   */
  missed?: string | undefined;
  /** The trial's particulars: the delay, how long the engine took to come back. */
  detail: string;
  /** Anything lost or corrupted: what installers are served, the records, a recovery that failed. Must stay empty. */
  corrupt: string[];
  /** Containers and volumes of dead farm processes left after the next run started. Must stay empty. */
  orphans: string[];
  /** Temp files of the killed (or failed) process still in the index after the recovery: never linked, never served. */
  debris: string[];
  /** The farm process the fault killed (kill-build, kill-publish). */
  killedPid?: number;
}

/** A farm of the netfix fixture (a pure-Python build that sleeps `sleepSeconds`), with a home kept warm across trials. */
export interface NetfixFarm {
  dir: string;
  home: string;
  /** The environment of its `wheelfarm` runs (home, recipes, the engine). */
  env: Record<string, string>;
  runtime: ContainerRuntime;
  /** `wheelfarm build` of the cell into a directory index. */
  buildArgs(index: string): string[];
}

/**
 * A farm in `dir` (created) building the test fixture netfix from a file:// source: home,
 * recipes, the packed sdist. `docker` is the engine (default: the local one, as DOCKER_HOST says).
 */
export async function prepareNetfixFarm({
  dir,
  sleepSeconds,
  runtime,
  dockerHost,
}: {
  dir: string;
  sleepSeconds: number;
  runtime: ContainerRuntime;
  dockerHost?: string;
}): Promise<NetfixFarm> {
  await mkdir(join(dir, 'recipes'), { recursive: true });
  // Containers read the sdist as their non-root user.
  await chmod(dir, 0o755);
  const sdist = join(dir, `${PROJECT}-0.1.0.tar.gz`);
  await execa('tar', [
    '-czf',
    sdist,
    '--transform',
    `s,^\\.,${PROJECT}-0.1.0,`,
    '-C',
    join(ROOT, 'test', 'fixtures', 'sdists', PROJECT),
    '.',
  ]);
  const sha256 = createHash('sha256')
    .update(await readFile(sdist))
    .digest('hex');
  const env = sleepSeconds > 0 ? `\nbuild:\n  env: { NETFIX_SLEEP: "${sleepSeconds}" }` : '';
  await writeFile(join(dir, 'recipes', `${PROJECT}.yaml`), `source:\n  url: ${pathToFileURL(sdist).href}\n  sha256: ${sha256}${env}\n`);
  const home = join(dir, 'home');
  return {
    dir,
    home,
    env: { WHEELFARM_HOME: home, WHEELFARM_RECIPES_DIR: join(dir, 'recipes'), ...(dockerHost ? { DOCKER_HOST: dockerHost } : {}) },
    runtime,
    buildArgs: (index) => ['build', PROJECT, '--python', '3.13', '--index', index, '--json'],
  };
}

export interface Calibration {
  /** From the `planned` event to the publish step's start: the part of the cell a kill-build aims at. */
  beforePublishMs: number;
  /** When each step before the publish step started, from the `planned` event (in the same run). */
  steps: { step: string; atMs: number }[];
  /** The publish step, from its `started` event to its `done`: what a kill-publish aims at. */
  publishMs: number;
}

/**
 * Two clean builds into fresh indexes (`index`, and beside it `index`-warm-up first, which warms the
 * home: sdist, pip cache), each measured: the faster run's cell and the shorter publish step are
 * kept, so that a kill aimed at a share of them lands in the phase it aims at even in a run as fast
 * as the fastest seen.
 */
export async function calibrate(farm: NetfixFarm, index: string): Promise<Calibration> {
  const runs = [await measureCell(farm, `${index}-warm-up`), await measureCell(farm, index)];
  const faster = runs.reduce((a, b) => (b.beforePublishMs < a.beforePublishMs ? b : a));
  return { ...faster, publishMs: Math.min(...runs.map((r) => r.publishMs)) };
}

/**
 * Where a kill-build at `share` (0 to 1) of the cell's time before publishing strikes: at that moment
 * of the calibration's cell, counted from the start of the step it falls in (from `planned` before
 * the first step). So a run slower or faster than the calibration's as a whole is still killed in
 * that step, or right after it, before publishing.
 */
export function aimKillBuild(calibration: Calibration, share: number): { after: string | undefined; delayMs: number } {
  const moment = share * calibration.beforePublishMs;
  const step = calibration.steps.findLast((s) => s.atMs <= moment);
  return { after: step?.step, delayMs: moment - (step?.atMs ?? 0) };
}

async function measureCell(farm: NetfixFarm, index: string): Promise<Calibration> {
  const exit = await new FarmProcess(farm.buildArgs(index), { env: farm.env }).done;
  if (exit.exitCode !== 0) throw new Error(`the calibration build failed (exit ${exit.exitCode}):\n${exit.stderr.slice(-3000)}`);
  // From the events' own times: a step's `seconds` are rounded to a tenth, and publishing takes less.
  const at = (matches: (e: FarmEventLine) => boolean) => Date.parse(exit.events.find(matches)?.time ?? '');
  const planned = at((e) => e.type === 'planned');
  const publishStarted = at(stepEvent('publish', 'started'));
  const started = exit.events.filter((e) => e.type === 'step' && e.status === 'started' && e.step !== 'publish');
  return {
    beforePublishMs: publishStarted - planned,
    steps: started.map((e) => ({ step: String(e.step), atMs: Date.parse(e.time) - planned })),
    publishMs: Math.max(1, at(stepEvent('publish', 'done')) - publishStarted),
  };
}

/**
 * `kill -9` of `wheelfarm build` `delayMs` after the moment aimed at (kill-build: the step `after`
 * started, or the cell was planned; kill-publish: the publish step started; see aimKillBuild), then
 * the next run into the same index. Checked:
 * that the kill landed in the phase aimed at (kill-build: the cell before its publish step;
 * kill-publish: the publish step), else the trial is missed (where-kill-landed.ts); right after the
 * crash, what installers see (debris allowed); after the next run, the index strictly, `pip
 * download`, the records, and the dead run's containers and volumes once the next run has started.
 */
export async function runKillTrial(
  farm: NetfixFarm,
  {
    fault,
    after = fault === 'kill-publish' ? 'publish' : undefined,
    delayMs,
    index,
    pip = true,
  }: { fault: 'kill-build' | 'kill-publish'; after?: string | undefined; delayMs: number; index: string; pip?: boolean },
): Promise<TrialOutcome> {
  const started = performance.now();
  const outcome: TrialOutcome = { fault, seconds: 0, hit: '', detail: '', corrupt: [], orphans: [], debris: [] };
  const victim = new FarmProcess(farm.buildArgs(index), { env: farm.env });
  try {
    await victim.event(after === undefined ? (e) => e.type === 'planned' : stepEvent(after, 'started'));
    if (delayMs > 0) await sleep(delayMs);
  } catch (error) {
    outcome.corrupt.push(`the run to kill failed on its own: ${(error as Error).message}`);
  }
  victim.kill('SIGKILL');
  const killed = await victim.done;
  outcome.killedPid = victim.pid;
  const crashed = await checkIndex(index);
  outcome.corrupt.push(...crashed.problems.map((p) => `right after the crash: ${p}`));
  ({ hit: outcome.hit, missed: outcome.missed } = whereKillLanded({ fault, killed, crashed, project: PROJECT }));
  outcome.detail = `killed ${delayMs.toFixed(0)} ms after ${after === undefined ? 'the cell was planned' : `the ${after} step started`}`;

  const next = new FarmProcess(farm.buildArgs(index), { env: farm.env });
  // The run sweeps what dead runs left before it resolves anything.
  const swept = await next
    .event((e) => e.type === 'resolved' || e.type === 'error')
    .then(
      () => findLeftovers({ runtime: farm.runtime, pids: [victim.pid] }),
      () => undefined,
    );
  const recovered = await next.done;
  await checkRecovery(farm, { index: directoryIndex(index), pip, exit: recovered, outcome });
  addOrphans(outcome, 'after the next run started', swept);
  addOrphans(outcome, 'after the next run', await findLeftovers({ runtime: farm.runtime, pids: [victim.pid, next.pid] }));
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

/**
 * The cell's engine (a second one, `engine`) crashes `delayMs` after the build step started and
 * starts again; the run (`wheelfarm build` on it, or `matrix build` with it as the one host) must
 * run the cell again and finish: exit 0, one wheel, one failed and one published record, nothing
 * left on the engine.
 */
export async function runEngineRestartTrial(
  farm: NetfixFarm,
  { engine, mode, index, delayMs }: { engine: SecondEngine; mode: 'build' | 'matrix'; index: string; delayMs: number },
): Promise<TrialOutcome & { exit: FarmExit }> {
  const started = performance.now();
  const outcome: TrialOutcome = { fault: 'engine-restart', seconds: 0, hit: '', detail: '', corrupt: [], orphans: [], debris: [] };
  const args =
    mode === 'build' ? farm.buildArgs(index) : ['--config', await matrixSettings(farm, engine, index), 'matrix', 'build', '--json'];
  const run = new FarmProcess(args, { env: farm.env });
  await run.event(stepEvent('build', 'started')).then(
    () => sleep(delayMs),
    (error: unknown) => outcome.corrupt.push(`the run failed before its build step: ${(error as Error).message}`),
  );
  const restarting = performance.now();
  await engine.restart();
  const restartSeconds = (performance.now() - restarting) / 1000;
  const exit = await run.done;
  const back = exit.events.find((e) => e.type === 'host' && e.status === 'back');
  const lostStep = run.events.find((e) => e.type === 'step' && e.status === 'failed');
  outcome.hit = `${mode}: ${lostStep ? `${String(lostStep.step)} step` : 'no step'} lost, ${back ? 'engine back in the run' : 'engine never back in the run'}`;
  // Aimed at the build step: a restart that cost another step, or none (the cell had ended), missed it.
  if (lostStep?.step !== 'build')
    outcome.missed = `aimed at the build step, the restart cost ${lostStep ? `the ${String(lostStep.step)}` : 'no'} step`;
  outcome.detail = `restarted ${delayMs.toFixed(0)} ms into the build step, in ${restartSeconds.toFixed(1)} s${back ? `; back in the run after ${String(back.seconds)} s` : ''}`;
  const { records } = await checkRecovery(farm, { index: directoryIndex(index), pip: false, exit, outcome });
  const failed = records.filter((r) => r.state === 'failed');
  expectPublishedOnce(records, outcome);
  if (failed.length !== 1 || !/Docker engine/.test(failed[0]?.error ?? '')) {
    outcome.corrupt.push(`expected one failed record saying the engine went away, got: ${JSON.stringify(failed.map((r) => r.error))}`);
  }
  if (!exit.events.some((e) => e.type === 'retry')) outcome.corrupt.push('no `retry` event: the cell was not run again');
  addOrphans(outcome, `on ${engine.url} after the run`, await findLeftovers({ runtime: engine.runtime, pids: 'all' }));
  outcome.seconds = (performance.now() - started) / 1000;
  return { ...outcome, exit };
}

/**
 * Containers (running, with a mounted work volume) and volumes labelled by two dead farm processes
 * and one live one (this process): the next command (`images list`) must remove the dead ones,
 * containers before their volumes, and leave the live ones.
 */
export async function runLeftoversTrial({
  runtime,
  image,
  env = {},
}: {
  runtime: ContainerRuntime;
  image: string;
  env?: Record<string, string>;
}): Promise<TrialOutcome> {
  const started = performance.now();
  const outcome: TrialOutcome = { fault: 'leftovers', seconds: 0, hit: '', detail: '', corrupt: [], orphans: [], debris: [] };
  // A process that has just ended, and a pid above the kernel's pid_max: neither can be alive.
  const exited = execa('true');
  await exited;
  const pidMax = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8')).trim());
  const dead = [exited.pid!, pidMax + 1];
  const live = await makeLeftovers(runtime, image, ownerLabel(), 'live');
  for (const pid of dead) await makeLeftovers(runtime, image, ownerLabel(pid), `dead-${pid}`);
  try {
    const made = await findLeftovers({ runtime, pids: dead });
    const run = await new FarmProcess(['images', 'list', '--json'], { env }).done;
    if (run.exitCode !== 0) outcome.corrupt.push(`wheelfarm images list failed (exit ${run.exitCode}): ${run.stderr.slice(-500)}`);
    const sweptEvent = run.events.find((e) => e.type === 'swept');
    const swept = { containers: Number(sweptEvent?.containers ?? 0), volumes: Number(sweptEvent?.volumes ?? 0) };
    outcome.hit = "dead runs' containers and volumes, a live run's";
    outcome.detail = `${made.containers.length} container(s), ${made.volumes.length} volume(s) of dead pids ${dead.join(', ')}; the command swept ${swept.containers} + ${swept.volumes}`;
    // The fault: each dead pid's running container and two volumes, in place before the command and swept by it, not by
    // another farm process of this machine (any sweeps the same dead pids). Else the command had nothing to prove itself on.
    if (made.containers.length !== dead.length || made.volumes.length !== 2 * dead.length) {
      outcome.missed = `the dead runs' leftovers were not all in place before the command: ${JSON.stringify(made)}`;
    } else if (swept.containers < made.containers.length || swept.volumes < made.volumes.length) {
      outcome.missed = 'the command swept fewer leftovers than the dead runs had: some were gone before it looked';
    }
    addOrphans(outcome, 'after the next command', await findLeftovers({ runtime, pids: dead }));
    const kept = await findLeftovers({ runtime, pids: [process.pid] });
    if (!live.containers.every((c) => kept.containers.includes(c.slice(0, 12))) || !live.volumes.every((v) => kept.volumes.includes(v))) {
      outcome.corrupt.push(
        `the sweep removed a live farm process's container or volume (had ${JSON.stringify(live)}, left ${JSON.stringify(kept)})`,
      );
    }
  } finally {
    for (const id of live.containers) await runtime.removeContainer(id);
    for (const name of live.volumes) await runtime.removeVolume(name);
  }
  outcome.seconds = (performance.now() - started) / 1000;
  return outcome;
}

/** A cell's worth of leftovers for `owner`: a running container with its work volume mounted, and a volume of its own. */
async function makeLeftovers(runtime: ContainerRuntime, image: string, owner: string, tag: string): Promise<Leftovers> {
  const buildId = `faults-leftovers-${tag}-${process.pid}`;
  const labels = { ...containerLabels({ buildId, step: 'build' }), [LABEL.owner]: owner };
  const work = `wheelfarm-work-${buildId}-a`;
  const spare = `wheelfarm-work-${buildId}-b`;
  await runtime.createVolume({ name: work, labels: { ...labels, [LABEL.step]: 'work' } });
  await runtime.createVolume({ name: spare, labels: { ...labels, [LABEL.step]: 'work' } });
  const container = await runtime.startContainer({ image, labels, volumes: [{ name: work, target: '/work' }] });
  return { containers: [container.id], volumes: [work, spare] };
}

/**
 * After the run that follows a fault (`which` names it in messages): it succeeded, the index is
 * consistent and serves the cell, the records agree.
 */
export async function checkRecovery(
  farm: NetfixFarm,
  {
    index,
    pip,
    exit,
    outcome,
    which = 'the run after the fault',
  }: { index: TrialIndex; pip: boolean; exit: FarmExit; outcome: TrialOutcome; which?: string },
): ReturnType<typeof checkRecords> {
  if (exit.exitCode !== 0) {
    const error = exit.events.find((e) => e.type === 'error' || e.type === 'summary');
    outcome.corrupt.push(`${which} failed (exit ${exit.exitCode ?? exit.signal}): ${JSON.stringify(error ?? exit.stderr.slice(-500))}`);
  }
  const after = await index.check();
  outcome.corrupt.push(
    ...after.problems,
    ...after.unlinked,
    ...after.unlistedWheels.map((w) => `${w} is in the index, and its manifest does not list it`),
  );
  outcome.debris.push(...after.tempFiles.map((t) => `temp file ${t}`));
  const wheels = after.served.filter((w) => w.project === PROJECT);
  if (wheels.length !== 1) outcome.corrupt.push(`the index serves ${wheels.length} ${PROJECT} wheel(s), expected 1`);
  const records = await checkRecords({ home: farm.home, target: index.target, served: after.served });
  outcome.corrupt.push(...records.problems);
  if (pip) {
    const download = await pipDownload(index.url, PROJECT);
    if (!download.ok) outcome.corrupt.push(`pip download from the index failed: ${download.output}`);
    else if (!wheels.some((w) => w.filename === download.file))
      outcome.corrupt.push(`pip downloaded ${download.file}, which the pages do not link`);
  }
  return records;
}

/** One build of the cell says published: a fault that was ridden out or recovered from made no second one, and lost none. */
export function expectPublishedOnce(records: BuildRecord[], outcome: TrialOutcome): void {
  const published = records.filter((r) => r.state === 'published');
  if (published.length !== 1) outcome.corrupt.push(`${published.length} published records for the cell, expected 1`);
}

/**
 * Puts a wheel of another project (`tiny`) in the index, straight, and returns what the index then
 * serves: a run that fails must leave it served as it was.
 */
export async function seedIndex(index: TrialIndex, dir: string): Promise<IndexCheck> {
  const wheel = makePureWheel(await mkdtemp(join(dir, 'seed-')), { name: 'tiny', version: '1.0' });
  const sha256 = createHash('sha256')
    .update(await readFile(wheel.path))
    .digest('hex');
  await index.publisher.publish({ ...wheel, sha256, project: 'tiny' });
  return index.check();
}

/**
 * A run that a lasting fault made fail, checked before the fault is lifted: it failed as documented
 * (exit status `status`, an error `explains` accepts), what the index served before (`before`) it
 * serves still, byte for byte, and nothing is wrong with it; no temp file is left (debris). A wheel
 * listed but not linked is allowed only when the error says that the pages were not brought up to
 * date (the next run must finish them).
 */
export async function checkFailedRun({
  exit,
  index,
  before,
  status,
  explains,
  outcome,
}: {
  exit: FarmExit;
  index: TrialIndex;
  before: IndexCheck;
  status: number;
  explains: (error: { code: string; message: string }) => boolean;
  outcome: TrialOutcome;
}): Promise<void> {
  const error = failureOf(exit);
  if (exit.exitCode !== status)
    outcome.corrupt.push(
      `the failed run exited ${exit.exitCode ?? exit.signal}, expected ${status}: ${JSON.stringify(error ?? exit.stderr.slice(-500))}`,
    );
  if (!error || !explains(error))
    outcome.corrupt.push(`the failed run's error does not say what failed where: ${JSON.stringify(error ?? exit.stderr.slice(-500))}`);
  const after = await index.check();
  outcome.corrupt.push(...after.problems.map((p) => `after the failed run: ${p}`));
  // Before the next run, which may sweep them: a run that fails cleanly leaves no temp file at all.
  outcome.debris.push(...after.tempFiles.map((t) => `temp file ${t} after the failed run`));
  if (!/the pages were not brought up to date/.test(error?.message ?? ''))
    outcome.corrupt.push(...after.unlinked.map((u) => `after the failed run, unannounced: ${u}`));
  for (const wheel of before.served) {
    if (!after.served.some((w) => w.filename === wheel.filename && w.sha256 === wheel.sha256))
      outcome.corrupt.push(`the failed run took ${wheel.filename} away from the index`);
  }
}

/** How a run ended, for a trial's detail: `the run exited 4 (s3-connection-failed)`. */
export function describeExit(exit: FarmExit): string {
  const error = failureOf(exit);
  return `the run exited ${exit.exitCode ?? exit.signal}${error ? ` (${error.code})` : ''}`;
}

/** The error a failed run ended with: its `error` event, or the error of its failed cell. */
export function failureOf(exit: FarmExit): { code: string; message: string } | undefined {
  const error = exit.events.find((e) => e.type === 'error') ?? exit.events.find((e) => e.type === 'cell' && e.outcome === 'failed')?.error;
  return error as { code: string; message: string } | undefined;
}

export function addOrphans(outcome: TrialOutcome, when: string, leftovers: Leftovers | undefined): void {
  if (!leftovers || countLeftovers(leftovers) === 0) return;
  outcome.orphans.push(
    ...leftovers.containers.map((c) => `container ${c} ${when}`),
    ...leftovers.volumes.map((v) => `volume ${v} ${when}`),
  );
}

/** A settings file for a matrix build with one host, the second engine. */
async function matrixSettings(farm: NetfixFarm, engine: SecondEngine, index: string): Promise<string> {
  const file = join(farm.dir, `matrix-${process.pid}-${Date.now()}.yaml`);
  await writeFile(
    file,
    [
      `home: ${farm.home}`,
      `index:\n  dir: ${index}`,
      `recipes:\n  dir: ${farm.env.WHEELFARM_RECIPES_DIR}`,
      'matrix:\n  pythons: ["3.13"]',
      `hosts:\n  - name: ${engine.host.name}\n    docker: ${engine.url}\n    slots: 1`,
      '',
    ].join('\n'),
  );
  return file;
}
