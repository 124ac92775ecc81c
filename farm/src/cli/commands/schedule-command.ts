import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import pc from 'picocolors';
import { UserInputError, WheelfarmError } from '../../errors.ts';
import type { RunOutcome, ScheduleEntry, ScheduleEvent } from '../../matrix/schedule.ts';
import { Schedule } from '../../matrix/schedule.ts';
import { EXIT } from '../exit-codes.ts';
import { countOutcomes, OUTCOMES } from '../render-run-summary.ts';
import type { CommandEnvironment } from '../run-command.ts';
import { buildMatrixOnce } from './matrix-command.ts';

/**
 * `wheelfarm schedule`: runs the settings' `schedule` entries until SIGINT/SIGTERM (a systemd
 * service), or one entry now with `--once NAME`. Every run is logged to `<home>/logs/schedule.log`
 * (JSON lines) besides the usual output.
 */
export async function runSchedule(env: CommandEnvironment, { once }: { once?: string }): Promise<number> {
  const { farm, settings, reporter } = env;
  const logFile = join(settings.home, 'logs', 'schedule.log');
  await mkdir(join(settings.home, 'logs'), { recursive: true });
  const onEvent = (event: ScheduleEvent): void => {
    void appendFile(logFile, `${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
    reporter.result(event, [describe(event)]);
  };
  const run = (entry: ScheduleEntry) => scheduledRun(env, entry);

  if (once !== undefined) {
    const entry = settings.schedule.find((e) => e.name === once);
    if (!entry) {
      throw new UserInputError('no-such-schedule', `the settings have no schedule entry \`${once}\``, {
        hint:
          settings.schedule.length > 0
            ? `entries: ${settings.schedule.map((e) => e.name).join(', ')}`
            : 'add `schedule:` entries to wheelfarm.yaml',
      });
    }
    // The entries are checked as the long-running schedule would (cron expressions, names): a bad
    // one is bad input for --once too, not a reason to run a matrix the schedule could never start.
    await new Schedule(settings.schedule, { run, onEvent: () => undefined }).stop();
    onEvent({ type: 'run-started', name: entry.name, run: entry.run });
    const started = performance.now();
    const result = await run(entry);
    onEvent({
      type: 'run-finished',
      name: entry.name,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      ...result,
      next: undefined,
    });
    return result.outcome === 'failed' ? EXIT.buildFailed : result.outcome === 'busy' ? EXIT.transient : EXIT.ok;
  }

  const schedule = new Schedule(settings.schedule, { run, onEvent });
  schedule.start();
  reporter.result({ type: 'schedule-running', log: logFile }, [pc.dim(`running the schedule until Ctrl-C or SIGTERM; log: ${logFile}`)]);
  await new Promise<void>((resolve) => farm.signal.addEventListener('abort', () => resolve(), { once: true }));
  await schedule.stop();
  reporter.result({ type: 'schedule-stopped' }, ['schedule stopped']);
  return EXIT.ok;
}

async function scheduledRun({ farm }: CommandEnvironment, entry: ScheduleEntry): Promise<RunOutcome> {
  try {
    const summary = await buildMatrixOnce(farm, [], { newReleases: entry.run === 'new-releases' });
    const counts = countOutcomes(summary.run.results);
    const built = OUTCOMES.filter((o) => counts[o] > 0)
      .map((o) => `${counts[o]} ${o}`)
      .join(', ');
    const lost = summary.run.lostHosts.length > 0 ? `; lost hosts: ${summary.run.lostHosts.map((h) => h.name).join(', ')}` : '';
    return {
      outcome: counts.failed > 0 ? 'failed' : 'done',
      detail: `${summary.planned.length} cell(s) planned, ${summary.chosen.length} to build${built ? `: ${built}` : ''}${lost}`,
    };
  } catch (error) {
    if (error instanceof WheelfarmError && error.code === 'matrix-busy') return { outcome: 'busy', detail: error.message };
    throw error;
  }
}

function describe(event: ScheduleEvent): string {
  switch (event.type) {
    case 'scheduled':
      return `schedule ${pc.bold(event.name)}: ${event.run} at \`${event.cron}\`, next ${event.next ?? 'never'}`;
    case 'run-started':
      return `${pc.cyan('▶')} ${event.name}: ${event.run} run started`;
    case 'run-skipped':
      return `${pc.yellow('•')} ${event.name}: skipped, ${event.reason}`;
    case 'run-finished': {
      const mark = event.outcome === 'done' ? pc.green('✓') : event.outcome === 'busy' ? pc.yellow('•') : pc.red('✗');
      return `${mark} ${event.name}: ${event.outcome} in ${event.seconds} s: ${event.detail}${event.next ? pc.dim(` (next ${event.next})`) : ''}`;
    }
  }
}
