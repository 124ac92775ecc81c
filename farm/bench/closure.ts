// What `wheelfarm build -r` costs for a real application's closure (>= 50 distributions, mostly pure),
// through the real CLI, real containers and the real upstream index. Run by scripts/bench-closure.sh:
//   node farm/bench/closure.ts [-r FILE] [--python 3.13] [--runs N] [--keep]
//
// first   into a fresh home and a fresh directory index: the resolver in the build image, the pure
//         wheels mirrored from the upstream (4 at a time) while the native ones build as cells (cold
//         sdist and wheel caches; the images must exist or are built, which the output says).
//         Figures: wall time, the resolution (command start to the `closure` event), the mirroring
//         (the `closure` event to the last `mirror` event, the sum of per-file seconds, files and bytes
//         copied), the native cells built and the farm process's peak RSS.
// second  N times (default 3) the same command, same home and index, everything already there:
//         wall, resolution, "planned and reported after resolution" (the `closure` event to the
//         `summary` line, target < 2 s) and peak RSS, and the median of each. Any second run that
//         publishes anything (a cell, a mirrored file) fails the benchmark.
//
// Peak RSS is the farm process's own: `./wheelfarm` execs node in the same process, whose VmHWM (the
// kernel's high-water mark of its resident set) is read from /proc/<pid>/status every 20 ms while its
// executable is node; neither the launcher's shell nor setup.sh nor containers count.
//
// Each run's events (<run>.jsonl) and stderr are written beside the home and index; the temporary
// directory is removed at exit unless --keep or a check failed.
//
// Exit status: 0 every run succeeded and no second run published anything (a missed target is a
// result, not an error); 1 a run failed, the closure has fewer than 50 distributions, a second run
// published anything or resolved another closure than the first, or the farm's code (farm/src,
// images/, recipes/) changed while the benchmark ran; 2 bad option.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, hostname, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { cleanUpOnExit } from './clean-up-on-exit.ts';
import type { FarmEventLine } from './faults/farm-process.ts';
import { FarmProcess } from './faults/farm-process.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const TARGET_AFTER_RESOLUTION = 2;
const MIN_CLOSURE = 50;
const RSS_POLL_MS = 20;

// ---- options --------------------------------------------------------------------------------------
const args = process.argv.slice(2);
let requirements = join(ROOT, 'farm', 'bench', 'fixtures', 'closure-requirements.txt');
let python = '3.13';
let runs = 3;
let keep = false;
for (let i = 0; i < args.length; i += 1) {
  const value = args[i + 1];
  switch (args[i]) {
    case '-r':
    case '--requirement':
      requirements = resolve(value ?? usage('-r expects a requirements file'));
      i += 1;
      break;
    case '--python':
      python = value ?? usage('--python expects a version like 3.13');
      i += 1;
      break;
    case '--runs':
      runs = Number(value);
      i += 1;
      break;
    case '--keep':
      keep = true;
      break;
    default:
      usage(`unknown argument ${args[i]}`);
  }
}
if (!Number.isInteger(runs) || runs < 1 || runs > 20) usage('--runs expects a whole number from 1 to 20');
if (!/^3\.\d{1,2}$/.test(python)) usage(`--python expects one CPython minor version like 3.13, got ${python}`);

function usage(message: string): never {
  console.error(`bench-closure: ${message}\nusage: scripts/bench-closure.sh [-r FILE] [--python 3.13] [--runs N] [--keep]`);
  process.exit(2);
}

// ---- clean-up -------------------------------------------------------------------------------------
const work = await mkdtemp(join(tmpdir(), 'wheelfarm-bench-closure-'));
const home = join(work, 'home');
const index = join(work, 'index');
let running: FarmProcess | undefined;
/** What failed the benchmark; the temporary directory is kept when there is any. */
const problems: string[] = [];

async function cleanUp(): Promise<void> {
  if (running) {
    // A stopped farm removes its own containers before it exits.
    running.kill('SIGTERM');
    await running.done;
  }
  if (keep || problems.length > 0) console.error(`kept ${work} (each run's events in <run>.jsonl, its stderr in <run>.stderr)`);
  else await rm(work, { recursive: true, force: true });
}
cleanUpOnExit('bench-closure', cleanUp);

// ---- one run ----------------------------------------------------------------------------------------
const farmArgs = ['build', '-r', requirements, '--python', python, '--index', index, '--json'];
const shown = (path: string) => (path.startsWith(`${ROOT}/`) ? relative(ROOT, path) : path);
const commandLine = `WHEELFARM_HOME=${home} ./wheelfarm build -r ${shown(requirements)} --python ${python} --index ${index} --json`;

interface Summary {
  ok: boolean;
  counts: Record<string, number>;
  results: { buildId: string; outcome: string; seconds: number }[];
  closure?: {
    applications: { dists: { name: string; version: string; kind: 'build' | 'mirror'; file: string }[] }[];
    mirrors: { project: string; filename: string; state: string }[];
  };
}

interface Run {
  label: string;
  exitCode: number | undefined;
  wall: number;
  resolution: number | undefined;
  afterResolution: number | undefined;
  mirrorWindow: number | undefined;
  mirrorFirstStart: number | undefined;
  mirrorFileSeconds: number;
  mirroredNow: { project: string; filename: string; seconds: number }[];
  mirrorEvents: FarmEventLine[];
  cells: FarmEventLine[];
  imagesBuilt: string[];
  peakRssKb: number | undefined;
  rssSamples: number;
  /** Where the resolution's time went: start-up (to the first event), upstream pages before the resolver, the resolver's container, after it. */
  phases: { startUp?: number; beforeResolver?: number; resolver?: number; afterResolver?: number };
  summary: Summary | undefined;
  stderr: string;
}

/** Samples VmHWM of `pid` while its executable is node (the launcher execs it in the same process). */
function watchPeakRss(pid: number): { sampleNow: () => void; stop: () => Promise<{ kb: number | undefined; samples: number }> } {
  let kb: number | undefined;
  let samples = 0;
  let busy: Promise<void> = Promise.resolve();
  const sample = async () => {
    try {
      if (basename(await readlink(`/proc/${pid}/exe`)) !== 'node') return;
      const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
      if (!hwm) return;
      kb = Math.max(kb ?? 0, Number(hwm[1]));
      samples += 1;
    } catch {
      // Gone (or not yet node): nothing to read.
    }
  };
  const sampleNow = () => {
    busy = busy.then(sample);
  };
  const timer = setInterval(sampleNow, RSS_POLL_MS);
  sampleNow();
  return {
    sampleNow,
    stop: async () => {
      clearInterval(timer);
      await busy;
      return { kb, samples };
    },
  };
}

/**
 * The engine's start and die events of resolver containers (`wheelfarm.step=resolve`), streamed while
 * a run goes on; `of(pid)` keeps those the farm process `pid` made (their `wheelfarm.owner` label).
 */
async function watchResolverContainers(): Promise<{ of: (pid: number) => Promise<{ start?: number; die?: number }> }> {
  const format = '{{.TimeNano}} {{.Action}} {{index .Actor.Attributes "wheelfarm.owner"}}';
  const events = execa(
    'docker',
    [
      'events',
      '--filter',
      'type=container',
      '--filter',
      'label=wheelfarm.step=resolve',
      '--filter',
      'event=start',
      '--filter',
      'event=die',
      '--format',
      format,
    ],
    { reject: false, buffer: { stdout: true } },
  );
  return {
    of: async (pid) => {
      await new Promise((done) => setTimeout(done, 300));
      events.kill('SIGTERM');
      const owner = `${hostname()}:${pid}`;
      const found: { start?: number; die?: number } = {};
      for (const line of String((await events).stdout ?? '').split('\n')) {
        const [nanos, action, by] = line.trim().split(' ');
        if (by !== owner || (action !== 'start' && action !== 'die')) continue;
        found[action] ??= Number(BigInt(nanos!) / 1_000_000n);
      }
      return found;
    },
  };
}

async function farmRun(label: string): Promise<Run> {
  const resolvers = await watchResolverContainers();
  const startedAt = Date.now();
  const started = performance.now();
  const farm = new FarmProcess(farmArgs, { env: { WHEELFARM_HOME: home } });
  running = farm;
  const rss = watchPeakRss(farm.pid);
  // One more sample as the summary line arrives: the process is still there, and about to exit.
  void farm.event((e) => e.type === 'summary').then(rss.sampleNow, () => undefined);
  const exit = await farm.done;
  const wall = (performance.now() - started) / 1000;
  running = undefined;
  // Each run's events and stderr stay beside its home and index (kept with --keep, or when a check fails).
  const slug = label.replace(/\W+/g, '-');
  await writeFile(join(work, `${slug}.jsonl`), exit.events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  await writeFile(join(work, `${slug}.stderr`), exit.stderr);
  const peak = await rss.stop();
  const resolver = await resolvers.of(farm.pid);
  const at = (e: FarmEventLine | undefined) => (e ? Date.parse(e.time) : undefined);
  const closure = exit.events.find((e) => e.type === 'closure');
  const summaryEvent = exit.events.findLast((e) => e.type === 'summary');
  const mirrorEvents = exit.events.filter((e) => e.type === 'mirror');
  const lastMirror = mirrorEvents.at(-1);
  const closureAt = at(closure);
  const diff = (a: number | undefined, b: number | undefined) => (a !== undefined && b !== undefined ? (b - a) / 1000 : undefined);
  const firstStart = mirrorEvents.length ? Math.min(...mirrorEvents.map((e) => Date.parse(e.time) - Number(e.seconds) * 1000)) : undefined;
  return {
    label,
    exitCode: exit.exitCode,
    wall,
    resolution: diff(startedAt, closureAt),
    afterResolution: diff(closureAt, at(summaryEvent)),
    mirrorWindow: diff(closureAt, at(lastMirror)),
    mirrorFirstStart: diff(closureAt, firstStart),
    mirrorFileSeconds: mirrorEvents.reduce((sum, e) => sum + Number(e.seconds), 0),
    mirroredNow: mirrorEvents
      .filter((e) => e.outcome === 'published')
      .map((e) => ({ project: String(e.project), filename: String(e.filename), seconds: Number(e.seconds) })),
    mirrorEvents,
    cells: exit.events.filter((e) => e.type === 'cell'),
    imagesBuilt: exit.events.filter((e) => e.type === 'image' && e.status !== 'present').map((e) => `${e.kind} (${e.status})`),
    peakRssKb: peak.kb,
    rssSamples: peak.samples,
    phases: {
      startUp: diff(startedAt, at(exit.events[0])),
      beforeResolver: diff(at(exit.events[0]), resolver.start),
      resolver: diff(resolver.start, resolver.die),
      afterResolver: diff(resolver.die, closureAt),
    },
    summary: summaryEvent as unknown as Summary | undefined,
    stderr: exit.stderr,
  };
}

// ---- checks -----------------------------------------------------------------------------------------

function checkSucceeded(run: Run): boolean {
  const stderrTail = run.summary ? undefined : run.stderr.trim().split('\n').slice(-15).join('\n');
  if (run.exitCode !== 0 || !run.summary?.ok) {
    const failed = [
      ...(run.summary?.results ?? []).filter((r) => r.outcome === 'failed').map((r) => r.buildId),
      ...run.mirrorEvents.filter((e) => e.outcome === 'failed').map((e) => String(e.filename)),
    ];
    problems.push(
      `${run.label}: wheelfarm exited ${run.exitCode}${failed.length ? `; failed: ${failed.join(', ')}` : ''}${stderrTail ? `\n${stderrTail}` : ''}`,
    );
    return false;
  }
  return true;
}

/** What a run with everything in the index published: cells, mirror events and the summary's mirror states. */
function publishedBy(run: Run): string[] {
  const cells = run.cells.filter((e) => e.outcome === 'published').map((e) => `cell ${String(e.buildId)}`);
  const counted = run.summary?.counts.published ?? 0;
  const mirrors = new Set([
    ...run.mirroredNow.map((m) => m.filename),
    ...(run.summary?.closure?.mirrors ?? []).filter((m) => m.state === 'published').map((m) => m.filename),
  ]);
  return [
    ...cells,
    ...(counted > cells.length ? [`${counted} cell(s) counted published in the summary`] : []),
    ...[...mirrors].map((f) => `mirror ${f}`),
  ];
}

/**
 * The farm code under test: the commit, whether farm/src, images/ or recipes/ differ from it, and a
 * digest of their files, taken before and after the runs (another checkout's edits in the middle would
 * mix two versions of the code in one table).
 */
async function codeState(): Promise<{ commit: string; dirty: boolean; digest: string }> {
  const dirs = ['farm/src', 'images', 'recipes'];
  const commit = (await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, reject: false })).stdout || 'unknown';
  const status = await execa('git', ['status', '--porcelain', '--', ...dirs], { cwd: ROOT, reject: false });
  const hash = createHash('sha256');
  for (const dir of dirs) {
    const files = (await readdir(join(ROOT, dir), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    for (const path of files.map((e) => join(e.parentPath, e.name)).sort())
      hash.update(`${relative(ROOT, path)}\0`).update(await readFile(path));
  }
  return { commit, dirty: status.stdout.trim() !== '', digest: hash.digest('hex').slice(0, 12) };
}

/** A run's closure as compared between runs: each distribution's version, kind and file. */
function closureKey(run: Run): string[] {
  return (run.summary?.closure?.applications.flatMap((a) => a.dists) ?? []).map((d) => `${d.name} ${d.version} ${d.kind} ${d.file}`).sort();
}

// ---- the runs ---------------------------------------------------------------------------------------
const codeBefore = await codeState();
async function loadAvg(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}
const loadBefore = await loadAvg();
const say = (line: string) => console.error(line);
say(`bench-closure: ${commandLine}`);
say(`first run: fresh home and index (native cells build, pure wheels mirrored from the upstream)...`);
const first = await farmRun('first');
const firstOk = checkSucceeded(first);
const dists = first.summary?.closure?.applications.flatMap((a) => a.dists) ?? [];
if (firstOk && dists.length < MIN_CLOSURE)
  problems.push(`the closure has ${dists.length} distributions, fewer than ${MIN_CLOSURE}: choose a larger requirements file`);
say(`  ${first.wall.toFixed(1)} s, exit ${first.exitCode}`);

const seconds: Run[] = [];
if (firstOk) {
  for (let i = 1; i <= runs; i += 1) {
    say(`second run ${i}/${runs}: everything in the index...`);
    const run = await farmRun(`second ${i}`);
    seconds.push(run);
    say(`  ${run.wall.toFixed(1)} s, exit ${run.exitCode}`);
    if (!checkSucceeded(run)) break;
    const firstClosure = closureKey(first);
    const changed = closureKey(run).filter((d) => !firstClosure.includes(d));
    if (changed.length > 0) problems.push(`${run.label} resolved another closure than the first run: ${changed.join(', ')}`);
    const published = publishedBy(run);
    if (published.length > 0) problems.push(`${run.label} published ${published.length} thing(s): ${published.join(', ')}`);
  }
}

const codeAfter = await codeState();
if (codeAfter.digest !== codeBefore.digest)
  problems.push(
    `the farm's code changed during the benchmark (farm/src, images/, recipes/: ${codeBefore.commit} ${codeBefore.digest} before, ${codeAfter.commit} ${codeAfter.digest} after): its figures mix two versions`,
  );

// ---- the tables -------------------------------------------------------------------------------------
const bytesMirrored = await sumBytes(first);
const s = (n: number | undefined) => (n === undefined ? '-' : `${n.toFixed(n < 10 ? 2 : 1)} s`);
const mb = (kb: number | undefined) => (kb === undefined ? '-' : `${(kb / 1024).toFixed(0)} MB`);
const median = (values: (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  if (known.length === 0) return undefined;
  const mid = Math.floor(known.length / 2);
  return known.length % 2 ? known[mid] : (known[mid - 1]! + known[mid]!) / 2;
};
const medianOf = (pick: (run: Run) => number | undefined) => median(seconds.map(pick));
const medianLabel = `second, median of ${seconds.length}`;
const publishedCells = (run: Run) => run.cells.filter((e) => e.outcome === 'published').length;
const out = (text = '') => console.log(text);

function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  out(line(header));
  out(line(widths.map((w) => '-'.repeat(w))));
  for (const r of rows) out(line(r));
}

const mainRows = [first, ...seconds].map((run) => [
  run.label,
  String(run.exitCode ?? '-'),
  s(run.wall),
  s(run.resolution),
  s(run.afterResolution),
  run.mirrorEvents.length ? s(run.mirrorWindow) : '-',
  run.mirrorEvents.length ? s(run.mirrorFileSeconds) : '-',
  String(run.mirroredNow.length),
  String(publishedCells(run)),
  mb(run.peakRssKb),
]);
if (seconds.length > 1) {
  mainRows.push([
    medianLabel,
    '',
    s(medianOf((r) => r.wall)),
    s(medianOf((r) => r.resolution)),
    s(medianOf((r) => r.afterResolution)),
    '',
    '',
    String(medianOf((r) => r.mirroredNow.length) ?? '-'),
    String(medianOf(publishedCells) ?? '-'),
    mb(medianOf((r) => r.peakRssKb)),
  ]);
}
const phaseRows = [first, ...seconds].map((run) => [
  run.label,
  s(run.resolution),
  s(run.phases.startUp),
  s(run.phases.beforeResolver),
  s(run.phases.resolver),
  s(run.phases.afterResolver),
]);
if (seconds.length > 1) {
  phaseRows.push([
    medianLabel,
    s(medianOf((r) => r.resolution)),
    s(medianOf((r) => r.phases.startUp)),
    s(medianOf((r) => r.phases.beforeResolver)),
    s(medianOf((r) => r.phases.resolver)),
    s(medianOf((r) => r.phases.afterResolver)),
  ]);
}

const built = dists.filter((d) => d.kind === 'build');
const mirrored = dists.filter((d) => d.kind === 'mirror');
out();
out(`wheelfarm build -r: an application's closure (${cpus().length} cores; load average ${loadBefore} before, ${await loadAvg()} after)`);
out(`command: ${commandLine}`);
out(
  `code: commit ${codeBefore.commit}${codeBefore.dirty ? ' with uncommitted changes' : ''} (farm/src, images/, recipes/ digest ${codeBefore.digest})`,
);
out(
  `closure: ${dists.length} distributions for Python ${python}: ${built.length} built from source (${built.map((d) => `${d.name} ${d.version}`).join(', ')}), ${mirrored.length} pure wheels mirrored`,
);
out();
table(
  ['run', 'exit', 'wall', 'resolution', 'closure→summary', 'mirror window', 'Σ file s', 'mirrored', 'cells published', 'peak RSS'],
  mainRows,
);
out();
out('resolution       command start to the `closure` event');
out(
  'closure→summary  the `closure` event to the `summary` line: planned and reported after resolution (and, in the first run, mirrored and built)',
);
out("mirror window    the `closure` event to the last `mirror` event; Σ file s: the mirror events' own seconds added up (4 at a time)");
out(`peak RSS         VmHWM of the farm's node process (/proc/<pid>/status every ${RSS_POLL_MS} ms and at the summary line)`);
if (first.mirrorEvents.length) {
  const copied = bytesMirrored === undefined ? '' : `, ${(bytesMirrored / 1e6).toFixed(1)} MB`;
  const rate =
    bytesMirrored === undefined || !first.mirrorWindow
      ? ''
      : ` (${(bytesMirrored / 1e6 / first.mirrorWindow).toFixed(1)} MB/s over the window)`;
  const firstStart = first.mirrorFirstStart === undefined ? '-' : `${Math.max(0, first.mirrorFirstStart).toFixed(1)} s`;
  out(
    `first run: ${first.mirroredNow.length} files mirrored${copied}${rate}, the first started ${firstStart} after the closure event (per-file seconds are rounded to 0.1 s); ` +
      `meanwhile ${publishedCells(first)} native cell(s) built: ${first.cells.map((c) => `${String(c.buildId)} ${String(c.outcome)} in ${s(Number(c.seconds))}`).join(', ') || 'none'}`,
  );
}
if (first.imagesBuilt.length)
  out(`first run: images not present at start, built in the run: ${first.imagesBuilt.join(', ')} (its wall time includes them)`);
const afterMedian = medianOf((r) => r.afterResolution);
if (afterMedian !== undefined) {
  out(
    `planned and reported after resolution, second run: median ${s(afterMedian)} (target < ${TARGET_AFTER_RESOLUTION} s: ${afterMedian < TARGET_AFTER_RESOLUTION ? 'met' : 'MISSED'})`,
  );
}
if (seconds.length > 0 && problems.length === 0) out(`second runs published nothing (no cell, no mirrored file)`);
out();
out('where the resolution goes:');
table(['run', 'resolution', 'start-up', 'to the resolver', 'resolver container', 'classified'], phaseRows);
out('start-up            command start to the first event (launcher, set-up check, node, images checked)');
out(
  "to the resolver     the first event to the resolver container's start (the resolver's image checked, each requirement's upstream page fetched)",
);
out("resolver container  its start to its end (docker events): pip resolving in the build image (or the resolver's recipe image)");
out("classified          its end to the `closure` event (upstream pages of the closure, recipes, the closure's record)");
for (const problem of problems) console.error(`bench-closure: ${problem}`);
await cleanUp();
process.exit(problems.length > 0 ? 1 : 0);

/** Bytes of the files the first run mirrored, as the index holds them (files/<project>/<filename>). */
async function sumBytes(run: Run): Promise<number | undefined> {
  try {
    const sizes = await Promise.all(
      run.mirroredNow.map(async (m) => (await stat(join(index, 'files', normalize(m.project), m.filename))).size),
    );
    return sizes.reduce((a, b) => a + b, 0);
  } catch {
    return undefined;
  }
}

function normalize(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}
