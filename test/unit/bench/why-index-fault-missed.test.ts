// farm/bench/faults/why-index-fault-missed.ts: an index-down trial lands only when the proxy failed
// requests of the run's publish step, and a lasting fault is what stopped the run.
import { describe, expect, it } from 'vitest';
import type { FarmEventLine, FarmExit } from '../../../farm/bench/faults/farm-process.ts';
import { whyIndexFaultMissed } from '../../../farm/bench/faults/why-index-fault-missed.ts';
import type { SeenRequest } from '../../../test/support/fault-proxy.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const WHEEL = '/bucket/p/files/netfix/netfix-0.1.0-py3-none-any.whl';

const event = (ms: number, fields: Record<string, unknown> & { type: string }): FarmEventLine => ({
  ...fields,
  time: new Date(T0 + ms).toISOString(),
});
const publish = (ms: number, status: string) => event(ms, { type: 'step', step: 'publish', status });

/** A run that planned at 0, published from 1000 ms to `publishEnd` (done or failed) and exited `exitCode` with `error`. */
function runOf({
  publishEnd,
  exitCode,
  error,
}: {
  publishEnd?: [number, 'done' | 'failed'];
  exitCode: number;
  error?: { code: string; message: string };
}): FarmExit {
  const events = [event(0, { type: 'planned' }), publish(1000, 'started')];
  if (publishEnd) events.push(publish(...publishEnd));
  if (error) events.push(event(3000, { type: 'error', ...error }));
  return { exitCode, signal: undefined, events, stderr: '' };
}

/** A request the proxy saw `ms` after T0 on the wall clock, as the proxy records it (its performance clock). */
const request = (ms: number, action: SeenRequest['action'], path = WHEEL): SeenRequest => ({
  method: 'PUT',
  path,
  action,
  status: action === 'status' ? 503 : undefined,
  startedAt: T0 + ms - performance.timeOrigin,
  endedAt: undefined,
  clientGaveUp: false,
});

const REFUSED = { code: 's3-connection-failed', message: 'PUT s3://bucket/p/… failed: ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1' };

describe('whyIndexFaultMissed', () => {
  it('a transient fault landed when the proxy failed a request of the publish step', () => {
    const exit = runOf({ publishEnd: [1500, 'done'], exitCode: 0 });
    expect(whyIndexFaultMissed({ down: undefined, exit, seen: [request(1200, 'status')], wentDown: false })).toBeUndefined();
  });

  it('a transient fault that met no request, or only requests outside the publish step, missed', () => {
    const exit = runOf({ publishEnd: [1500, 'done'], exitCode: 0 });
    expect(whyIndexFaultMissed({ down: undefined, exit, seen: [request(1200, 'forwarded')], wentDown: false })).toBe(
      'aimed at the publish step: the proxy failed none of the requests it made',
    );
    expect(
      whyIndexFaultMissed({ down: undefined, exit, seen: [request(500, 'status'), request(1600, 'status')], wentDown: false }),
    ).toMatch(/failed none of the requests/);
    const neverPublished = { ...exit, events: exit.events.slice(0, 1) };
    expect(whyIndexFaultMissed({ down: undefined, exit: neverPublished, seen: [], wentDown: false })).toMatch(
      /which the run never started/,
    );
  });

  it('the endpoint down at a PUT landed when it went down during the publish and the publish failed for want of a connection', () => {
    const exit = runOf({ publishEnd: [2000, 'failed'], exitCode: 4, error: REFUSED });
    expect(whyIndexFaultMissed({ down: /\.whl$/, exit, seen: [request(1100, 'hang')], wentDown: true })).toBeUndefined();
    expect(whyIndexFaultMissed({ down: /\.whl$/, exit, seen: [request(1100, 'hang')], wentDown: false })).toMatch(/never went down/);
    const otherFailure = runOf({ publishEnd: [2000, 'failed'], exitCode: 4, error: { code: 's3-timeout', message: '…' } });
    expect(whyIndexFaultMissed({ down: /\.whl$/, exit: otherFailure, seen: [request(1100, 'hang')], wentDown: true })).toMatch(
      /the publish step did not fail for it: the run exited 4 \(s3-timeout\)$/,
    );
  });

  it('the endpoint down from the start landed when the run stopped for a refused connection, wherever it first asked', () => {
    const refused: FarmExit = { exitCode: 4, signal: undefined, events: [event(3000, { type: 'error', ...REFUSED })], stderr: '' };
    expect(whyIndexFaultMissed({ down: 'from the start', exit: refused, seen: [], wentDown: true })).toBeUndefined();
    const published = runOf({ publishEnd: [1500, 'done'], exitCode: 0 });
    expect(whyIndexFaultMissed({ down: 'from the start', exit: published, seen: [], wentDown: true })).toBe(
      "aimed at the run's first request to the index, down: the run exited 0, not refused a connection",
    );
  });
});
