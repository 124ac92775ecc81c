import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { REPO_ROOT, makeTempDir, packFixture, publishedWheels, runWheelfarm, wheelfarmContainers } from './helpers.ts';

/**
 * `wheelfarm matrix plan|build` and `wheelfarm schedule` on a small real matrix: markupsafe from the
 * upstream index and a fixture sdist that does not compile, for cp313. Each test has a farm of its
 * own (home, index, recipes), so the matrix lock of one does not stop another.
 */
async function farm(recipes: Record<string, string>, extra = ''): Promise<{ config: string; index: string; home: string }> {
  const dir = await makeTempDir('matrix');
  const recipesDir = join(dir, 'recipes');
  await execa('mkdir', ['-p', recipesDir]);
  for (const [name, text] of Object.entries(recipes)) await writeFile(join(recipesDir, `${name}.yaml`), text);
  const config = join(dir, 'wheelfarm.yaml');
  await writeFile(
    config,
    `home: ${join(dir, 'home')}\nindex:\n  dir: ${join(dir, 'index')}\nrecipes:\n  dir: ${recipesDir}\nmatrix:\n  pythons: ["3.13"]\n${extra}`,
  );
  // The settings file names the farm's home; WHEELFARM_HOME, which every test file has (own-home.ts), would win.
  vi.stubEnv('WHEELFARM_HOME', undefined);
  return { config, index: join(dir, 'index'), home: join(dir, 'home') };
}

const summary = (run: Awaited<ReturnType<typeof runWheelfarm>>) =>
  run.events.find((e) => e.type === 'summary' || e.type === 'plan') as Record<string, any>;

describe('matrix plan and matrix build', () => {
  let broken: { path: string; sha256: string };
  beforeAll(async () => {
    broken = await packFixture('broken', 'brokenext', '0.1.0');
  });

  it('builds what is missing, keeps going past a failure, and then plans the failure as waiting for its back-off', async () => {
    const { config, index } = await farm({
      markupsafe: '# defaults\n',
      brokenext: `source:\n  url: ${pathToFileURL(broken.path).href}\n  sha256: ${broken.sha256}\n`,
    });
    const plan = await runWheelfarm(['--config', config, 'matrix', 'plan', '--json']);
    expect(plan.exitCode, plan.stderr).toBe(0);
    expect(summary(plan)).toMatchObject({ counts: { missing: 2, built: 0 }, toBuild: 2 });
    expect(
      summary(plan)
        .cells.map((c: { buildId: string }) => c.buildId)
        .sort(),
    ).toEqual(['brokenext-0.1.0-cp313-manylinux_2_31_x86_64', expect.stringMatching(/^markupsafe-[\d.]+-cp313-manylinux_2_31_x86_64$/)]);

    const build = await runWheelfarm(['--config', config, 'matrix', 'build', '--json']);
    expect(build.exitCode, build.stderr).toBe(1);
    expect(summary(build)).toMatchObject({ ok: false, built: 2, counts: { published: 1, failed: 1 } });
    expect(await publishedWheels(index, 'markupsafe')).toHaveLength(1);
    expect(await wheelfarmContainers('brokenext')).toEqual([]);
    expect(await wheelfarmContainers('markupsafe')).toEqual([]);

    const after = await runWheelfarm(['--config', config, 'matrix', 'plan', '--json']);
    const states = Object.fromEntries(summary(after).cells.map((c: { name: string; state: string }) => [c.name, c]));
    expect(states.markupsafe).toMatchObject({ state: 'built' });
    expect(states.brokenext).toMatchObject({ state: 'failed', retryAt: expect.any(String) });
    expect(states.brokenext.reason).toContain('failed 1 time with these inputs');

    // Nothing to build: the failure waits, the built cell stays; exit 0.
    const again = await runWheelfarm(['--config', config, 'matrix', 'build', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(summary(again)).toMatchObject({ built: 0, waiting: [{ name: 'brokenext', state: 'failed' }] });

    // The records say what happened; the failed build's log is readable.
    const status = await runWheelfarm(['--config', config, 'status', 'brokenext', '--json']);
    const [record] = (status.events.find((e) => e.type === 'status') as unknown as { records: { id: number; state: string }[] }).records;
    expect(record).toMatchObject({ state: 'failed' });
    const logs = await runWheelfarm(['--config', config, 'logs', String(record!.id)]);
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toContain('WHEELFARM_EXPECTED_COMPILE_ERROR');
  });

  it('a cell that fails before its build (its recipe image cannot be built) is recorded and waits for its back-off too', async () => {
    const { config } = await farm({ markupsafe: 'build:\n  system:\n    apt: [wheelfarm-no-such-package]\n' });
    const build = await runWheelfarm(['--config', config, 'matrix', 'build', '--json']);
    // Its one failed cell failed because an image could not be built: that status (3), as documented.
    expect(build.exitCode, build.stderr).toBe(3);
    expect(summary(build)).toMatchObject({ counts: { failed: 1 } });
    expect(summary(build).results[0].error).toMatchObject({ code: 'image-build-failed' });
    expect(summary(build).results[0].error.message).toMatch(/recipe image|wheelfarm-no-such-package/);
    const plan = await runWheelfarm(['--config', config, 'matrix', 'plan', '--json']);
    expect(summary(plan).cells[0]).toMatchObject({ name: 'markupsafe', state: 'failed', retryAt: expect.any(String) });
    expect(await wheelfarmContainers('markupsafe')).toEqual([]);
  });

  it('a second matrix build while one runs is refused (exit 4): one matrix build at a time', async () => {
    const { config } = await farm({ markupsafe: '# defaults\n' });
    const first = execa(`${REPO_ROOT}/wheelfarm`, ['--config', config, 'matrix', 'build', '--json'], { cwd: REPO_ROOT, reject: false });
    await new Promise<void>((resolve) => {
      first.stdout!.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('"type":"planned"')) resolve();
      });
    });
    const second = await runWheelfarm(['--config', config, 'matrix', 'build', '--json']);
    expect(second.exitCode).toBe(4);
    expect(second.stdout).toContain('another matrix build is running');
    expect((await first).exitCode).toBe(0);
  });
});

describe('a farm killed in the middle of a matrix build', () => {
  it('the next run removes its leftovers, marks its build abandoned, completes the matrix; the index is consistent', async () => {
    const { config, index } = await farm({ markupsafe: 'latest: 2\n' });
    const killed = execa(`${REPO_ROOT}/wheelfarm`, ['--config', config, 'matrix', 'build', '--json'], { cwd: REPO_ROOT, reject: false });
    await new Promise<void>((resolve) => {
      killed.stdout!.on('data', (chunk: Buffer) => {
        if (/"type":"step".*"step":"build","status":"started"/.test(chunk.toString())) resolve();
      });
    });
    killed.kill('SIGKILL');
    expect((await killed).signal).toBe('SIGKILL');
    // What the crash left: the build container of its owner (now dead).
    expect((await wheelfarmContainers('markupsafe')).length).toBeGreaterThan(0);

    const again = await runWheelfarm(['--config', config, 'matrix', 'build', '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(summary(again)).toMatchObject({ built: 2, counts: { published: 2, failed: 0 } });
    expect(await wheelfarmContainers('markupsafe')).toEqual([]);

    // The index: exactly the two wheels, each with its .metadata, on both pages; nothing half-written.
    const { readdir, readFile } = await import('node:fs/promises');
    const files = (await readdir(join(index, 'files', 'markupsafe'))).sort();
    const wheels = files.filter((f) => f.endsWith('.whl'));
    expect(wheels).toHaveLength(2);
    expect(files).toEqual([...wheels.flatMap((w) => [w, `${w}.metadata`])].sort());
    const page = await readFile(join(index, 'simple', 'markupsafe', 'index.html'), 'utf8');
    for (const wheel of wheels) expect(page).toContain(`${wheel}#sha256=`);
    const json = JSON.parse(await readFile(join(index, 'simple', 'markupsafe', 'index.json'), 'utf8')) as { files: { filename: string }[] };
    expect(json.files.map((f) => f.filename).sort()).toEqual(wheels);

    // The records: the killed build is abandoned (never "published"); one published build per cell; none running.
    const status = await runWheelfarm(['--config', config, 'status', '--json']);
    const records = (status.events.find((e) => e.type === 'status') as unknown as { records: { buildId: string; state: string }[] })
      .records;
    // One per cell that had started (two slots: one or both).
    const abandoned = records.filter((r) => r.state === 'abandoned');
    expect(abandoned.length).toBeGreaterThanOrEqual(1);
    expect(abandoned.length).toBeLessThanOrEqual(2);
    expect(
      records
        .filter((r) => r.state === 'published')
        .map((r) => r.buildId)
        .sort(),
    ).toEqual([...new Set(records.map((r) => r.buildId))].sort());
    expect(records.filter((r) => r.state === 'running')).toEqual([]);
  });
});

describe('wheelfarm schedule', () => {
  it('runs its entries on their cron schedule, builds only what is new, and stops cleanly on SIGTERM', async () => {
    const { config, index, home } = await farm(
      { markupsafe: '# defaults\n' },
      'schedule:\n  - name: often\n    cron: "*/3 * * * * *"\n    run: new-releases\n',
    );
    const schedule = execa(`${REPO_ROOT}/wheelfarm`, ['--config', config, 'schedule', '--json'], { cwd: REPO_ROOT, reject: false });
    const finished: Record<string, any>[] = [];
    await new Promise<void>((resolve, reject) => {
      schedule.stdout!.on('data', (chunk: Buffer) => {
        for (const line of chunk
          .toString()
          .split('\n')
          .filter((l) => l.startsWith('{'))) {
          const event = JSON.parse(line) as Record<string, any>;
          if (event.type === 'run-finished') finished.push(event);
          if (finished.length >= 2) resolve();
        }
      });
      void schedule.then(() => reject(new Error('schedule ended early')));
    });
    schedule.kill('SIGTERM');
    const result = await schedule;
    expect(result.exitCode).toBe(0);
    expect(finished[0]).toMatchObject({ name: 'often', outcome: 'done', detail: expect.stringContaining('1 published') });
    expect(finished[1]).toMatchObject({ name: 'often', outcome: 'done', detail: expect.stringContaining('0 to build') });
    expect(await publishedWheels(index, 'markupsafe')).toHaveLength(1);
    const log = await execa('cat', [join(home, 'logs', 'schedule.log')]);
    expect(log.stdout).toContain('"type":"run-finished"');
  });

  it('a bad cron expression is refused with the entry named', async () => {
    const { config } = await farm({}, 'schedule:\n  - name: broken\n    cron: "every night"\n    run: matrix\n');
    const run = await runWheelfarm(['--config', config, 'schedule']);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/`schedule\[0\]\.cron` \(broken\): `every night` is not a cron expression/);
    // --once checks the entries too: it must not run a matrix the schedule itself could never start.
    const once = await runWheelfarm(['--config', config, 'schedule', '--once', 'broken', '--json']);
    expect(once.exitCode).toBe(2);
    expect(once.events.find((e) => e.type === 'error')).toMatchObject({ code: 'bad-schedule' });
    expect(once.events.find((e) => e.type === 'run-started')).toBeUndefined();
  });
});
