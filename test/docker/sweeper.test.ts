import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentImages, docker, runWheelfarm } from './helpers.ts';

describe('leftover containers', () => {
  it("a farm container whose owner process is gone is removed by the next command; a live owner's stays", async () => {
    const { runtime } = await currentImages();
    const make = (owner: string) =>
      docker.createContainer({
        Image: runtime,
        Cmd: ['sleep', 'infinity'],
        Labels: { wheelfarm: '1', 'wheelfarm.build-id': 'sweeper-test', 'wheelfarm.step': 'build', 'wheelfarm.owner': owner },
      });
    // A pid above the kernel's pid_max cannot be alive; our own pid is.
    const orphan = await make(`${hostname()}:4194999`);
    const live = await make(`${hostname()}:${process.pid}`);
    try {
      await orphan.start();
      const run = await runWheelfarm(['images', 'list']);
      expect(run.exitCode, run.stderr).toBe(0);
      await expect(orphan.inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect((await live.inspect()).Id).toBe(live.id);
    } finally {
      await orphan.remove({ force: true }).catch(() => undefined);
      await live.remove({ force: true });
    }
  });

  it('a cell work volume whose owner process is gone is removed by the next command, which says so', async () => {
    const name = `wheelfarm-work-sweeper-test-${process.pid}`;
    await docker.createVolume({
      Name: name,
      Labels: {
        wheelfarm: '1',
        'wheelfarm.build-id': 'sweeper-test',
        'wheelfarm.step': 'work',
        'wheelfarm.owner': `${hostname()}:4194999`,
      },
    });
    const kept = `wheelfarm-work-sweeper-live-${process.pid}`;
    await docker.createVolume({
      Name: kept,
      Labels: {
        wheelfarm: '1',
        'wheelfarm.build-id': 'sweeper-test',
        'wheelfarm.step': 'work',
        'wheelfarm.owner': `${hostname()}:${process.pid}`,
      },
    });
    try {
      const run = await runWheelfarm(['images', 'list', '--json']);
      expect(run.exitCode, run.stderr).toBe(0);
      // At least ours: leftovers of other killed runs on this machine may go with it.
      expect((run.events.find((e) => e.type === 'swept') as { volumes?: number } | undefined)?.volumes).toBeGreaterThanOrEqual(1);
      expect(((await docker.listVolumes({ filters: { name: [name] } })).Volumes ?? []).map((v) => v.Name)).toEqual([]);
      expect(((await docker.listVolumes({ filters: { name: [kept] } })).Volumes ?? []).map((v) => v.Name)).toEqual([kept]);
    } finally {
      await docker
        .getVolume(name)
        .remove()
        .catch(() => undefined);
      await docker.getVolume(kept).remove();
    }
  });
});
