/**
 * What building native libraries and toolchains from source costs, and what reusing them costs:
 * for each recipe (default: the shipped ones that build from source), `wheelfarm build NAME --python X
 * --no-deps` into a fresh home and index, then the same command again into another fresh index (the
 * images are the engine's: a second recipe build reuses them), interrupted once its cell's first step
 * starts. Prints, per recipe, each library or toolchain image (built in N s, or present), the recipe
 * image, the cell's steps, the first build's wall time and how long the second took to start its cell. With --cold, the recipes' library images (not GCC's: about 50 minutes)
 * are removed first, so their build times are measured; with --cold-toolchains GCC's too.
 *
 *   scripts/bench-from-source.sh [NAME...] [--python 3.13] [--cold] [--cold-toolchains]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { cleanUpOnExit } from './clean-up-on-exit.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const pythonAt = args.indexOf('--python');
const python = pythonAt >= 0 ? args[pythonAt + 1]! : '3.13';
const names = args.filter((arg, i) => !arg.startsWith('--') && args[i - 1] !== '--python');
const recipes = names.length > 0 ? names : ['lxml', 'shapely', 'pygit2', 'numpy'];
const temps: string[] = [];
cleanUpOnExit('bench-from-source', async () => {
  for (const dir of temps) await rm(dir, { recursive: true, force: true });
});

type Event = Record<string, unknown> & { type: string };

/**
 * `wheelfarm build NAME` into a fresh home and index. With `stopAtFirstStep`, the run is interrupted
 * (SIGINT, as a user would) once its cell's first step starts: how long a build takes to start.
 */
async function build(name: string, stopAtFirstStep = false): Promise<{ seconds: number; events: Event[]; exitCode: number }> {
  const home = await mkdtemp(join(tmpdir(), 'wheelfarm-bench-from-source-'));
  temps.push(home);
  const started = performance.now();
  const child = execa(join(ROOT, 'wheelfarm'), ['build', name, '--python', python, '--no-deps', '--index', join(home, 'index'), '--json'], {
    cwd: ROOT,
    reject: false,
    env: { WHEELFARM_HOME: home },
    buffer: { stdout: false },
  });
  const events: Event[] = [];
  let seconds: number | undefined;
  for await (const line of child.iterable({ from: 'stdout' })) {
    if (!String(line).startsWith('{')) continue;
    const event = JSON.parse(String(line)) as Event;
    events.push({ ...event, at: (performance.now() - started) / 1000 });
    if (stopAtFirstStep && seconds === undefined && event.type === 'step' && event.status === 'started') {
      seconds = (performance.now() - started) / 1000;
      child.kill('SIGINT');
    }
  }
  const run = await child;
  const failed = stopAtFirstStep ? seconds === undefined : run.exitCode !== 0;
  if (failed) console.error(`${name}: exit ${run.exitCode}\n${String(run.stderr).split('\n').slice(-15).join('\n')}`);
  return { seconds: seconds ?? (performance.now() - started) / 1000, events, exitCode: failed ? (run.exitCode ?? -1) || 1 : 0 };
}

async function removeCold(name: string): Promise<void> {
  const shown = await execa(join(ROOT, 'wheelfarm'), ['recipes', 'show', name, '--json'], { cwd: ROOT });
  const line = String(shown.stdout)
    .split('\n')
    .find((l) => l.includes('"fromSource"'));
  const fromSource = (line ? (JSON.parse(line) as { fromSource: { kind: string; name: string }[] }).fromSource : []).filter(
    (entry) => entry.kind === 'library' || flag('--cold-toolchains'),
  );
  for (const entry of fromSource) {
    const images = await execa('docker', ['images', '-q', `wheelfarm/${entry.kind}-${entry.name}`]);
    for (const id of new Set(String(images.stdout).split('\n').filter(Boolean)))
      await execa('docker', ['rmi', '-f', id], { reject: false });
  }
}

function describeImages(events: Event[]): string[] {
  return events
    .filter((e) => e.type === 'image' && ['library', 'toolchain', 'recipe'].includes(String(e.kind)))
    .filter((e) => e.status !== 'building')
    .map(
      (e) =>
        `    ${String(e.kind).padEnd(9)} ${String(e.tag).padEnd(48)} ${e.status === 'built' ? `built in ${Number(e.seconds).toFixed(1)} s` : String(e.status)}`,
    );
}

function describeCell(events: Event[]): string {
  const cell = events.find((e) => e.type === 'cell');
  const steps = events.filter((e) => e.type === 'step' && e.status === 'done').map((e) => `${e.step} ${Number(e.seconds).toFixed(1)} s`);
  return `    cell      ${String(cell?.buildId ?? '?')}: ${String(cell?.outcome ?? 'none')}${steps.length > 0 ? ` (${steps.join(', ')})` : ''}`;
}

const commit = (await execa('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })).stdout;
console.log(
  `bench-from-source: ${recipes.join(', ')} for Python ${python} at ${commit}${flag('--cold') ? ', library images removed first' : ''}`,
);
let failed = false;
for (const name of recipes) {
  if (flag('--cold') || flag('--cold-toolchains')) await removeCold(name);
  const first = await build(name);
  const second = await build(name, true);
  failed ||= first.exitCode !== 0 || second.exitCode !== 0;
  console.log(`\n${name}`);
  console.log(`  first build: ${first.seconds.toFixed(1)} s wall`);
  for (const line of [...describeImages(first.events), describeCell(first.events)]) console.log(line);
  console.log(
    `  second build (another index; images reused): its cell's first step started after ${second.seconds.toFixed(1)} s (then stopped)`,
  );
  for (const line of describeImages(second.events)) console.log(line);
}
for (const dir of temps) await rm(dir, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
