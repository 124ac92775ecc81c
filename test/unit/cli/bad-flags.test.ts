import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runBuildCommand } from '../../../farm/src/cli/commands/build-command.ts';
import type { CommandEnvironment } from '../../../farm/src/cli/run-command.ts';
import { UserInputError } from '../../../farm/src/errors.ts';

const MAIN = resolve(import.meta.dirname, '../../../farm/src/cli/main.ts');

/** Runs the CLI with a fresh farm home; never reaches a Docker engine. */
async function run(args: string[]) {
  const home = await mkdtemp(join(tmpdir(), 'wheelfarm-flags-'));
  return execa('node', [MAIN, ...args], { env: { WHEELFARM_HOME: home }, reject: false });
}

/** The matrix, status and logs commands refuse bad flags with exit 2 and say what they expected, before any work. */
describe('bad flags of matrix, status and logs', () => {
  it.each([
    [
      ['matrix', 'plan', '--state', 'done'],
      /--state expects a comma-separated list of built, missing, stale, failed, excluded; got `done`/,
    ],
    [['matrix', 'plan', '--python', '3'], /--python expects a comma-separated list like `3\.11,3\.13`, got `3`/],
    [['status', '--limit', '0'], /--limit expects a whole number from 1 to 10000, got `0`/],
    [['status', '--state', 'ok'], /--state expects one of running, published, unchanged, failed, interrupted, abandoned, got `ok`/],
    [['logs', '424242'], /no build `424242` in the records/],
    [['logs', 'numpy-9.9-cp313-manylinux_2_31_x86_64'], /no build `numpy-9\.9-cp313-manylinux_2_31_x86_64` in the records/],
  ])('%j is refused with exit 2, saying what was expected', async (args, message) => {
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

/** Arguments any command refuses with exit 2, before it loads anything or reaches for an engine. */
describe('bad arguments of any command', () => {
  it.each([
    ['an unknown option', ['build', 'markupsafe', '--frobnicate'], "error: unknown option '--frobnicate'"],
    ['a missing argument', ['recipes', 'show'], "error: missing required argument 'name'"],
    ['an unknown command', ['biuld', 'markupsafe'], "error: unknown command 'biuld'\n(Did you mean build?)"],
  ])('%s: the parser says which, and points at --help', async (_kind, args, message) => {
    const result = await run(args);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`${message}\n(run with --help for usage)`);
  });

  it('build with neither a package nor -r/--lock asks for one of them', async () => {
    const result = await run(['build']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('error: name a package, or give requirement (-r) or lock (--lock) files, not both');
  });

  it('index yank without a version asks for one', async () => {
    const result = await run(['index', 'yank', 'markupsafe']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      'error: yank needs an exact version: `markupsafe==VERSION`\nhint: e.g. `wheelfarm index yank markupsafe==1.2.3`',
    );
  });

  it('index yank on an index server that keeps its own pages is refused, without its password', async () => {
    const result = await run(['index', 'yank', 'markupsafe==3.0.3', '--index', 'pypiserver+http://u:secret@127.0.0.1:9/']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(
      /^error: wheelfarm does not write the pages of the pypiserver at http:\/\/127\.0\.0\.1:9\/ \(.*\): it serves its own\n/,
    );
    expect(result.stderr).not.toContain('secret');
  });

  it('serve --host that is no address or host name', async () => {
    const result = await run(['serve', '--host', 'a b']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^error: --host must be an address or host name, got `a b`\nhint: /);
  });

  it('a bad settings file stops every command with exit 2, naming file, line and field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wheelfarm-flags-'));
    const config = join(dir, 'farm.yaml');
    await writeFile(config, 'jobs: 2\nworkers: 4\n');
    const result = await run(['--config', config, 'recipes', 'lint']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(
      `error: invalid settings file:\n  ${config}:2: \`(top level)\`: Unrecognized key: "workers"\nhint: fix the field(s) named above in ${config}`,
    );
  });
});

/** build refuses its own bad flags before it resolves anything (the CLI pings the engine first, so these call the command). */
describe('bad flags of build', () => {
  const env = { settings: { jobs: 2 }, context: undefined, reporter: undefined } as unknown as CommandEnvironment;
  const refusal = (spec: string, options: { python?: string; jobs?: string }) =>
    runBuildCommand(env, spec, options).then(
      () => expect.unreachable('the build should have been refused'),
      (error: unknown) => error as UserInputError,
    );

  it('--jobs outside 1 to 64', async () => {
    const error = await refusal('markupsafe', { jobs: '0' });
    expect(error).toBeInstanceOf(UserInputError);
    expect(error).toMatchObject({ code: 'bad-jobs-option', message: '--jobs expects a whole number from 1 to 64, got `0`' });
  });

  it('--python that is no list of CPython versions', async () => {
    const error = await refusal('markupsafe', { python: '2.7.x' });
    expect(error).toMatchObject({
      code: 'bad-python-option',
      message: '--python expects a comma-separated list like `3.11,3.13`, got `2.7.x`',
    });
  });
});
