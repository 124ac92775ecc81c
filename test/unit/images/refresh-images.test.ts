import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ImagePlan } from '../../../farm/src/images/image-plan.ts';
import {
  applyImageRefresh,
  readImageRefresh,
  refreshDockerfile,
  refreshedTag,
  refreshFile,
} from '../../../farm/src/images/refresh-images.ts';

const PLAN: ImagePlan = {
  base: { kind: 'base', tag: 'wheelfarm/base:aaaaaaaaaaaaaaaa', inputsHash: 'a', source: 'debootstrap' },
  build: { kind: 'build', tag: 'wheelfarm/build:bbbbbbbbbbbbbbbb', inputsHash: 'b' },
  runtime: { kind: 'runtime', tag: 'wheelfarm/runtime:cccccccccccccccc', inputsHash: 'c' },
};
const AT = '2026-11-22T10:00:00.000Z';
const REFRESH = {
  refreshedAt: AT,
  build: { from: PLAN.build.tag, tag: refreshedTag('build', PLAN.build.tag, AT) },
  runtime: { from: PLAN.runtime.tag, tag: refreshedTag('runtime', PLAN.runtime.tag, AT) },
};

describe('image refresh', () => {
  it('swaps in the refreshed build and runtime tags of the plan it refreshes; the base stays', () => {
    const plan = applyImageRefresh(PLAN, REFRESH);
    expect(plan.base).toEqual(PLAN.base);
    expect(plan.build.tag).toBe(REFRESH.build.tag);
    expect(plan.runtime.tag).toBe(REFRESH.runtime.tag);
    expect(plan.build.tag).toMatch(/^wheelfarm\/build:[0-9a-f]{16}$/);
    expect(plan.build.tag).not.toBe(PLAN.build.tag);
  });

  it('a refresh of other images (the definitions changed since) is not used', () => {
    const changed = {
      ...PLAN,
      build: { ...PLAN.build, tag: 'wheelfarm/build:dddddddddddddddd' },
      runtime: { ...PLAN.runtime, tag: 'wheelfarm/runtime:eeeeeeeeeeeeeeee' },
    };
    expect(applyImageRefresh(changed, REFRESH)).toEqual(changed);
    expect(applyImageRefresh(PLAN, undefined)).toBe(PLAN);
  });

  it('each refresh gets its own tags: the time is an input', () => {
    expect(refreshedTag('build', PLAN.build.tag, AT)).toBe(refreshedTag('build', PLAN.build.tag, AT));
    expect(refreshedTag('build', PLAN.build.tag, '2026-11-29T10:00:00.000Z')).not.toBe(refreshedTag('build', PLAN.build.tag, AT));
  });

  it('the layer upgrades as root, adds the security suite when missing, and hands back to the user', () => {
    const dockerfile = refreshDockerfile({ from: PLAN.build.tag, user: 'builder' });
    expect(dockerfile.split('\n')[0]).toBe(`FROM ${PLAN.build.tag}`);
    expect(dockerfile).toContain('USER root');
    expect(dockerfile).toContain('-security main');
    expect(dockerfile).toContain('apt-get -y upgrade');
    expect(dockerfile.trimEnd().split('\n').pop()).toBe('USER builder');
  });

  it('no record: undefined; a record it cannot read: an error naming the file and how to recover', async () => {
    const home = await mkdtemp(join(tmpdir(), 'wheelfarm-refresh-'));
    expect(await readImageRefresh(home)).toBeUndefined();
    await mkdir(join(home, 'images'), { recursive: true });
    await writeFile(refreshFile(home), '{"refreshedAt": 1}');
    await expect(readImageRefresh(home)).rejects.toMatchObject({
      code: 'bad-image-refresh',
      message: expect.stringContaining(refreshFile(home)),
      hint: expect.stringContaining('images build --refresh'),
    });
    await writeFile(refreshFile(home), `${JSON.stringify(REFRESH)}\n`);
    expect(await readImageRefresh(home)).toEqual(REFRESH);
  });
});
