// farm/src/matrix/schedule.ts: the settings' schedule entries are checked before any job starts.
import { describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { Schedule } from '../../../farm/src/matrix/schedule.ts';
import type { ScheduleEntry } from '../../../farm/src/matrix/schedule.ts';

function refusal(entries: ScheduleEntry[]): UserInputError {
  let schedule: Schedule | undefined;
  try {
    schedule = new Schedule(entries, { run: async () => ({ outcome: 'done', detail: '' }), onEvent: () => {} });
  } catch (error) {
    expect(error).toBeInstanceOf(UserInputError);
    return error as UserInputError;
  }
  void schedule.stop();
  throw new Error('the schedule should have been refused');
}

describe('Schedule refuses bad entries', () => {
  it('a cron expression croner cannot read, naming the entry and the fields it expects', () => {
    const error = refusal([
      { name: 'good', cron: '0 2 * * *', run: 'matrix' },
      { name: 'broken', cron: 'every night', run: 'matrix' },
    ]);
    expect(error.code).toBe('bad-schedule');
    expect(error.message).toMatch(/^`schedule\[1\]\.cron` \(broken\): `every night` is not a cron expression: \S/);
    expect(error.hint).toBe(
      'five fields (minute hour day month weekday), e.g. `0 2 * * *` for 02:00 every night; a sixth, leading field is seconds',
    );
  });

  it('two entries with one name', () => {
    const error = refusal([
      { name: 'twice', cron: '0 2 * * *', run: 'matrix' },
      { name: 'twice', cron: '0 3 * * *', run: 'new-releases' },
    ]);
    expect(error).toMatchObject({
      code: 'bad-schedule',
      message: 'two schedule entries are named `twice`',
      hint: 'give each entry its own name',
    });
  });

  it('a refused schedule leaves no job behind: the same entries, fixed, make a schedule (croner keeps job names)', async () => {
    refusal([
      { name: 'again', cron: '0 2 * * *', run: 'matrix' },
      { name: 'again-broken', cron: 'every night', run: 'matrix' },
    ]);
    const fixed = new Schedule(
      [
        { name: 'again', cron: '0 2 * * *', run: 'matrix' },
        { name: 'again-broken', cron: '0 3 * * *', run: 'matrix' },
      ],
      { run: async () => ({ outcome: 'done', detail: '' }), onEvent: () => {} },
    );
    await fixed.stop();
  });

  it('no entries at all', () => {
    expect(refusal([])).toMatchObject({ code: 'no-schedule', message: 'the settings have no `schedule` entries' });
  });
});
