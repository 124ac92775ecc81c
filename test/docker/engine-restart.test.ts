import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findLeftovers } from '../../farm/bench/faults/check-leftovers.ts';
import { prepareNetfixFarm, runEngineRestartTrial } from '../../farm/bench/faults/fault-trials.ts';
import type { NetfixFarm } from '../../farm/bench/faults/fault-trials.ts';
import { FarmProcess, stepEvent } from '../../farm/bench/faults/farm-process.ts';
import { SecondEngine } from '../../farm/bench/faults/second-engine.ts';
import { makeTempDir, publishedWheels, runWheelfarm } from './helpers.ts';

/**
 * A cell survives its Docker engine restarting (dockerd killed and started again: the cell's
 * containers die, the API refuses for a while): once the engine answers again the cell runs again
 * from the start, in fresh containers, for `wheelfarm build` and for `matrix build` with that
 * engine as its one host. Never the main engine: a second one (scripts/start-second-engine.sh)
 * with a state dir, bridge and subnet of its own, kept between runs so the images are copied once.
 */
const ENGINE = { dir: join(tmpdir(), 'wheelfarm-engine-restart-test'), bridge: 'wfrestart', address: '172.31.252.1/24' };
const BUILD_SECONDS = 20;

let engine: SecondEngine;

beforeAll(async () => {
  engine = await SecondEngine.start(ENGINE);
}, 20 * 60_000);

afterAll(async () => {
  await engine?.stop();
}, 120_000);

async function netfixFarm(name: string): Promise<NetfixFarm> {
  return prepareNetfixFarm({ dir: await makeTempDir(name), sleepSeconds: BUILD_SECONDS, runtime: engine.runtime, dockerHost: engine.url });
}

async function records(farm: NetfixFarm): Promise<{ state: string; error?: string }[]> {
  const status = await runWheelfarm(['status', '--json'], { env: farm.env });
  return (status.events.find((e) => e.type === 'status') as unknown as { records: { state: string; error?: string }[] }).records;
}

describe('a cell whose engine restarts in the middle of its build step', () => {
  it('wheelfarm build: the cell runs again once the engine is back; one wheel, one failed and one published record, nothing left', async () => {
    const farm = await netfixFarm('engine-restart-build');
    const index = join(farm.dir, 'index');
    const trial = await runEngineRestartTrial(farm, { engine, mode: 'build', index, delayMs: 3_000 });
    expect(trial.missed, trial.hit).toBeUndefined();
    expect(trial.corrupt).toEqual([]);
    expect(trial.orphans).toEqual([]);
    expect(trial.exit.exitCode, trial.exit.stderr).toBe(0);

    const kinds = trial.exit.events
      .map((e) => (e.type === 'host' ? `host ${String(e.status)}` : e.type))
      .filter((k) => k !== 'step' && k !== 'image');
    expect(kinds).toEqual(['resolved', 'fetched', 'planned', 'host lost', 'host back', 'retry', 'cell', 'summary']);
    const lost = trial.exit.events.find((e) => e.type === 'host')!;
    expect(lost.reason).toContain(`the Docker engine at ${engine.url}`);
    expect(trial.exit.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'published' });
    expect(await publishedWheels(index, 'netfix')).toEqual(['netfix-0.1.0-py3-none-any.whl']);

    const [published, failed] = await records(farm);
    expect(published).toMatchObject({ state: 'published' });
    expect(failed).toMatchObject({ state: 'failed', error: expect.stringContaining(`the Docker engine at ${engine.url}`) });
    expect(await findLeftovers({ runtime: engine.runtime, pids: 'all' })).toEqual({ containers: [], volumes: [] });
  });

  it('matrix build with that engine as its one host: the host comes back into the run and builds the cell', async () => {
    const farm = await netfixFarm('engine-restart-matrix');
    const trial = await runEngineRestartTrial(farm, { engine, mode: 'matrix', index: join(farm.dir, 'index'), delayMs: 3_000 });
    expect(trial.missed, trial.hit).toBeUndefined();
    expect(trial.corrupt).toEqual([]);
    expect(trial.orphans).toEqual([]);
    expect(trial.exit.exitCode, trial.exit.stderr).toBe(0);
    const summary = trial.exit.events.find((e) => e.type === 'summary')!;
    expect(summary).toMatchObject({ counts: { published: 1, failed: 0 }, lostHosts: [] });
    const hostEvents = trial.exit.events.filter((e) => e.type === 'host').map((e) => `${String(e.host)} ${String(e.status)}`);
    expect(hostEvents).toEqual(['engine-2 lost', 'engine-2 back']);
    expect(trial.exit.events.find((e) => e.type === 'retry')).toMatchObject({ host: 'engine-2' });
  });

  it('an engine that does not come back within containers.engine-wait: exit 3 naming the engine; the next run removes what was left and builds', async () => {
    const farm = await netfixFarm('engine-gone');
    const index = join(farm.dir, 'index');
    const settings = join(farm.dir, 'wheelfarm.yaml');
    await writeFile(settings, 'containers:\n  engine-wait: 15s\n');
    const run = new FarmProcess(farm.buildArgs(index), { env: { ...farm.env, WHEELFARM_CONFIG: settings } });
    await run.event(stepEvent('build', 'started'));
    await sleep(2_000);
    await engine.crash();
    const exit = await run.done;
    await engine.revive();
    expect(exit.exitCode, exit.stderr).toBe(3);
    expect(exit.events.at(-1)).toMatchObject({
      type: 'error',
      code: 'engine-did-not-come-back',
      message: `the Docker engine at ${engine.url} did not come back within 15 s`,
      hint: expect.stringContaining('containers.engine-wait'),
    });
    expect((await records(farm)).map((r) => r.state)).toEqual(['failed']);

    // What the cell left on the engine belongs to a dead process now: the next run sweeps it.
    expect((await findLeftovers({ runtime: engine.runtime, pids: [run.pid] })).containers.length).toBeGreaterThan(0);
    const next = await new FarmProcess(farm.buildArgs(index), { env: { ...farm.env, WHEELFARM_CONFIG: settings } }).done;
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.events.find((e) => e.type === 'swept')).toMatchObject({ containers: expect.any(Number), volumes: 1 });
    expect(await publishedWheels(index, 'netfix')).toEqual(['netfix-0.1.0-py3-none-any.whl']);
    expect(await findLeftovers({ runtime: engine.runtime, pids: 'all' })).toEqual({ containers: [], volumes: [] });
  });
});
