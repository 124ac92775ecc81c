import { beforeAll, describe, expect, it } from 'vitest';
import { currentImages, runInImage, runWheelfarm } from './helpers.ts';

describe('the build and runtime images', () => {
  let images: Awaited<ReturnType<typeof currentImages>>;
  beforeAll(async () => {
    images = await currentImages();
  });

  it('runtime image: the CPythons work, and there is no compiler and no -dev package', async () => {
    const { exitCode, output } = await runInImage(images.runtime, [
      'bash',
      '-c',
      'for c in gcc cc g++ c++ clang make; do command -v $c && echo "FOUND $c"; done; ' +
        'dpkg-query -W -f "\\${Package}\\n" | grep -- "-dev$" | sed "s/^/DEV /"; ' +
        '/opt/python/cp311-cp311/bin/python -c "import ssl, sqlite3, ctypes; print(\'py311 ok\')"; ' +
        '/opt/python/cp313-cp313/bin/python -c "import ssl, sqlite3, ctypes; print(\'py313 ok\')"; id -u',
    ]);
    expect(exitCode).toBe(0);
    expect(output).not.toMatch(/FOUND|DEV /);
    expect(output).toContain('py311 ok');
    expect(output).toContain('py313 ok');
    expect(output.trim().split('\n').at(-1)).not.toBe('0');
  });

  it('build image: non-root user, glibc 2.31, patchelf >= 0.14.5, auditwheel, build, AUDITWHEEL_PLAT', async () => {
    const { exitCode, output } = await runInImage(images.build, [
      'bash',
      '-c',
      'id -u; ldd --version | head -1; patchelf --version; auditwheel --version; echo "plat=$AUDITWHEEL_PLAT"; ' +
        'for py in /opt/python/*/bin/python; do $py -m build --version; done',
    ]);
    expect(exitCode).toBe(0);
    const lines = output.trim().split('\n');
    expect(lines[0]).not.toBe('0');
    expect(output).toMatch(/GLIBC 2\.31|2\.31$/m);
    const patchelf = /patchelf (\d+)\.(\d+)\.(\d+)/.exec(output);
    expect(patchelf).not.toBeNull();
    const [, major, minor, patch] = patchelf!.map(Number);
    expect(major! * 1e6 + minor! * 1e3 + patch!).toBeGreaterThanOrEqual(14_005);
    expect(output).toMatch(/auditwheel \d+\.\d+/);
    expect(output).toContain('plat=manylinux_2_31_x86_64');
    expect(output.match(/^build \d/gm)).toHaveLength(2);
  });

  it('`images list --json` shows the current images present; `images build` again builds nothing', async () => {
    const list = await runWheelfarm(['images', 'list', '--json']);
    expect(list.exitCode).toBe(0);
    const rows = list.events.find((e) => e.type === 'images')!.images as Array<{
      kind: string;
      tag: string;
      present: boolean;
      current: boolean;
    }>;
    for (const kind of ['base', 'build', 'runtime']) {
      expect(rows).toContainEqual(
        expect.objectContaining({ kind, tag: images[kind as keyof typeof images], present: true, current: true }),
      );
    }
    const again = await runWheelfarm(['images', 'build', '--json']);
    expect(again.exitCode).toBe(0);
    const statuses = again.events.filter((e) => e.type === 'image').map((e) => e.status);
    expect(statuses).toEqual(['present', 'present', 'present']);
  });
});
