// Did an index-down fault (index-down-trial.ts) meet the run where it was aimed? Read from the
// requests the fault proxy saw (its times are this process's performance clock) and the events of
// the run (their times are the wall clock, in whole milliseconds): a fault that met no request of
// the publish, or a lasting one that was not what stopped the run, missed.
import type { SeenRequest } from '../../../test/support/fault-proxy.ts';
import { stepEvent } from './farm-process.ts';
import type { FarmEventLine, FarmExit } from './farm-process.ts';
import { describeExit, failureOf } from './fault-trials.ts';

/**
 * Why the fault missed the run that ended as `exit`, if it did. Aimed at the publish step: the proxy
 * must have failed (an error answer, a hang) requests that started while the run published (by the
 * run's own event times), and a lasting fault must be what stopped it: the endpoint went down while
 * the run was publishing, and its publish step failed for want of a connection. Down from the start,
 * aimed at the run's first request to the index wherever it is: the run must have stopped for a
 * refused connection.
 */
export function whyIndexFaultMissed({
  down,
  exit,
  seen,
  wentDown,
}: {
  /** The variant's lasting fault (index-down-trial.ts): none, `from the start`, or down once a PUT of this path is held. */
  down: 'from the start' | RegExp | undefined;
  exit: FarmExit;
  /** The requests the proxy saw while the run ran. */
  seen: SeenRequest[];
  /** Whether the endpoint went down while the run still ran. */
  wentDown: boolean;
}): string | undefined {
  const failure = failureOf(exit);
  const refused = failure?.code === 's3-connection-failed';
  if (down === 'from the start') {
    return refused ? undefined : `aimed at the run's first request to the index, down: ${describeExit(exit)}, not refused a connection`;
  }
  const started = eventTime(exit, stepEvent('publish', 'started'));
  if (started === undefined) return `aimed at the publish step, which the run never started (${describeExit(exit)})`;
  const ended = eventTime(exit, (e) => e.type === 'step' && e.step === 'publish' && e.status !== 'started') ?? Infinity;
  // Clock slack: event times are whole milliseconds, the proxy's are this process's.
  const during = (request: SeenRequest) =>
    request.action !== 'forwarded' && within(performance.timeOrigin + request.startedAt, started - 2, ended + 2);
  if (!seen.some(during)) return 'aimed at the publish step: the proxy failed none of the requests it made';
  if (down === undefined) return undefined;
  if (!wentDown) return 'aimed at the publish step: the endpoint never went down, the run ended first';
  if (exit.events.some(stepEvent('publish', 'failed')) && refused) return undefined;
  return `the endpoint went down while the run published, and the publish step did not fail for it: ${describeExit(exit)}`;
}

/** The time of the first event of `exit` that `matches`, in milliseconds since the epoch. */
function eventTime(exit: FarmExit, matches: (event: FarmEventLine) => boolean): number | undefined {
  const event = exit.events.find(matches);
  return event ? Date.parse(event.time) : undefined;
}

function within(time: number, from: number, to: number): boolean {
  return time >= from && time <= to;
}
