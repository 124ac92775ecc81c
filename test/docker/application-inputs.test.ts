import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, installWithPipAndUv, makeTempDir, runWheelfarm, startServe, wheelfarmContainers } from './helpers.ts';

// `build -r` and `build --lock` with the real resolver (pip, in the build image, per target Python),
// the real upstream, and a real index: what goes in, and what bad input gets.

const LOCKS = join(REPO_ROOT, 'test', 'fixtures', 'applications', 'locks');

async function requirements(lines: string[]): Promise<string> {
  const dir = await makeTempDir('app');
  const path = join(dir, 'requirements.txt');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

function errorOf(run: Awaited<ReturnType<typeof runWheelfarm>>) {
  return run.events.find((e) => e.type === 'error') as { code: string; message: string; hint?: string } | undefined;
}

/** Nothing of a refused application reached the index: no project folder at all. */
async function indexIsEmpty(index: string): Promise<boolean> {
  const entries = await readdir(join(index, 'files')).catch(() => []);
  return entries.length === 0;
}

describe('build --lock: a lock is verified and taken as locked, not re-resolved', () => {
  it("mirrors the lock's pure wheel byte for byte, builds the native one, and leaves out what its markers exclude", async () => {
    const index = await makeTempDir('index');
    const run = await runWheelfarm([
      'build',
      '--lock',
      join(LOCKS, 'six-markupsafe.pylock.toml'),
      '--python',
      '3.13',
      '--index',
      index,
      '--json',
    ]);
    expect(run.exitCode, run.stderr).toBe(0);
    const summary = run.events.find((e) => e.type === 'summary') as any;
    const dists = summary.closure.applications[0].dists as { name: string; kind: string; file: string }[];
    expect(dists.map((d) => [d.name, d.kind, d.file])).toEqual([
      ['markupsafe', 'build', 'markupsafe-3.0.3.tar.gz'],
      ['six', 'mirror', 'six-1.17.0-py2.py3-none-any.whl'],
    ]);
    // tomli's marker (python_version < "3.11") is false for 3.13: not in the closure.
    const six = await readFile(join(index, 'files', 'six', 'six-1.17.0-py2.py3-none-any.whl'));
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(six).digest('hex')).toBe('4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274');
    expect(await readdir(join(index, 'files', 'markupsafe'))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^markupsafe-3\.0\.3-cp313-cp313-.*manylinux_2_31_x86_64\.whl$/)]),
    );
    expect(await readFile(join(index, 'files', 'six', 'six-1.17.0-py2.py3-none-any.whl.metadata'), 'utf8')).toMatch(/^Metadata-Version: /);
  });

  it('a lock with no entry for a target Python: exit 2, names the lock and the Python, nothing published', async () => {
    const index = await makeTempDir('index');
    const run = await runWheelfarm([
      'build',
      '--lock',
      join(LOCKS, 'future-python.pylock.toml'),
      '--python',
      '3.13',
      '--index',
      index,
      '--json',
    ]);
    expect(run.exitCode).toBe(2);
    const error = errorOf(run)!;
    expect(error.code).toBe('lock-not-for-python');
    expect(error.message).toMatch(/future-python\.pylock\.toml has no entry for Python 3\.13: its requires-python is >=3\.14/);
    expect(await indexIsEmpty(index)).toBe(true);
  });

  it("a lock whose hash the upstream's file does not have: exit 5, names the file and the lock's line, nothing published", async () => {
    const index = await makeTempDir('index');
    const run = await runWheelfarm([
      'build',
      '--lock',
      join(LOCKS, 'tampered.pylock.toml'),
      '--python',
      '3.13',
      '--index',
      index,
      '--json',
    ]);
    expect(run.exitCode).toBe(5);
    const error = errorOf(run)!;
    expect(error.code).toBe('hash-mismatch');
    expect(error.message).toMatch(/six-1\.17\.0-py2\.py3-none-any\.whl .* the lock \(line 5\) does not allow/);
    expect(await indexIsEmpty(index)).toBe(true);
  });
});

describe('build -r: bad requirements get a named error before anything is published', () => {
  it('a requirement the upstream does not have (a private name): exit 2, names its line, says publish or drop it', async () => {
    const index = await makeTempDir('index');
    const file = await requirements(['six==1.17.0', 'wheelfarm-private-pkg-xq7>=1.0']);
    const run = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', index, '--json']);
    expect(run.exitCode).toBe(2);
    const error = errorOf(run)!;
    expect(error.code).toBe('requirement-not-found');
    expect(error.message).toContain('requirements.txt:2 wheelfarm-private-pkg-xq7>=1.0');
    expect(error.hint).toMatch(/published to the upstream index .* otherwise drop the line/);
    expect(await indexIsEmpty(index)).toBe(true);
  });

  it('requirements that conflict: exit 2, names both lines', async () => {
    const index = await makeTempDir('index');
    const file = await requirements(['requests==2.32.5', 'urllib3<1.21']);
    const run = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', index, '--json']);
    expect(run.exitCode).toBe(2);
    const error = errorOf(run)!;
    expect(error.code).toBe('conflicting-requirements');
    expect(error.message).toMatch(/conflict for Python 3\.13: .*requirements\.txt:1 requests==2\.32\.5.*requirements\.txt:2 urllib3<1\.21/);
    expect(await indexIsEmpty(index)).toBe(true);
    expect(await wheelfarmContainers()).toEqual([]);
  });

  it('a --hash that does not match the file the farm would take: exit 5, names the file and the line', async () => {
    const index = await makeTempDir('index');
    const file = await requirements([`six==1.17.0 --hash=sha256:${'1'.repeat(64)}`]);
    const run = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', index, '--json']);
    expect(run.exitCode).toBe(5);
    const error = errorOf(run)!;
    expect(error.code).toBe('hash-mismatch');
    expect(error.message).toMatch(/six-1\.17\.0-py2\.py3-none-any\.whl .*requirements\.txt:1 six==1\.17\.0 does not allow/);
    expect(await indexIsEmpty(index)).toBe(true);
  });

  it('an editable requirement: exit 2 with a hint, before any container', async () => {
    const file = await requirements(['-e ./mylib']);
    const run = await runWheelfarm(['build', '-r', file, '--index', await makeTempDir('index'), '--json']);
    expect(run.exitCode).toBe(2);
    expect(errorOf(run)!.code).toBe('editable-requirement');
    expect(errorOf(run)!.message).toMatch(/requirements\.txt:1: `-e \.\/mylib` is an editable requirement/);
  });

  it('a matching --hash and a second run: the second publishes nothing', async () => {
    const index = await makeTempDir('index');
    const file = await requirements(['six==1.17.0 --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274']);
    const first = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', index, '--json']);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.events.filter((e) => e.type === 'mirror').map((e) => [e.filename, e.outcome])).toEqual([
      ['six-1.17.0-py2.py3-none-any.whl', 'published'],
    ]);
    const second = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', index, '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.events.filter((e) => e.type === 'mirror' || e.type === 'cell')).toEqual([]);
    const summary = second.events.find((e) => e.type === 'summary') as any;
    expect(summary.closure.mirrors).toEqual([{ project: 'six', filename: 'six-1.17.0-py2.py3-none-any.whl', state: 'mirrored' }]);
  });
});

describe('a package brings its runtime closure; what has only an sdist is built', () => {
  it('build cffi also mirrors pycparser: pip and uv install cffi from the farm index alone; --no-deps does not', async () => {
    const index = await makeTempDir('index');
    const only = await runWheelfarm(['build', 'cffi', '--python', '3.13', '--index', index, '--no-deps', '--json']);
    expect(only.exitCode, only.stderr).toBe(0);
    expect(only.events.filter((e) => e.type === 'mirror' || e.type === 'closure')).toEqual([]);
    const run = await runWheelfarm(['build', 'cffi', '--python', '3.13', '--index', index, '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'skipped' });
    expect(run.events.filter((e) => e.type === 'mirror').map((e) => [String(e.filename).split('-')[0], e.outcome])).toEqual([
      ['pycparser', 'published'],
    ]);
    const serve = await startServe(index);
    try {
      const check = 'import cffi, pycparser; ffi = cffi.FFI(); ffi.cdef("int abs(int);"); print("abs", ffi.dlopen(None).abs(-7))';
      const result = await installWithPipAndUv(serve.url, 'cffi', check);
      expect(result.exitCode, result.output).toBe(0);
      expect(result.output).toContain('pip check: abs 7');
      expect(result.output).toContain('uv check: abs 7');
    } finally {
      await serve.stop();
    }
  });

  it('a pure distribution with only an sdist upstream is built from it (no repair), not mirrored', async () => {
    const index = await makeTempDir('index');
    const file = await requirements(['docopt==0.6.2']);
    const run = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', index, '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.events.filter((e) => e.type === 'mirror')).toEqual([]);
    expect(run.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'published', wheel: 'docopt-0.6.2-py2.py3-none-any.whl' });
    const summary = run.events.find((e) => e.type === 'summary') as any;
    expect(summary.closure.applications[0].dists).toEqual([
      expect.objectContaining({
        name: 'docopt',
        kind: 'build',
        reason: 'no pure wheel upstream: native code, or only an sdist',
        file: 'docopt-0.6.2.tar.gz',
      }),
    ]);
    expect(await readdir(join(index, 'files', 'docopt'))).toContain('docopt-0.6.2-py2.py3-none-any.whl');
  });

  it('closure.pure: build takes nothing prebuilt: a pure distribution is built from its sdist too', async () => {
    const dir = await makeTempDir('pure-build');
    const settings = join(dir, 'wheelfarm.yaml');
    await writeFile(settings, 'closure: { pure: build }\n');
    const index = await makeTempDir('index');
    const file = await requirements(['six==1.17.0']);
    const run = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', index, '--json'], {
      env: { WHEELFARM_CONFIG: settings },
    });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.events.filter((e) => e.type === 'mirror')).toEqual([]);
    expect(run.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'published', wheel: 'six-1.17.0-py2.py3-none-any.whl' });
    const summary = run.events.find((e) => e.type === 'summary') as any;
    expect(summary.closure.applications[0].dists).toEqual([
      expect.objectContaining({ name: 'six', kind: 'build', reason: 'closure.pure: build' }),
    ]);
  });
});
