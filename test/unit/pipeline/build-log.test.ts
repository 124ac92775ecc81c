// farm/src/records/build-log.ts (the log each pipeline step writes to).
import { lstat, mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuildLog, readBuildLog } from '../../../farm/src/records/build-log.ts';

const PID = process.pid;

const BUILD_ID = 'markupsafe-3.0.3-cp313-manylinux_2_31_x86_64';
const NOW = new Date('2025-06-01T12:34:56.789Z');

let home: string;
const open: BuildLog[] = [];

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'wheelfarm-log-'));
});
afterEach(async () => {
  for (const log of open.splice(0)) await log.close();
  await rm(home, { recursive: true, force: true });
});

async function openLog(now: Date = NOW): Promise<BuildLog> {
  const log = await BuildLog.open({ home, buildId: BUILD_ID, now });
  open.push(log);
  return log;
}

describe('BuildLog.open', () => {
  it('creates <home>/logs/<build id>/<timestamp>-<pid>.log.gz', async () => {
    const log = await openLog();
    expect(log.path).toBe(join(home, 'logs', BUILD_ID, `2025-06-01T12-34-56-789Z-${PID}.log.gz`));
    await log.close();
    expect((await lstat(log.path)).isFile()).toBe(true);
  });

  it('points latest.log.gz at the new log, with a relative link', async () => {
    const log = await openLog();
    const latest = join(home, 'logs', BUILD_ID, 'latest.log.gz');
    expect((await lstat(latest)).isSymbolicLink()).toBe(true);
    expect(await readlink(latest)).toBe(`2025-06-01T12-34-56-789Z-${PID}.log.gz`);
    log.write('hello\n');
    await log.close();
    expect(await readBuildLog(latest)).toBe('hello\n');
  });

  it('moves latest.log.gz to the newest of several logs and keeps the older ones', async () => {
    const first = await openLog(new Date('2025-06-01T00:00:00.000Z'));
    first.write('first\n');
    await first.close();
    const second = await openLog(new Date('2025-06-02T00:00:00.000Z'));
    second.write('second\n');
    await second.close();
    const dir = join(home, 'logs', BUILD_ID);
    expect((await readdir(dir)).sort()).toEqual([
      `2025-06-01T00-00-00-000Z-${PID}.log.gz`,
      `2025-06-02T00-00-00-000Z-${PID}.log.gz`,
      'latest.log.gz',
    ]);
    expect(await readBuildLog(join(dir, 'latest.log.gz'))).toBe('second\n');
    expect(await readBuildLog(first.path)).toBe('first\n');
  });
});

describe('BuildLog.write and tail', () => {
  it('writes everything to the file, as given', async () => {
    const log = await openLog();
    log.write('one\ntw');
    log.write('o\nthree');
    await log.close();
    expect(await readBuildLog(log.path)).toBe('one\ntwo\nthree');
  });

  it('tail gives the last lines, joining lines split across writes', async () => {
    const log = await openLog();
    log.write('one\ntw');
    log.write('o\nthree\n');
    expect(log.tail()).toEqual(['one', 'two', 'three']);
  });

  it('tail includes a partial last line', async () => {
    const log = await openLog();
    log.write('one\ntwo\npart');
    expect(log.tail()).toEqual(['one', 'two', 'part']);
    log.write('ial\n');
    expect(log.tail()).toEqual(['one', 'two', 'partial']);
  });

  it('tail(n) gives at most n lines, the newest last', async () => {
    const log = await openLog();
    for (let i = 1; i <= 30; i++) log.write(`line ${i}\n`);
    expect(log.tail(3)).toEqual(['line 28', 'line 29', 'line 30']);
    expect(log.tail()).toHaveLength(20);
    expect(log.tail()[0]).toBe('line 11');
    expect(log.tail().at(-1)).toBe('line 30');
  });

  it('tail counts the partial line among the n', async () => {
    const log = await openLog();
    log.write('a\nb\nc\nd');
    expect(log.tail(2)).toEqual(['c', 'd']);
  });

  it('keeps the last 40 lines in memory, the file keeps everything', async () => {
    const log = await openLog();
    for (let i = 1; i <= 100; i++) log.write(`line ${i}\n`);
    const tail = log.tail(1000);
    expect(tail).toHaveLength(40);
    expect(tail[0]).toBe('line 61');
    expect(tail.at(-1)).toBe('line 100');
    await log.close();
    expect((await readBuildLog(log.path)).split('\n')).toHaveLength(101);
  });

  it('is empty before anything is written', async () => {
    const log = await openLog();
    expect(log.tail()).toEqual([]);
  });

  it('note writes a marked line of its own', async () => {
    const log = await openLog();
    log.write('compiler output');
    log.note('build failed with exit code 1');
    expect(log.tail()).toEqual(['compiler output', '== wheelfarm: build failed with exit code 1']);
    log.write('more\n');
    expect(log.tail(2)).toEqual(['== wheelfarm: build failed with exit code 1', 'more']);
    await log.close();
    expect(await readBuildLog(log.path)).toBe('compiler output\n== wheelfarm: build failed with exit code 1\nmore\n');
  });

  it('note after a complete line leaves a blank line before the note', async () => {
    const log = await openLog();
    log.write('done\n');
    log.note('step finished');
    expect(log.tail()).toEqual(['done', '', '== wheelfarm: step finished']);
  });
});

describe('BuildLog.tail(0)', () => {
  it('returns no lines', async () => {
    const { mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { BuildLog } = await import('../../../farm/src/records/build-log.ts');
    const { rm } = await import('node:fs/promises');
    const dir = await mkdtemp(join(tmpdir(), 'wf-log-'));
    const log = await BuildLog.open({ home: dir, buildId: 'x-1-cp313-manylinux_2_31_x86_64' });
    log.write('one\ntwo\n');
    expect(log.tail(0)).toEqual([]);
    await log.close();
    await rm(dir, { recursive: true, force: true });
  });
});

describe('BuildLog: stored compressed, readable while written', () => {
  it('is gzip on disk and much smaller than its text', async () => {
    const log = await openLog();
    for (let i = 0; i < 2000; i++) log.write(`gcc -O2 -c src/module_${i % 7}.c -o build/module.o\n`);
    await log.close();
    const { readFile, stat } = await import('node:fs/promises');
    expect((await readFile(log.path)).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    const text = await readBuildLog(log.path);
    expect(text.split('\n')).toHaveLength(2001);
    expect((await stat(log.path)).size).toBeLessThan(Buffer.byteLength(text) / 10);
  });

  it('a log still being written shows what was flushed (a crashed build’s log too)', async () => {
    const log = await openLog();
    log.write('step one\n');
    await new Promise((resolve) => setTimeout(resolve, 1300));
    expect(await readBuildLog(log.path)).toBe('step one\n');
    await log.close();
    await log.close();
  });
});
