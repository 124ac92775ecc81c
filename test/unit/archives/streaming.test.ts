// farm/src/archives: archives are checked as streams, so memory stays flat whatever their size.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSdist } from '../../../farm/src/archives/check-sdist.ts';
import { checkWheel } from '../../../farm/src/archives/check-wheel.ts';
import { fixture, tempDir } from './archive-fixtures.ts';

const MiB = 1024 * 1024;
const SIZE = 256 * MiB;
/**
 * What the check may add to the process's RSS: far less than the archive. Not a few MB: inflated
 * chunks are garbage at once, but V8 collects buffers only once some tens of MB of them add up.
 */
const MAX_GROWTH = SIZE / 2;

// Written as streams too (Python's tarfile and zipfile, 1 MiB at a time), so making them is cheap.
const WRITE_BIG = `
import gzip, io, sys, tarfile, zipfile
kind, path, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
chunk = bytes(1 << 20)
class Zeros(io.RawIOBase):
    def __init__(self): self.left = size
    def readable(self): return True
    def readinto(self, buffer):
        n = min(len(buffer), self.left); buffer[:n] = bytes(n); self.left -= n; return n
if kind == "sdist":
    with gzip.GzipFile(path, "wb", compresslevel=1, mtime=0) as gz, tarfile.open(fileobj=gz, mode="w|") as archive:
        info = tarfile.TarInfo("big-1.0/zeros.bin"); info.size = size
        archive.addfile(info, io.BufferedReader(Zeros(), 1 << 20))
else:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("big/zeros.bin", "w", force_zip64=True) as member:
            for _ in range(size >> 20): member.write(chunk)
`;

/** The highest RSS seen while `work` runs, sampled every 5 ms, minus the RSS before. */
async function rssGrowth(work: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - before;
}

describe('checking a 256 MiB archive', () => {
  let dir: string;
  let remove: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, remove } = await tempDir());
    // Warm up (modules, zlib, JIT), so the measurement sees the check alone.
    await checkSdist({ path: fixture('good-1.0.tar.gz') });
    await checkWheel({ path: fixture('good-1.0-py3-none-any.whl') });
  });
  afterAll(() => remove());

  it('an sdist (tar.gz) is read as a stream: memory grows by far less than its size', async () => {
    const path = join(dir, 'big-1.0.tar.gz');
    execFileSync('python3', ['-c', WRITE_BIG, 'sdist', path, String(SIZE)]);
    expect(statSync(path).size).toBeLessThan(2 * MiB);
    let summary: Awaited<ReturnType<typeof checkSdist>> | undefined;
    const growth = await rssGrowth(async () => (summary = await checkSdist({ path })));
    expect(summary!.bytes).toBeGreaterThanOrEqual(SIZE);
    expect(growth).toBeLessThan(MAX_GROWTH);
  });

  it('a wheel (zip) is inflated as a stream too', async () => {
    const path = join(dir, 'big-1.0-py3-none-any.whl');
    execFileSync('python3', ['-c', WRITE_BIG, 'wheel', path, String(SIZE)]);
    let summary: Awaited<ReturnType<typeof checkWheel>> | undefined;
    // Zeros inflate 1000:1; the default ratio limit would (rightly) call this a bomb.
    const growth = await rssGrowth(async () => (summary = await checkWheel({ path, limits: { maxCompressionRatio: 2000 } })));
    expect(summary).toEqual({ members: 1, bytes: SIZE });
    expect(growth).toBeLessThan(MAX_GROWTH);
  });
});
