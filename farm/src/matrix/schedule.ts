import { Cron } from 'croner';
import { UserInputError } from '../errors.ts';

export interface ScheduleEntry {
  name: string;
  cron: string;
  run: 'matrix' | 'new-releases';
  timezone?: string | undefined;
}

export type ScheduleEvent =
  | { type: 'scheduled'; name: string; cron: string; run: ScheduleEntry['run']; next: string | undefined }
  | { type: 'run-started'; name: string; run: ScheduleEntry['run'] }
  | { type: 'run-finished'; name: string; seconds: number; outcome: 'done' | 'failed' | 'busy'; detail: string; next: string | undefined }
  | { type: 'run-skipped'; name: string; reason: string };

/** What one scheduled run did: `busy` when another matrix build held the lock. */
export interface RunOutcome {
  outcome: 'done' | 'failed' | 'busy';
  detail: string;
}

/**
 * The long-lived side of `wheelfarm schedule`: one croner job per entry. A job never overlaps
 * itself (croner's `protect`), and different entries never run two matrix builds at once because
 * `run` takes the records' matrix lock (shared by every farm process, freed when a holder dies).
 */
export class Schedule {
  readonly #jobs: Cron[] = [];
  readonly #running = new Set<Promise<void>>();

  constructor(
    entries: ScheduleEntry[],
    {
      run,
      onEvent,
      now = () => new Date(),
    }: { run: (entry: ScheduleEntry) => Promise<RunOutcome>; onEvent: (event: ScheduleEvent) => void; now?: () => Date },
  ) {
    if (entries.length === 0) {
      throw new UserInputError('no-schedule', 'the settings have no `schedule` entries', {
        hint: 'add e.g. `schedule: [{ name: nightly, cron: "0 2 * * *", run: matrix }]` to wheelfarm.yaml',
      });
    }
    const names = new Set<string>();
    entries.forEach((entry, index) => {
      if (names.has(entry.name)) {
        for (const made of this.#jobs) made.stop();
        throw new UserInputError('bad-schedule', `two schedule entries are named \`${entry.name}\``, {
          hint: 'give each entry its own name',
        });
      }
      names.add(entry.name);
      let job: Cron;
      try {
        job = new Cron(
          entry.cron,
          {
            name: `wheelfarm-${entry.name}`,
            paused: true,
            protect: () => onEvent({ type: 'run-skipped', name: entry.name, reason: 'its previous run is still going' }),
            ...(entry.timezone ? { timezone: entry.timezone } : {}),
          },
          () => this.#fire(job, entry, run, onEvent, now),
        );
      } catch (error) {
        // croner keeps job names for the whole process: the jobs made so far must go with this schedule.
        for (const made of this.#jobs) made.stop();
        throw new UserInputError(
          'bad-schedule',
          `\`schedule[${index}].cron\` (${entry.name}): \`${entry.cron}\` is not a cron expression: ${(error as Error).message}`,
          {
            hint: 'five fields (minute hour day month weekday), e.g. `0 2 * * *` for 02:00 every night; a sixth, leading field is seconds',
          },
        );
      }
      this.#jobs.push(job);
      onEvent({ type: 'scheduled', name: entry.name, cron: entry.cron, run: entry.run, next: job.nextRun()?.toISOString() });
    });
  }

  start(): void {
    for (const job of this.#jobs) job.resume();
  }

  /** Stops every job; resolves once runs in progress have ended (the caller aborts them first if it must). */
  async stop(): Promise<void> {
    for (const job of this.#jobs) job.stop();
    await Promise.allSettled([...this.#running]);
  }

  #fire(
    job: Cron,
    entry: ScheduleEntry,
    run: (entry: ScheduleEntry) => Promise<RunOutcome>,
    onEvent: (event: ScheduleEvent) => void,
    now: () => Date,
  ): Promise<void> {
    const started = now().getTime();
    onEvent({ type: 'run-started', name: entry.name, run: entry.run });
    const done = run(entry)
      .catch((error: unknown): RunOutcome => ({ outcome: 'failed', detail: (error as Error).message }))
      .then((result) => {
        onEvent({
          type: 'run-finished',
          name: entry.name,
          seconds: Math.round((now().getTime() - started) / 100) / 10,
          ...result,
          next: job.nextRun()?.toISOString(),
        });
      });
    this.#running.add(done);
    void done.finally(() => this.#running.delete(done));
    return done;
  }
}
