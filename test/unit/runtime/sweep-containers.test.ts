// The sweeper with a fake engine: a mock only for the fault that a real run cannot time (another farm
// process removing the same dead run's container at the same moment, so its volume is still in use).
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ContainerRuntime } from '../../../farm/src/runtime/container-runtime.ts';
import { sweepContainers } from '../../../farm/src/runtime/sweep-containers.ts';

const dead = { 'wheelfarm.owner': `${hostname()}:111` };
const live = { 'wheelfarm.owner': `${hostname()}:222` };
const isAlive = (pid: number) => pid === 222;

function engine(removeVolume: (name: string) => Promise<void>) {
  const removed: string[] = [];
  const runtime = {
    listContainers: async () => [
      { id: 'c-dead', labels: dead, state: 'exited' },
      { id: 'c-live', labels: live, state: 'running' },
    ],
    removeContainer: async (id: string) => void removed.push(id),
    listVolumes: async () => [
      { name: 'v-busy', labels: dead },
      { name: 'v-dead', labels: dead },
      { name: 'v-live', labels: live },
    ],
    removeVolume: async (name: string) => {
      await removeVolume(name);
      removed.push(name);
    },
  } as Pick<ContainerRuntime, 'listContainers' | 'removeContainer' | 'listVolumes' | 'removeVolume'>;
  return { runtime: runtime as ContainerRuntime, removed };
}

describe('sweepContainers', () => {
  it("removes dead processes' containers, then their volumes; a volume still in use (409) is left for the next sweep", async () => {
    const inUse = Object.assign(new Error('volume is in use'), { statusCode: 409 });
    const { runtime, removed } = engine(async (name) => {
      if (name === 'v-busy') throw inUse;
    });
    expect(await sweepContainers({ runtime, isAlive })).toEqual({ containers: ['c-dead'], volumes: ['v-dead'] });
    expect(removed).toEqual(['c-dead', 'v-dead']);
  });

  it('any other failure of the engine is not hidden', async () => {
    const broken = Object.assign(new Error('server error'), { statusCode: 500 });
    const { runtime } = engine(async () => {
      throw broken;
    });
    await expect(sweepContainers({ runtime, isAlive })).rejects.toBe(broken);
  });
});
