import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

const MAIN = resolve(import.meta.dirname, '../../../farm/src/cli/main.ts');

/** The matrix, status and logs commands refuse bad flags with exit 2 and say what they expected, before any work. */
describe('bad flags of matrix, status and logs', () => {
  const run = async (args: string[]) => {
    const home = await mkdtemp(join(tmpdir(), 'wheelfarm-flags-'));
    return execa('node', [MAIN, ...args], { env: { WHEELFARM_HOME: home }, reject: false });
  };

  it.each([
    [['matrix', 'plan', '--state', 'done'], /--state expects a comma-separated list of built, missing, stale, failed, excluded; got `done`/],
    [['matrix', 'plan', '--python', '3'], /--python expects a comma-separated list like `3\.11,3\.13`, got `3`/],
    [['status', '--limit', '0'], /--limit expects a whole number from 1 to 10000, got `0`/],
    [['status', '--state', 'ok'], /--state expects one of running, published, unchanged, failed, interrupted, abandoned, got `ok`/],
    [['logs', '424242'], /no build `424242` in the records/],
    [['logs', 'numpy-9.9-cp313-manylinux_2_31_x86_64'], /no build `numpy-9\.9-cp313-manylinux_2_31_x86_64` in the records/],
  ])('%j', async (args, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('schedule --once with an entry the settings do not have names the entries there are', async () => {
    const result = await run(['schedule', '--once', 'nightly']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/the settings have no schedule entry `nightly`/);
    expect(result.stderr).toMatch(/add `schedule:` entries to wheelfarm\.yaml/);
  });
});
