// The scheduler's branches with fake effects (no Docker): slots and order, failover to another host,
// a host coming back, a cell whose engine goes away too often, every host gone, an interruption.
import { describe, expect, it } from 'vitest';
import { EnvironmentError, InterruptedError } from '../../../farm/src/errors.ts';
import { CellScheduler } from '../../../farm/src/matrix/cell-scheduler.ts';
import type { CellRunOutcome, SchedulerEffects } from '../../../farm/src/matrix/cell-scheduler.ts';
import type { FarmEvent } from '../../../farm/src/pipeline/events.ts';

interface Cell {
  buildId: string;
  expectedSeconds: number;
}

const cell = (buildId: string, expectedSeconds = 10): Cell => ({ buildId, expectedSeconds });
const done = (buildId: string): CellRunOutcome => ({ kind: 'done', result: { buildId, outcome: 'published', seconds: 1 } });
const lost = (reason = 'the engine stopped answering'): CellRunOutcome => ({ kind: 'engine-lost', reason });

/** A fake world: `run` decides each run's outcome; engines come back when `back` says so. */
function fakeEffects({
  run = (_host: string, c: Cell) => done(c.buildId),
  back = () => Promise.resolve({ seconds: 1 }),
}: {
  run?: (host: string, c: Cell, attempt: number) => CellRunOutcome | Promise<CellRunOutcome>;
  back?: (host: string, signal: AbortSignal) => Promise<{ seconds: number }>;
} = {}) {
  const events: FarmEvent[] = [];
  const started: string[] = [];
  const cleaned: { host: string; buildIds: string[] }[] = [];
  const attempts = new Map<string, number>();
  let running = 0;
  let mostRunning = 0;
  const effects: SchedulerEffects<Cell> = {
    async runCell(host, c) {
      const attempt = (attempts.get(c.buildId) ?? 0) + 1;
      attempts.set(c.buildId, attempt);
      started.push(`${c.buildId}@${host}`);
      running += 1;
      mostRunning = Math.max(mostRunning, running);
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
      return run(host, c, attempt);
    },
    waitForEngine: (host, signal) => back(host, signal),
    async hostBack(host, buildIds) {
      cleaned.push({ host, buildIds });
    },
    emit: (event) => events.push(event),
  };
  const kinds = () =>
    events.map((e) =>
      e.type === 'host' ? `${e.host} ${e.status}` : `${e.type} ${'buildId' in e ? e.buildId : ''}@${'host' in e ? e.host : ''}`,
    );
  return { effects, events, started, cleaned, kinds, mostRunning: () => mostRunning };
}

const signal = () => new AbortController().signal;

describe('CellScheduler', () => {
  it('runs the longest expected cells first, never more at once on a host than its slots', async () => {
    const world = fakeEffects();
    const scheduler = new CellScheduler([{ name: 'only', slots: 2 }], world.effects, { engineWaitSeconds: 60, signal: signal() });
    const result = await scheduler.run([cell('short', 5), cell('long', 500), cell('middle', 50)]);
    expect(world.started).toEqual(['long@only', 'middle@only', 'short@only']);
    expect(world.mostRunning()).toBe(2);
    expect(result.results.map((r) => `${r.buildId}@${r.host}`).sort()).toEqual(['long@only', 'middle@only', 'short@only']);
    expect(result.lostHosts).toEqual([]);
  });

  it('failover: a cell whose engine went away runs again on another host; the lost host stays out while it does not answer', async () => {
    const world = fakeEffects({
      run: (host, c) => (host === 'second' ? lost('second went away') : done(c.buildId)),
      back: (_host, aborted) => new Promise((_resolve, reject) => aborted.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    const scheduler = new CellScheduler(
      [
        { name: 'main', slots: 1 },
        { name: 'second', slots: 1 },
      ],
      world.effects,
      { engineWaitSeconds: 60, signal: signal() },
    );
    const result = await scheduler.run([cell('a', 20), cell('b', 10)]);
    expect(world.started).toEqual(['a@main', 'b@second', 'b@main']);
    expect(result.results.map((r) => `${r.buildId}@${r.host}:${r.outcome}`)).toEqual(['a@main:published', 'b@main:published']);
    expect(result.lostHosts).toEqual([{ name: 'second', reason: 'second went away' }]);
    expect(world.kinds()).toEqual(['second lost', 'retry b@main']);
    expect(world.events[0]).toMatchObject({ type: 'host', status: 'lost', waitSeconds: 60 });
  });

  it('a lost host that answers again is cleaned of what its lost cells left, then takes the cell again', async () => {
    const world = fakeEffects({ run: (_host, c, attempt) => (attempt === 1 ? lost() : done(c.buildId)) });
    const scheduler = new CellScheduler([{ name: 'local', slots: 1 }], world.effects, { engineWaitSeconds: 60, signal: signal() });
    const result = await scheduler.run([cell('a')]);
    expect(world.kinds()).toEqual(['local lost', 'local back', 'retry a@local']);
    expect(world.cleaned).toEqual([{ host: 'local', buildIds: ['a'] }]);
    expect(result).toMatchObject({ results: [{ buildId: 'a', outcome: 'published', host: 'local' }], lostHosts: [] });
  });

  it('engine lost repeatedly: after the third loss the cell fails with its own error, and the run goes on', async () => {
    const world = fakeEffects({ run: (_host, c) => (c.buildId === 'doomed' ? lost('gone again') : done(c.buildId)) });
    const scheduler = new CellScheduler([{ name: 'local', slots: 1 }], world.effects, { engineWaitSeconds: 60, signal: signal() });
    const result = await scheduler.run([cell('doomed', 100), cell('fine', 1)]);
    const failed = result.results.find((r) => r.buildId === 'doomed')!;
    expect(failed).toMatchObject({ outcome: 'failed', host: 'local' });
    expect(failed.error).toBeInstanceOf(EnvironmentError);
    expect(failed.error).toMatchObject({
      code: 'engine-lost-repeatedly',
      message: 'doomed: its Docker engine went away under it 3 times (last: gone again)',
    });
    expect(world.started.filter((s) => s.startsWith('doomed'))).toHaveLength(3);
    expect(result.results.find((r) => r.buildId === 'fine')).toMatchObject({ outcome: 'published' });
    expect(world.events.filter((e) => e.type === 'cell')).toEqual([
      expect.objectContaining({ buildId: 'doomed', outcome: 'failed', host: 'local' }),
    ]);
  });

  it("no hosts left: every host gone and none came back in time ends the run with the engine's own error", async () => {
    const gone = new EnvironmentError('engine-did-not-come-back', 'the Docker engine at X did not come back within 15 s', {
      hint: 'raise containers.engine-wait',
    });
    const world = fakeEffects({ run: () => lost(), back: () => Promise.reject(gone) });
    const scheduler = new CellScheduler([{ name: 'local', slots: 1 }], world.effects, { engineWaitSeconds: 15, signal: signal() });
    const error = await scheduler.run([cell('a'), cell('b')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error).toMatchObject({ code: 'engine-did-not-come-back', message: 'the Docker engine at X did not come back within 15 s' });
    expect((error as EnvironmentError).hint).toBe('raise containers.engine-wait; 2 cell(s) were not built');
  });

  it('no hosts left, several engines: one error naming every engine that did not come back', async () => {
    const world = fakeEffects({
      run: () => lost(),
      back: (host) => Promise.reject(new EnvironmentError('engine-did-not-come-back', `${host} did not come back`)),
    });
    const hosts = [
      { name: 'one', slots: 1 },
      { name: 'two', slots: 1 },
    ];
    const scheduler = new CellScheduler(hosts, world.effects, { engineWaitSeconds: 15, signal: signal() });
    const error = await scheduler.run([cell('a'), cell('b')]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'engine-did-not-come-back' });
    expect((error as Error).message).toMatch(
      /^every Docker host stopped answering and none came back: (one|two) did not come back; (one|two) did not come back; /,
    );
  });

  it('no hosts left before any engine was lost (none configured to take cells): `no-hosts-left`', async () => {
    const world = fakeEffects();
    const scheduler = new CellScheduler([], world.effects, { engineWaitSeconds: 15, signal: signal() });
    const error = await scheduler.run([cell('a')]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'no-hosts-left', message: 'every Docker host stopped answering; 1 cell(s) were not built' });
  });

  it('a wait for an engine that fails with something other than a WheelfarmError still names the engine not coming back', async () => {
    const world = fakeEffects({ run: () => lost(), back: () => Promise.reject(new Error('socket hang up')) });
    const scheduler = new CellScheduler([{ name: 'local', slots: 1 }], world.effects, { engineWaitSeconds: 15, signal: signal() });
    const error = await scheduler.run([cell('a')]).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'engine-did-not-come-back', message: 'socket hang up' });
  });

  it('an interruption ends the run once the running cells have ended, with InterruptedError', async () => {
    const controller = new AbortController();
    const world = fakeEffects({
      run: (_host, c) => {
        controller.abort(new InterruptedError('SIGINT'));
        return done(c.buildId);
      },
    });
    const scheduler = new CellScheduler([{ name: 'local', slots: 1 }], world.effects, { engineWaitSeconds: 60, signal: controller.signal });
    const error = await scheduler.run([cell('a'), cell('b')]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(world.started).toEqual(['a@local']);
  });

  it('an unexpected error of a run stops the run (no new cells) and is rethrown', async () => {
    const boom = new Error('boom');
    const world = fakeEffects({
      run: (_host, c) => {
        if (c.buildId === 'a') throw boom;
        return done(c.buildId);
      },
    });
    const scheduler = new CellScheduler([{ name: 'local', slots: 1 }], world.effects, { engineWaitSeconds: 60, signal: signal() });
    expect(await scheduler.run([cell('a', 9), cell('b', 1)]).catch((e: unknown) => e)).toBe(boom);
    expect(world.started).toEqual(['a@local']);
  });

  it('no cells: nothing runs', async () => {
    const world = fakeEffects();
    const scheduler = new CellScheduler([{ name: 'local', slots: 1 }], world.effects, { engineWaitSeconds: 60, signal: signal() });
    expect(await scheduler.run([])).toEqual({ results: [], lostHosts: [] });
    expect(world.started).toEqual([]);
  });
});
