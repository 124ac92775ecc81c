import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { currentImages, docker, makeTempDir, publishedWheels, runWheelfarm, wheelfarmContainers } from './helpers.ts';

/**
 * `wheelfarm images build --refresh`: the distribution's pending updates applied on top of the build
 * and runtime images, under new tags the farm then uses, so the matrix sees every wheel built before
 * as stale (its image changed) and rebuilds it with the next build tag. A farm of its own (home,
 * index, recipes): the refresh record lives in that home only, so other tests keep the plain images.
 */
describe('image freshness', () => {
  const made: string[] = [];
  afterAll(async () => {
    for (const tag of made)
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
  });

  it('a refresh makes new images with the updates applied; the planner calls the cells built before stale; a rebuild gets build tag 1', async () => {
    const dir = await makeTempDir('refresh');
    const recipesDir = join(dir, 'recipes');
    await execa('mkdir', ['-p', recipesDir]);
    await writeFile(join(recipesDir, 'markupsafe.yaml'), '# the defaults\n');
    const config = join(dir, 'wheelfarm.yaml');
    await writeFile(
      config,
      `home: ${join(dir, 'home')}\nindex:\n  dir: ${join(dir, 'index')}\nrecipes:\n  dir: ${recipesDir}\nmatrix:\n  pythons: ["3.13"]\n`,
    );
    // The settings file names the farm's home; WHEELFARM_HOME, which every test file has (own-home.ts), would win.
    vi.stubEnv('WHEELFARM_HOME', undefined);
    const plain = await currentImages();

    const first = await runWheelfarm(['--config', config, 'matrix', 'build', '--json']);
    expect(first.exitCode, first.stderr + first.stdout.slice(-2000)).toBe(0);

    const refreshed = await runWheelfarm(['--config', config, 'images', 'build', '--refresh', '--json']);
    expect(refreshed.exitCode, refreshed.stderr + refreshed.stdout.slice(-2000)).toBe(0);
    const tags = Object.fromEntries(
      (refreshed.events.find((e) => e.type === 'summary')!.images as { kind: string; tag: string }[]).map((i) => [i.kind, i.tag]),
    );
    made.push(tags.build!, tags.runtime!);
    expect(tags.base).toBe(plain.base);
    expect(tags.build).toMatch(/^wheelfarm\/build:[0-9a-f]{16}$/);
    expect(tags.build).not.toBe(plain.build);
    expect(tags.runtime).not.toBe(plain.runtime);
    const record = JSON.parse(await readFile(join(dir, 'home', 'images', 'refresh.json'), 'utf8')) as {
      build: { from: string; tag: string };
    };
    expect(record.build).toEqual({ from: plain.build, tag: tags.build });
    const info = await docker.getImage(tags.build!).inspect();
    expect(info.Config.Labels['wheelfarm.image.refreshed-at']).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(info.Config.User).toBe('builder');
    // Built on top of the plain image: the refresh is one more layer, not a rebuild of CPython.
    const plainLayers = (await docker.getImage(plain.build).inspect()).RootFS.Layers ?? [];
    expect(info.RootFS.Layers?.slice(0, plainLayers.length)).toEqual(plainLayers);
    // The distribution now has nothing left to apply in it.
    const pending = await execa('docker', [
      'run',
      '--rm',
      '--user',
      'root',
      '--entrypoint',
      '',
      tags.build!,
      'sh',
      '-c',
      'apt-get update -qq >/dev/null && apt-get -s upgrade | grep -c ^Inst || true',
    ]);
    expect(pending.stdout.trim()).toBe('0');

    const list = await runWheelfarm(['--config', config, 'images', 'list']);
    expect(list.stderr).toContain("refreshed with the distribution's updates at");
    expect(list.stderr).toMatch(new RegExp(`${tags.build!.replace(/[/.]/g, '\\$&')}\\s+present\\s+current`));

    const plan = await runWheelfarm(['--config', config, 'matrix', 'plan', '--json']);
    const cell = (
      plan.events.find((e) => e.type === 'plan')!.cells as { name: string; state: string; reason: string; buildTag: string }[]
    ).find((c) => c.name === 'markupsafe')!;
    expect(cell).toMatchObject({ state: 'stale', buildTag: '1' });
    expect(cell.reason).toContain('image changed');

    const rebuilt = await runWheelfarm(['--config', config, 'matrix', 'build', '--json']);
    expect(rebuilt.exitCode, rebuilt.stderr + rebuilt.stdout.slice(-2000)).toBe(0);
    const wheels = await publishedWheels(join(dir, 'index'), 'markupsafe');
    expect(wheels).toHaveLength(2);
    expect(wheels.filter((w) => /^markupsafe-[\d.]+-1-cp313-/.test(w))).toHaveLength(1);
    expect(existsSync(join(dir, 'home', 'images', 'refresh.json'))).toBe(true);
    expect(await wheelfarmContainers('markupsafe')).toEqual([]);
  });
});
