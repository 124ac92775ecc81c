import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentImages, docker, runWheelfarm } from './helpers.ts';

describe('leftover containers', () => {
  it('a farm container whose owner process is gone is removed by the next command; a live owner\'s stays', async () => {
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
});
