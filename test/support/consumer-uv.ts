import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { failureReason } from './needs.ts';

/**
 * uv's manylinux wheel, for consumers in containers that have no route out (uv is a tool of the
 * tests, not part of any application the farm serves). Downloaded once by the host's pip (its own
 * configuration: upstream index, proxy, CA) into the tests' shared cache, beside the CPython sources
 * (test-home.ts), so reruns download nothing. The newest wheel there is used; delete the folder to
 * get a newer uv. A download lands in a temporary folder first and is renamed into place, so a
 * killed download never leaves half a wheel in the cache.
 */
export const UV_CACHE = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'wheelfarm-tests', 'uv');

const UV_WHEEL = /^uv-(\d+(?:\.\d+)*)-py3-none-manylinux[\w.]*x86_64\.whl$/;

/** The cached uv wheel (`path`: its folder, `file`: its name), or why it could not be had (`missing`, for describeNeeding). */
export async function cachedUvWheel(): Promise<{ dir: string; file: string; missing?: undefined } | { missing: string }> {
  try {
    await mkdir(UV_CACHE, { recursive: true });
    const cached = await newestUvWheel(UV_CACHE);
    if (cached) return { dir: UV_CACHE, file: cached };
    const download = await mkdtemp(join(UV_CACHE, '.download-'));
    try {
      await execa('python3', [
        '-m',
        'pip',
        'download',
        '-q',
        '--no-deps',
        '--only-binary',
        ':all:',
        '--python-version',
        '3.13',
        '--platform',
        'manylinux_2_17_x86_64',
        '-d',
        download,
        'uv',
      ]);
      const file = await newestUvWheel(download);
      if (!file) return { missing: `pip downloaded no uv manylinux wheel into ${download}` };
      await rename(join(download, file), join(UV_CACHE, file));
      return { dir: UV_CACHE, file };
    } finally {
      await rm(download, { recursive: true, force: true });
    }
  } catch (error) {
    return { missing: `uv's wheel could not be downloaded by the host's pip: ${failureReason(error)}` };
  }
}

async function newestUvWheel(dir: string): Promise<string | undefined> {
  const version = (file: string): number[] => (UV_WHEEL.exec(file)?.[1] ?? '').split('.').map(Number);
  const wheels = (await readdir(dir)).filter((file) => UV_WHEEL.test(file));
  return wheels.sort((a, b) => compareVersions(version(b), version(a)))[0];
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}
