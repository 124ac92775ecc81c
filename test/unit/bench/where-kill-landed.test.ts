// farm/bench/faults/where-kill-landed.ts: a kill trial lands only when the run died of the kill in
// the phase aimed at; a kill after the run's end, or in another phase, is a miss.
import { describe, expect, it } from 'vitest';
import type { IndexCheck } from '../../../farm/bench/faults/check-index.ts';
import type { FarmEventLine, FarmExit } from '../../../farm/bench/faults/farm-process.ts';
import { whereKillLanded } from '../../../farm/bench/faults/where-kill-landed.ts';
import type { KillAim } from '../../../farm/bench/faults/where-kill-landed.ts';

const CLEAN: IndexCheck = { problems: [], unlinked: [], tempFiles: [], unlistedWheels: [], served: [] };
const BUILD_ID = 'netfix-0.1.0-cp313-manylinux_2_31_x86_64';

/** The events of a run of one cell up to `last`: `planned`, then each step started and done in turn. */
function eventsUpTo(last: string): FarmEventLine[] {
  const all: (Record<string, unknown> & { type: string })[] = [{ type: 'planned', buildIds: [BUILD_ID] }];
  for (const step of ['requires', 'build', 'repair', 'test', 'publish']) {
    all.push({ type: 'step', buildId: BUILD_ID, step, status: 'started' }, { type: 'step', buildId: BUILD_ID, step, status: 'done' });
  }
  all.push({ type: 'cell', buildId: BUILD_ID, outcome: 'published' }, { type: 'summary' });
  const at = all.findIndex((e) => `${e.type}${e.step ? ` ${String(e.step)} ${String(e.status)}` : ''}` === last);
  if (at < 0) throw new Error(`test bug: no event ${last}`);
  return all.slice(0, at + 1).map((event) => ({ ...event, time: '2026-01-01T00:00:00.000Z' }));
}

const killedAfter = (last: string): FarmExit => ({ exitCode: undefined, signal: 'SIGKILL', events: eventsUpTo(last), stderr: '' });
const landing = (fault: KillAim, killed: FarmExit, crashed = CLEAN) => whereKillLanded({ fault, killed, crashed, project: 'netfix' });

describe('whereKillLanded', () => {
  it('a kill-build lands in the cell before publishing: its set-up, a step, or between two steps', () => {
    expect(landing('kill-build', killedAfter('planned'))).toEqual({ hit: 'before the first step', missed: undefined });
    expect(landing('kill-build', killedAfter('step build started'))).toEqual({ hit: 'build step', missed: undefined });
    expect(landing('kill-build', killedAfter('step test done'))).toEqual({ hit: 'after the test step', missed: undefined });
  });

  it('a kill-publish lands in the publish step, described by what the index held right after', () => {
    const stored = { ...CLEAN, unlistedWheels: ['files/netfix/netfix-0.1.0-py3-none-any.whl'] };
    expect(landing('kill-publish', killedAfter('step publish started'), stored)).toEqual({
      hit: 'publish: wheel stored, not listed',
      missed: undefined,
    });
  });

  it('a kill after the run had ended is a miss, whichever phase it aimed at', () => {
    const ended: FarmExit = { exitCode: 0, signal: undefined, events: eventsUpTo('summary'), stderr: '' };
    for (const fault of ['kill-build', 'kill-publish'] as const) {
      expect(landing(fault, ended).missed).toMatch(/, the kill landed after the end \(exit 0\)$/);
    }
  });

  it('a kill in another phase than the one aimed at is a miss', () => {
    expect(landing('kill-build', killedAfter('step publish started')).missed).toBe(
      'aimed at the cell before its publish step, the kill landed publish: nothing written yet',
    );
    expect(landing('kill-publish', killedAfter('step test started')).missed).toBe('aimed at the publish step, the kill landed test step');
    expect(landing('kill-publish', killedAfter('step publish done')).missed).toBe(
      'aimed at the publish step, the kill landed publish: done, before the record',
    );
    expect(landing('kill-publish', killedAfter('cell')).missed).toMatch(/after the cell ended, before the exit$/);
    expect(landing('kill-build', { ...killedAfter('planned'), events: [] }).missed).toMatch(/before the cell was planned$/);
  });

  it('a run whose step failed on its own before the kill is a miss', () => {
    const events = [
      ...eventsUpTo('step build started'),
      { time: '2026-01-01T00:00:01.000Z', type: 'step', step: 'build', status: 'failed' },
    ];
    expect(landing('kill-build', { ...killedAfter('planned'), events }).missed).toMatch(/landed after the build step failed$/);
  });
});
