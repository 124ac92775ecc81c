import { describe, expect, it } from 'vitest';
import { KeyedMutex } from '../../../farm/src/index/keyed-mutex.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('KeyedMutex', () => {
  it('runs sections of one key one at a time, in call order, even when one fails', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const section =
      (name: string, fail = false) =>
      async () => {
        log.push(`start ${name}`);
        await tick();
        log.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      mutex.run('k', section('a')),
      mutex.run('k', section('b', true)),
      mutex.run('k', section('c')),
    ]);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('lets different keys run at the same time', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const section = (name: string) => async () => {
      log.push(`start ${name}`);
      await tick();
      log.push(`end ${name}`);
    };
    await Promise.all([mutex.run('a', section('a')), mutex.run('b', section('b'))]);
    expect(log.slice(0, 2)).toEqual(['start a', 'start b']);
  });
});
