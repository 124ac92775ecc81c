// What a matrix build of real C-extension packages costs on this machine, in three figures. Run by
// scripts/bench-matrix.sh:
//   node farm/bench/matrix-build.ts [--part cpu|cache|cibuildwheel|all] [--slots N] [--packages a,b,c]
//                                   [--cache-packages a,b] [--keep]
//
// cpu           a cold matrix build (empty ccache volume, fresh home and index) of the packages x
//               Pythons 3.11 and 3.13 with N slots: the PEP 517 build's CPU seconds (the requires and
//               build steps' `wheelfarm-cpu:` lines in each build log, from bash's `times`: the backend,
//               Cython, the compilers) / (wall x cores), target >= 0.85, and the
//               whole machine's busy share from /proc/stat. Below the target, once more with N+1 slots.
// cache         for each --cache-packages (default lxml, brotli): a cold cp313 build, a rebuild after a
//               recipe change that touches no C source (warm ccache), cp311 after cp313 (warm) against
//               a cold cp311: build-step seconds, cell seconds and the speed-ups (target >= 2x). A new
//               Python gains only where sources do not include Python.h: lxml's all do (every object
//               differs), brotli's bundled library (about 35 files of 36) does not.
// cibuildwheel  the same cells built by cibuildwheel (installed into a venv from the upstream index)
//               in the same images from the same sdists, with an equivalent test, one package after
//               another; its wall time against the cold farm run's (the cpu part's, or one of its own).
//
// Everything lives in a temporary directory removed at exit, with any cibuildwheel container this
// run leaves behind. The farm's images and cache volumes stay (the ccache volume is emptied).
import { copyFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { loadSettings } from '../src/config/settings.ts';
import { createFarm, imageDepsOf } from '../src/farm.ts';
import { prepareImages } from '../src/pipeline/prepare-images.ts';
import { prepareRecipeImage } from '../src/pipeline/prepare-recipe-image.ts';
import { loadRecipe } from '../src/recipes/load-recipe.ts';
import type { Recipe } from '../src/recipes/recipe.ts';
import { CONTAINER_CA_PATH, findHostCaBundle, proxyEnv, trustEnv } from '../src/runtime/host-trust.ts';
import { cleanUpOnExit } from './clean-up-on-exit.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const WHEELFARM = join(ROOT, 'wheelfarm');
const TARGET_CPU = 0.85;
const TARGET_SPEEDUP = 2;
const PYTHONS = ['3.11', '3.13'];
const CCACHE_VOLUME = 'wheelfarm-cache-ccache';

// ---- options --------------------------------------------------------------------------------------
const args = process.argv.slice(2);
let part = 'all';
let slots = 3;
let packages = ['lxml', 'psycopg2', 'pyyaml', 'markupsafe'];
let cachePackages = ['lxml', 'brotli'];
let keep = false;
for (let i = 0; i < args.length; i += 1) {
  const value = args[i + 1];
  switch (args[i]) {
    case '--part':
      part = value ?? '';
      i += 1;
      break;
    case '--slots':
      slots = Number(value);
      i += 1;
      break;
    case '--cache-packages':
      cachePackages = (value ?? '').split(',').filter(Boolean);
      i += 1;
      break;
    case '--keep':
      keep = true;
      break;
    case '--packages':
      packages = (value ?? '').split(',').filter(Boolean);
      i += 1;
      break;
    default:
      usage(`unknown argument ${args[i]}`);
  }
}
if (!['cpu', 'cache', 'cibuildwheel', 'all'].includes(part)) usage(`--part expects cpu, cache, cibuildwheel or all, got ${part}`);
if (!Number.isInteger(slots) || slots < 1 || slots > 16) usage('--slots expects a whole number from 1 to 16');
if (packages.length === 0) usage('--packages expects a comma-separated list');
if (cachePackages.length === 0) usage('--cache-packages expects a comma-separated list');

function usage(message: string): never {
  console.error(
    `bench-matrix: ${message}\nusage: scripts/bench-matrix.sh [--part cpu|cache|cibuildwheel|all] [--slots N] [--packages a,b,c] [--cache-packages a,b] [--keep]`,
  );
  process.exit(2);
}

// ---- clean-up -------------------------------------------------------------------------------------
const work = await mkdtemp(join(tmpdir(), 'wheelfarm-bench-matrix-'));
const cores = cpus().length;
let running: { stop: () => void; done: Promise<unknown> } | undefined;
const containersBefore = new Set(await cibuildwheelContainers());

async function cleanUp(): Promise<void> {
  if (running) {
    running.stop();
    await running.done;
  }
  const left = (await cibuildwheelContainers().catch(() => [])).filter((id) => !containersBefore.has(id));
  if (left.length > 0) await execa('docker', ['rm', '-f', ...left], { reject: false });
  if (keep) console.error(`kept ${work}`);
  else await rm(work, { recursive: true, force: true });
}
cleanUpOnExit('bench-matrix', cleanUp);

async function cibuildwheelContainers(): Promise<string[]> {
  const { stdout } = await execa('docker', ['ps', '-aq', '--no-trunc', '--filter', 'name=^cibuildwheel-']);
  return stdout.split('\n').filter(Boolean);
}

// ---- helpers --------------------------------------------------------------------------------------
const say = (line: string) => console.log(line);
const f1 = (n: number) => n.toFixed(1);
const pct = (n: number) => n.toFixed(3);

/** Run a child, remembered so a signal can stop it (a stopped farm removes its own containers). */
async function run(file: string, argv: string[], { env, all = false }: { env?: Record<string, string>; all?: boolean } = {}) {
  const child = execa(file, argv, { cwd: ROOT, reject: false, all, ...(env ? { env } : {}) });
  running = { stop: () => child.kill('SIGTERM'), done: child.catch(() => undefined) };
  try {
    return await child;
  } finally {
    running = undefined;
  }
}

/** Whole-machine CPU ticks: busy (user nice system irq softirq steal; guest is inside user) and all. */
async function sampleProcStat(): Promise<{ busy: number; total: number }> {
  const fields = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

async function loadAvg(): Promise<string> {
  return (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
}

/** Empty the farm's ccache volume, so compiles are cold (ccache's statistics go with it). */
async function clearCcache(buildImage: string): Promise<void> {
  const result = await run('docker', [
    'run',
    '--rm',
    '--user',
    'root',
    '--entrypoint',
    '',
    '-v',
    `${CCACHE_VOLUME}:/c`,
    buildImage,
    'sh',
    '-c',
    'find /c -mindepth 1 -delete',
  ]);
  if (result.exitCode !== 0) throw new Error(`could not empty the ${CCACHE_VOLUME} volume: ${String(result.stderr)}`);
}

interface CellResult {
  buildId: string;
  outcome: string;
  seconds: number;
  wheel?: string;
  buildSeconds?: number;
  cpuUser?: number;
  cpuSys?: number;
  image?: string;
  ccache?: string;
}
interface FarmRun {
  label: string;
  slots: number;
  wall: number;
  cells: CellResult[];
  cpu: number;
  machineBusy: number;
  ratio: number;
  sdists: Map<string, string>;
  load: string;
}

/** A farm configuration of its own: home, index and recipes under the bench's directory. */
async function farmConfig(
  name: string,
  { home, index, recipesDir, pythons, jobs }: { home: string; index: string; recipesDir: string; pythons: string[]; jobs: number },
): Promise<string> {
  const config = join(work, `${name}.yaml`);
  await writeFile(
    config,
    `home: ${home}\nindex:\n  dir: ${index}\nrecipes:\n  dir: ${recipesDir}\nmatrix:\n  pythons: [${pythons.map((p) => `"${p}"`).join(', ')}]\njobs: ${jobs}\n`,
  );
  return config;
}

/** `wheelfarm matrix build` timed, with /proc/stat sampled around it, then every cell's log and record read. */
async function farmRun(label: string, config: string, names: string[], jobs: number): Promise<FarmRun> {
  const before = await sampleProcStat();
  const started = performance.now();
  const result = await run(WHEELFARM, ['--config', config, 'matrix', 'build', ...names, '--json']);
  const wall = (performance.now() - started) / 1000;
  const after = await sampleProcStat();
  const load = await loadAvg();
  const events = String(result.stdout)
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const summary = events.findLast((e) => e.type === 'summary') as { results?: CellResult[]; counts?: Record<string, number> } | undefined;
  if (result.exitCode !== 0 || !summary?.results) {
    const error = events.findLast((e) => e.type === 'error');
    const failed = summary?.results?.filter((r) => r.outcome === 'failed').map((r) => r.buildId) ?? [];
    throw new Error(
      `${label}: wheelfarm matrix build exited ${result.exitCode}${failed.length ? `; failed: ${failed.join(', ')}` : ''}${error ? `: ${JSON.stringify(error)}` : ''}\n${String(result.stderr).slice(-2000)}`
        .split(new URL(upstreamIndexUrl).host)
        .join('<upstream index>'),
    );
  }
  const sdists = new Map<string, string>();
  for (const e of events) if (e.type === 'fetched') sdists.set(String(e.sdist), String(e.path));
  const status = await run(WHEELFARM, ['--config', config, 'status', '--json', '--limit', '1000']);
  const records = (
    JSON.parse(String(status.stdout).trim().split('\n').pop()!) as {
      records: { id: number; buildId: string; steps?: Record<string, number> }[];
    }
  ).records;
  const cells: CellResult[] = [];
  for (const r of summary.results) {
    const cell: CellResult = { buildId: r.buildId, outcome: r.outcome, seconds: r.seconds, ...(r.wheel ? { wheel: r.wheel } : {}) };
    if (r.outcome === 'published' || r.outcome === 'unchanged') {
      const record = records.filter((x) => x.buildId === r.buildId).sort((a, b) => b.id - a.id)[0];
      if (record?.steps?.build !== undefined) cell.buildSeconds = record.steps.build;
      const log = String((await run(WHEELFARM, ['--config', config, 'logs', String(record?.id ?? r.buildId)])).stdout);
      // One line per step of the PEP 517 build: requires (the backend's egg_info, Cython...) and build.
      const cpu = [...log.matchAll(/^wheelfarm-cpu: user=([\d.]+) sys=([\d.]+)$/gm)];
      if (cpu.length === 0)
        throw new Error(
          `${label}: no wheelfarm-cpu line in the log of ${r.buildId} (is farm/src/pipeline/build-wheel.ts's build script the one that prints it?)`,
        );
      cell.cpuUser = cpu.reduce((sum, m) => sum + Number(m[1]), 0);
      cell.cpuSys = cpu.reduce((sum, m) => sum + Number(m[2]), 0);
      const image = /^== wheelfarm: build \S+ from \S+ in (\S+)/m.exec(log);
      if (image) cell.image = image[1]!;
      const ccache = /^ccache: (.*)$/m.exec(log);
      if (ccache) cell.ccache = ccache[1]!;
    }
    cells.push(cell);
  }
  const cpu = cells.reduce((sum, c) => sum + (c.cpuUser ?? 0) + (c.cpuSys ?? 0), 0);
  return {
    label,
    slots: jobs,
    wall,
    cells,
    cpu,
    machineBusy: (after.busy - before.busy) / (after.total - before.total),
    ratio: cpu / (wall * cores),
    sdists,
    load,
  };
}

function printCells(run: FarmRun): void {
  for (const c of [...run.cells].sort((a, b) => a.buildId.localeCompare(b.buildId))) {
    const cpu =
      c.cpuUser === undefined
        ? ''
        : `, build-step CPU ${f1(c.cpuUser + (c.cpuSys ?? 0))} s (user ${f1(c.cpuUser)} + sys ${f1(c.cpuSys ?? 0)})`;
    say(
      `    ${c.buildId.padEnd(46)} ${c.outcome.padEnd(9)} cell ${f1(c.seconds).padStart(6)} s, build step ${c.buildSeconds === undefined ? '?' : f1(c.buildSeconds).padStart(6)} s${cpu}`,
    );
  }
}

// ---- preparation (not timed): images, recipe images, recipes --------------------------------------
const recipesDir = join(work, 'recipes');
await mkdir(recipesDir);
for (const name of packages) {
  const file = join(ROOT, 'recipes', `${name}.yaml`);
  await copyFile(file, join(recipesDir, `${name}.yaml`)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error; // no recipe: the defaults
  });
}
say(`bench-matrix: ${cores} cores (nproc), load average at start ${await loadAvg()}; work directory ${work}`);
say("preparing the images (not timed): build, runtime and each package's recipe image");
const prepConfig = await farmConfig('prepare', {
  home: join(work, 'prepare-home'),
  index: join(work, 'prepare-index'),
  recipesDir,
  pythons: PYTHONS,
  jobs: slots,
});
const settings = await loadSettings({ root: ROOT, file: prepConfig });
const farm = createFarm({ settings, emit: () => undefined, signal: new AbortController().signal });
const { plan, prepared } = await prepareImages(farm.runtime, imageDepsOf(farm));
const buildImage = plan.build.tag;
const recipes = new Map<string, Recipe>();
const images = new Map<string, string>();
for (const name of packages) {
  const recipe = await loadRecipe({ recipesDir, name });
  recipes.set(name, recipe);
  images.set(name, await prepareRecipeImage(farm.runtime, imageDepsOf(farm), { prepared, buildImage, recipe }));
}
const upstream = await farm.upstream.index();
const upstreamIndexUrl = upstream.url;
/** Output shown on a failure names the upstream index by role, never by host. */
const redact = (text: string) => text.split(new URL(upstreamIndexUrl).host).join('<upstream index>');
for (const name of packages) say(`  ${name}: builds in ${images.get(name)}`);

const failures: string[] = [];
const summaryLines: string[] = [];
let coldFarmRun: FarmRun | undefined;

/** A cold farm run of every package x PYTHONS with `jobs` slots, in a fresh home and index. */
async function coldMatrixRun(jobs: number): Promise<FarmRun> {
  const dir = join(work, `cpu-${jobs}-slots`);
  const config = await farmConfig(`cpu-${jobs}`, {
    home: join(dir, 'home'),
    index: join(dir, 'index'),
    recipesDir,
    pythons: PYTHONS,
    jobs,
  });
  await clearCcache(buildImage);
  say(
    `\nfarm: cold matrix build of ${packages.join(', ')} x ${PYTHONS.join(', ')} with ${jobs} slots (ccache volume emptied, fresh home and index)...`,
  );
  const result = await farmRun(`${jobs} slots`, config, packages, jobs);
  printCells(result);
  say(
    `  wall ${f1(result.wall)} s | cores ${cores} | build-step CPU ${f1(result.cpu)} s | build-step CPU / (wall x cores) = ${pct(result.ratio)} (target >= ${TARGET_CPU}) | /proc/stat busy ${pct(result.machineBusy)} | load ${result.load}`,
  );
  return result;
}

// ---- part 1: CPU use ----------------------------------------------------------------------------
async function partCpu(): Promise<void> {
  const runs: FarmRun[] = [];
  runs.push(await coldMatrixRun(slots));
  coldFarmRun = runs[0];
  if (runs[0]!.ratio < TARGET_CPU) {
    say(`  below ${TARGET_CPU} with ${slots} slots: once more with ${slots + 1}`);
    runs.push(await coldMatrixRun(slots + 1));
  }
  summaryLines.push(
    `CPU use of a cold matrix build (${packages.length} packages x ${PYTHONS.length} Pythons = ${runs[0]!.cells.length} cells, ${cores} cores)`,
  );
  summaryLines.push(`  slots  wall (s)  build-step CPU (s)  CPU/(wall x cores)  /proc/stat busy  target ${TARGET_CPU}`);
  for (const r of runs) {
    summaryLines.push(
      `  ${String(r.slots).padStart(5)}  ${f1(r.wall).padStart(8)}  ${f1(r.cpu).padStart(18)}  ${pct(r.ratio).padStart(18)}  ${pct(r.machineBusy).padStart(15)}  ${r.ratio >= TARGET_CPU ? 'reached' : 'not reached'}`,
    );
  }
  const reaching = runs.find((r) => r.ratio >= TARGET_CPU);
  summaryLines.push(reaching ? `  ${reaching.slots} slots reach the target` : `  no setting tried reaches the target`);
}

// ---- part 2: compiler cache -----------------------------------------------------------------------
async function partCache(): Promise<void> {
  for (const name of cachePackages) await cacheSpeedUp(name);
}

async function cacheSpeedUp(name: string): Promise<void> {
  const dir = join(work, `cache-${name}`);
  const cacheRecipes = join(dir, 'recipes');
  await mkdir(cacheRecipes, { recursive: true });
  // no recipe: the defaults (and the no-op change adds a build section)
  const original = await readFile(join(ROOT, 'recipes', `${name}.yaml`), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  await writeFile(join(cacheRecipes, `${name}.yaml`), original);
  const home = join(dir, 'home');
  const measured: { label: string; cell: CellResult; wall: number }[] = [];
  const one = async (label: string, config: string, expectTag?: string) => {
    const result = await farmRun(label, config, [name], 1);
    const built = result.cells.filter((c) => c.outcome === 'published');
    if (built.length !== 1)
      throw new Error(`${label}: expected one cell built, got ${JSON.stringify(result.cells.map((c) => [c.buildId, c.outcome]))}`);
    const cell = built[0]!;
    if (expectTag && !cell.wheel?.includes(`-${expectTag}-cp`))
      throw new Error(`${label}: expected a rebuild with build tag ${expectTag}, got ${cell.wheel}`);
    measured.push({ label, cell, wall: result.wall });
    say(
      `  ${label.padEnd(46)} build step ${f1(cell.buildSeconds ?? NaN).padStart(6)} s, cell ${f1(cell.seconds).padStart(6)} s, build-step CPU ${f1((cell.cpuUser ?? 0) + (cell.cpuSys ?? 0)).padStart(6)} s; ccache (volume totals) ${cell.ccache ?? '?'}`,
    );
    return cell;
  };
  say(`\ncompiler cache: ${name}, one cell at a time`);
  await clearCcache(buildImage);
  const cold313 = await one(
    '(a) cp313, cold (ccache emptied)',
    await farmConfig('cache-313', { home, index: join(dir, 'index'), recipesDir: cacheRecipes, pythons: ['3.13'], jobs: 1 }),
  );
  await writeFile(join(cacheRecipes, `${name}.yaml`), withNoopEnv(original));
  const warm313 = await one(
    '(b) cp313 rebuilt after a no-op recipe change',
    await farmConfig('cache-313b', { home, index: join(dir, 'index'), recipesDir: cacheRecipes, pythons: ['3.13'], jobs: 1 }),
    '1',
  );
  const warm311 = await one(
    '(c) cp311 added, after cp313 (warm)',
    await farmConfig('cache-311', { home, index: join(dir, 'index'), recipesDir: cacheRecipes, pythons: ['3.11'], jobs: 1 }),
  );
  await clearCcache(buildImage);
  const cold311 = await one(
    'cp311, cold (ccache emptied), for (c)',
    await farmConfig('cache-311-cold', { home, index: join(dir, 'index-cold311'), recipesDir: cacheRecipes, pythons: ['3.11'], jobs: 1 }),
  );
  const speedup = (cold: CellResult, warm: CellResult, key: 'buildSeconds' | 'seconds') => (cold[key] ?? NaN) / (warm[key] ?? NaN);
  summaryLines.push(`Compiler cache (${name}; ${cold313.buildId.replace(/-cp\d+-.*/, '')})`);
  summaryLines.push('  build                                           build step (s)  cell (s)');
  for (const m of measured)
    summaryLines.push(`  ${m.label.padEnd(46)}  ${f1(m.cell.buildSeconds ?? NaN).padStart(14)}  ${f1(m.cell.seconds).padStart(8)}`);
  const b = speedup(cold313, warm313, 'buildSeconds');
  const c = speedup(cold311, warm311, 'buildSeconds');
  summaryLines.push(
    `  speed-up (b) no-op recipe change: build step ${b.toFixed(2)}x, cell ${speedup(cold313, warm313, 'seconds').toFixed(2)}x (target >= ${TARGET_SPEEDUP}x: ${b >= TARGET_SPEEDUP ? 'reached' : 'not reached'})`,
  );
  summaryLines.push(
    `  speed-up (c) new Python, warm cache: build step ${c.toFixed(2)}x, cell ${speedup(cold311, warm311, 'seconds').toFixed(2)}x (target >= ${TARGET_SPEEDUP}x: ${c >= TARGET_SPEEDUP ? 'reached' : 'not reached'})`,
  );
}

/** The recipe with one more `build.env` variable, which the build ignores (but the recipe hash does not). */
function withNoopEnv(recipe: string): string {
  const line = '    WHEELFARM_BENCH_NOOP: "1"\n';
  if (!/^build:/m.test(recipe)) return `${recipe.trimEnd()}\nbuild:\n  env:\n${line}`;
  if (/^ {2}env:\s*$/m.test(recipe)) return recipe.replace(/^ {2}env:\s*\n/m, (env) => `${env}${line}`);
  if (/^ {2}env:/m.test(recipe)) throw new Error('the recipe has an inline build.env; adapt withNoopEnv() in farm/bench/matrix-build.ts');
  return recipe.replace(/^build:[ \t]*\n/m, (build) => `${build}  env:\n${line}`);
}

// ---- part 3: cibuildwheel -------------------------------------------------------------------------
async function partCibuildwheel(): Promise<void> {
  const farm = coldFarmRun ?? (await coldMatrixRun(slots));
  const dir = join(work, 'cibuildwheel');
  const venv = join(dir, 'venv');
  await mkdir(join(dir, 'tests'), { recursive: true });
  say(`\ncibuildwheel: installing it into a venv from the upstream index (not timed)...`);
  let result = await run('python3', ['-m', 'venv', venv]);
  if (result.exitCode !== 0) throw new Error(`python3 -m venv failed: ${String(result.stderr)}`);
  result = await run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', 'cibuildwheel'], {
    env: { PIP_INDEX_URL: upstreamIndexUrl },
  });
  if (result.exitCode !== 0) throw new Error(`pip install cibuildwheel failed: ${redact(String(result.stderr).slice(-1500))}`);
  const version = String(
    (await run(join(venv, 'bin', 'python'), ['-c', 'import importlib.metadata as m; print(m.version("cibuildwheel"))'])).stdout,
  ).trim();
  say(`  cibuildwheel ${version}`);

  const ca = findHostCaBundle(settings.trustHostCa);
  // cibuildwheel runs its own helpers with /opt/python/cp39-cp39/bin/python, which manylinux images
  // have and the farm's image (3.11 and 3.13 only) does not: a mounted folder whose bin/python is a
  // symlink (resolved in the container) to the image's oldest Python stands in for it.
  const shim = join(dir, 'cp39-shim');
  await mkdir(join(shim, 'bin'), { recursive: true });
  await symlink(`/opt/python/cp${PYTHONS[0]!.replace('.', '')}-cp${PYTHONS[0]!.replace('.', '')}/bin/python`, join(shim, 'bin', 'python'));
  const createArgs = [
    '--user=root',
    `--volume=${shim}:/opt/python/cp39-cp39:ro`,
    ...(ca ? [`--volume=${ca}:${CONTAINER_CA_PATH}:ro`] : []),
  ];
  const proxies = Object.keys(proxyEnv());
  const perPackage: { name: string; seconds: number; wheels: number }[] = [];
  const started = performance.now();
  for (const name of packages) {
    const recipe = recipes.get(name)!;
    const sdist = [...farm.sdists.entries()].find(([file]) => sdistProject(file) === name)?.[1];
    if (!sdist) throw new Error(`cibuildwheel: no sdist of ${name} from the farm run (fetched: ${[...farm.sdists.keys()].join(', ')})`);
    const image = farm.cells.find((c) => c.buildId.startsWith(`${name}-`) && c.image)?.image ?? images.get(name)!;
    // The farm's test, equivalent: the recipe's imports (default: the package's module) and command, run
    // in the test venv cibuildwheel makes; the script reaches the container through its /host mount.
    const test = join(dir, 'tests', `${name}.sh`);
    const imports = recipe.test.imports ?? [name.replace(/-/g, '_')];
    await writeFile(
      test,
      `set -e\npython -c ${shq(`import ${imports.join(', ')}; print("imported ${imports.join(', ')}")`)}\n${recipe.test.command ?? ''}\n`,
    );
    // The farm's upstream index, as the farm's build containers get it (pip's own default needs no setting).
    const index = upstream.source === 'pip-default' ? {} : { PIP_INDEX_URL: upstreamIndexUrl };
    const environment = { ...trustEnv(ca ? CONTAINER_CA_PATH : undefined), ...index, ...recipe.build.env };
    const env: Record<string, string> = {
      CIBW_PLATFORM: 'linux',
      CIBW_ARCHS: 'x86_64',
      CIBW_BUILD: PYTHONS.map((p) => `cp${p.replace('.', '')}-manylinux_x86_64`).join(' '),
      CIBW_MANYLINUX_X86_64_IMAGE: image,
      // what the farm runs: `python -m build` with a venv+pip isolated environment (cibuildwheel's
      // default would be uv, which the farm's image does not have)
      CIBW_BUILD_FRONTEND: 'build',
      CIBW_CONTAINER_ENGINE: `docker; create_args: ${createArgs.join(' ')}`,
      CIBW_ENVIRONMENT: Object.entries(environment)
        .map(([k, v]) => `${k}=${shq(v)}`)
        .join(' '),
      CIBW_TEST_COMMAND: `bash /host${test}`,
      ...(recipe.test.requires.length ? { CIBW_TEST_REQUIRES: recipe.test.requires.join(' ') } : {}),
      ...(proxies.length ? { CIBW_ENVIRONMENT_PASS_LINUX: proxies.join(' ') } : {}),
    };
    const out = join(dir, 'wheelhouse', name);
    const t0 = performance.now();
    result = await run(join(venv, 'bin', 'cibuildwheel'), ['--output-dir', out, sdist], { env, all: true });
    const seconds = (performance.now() - t0) / 1000;
    await writeFile(join(dir, `${name}.log`), String(result.all));
    if (result.exitCode !== 0)
      throw new Error(
        `cibuildwheel ${name} failed (exit ${result.exitCode}); its output ends:\n${redact(String(result.all).slice(-3000))}`,
      );
    const tested = String(result.all).split(`imported ${imports.join(', ')}`).length - 1;
    if (tested !== PYTHONS.length)
      throw new Error(
        `cibuildwheel ${name}: the test ran ${tested} times, expected ${PYTHONS.length}; output ends:\n${redact(String(result.all).slice(-3000))}`,
      );
    const wheels = String((await run('sh', ['-c', `ls ${shq(out)} | grep -c '\\.whl$' || true`])).stdout).trim();
    perPackage.push({ name, seconds, wheels: Number(wheels) });
    say(`  ${name.padEnd(12)} ${f1(seconds).padStart(6)} s, ${wheels} wheels (in ${image}, tested)`);
  }
  const total = (performance.now() - started) / 1000;
  const farmWall = farm.wall;
  say(
    `  cibuildwheel, ${packages.length} packages one after another: ${f1(total)} s wall; the farm (${farm.slots} slots, cold ccache): ${f1(farmWall)} s`,
  );
  summaryLines.push(`Compared with cibuildwheel ${version} (same images, same sdists, build + repair + test, cold compiles)`);
  summaryLines.push(`  farm matrix build, ${farm.cells.length} cells, ${farm.slots} slots: ${f1(farmWall).padStart(7)} s wall`);
  summaryLines.push(`  cibuildwheel, ${perPackage.map((p) => `${p.name} ${f1(p.seconds)} s`).join(', ')}: ${f1(total).padStart(7)} s wall`);
  summaryLines.push(`  farm / cibuildwheel = ${(farmWall / total).toFixed(2)}`);
}

function sdistProject(filename: string): string {
  return filename
    .replace(/-[^-]+\.(tar\.gz|zip)$/, '')
    .toLowerCase()
    .replace(/[-_.]+/g, '-');
}

function shq(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

// ---- run ------------------------------------------------------------------------------------------
const parts = part === 'all' ? ['cpu', 'cibuildwheel', 'cache'] : [part];
for (const name of parts) {
  const before = summaryLines.length;
  try {
    if (name === 'cpu') await partCpu();
    if (name === 'cibuildwheel') await partCibuildwheel();
    if (name === 'cache') await partCache();
  } catch (error) {
    failures.push(`${name}: ${(error as Error).message}`);
    summaryLines.splice(before);
    summaryLines.push(`${name}: FAILED (see above)`);
    console.error(`\nbench-matrix: part ${name} failed: ${(error as Error).message}`);
  }
  summaryLines.push('');
}
say(`\n==== bench-matrix summary (${cores} cores; load average now ${await loadAvg()}) ====`);
for (const line of summaryLines) say(line);
await cleanUp();
process.exit(failures.length > 0 ? 1 : 0);
