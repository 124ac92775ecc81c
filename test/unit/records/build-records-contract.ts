import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { BeginBuild, BuildRecords } from '../../../farm/src/records/build-records.ts';
import { formatBuildId } from '../../../farm/src/wheels/build-id.ts';

export const BEGIN: BeginBuild = {
  buildId: 'pyyaml-6.0.3-cp313-manylinux_2_31_x86_64',
  cell: { name: 'pyyaml', version: '6.0.3', python: 'cp313', platform: 'manylinux_2_31_x86_64' },
  index: 'dir:/srv/index',
  inputs: { source: `sha256:${'a'.repeat(64)}`, recipe: 'r1', image: 'wheelfarm/build:1' },
  buildTag: undefined,
  log: '/logs/pyyaml/1.log',
};

/**
 * What every BuildRecords backend must do, run against each (SQLite here, PostgreSQL in the
 * servers project). `open` gives a fresh, empty store; called again with the same `shared` value
 * it opens another handle on the same store, as another farm process (`host`, `pid`) would.
 */
export function describeBuildRecordsContract(
  name: string,
  open: (options: { shared?: unknown; host?: string; pid?: number }) => Promise<{ records: BuildRecords; shared: unknown }>,
): void {
  describe(`${name}: the BuildRecords contract`, () => {
    const opened: BuildRecords[] = [];
    const handle = async (options: { shared?: unknown; host?: string; pid?: number } = {}) => {
      const result = await open(options);
      opened.push(result.records);
      return result;
    };
    afterEach(async () => {
      for (const records of opened.splice(0)) await records.close();
    });

    it('a build names the libraries and toolchains built from source in its image, each with its source sha256', async () => {
      const { records } = await handle();
      const native = [
        { kind: 'toolchain' as const, name: 'gcc', version: '14.2.0', sha256: 'e'.repeat(64), image: 'wheelfarm/toolchain-gcc:14.2.0-1' },
        { kind: 'library' as const, name: 'geos', version: '3.13.1', sha256: 'd'.repeat(64), image: 'wheelfarm/library-geos:3.13.1-2' },
      ];
      const withNative = await records.begin({ ...BEGIN, native });
      const without = await records.begin(BEGIN);
      expect((await records.get(withNative))?.native).toEqual(native);
      expect((await records.get(without))?.native).toEqual([]);
    });

    it('a build is running until it finishes; only published or unchanged builds count as done', async () => {
      const { records } = await handle({ host: 'farm-a' });
      const id = await records.begin(BEGIN);
      expect(await records.get(id)).toMatchObject({ state: 'running', finishedAt: undefined, wheel: undefined, host: 'farm-a' });
      expect(await records.latestDone(BEGIN.buildId, BEGIN.index)).toBeUndefined();
      await records.finish(id, {
        state: 'published',
        steps: { build: 3.2, repair: 0.7 },
        wheel: 'w.whl',
        wheelSha256: 'f'.repeat(64),
        log: '/logs/1.log.gz',
      });
      const done = await records.latestDone(BEGIN.buildId, BEGIN.index);
      expect(done).toMatchObject({
        id,
        state: 'published',
        wheel: 'w.whl',
        steps: { build: 3.2, repair: 0.7 },
        inputs: BEGIN.inputs,
        log: '/logs/1.log.gz',
      });
      expect(done!.finishedAt).toMatch(/^\d{4}-/);

      const failed = await records.begin({ ...BEGIN, buildTag: '1', inputs: { ...BEGIN.inputs, recipe: 'r2' } });
      await records.finish(failed, { state: 'failed', steps: { build: 1 }, error: 'the build step failed' });
      expect((await records.latestDone(BEGIN.buildId, BEGIN.index))!.id).toBe(id);
      expect(await records.latestDone(BEGIN.buildId, 's3://other/')).toBeUndefined();
      expect((await records.list()).map((r) => [r.id, r.state, r.buildTag])).toEqual([
        [failed, 'failed', '1'],
        [id, 'published', undefined],
      ]);
      expect((await records.get(failed))!.log).toBe(BEGIN.log);
      expect(await records.get(99_999)).toBeUndefined();
    });

    it('lists by build identifier, by prefix (`name-*`) and by state, newest first', async () => {
      const { records } = await handle();
      const a = await records.begin(BEGIN);
      const b = await records.begin({ ...BEGIN, buildId: 'pyyaml-6.0.3-cp311-manylinux_2_31_x86_64' });
      const c = await records.begin({ ...BEGIN, buildId: 'pyyaml_x-1-cp311-manylinux_2_31_x86_64' });
      await records.finish(b, { state: 'failed', steps: {} });
      expect((await records.list({ buildId: BEGIN.buildId })).map((r) => r.id)).toEqual([a]);
      expect((await records.list({ buildId: 'pyyaml-*' })).map((r) => r.id)).toEqual([b, a]);
      expect((await records.list({ buildId: 'pyyaml_*' })).map((r) => r.id)).toEqual([c]);
      expect((await records.list({ state: 'failed' })).map((r) => r.id)).toEqual([b]);
      expect((await records.list({ limit: 1 })).map((r) => r.id)).toEqual([c]);
    });

    it('histories: the newest done build per cell, and the failures after it, for one index', async () => {
      const { records } = await handle();
      const other = 'pyyaml-6.0.3-cp311-manylinux_2_31_x86_64';
      const oldFailure = await records.begin(BEGIN);
      await records.finish(oldFailure, { state: 'failed', steps: { build: 1 } });
      const done = await records.begin(BEGIN);
      await records.finish(done, { state: 'published', steps: { build: 5 }, wheel: 'w.whl' });
      const f1 = await records.begin(BEGIN);
      await records.finish(f1, { state: 'failed', steps: { build: 2 } });
      const f2 = await records.begin(BEGIN);
      await records.finish(f2, { state: 'failed', steps: { build: 3 } });
      await records.begin(BEGIN); // still running: neither done nor failed
      const onlyFailed = await records.begin({ ...BEGIN, buildId: other });
      await records.finish(onlyFailed, { state: 'failed', steps: {} });
      const elsewhere = await records.begin({ ...BEGIN, index: 's3://other/' });
      await records.finish(elsewhere, { state: 'published', steps: {} });

      const histories = await records.histories(BEGIN.index);
      expect([...histories.keys()].sort()).toEqual([other, BEGIN.buildId].sort());
      const mine = histories.get(BEGIN.buildId)!;
      expect(mine.done?.id).toBe(done);
      expect(mine.failures.map((r) => r.id)).toEqual([f2, f1]);
      expect(histories.get(other)).toMatchObject({ done: undefined, failures: [{ id: onlyFailed }] });
      expect((await records.histories('nowhere')).size).toBe(0);
    });

    it("histories of some projects only: theirs, in any spelling, not a project's whose name they start", async () => {
      const { records } = await handle();
      const cell = (name: string) => {
        const identity = { ...BEGIN.cell, name, version: '1.0' };
        return { ...BEGIN, buildId: formatBuildId(identity), cell: identity };
      };
      for (const name of ['Foo', 'foo-bar', 'other']) {
        const id = await records.begin(cell(name));
        await records.finish(id, { state: name === 'other' ? 'failed' : 'published', steps: {} });
      }
      const keys = async (projects: string[]) => [...(await records.histories(BEGIN.index, { projects })).keys()].sort();
      expect(await keys(['FOO'])).toEqual(['foo-1.0-cp313-manylinux_2_31_x86_64']);
      expect(await keys(['foo_bar', 'other'])).toEqual([
        'foo-bar-1.0-cp313-manylinux_2_31_x86_64',
        'other-1.0-cp313-manylinux_2_31_x86_64',
      ]);
      expect(await keys([])).toEqual([]);
      expect((await records.histories(BEGIN.index)).size).toBe(3);
    });

    it('a crash leaves `running`; the next start marks builds of dead processes of this host abandoned, never done', async () => {
      const { records: crashed, shared } = await handle({ host: 'farm-a', pid: 999_999 });
      const mine = await crashed.begin(BEGIN);
      const { records: live } = await handle({ shared, host: 'farm-a', pid: 4242 });
      const running = await live.begin(BEGIN);
      const { records: remote } = await handle({ shared, host: 'farm-b', pid: 999_999 });
      const other = await remote.begin(BEGIN);
      const { records: next } = await handle({ shared, host: 'farm-a', pid: 5151 });
      expect(await next.abandonOrphans((pid) => pid === 4242)).toBe(1);
      expect((await next.get(mine))!.state).toBe('abandoned');
      expect((await next.get(running))!.state).toBe('running');
      expect((await next.get(other))!.state).toBe('running');
      expect(await next.latestDone(BEGIN.buildId, BEGIN.index)).toBeUndefined();
    });

    it('two handles on one store (two farm processes) see each other’s records', async () => {
      const { records, shared } = await handle();
      const { records: second } = await handle({ shared });
      const id = await records.begin(BEGIN);
      await second.finish(id, { state: 'unchanged', steps: {} });
      expect((await records.latestDone(BEGIN.buildId, BEGIN.index))!.state).toBe('unchanged');
    });

    it('tryLock: one holder at a time across handles; free again after release', async () => {
      const { records, shared } = await handle();
      const { records: second } = await handle({ shared });
      const release = await records.tryLock('matrix');
      expect(release).toBeTypeOf('function');
      expect(await second.tryLock('matrix')).toBeUndefined();
      const otherName = await second.tryLock('schedule');
      expect(otherName).toBeTypeOf('function');
      await otherName!();
      await release!();
      await sleep(10);
      const again = await second.tryLock('matrix');
      expect(again).toBeTypeOf('function');
      await again!();
    });
  });
}
