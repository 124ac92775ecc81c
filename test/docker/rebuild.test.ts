import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installWithPipAndUv, makeTempDir, publishedWheels, runWheelfarm, startServe } from './helpers.ts';

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex');

/**
 * Deliver 5 of publishing: a wheel rebuilt because its recipe changed (or on request) is published
 * beside the old one with the next PEP 427 build tag; nothing is overwritten, an unchanged cell is
 * not rebuilt, and pip and uv both install the newest build from `wheelfarm serve`.
 */
describe('rebuilds of the same version get the next build tag', () => {
  let index: string;
  let recipes: string;
  const build = (...extra: string[]) =>
    runWheelfarm(['build', 'markupsafe==3.0.3', '--python', '3.13', '--index', index, '--json', ...extra], {
      env: { WHEELFARM_RECIPES_DIR: recipes },
    });
  const cell = (run: Awaited<ReturnType<typeof build>>) => run.events.find((e) => e.type === 'cell') as Record<string, unknown> | undefined;

  beforeAll(async () => {
    index = await makeTempDir('index');
    recipes = await makeTempDir('recipes');
  });

  let server: Awaited<ReturnType<typeof startServe>> | undefined;
  afterAll(async () => {
    if (server) expect(await server.stop()).toBe(0);
  });

  it('recipe change -> build tag 1; same inputs -> skipped; --rebuild -> build tag 2; pip and uv take the newest', async () => {
    const first = await build();
    expect(first.exitCode, first.stderr).toBe(0);
    const [original] = await publishedWheels(index, 'markupsafe');
    expect(original).toMatch(/^markupsafe-3\.0\.3-cp313-cp313-.*manylinux_2_31_x86_64\.whl$/);
    const originalSha = await sha256(join(index, 'files', 'markupsafe', original!));
    expect(cell(await build())).toMatchObject({ outcome: 'skipped', wheel: original });

    // A recipe edit that changes the build (not one that only changes its tests) makes the wheel stale.
    await writeFile(join(recipes, 'markupsafe.yaml'), 'test:\n  imports: [markupsafe]\n');
    expect(cell(await build())).toMatchObject({ outcome: 'skipped' });
    await writeFile(join(recipes, 'markupsafe.yaml'), 'build:\n  env:\n    CFLAGS: "-O2 -g0"\ntest:\n  imports: [markupsafe]\n');
    const changed = await build();
    expect(changed.exitCode, changed.stderr).toBe(0);
    expect(cell(changed)).toMatchObject({ outcome: 'published', reason: 'rebuilt with build tag 1: recipe changed' });
    expect(cell(changed)!.wheel).toBe(original!.replace('3.0.3-cp313', '3.0.3-1-cp313'));
    expect(cell(await build())).toMatchObject({ outcome: 'skipped', wheel: original!.replace('3.0.3-cp313', '3.0.3-1-cp313') });

    const forced = await build('--rebuild');
    expect(cell(forced)).toMatchObject({ outcome: 'published', reason: 'rebuilt with build tag 2: --rebuild' });
    const wheels = await publishedWheels(index, 'markupsafe');
    expect(wheels).toHaveLength(3);
    expect(wheels.map((w) => /^markupsafe-3\.0\.3-(\d+-)?cp313/.exec(w)?.[1] ?? '')).toEqual(expect.arrayContaining(['', '1-', '2-']));
    // Nothing was overwritten.
    expect(await sha256(join(index, 'files', 'markupsafe', original!))).toBe(originalSha);

    server = await startServe(index);
    const result = await installWithPipAndUv(server.url, 'markupsafe', "import markupsafe; print(markupsafe.escape('<b>'))");
    expect(result.exitCode, result.output).toBe(0);
    expect(result.pip.file, result.output).toMatch(/^markupsafe-3\.0\.3-2-cp313-/);
    expect([result.pip.build, result.uv.build], result.output).toEqual(['2', '2']);
    expect(result.output).toContain('uv check: &lt;b&gt;');
  });
});
