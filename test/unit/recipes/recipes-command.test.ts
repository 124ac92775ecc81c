import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runRecipesLint, runRecipesShow } from '../../../farm/src/cli/commands/recipes-command.ts';
import type { Reporter } from '../../../farm/src/cli/reporter.ts';
import type { CommandEnvironment } from '../../../farm/src/cli/run-command.ts';
import { EXIT } from '../../../farm/src/cli/exit-codes.ts';
import { displayPath } from '../../../farm/src/recipes/display-path.ts';
import { rejection, useRecipesDir, writeIn } from './helpers.ts';

const dir = useRecipesDir();

/** A command environment whose reporter keeps what it was given; lint and show need no context. */
function environment() {
  const results: { payload: { type: string; [key: string]: unknown }; text: string[] }[] = [];
  const reporter: Reporter = { event: () => {}, result: (payload, text) => results.push({ payload, text }) };
  const env = { settings: { recipesDir: dir() }, reporter, context: undefined } as unknown as CommandEnvironment;
  const text = () =>
    results
      .flatMap((r) => r.text)
      .join('\n')
      // biome-ignore lint/suspicious/noControlCharactersInRegex: strips colour codes
      .replace(/\x1b\[[0-9;]*m/g, '');
  return { env, results, text };
}

describe('recipes lint', () => {
  it('passes a folder of valid recipes', async () => {
    await writeIn(dir(), 'numpy.yaml', 'python: ">=3.11"\n');
    await writeIn(dir(), 'scipy.yaml', '{}\n');
    const { env, results, text } = environment();
    expect(await runRecipesLint(env, [])).toBe(EXIT.ok);
    expect(results).toHaveLength(1);
    expect(results[0]!.payload).toEqual({
      type: 'recipes-lint',
      ok: true,
      results: [
        { name: 'numpy', file: join(dir(), 'numpy.yaml'), ok: true },
        { name: 'scipy', file: join(dir(), 'scipy.yaml'), ok: true },
      ],
    });
    expect(text()).toContain(`ok   ${displayPath(join(dir(), 'numpy.yaml'))}`);
    expect(text()).toContain(`ok   ${displayPath(join(dir(), 'scipy.yaml'))}`);
  });

  it('reports every bad recipe with its error lines and fails with the usage exit code', async () => {
    await writeIn(dir(), 'numpy.yaml', 'python: ">=3.11"\n');
    await writeIn(dir(), 'x.yaml', 'python: "=>3.11"\n');
    await writeIn(dir(), 'PyYAML.yaml', '{}\n');
    const { env, results, text } = environment();
    expect(await runRecipesLint(env, [])).toBe(EXIT.usage);
    const payload = results[0]!.payload as unknown as {
      ok: boolean;
      results: { name: string; ok: boolean; error?: { code: string; message: string } }[];
    };
    expect(payload.ok).toBe(false);
    expect(payload.results.map((r) => [r.name, r.ok, r.error?.code])).toEqual([
      ['pyyaml', false, 'misnamed-recipe'],
      ['numpy', true, undefined],
      ['x', false, 'bad-recipe'],
    ]);
    const x = displayPath(join(dir(), 'x.yaml'));
    expect(text()).toContain(`FAIL ${x}\n     invalid recipe:\n       ${x}:1: \`python\`: \`=>3.11\` is not a PEP 440 specifier`);
    expect(text()).toContain(`rename ${displayPath(join(dir(), 'PyYAML.yaml'))} to ${displayPath(join(dir(), 'pyyaml.yaml'))}`);
    expect(text()).toContain('1 ok, 2 failed');
  });

  it('checks only the named packages; one without a recipe is fine', async () => {
    await writeIn(dir(), 'numpy.yaml', '{}\n');
    await writeIn(dir(), 'broken.yaml', 'nope: 1\n');
    const { env, results, text } = environment();
    expect(await runRecipesLint(env, ['NumPy', 'markupsafe', 'numpy'])).toBe(EXIT.ok);
    expect(results[0]!.payload).toEqual({
      type: 'recipes-lint',
      ok: true,
      results: [
        { name: 'numpy', file: join(dir(), 'numpy.yaml'), ok: true },
        { name: 'markupsafe', file: null, ok: true, note: 'no recipe: builds with defaults' },
      ],
    });
    expect(text()).toContain('markupsafe: no recipe: builds with defaults');
    expect(text()).not.toContain('broken');
  });

  it('fails for a named package whose recipe is bad', async () => {
    await writeIn(dir(), 'broken.yaml', 'nope: 1\n');
    const { env } = environment();
    expect(await runRecipesLint(env, ['broken'])).toBe(EXIT.usage);
  });

  it('says so when there are no recipes at all', async () => {
    const { env, text } = environment();
    expect(await runRecipesLint(env, [])).toBe(EXIT.ok);
    expect(text()).toContain('no recipes in');
  });

  it('refuses a name that is no project name', async () => {
    const { env } = environment();
    expect((await rejection(runRecipesLint(env, ['not a name']))).code).toBe('bad-package-name');
  });
});

describe('recipes show', () => {
  it('prints the effective recipe of a file as YAML, noting where it came from', async () => {
    await writeIn(dir(), 'numpy.yaml', 'build:\n  config-settings:\n    setup-args: -Dblas=openblas\npython: ">=3.11"\n');
    const { env, results } = environment();
    expect(await runRecipesShow(env, 'NumPy')).toBe(EXIT.ok);
    const { payload, text } = results[0]!;
    expect(text[0]).toMatch(/^# .*numpy\.yaml, with defaults/);
    const yaml = text.join('\n');
    expect(yaml).toContain('\nname: numpy\n');
    expect(yaml).toContain('\n  configSettings:\n    setup-args:\n      - -Dblas=openblas\n');
    expect(yaml).toContain('\n  before: null\n');
    expect(yaml).toContain('\npython: ">=3.11"\nversions: null');
    expect(payload.type).toBe('recipe');
    expect(payload.recipe).toMatchObject({
      name: 'numpy',
      file: join(dir(), 'numpy.yaml'),
      source: { kind: 'index' },
      build: { configSettings: { 'setup-args': ['-Dblas=openblas'] }, before: null },
      test: { imports: null, requires: [] },
      python: '>=3.11',
      versions: null,
    });
  });

  it('prints multi-line scripts as literal blocks, unfolded', async () => {
    const long = `echo ${'x'.repeat(120)}`;
    await writeIn(dir(), 'demo.yaml', `build:\n  before: |\n    echo a\n    ${long}\n`);
    const { env, results } = environment();
    await runRecipesShow(env, 'demo');
    expect(results[0]!.text.join('\n')).toContain(`  before: |\n    echo a\n    ${long}\n`);
  });

  it('prints the defaults for a package without a recipe', async () => {
    const { env, results } = environment();
    expect(await runRecipesShow(env, 'markupsafe')).toBe(EXIT.ok);
    expect(results[0]!.text[0]).toMatch(/^# markupsafe has no recipe in .*: these are the defaults/);
    expect(results[0]!.payload.recipe).toMatchObject({ name: 'markupsafe', file: null, source: { kind: 'index' } });
  });

  it('throws the recipe error for a bad recipe', async () => {
    await writeIn(dir(), 'numpy.yaml', 'nope: 1\n');
    const { env } = environment();
    expect((await rejection(runRecipesShow(env, 'numpy'))).code).toBe('bad-recipe');
  });
});
