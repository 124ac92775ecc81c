import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { caMount, currentImages, makeTempDir, runInImage, runWheelfarm, publishedWheels } from '../docker/helpers.ts';

/**
 * The acceptance of the recipes issues, for real: `wheelfarm build numpy` with the shipped recipe
 * (OpenBLAS, GCC 14 from source) builds the newest release for every Python of the image its
 * requires-python admits (numpy 2.5: Python >= 3.12, so cp313), whose BLAS computation passes in the
 * runtime image and that needs nothing outside the policy (GCC 14's libstdc++ linked statically);
 * a second build rebuilds no image and no wheel.
 */
describe('wheelfarm build numpy (slow)', () => {
  let index: string;
  let first: Awaited<ReturnType<typeof runWheelfarm>>;
  let images: Awaited<ReturnType<typeof currentImages>>;

  beforeAll(async () => {
    images = await currentImages();
    index = await makeTempDir('index');
    first = await runWheelfarm(['build', 'numpy', '--index', index, '--json']);
  });

  it('publishes the newest release for cp313 (its requires-python leaves 3.11 out), carrying OpenBLAS under numpy.libs/', async () => {
    expect(first.exitCode, first.stderr).toBe(0);
    const files = await publishedWheels(index, 'numpy');
    expect(files).toEqual([expect.stringMatching(/^numpy-2\.(5|[6-9]|\d\d)[\d.]*-cp313-cp313-.*manylinux_2_31_x86_64.*\.whl$/)]);
    const listing = await execa('python3', ['-m', 'zipfile', '-l', join(index, 'files', 'numpy', files[0]!)]);
    expect(listing.stdout).toMatch(/numpy\.libs\/libopenblas[^\s]*\.so/);
  });

  it('auditwheel show: consistent with the policy, no external library beyond it', async () => {
    const { exitCode, output } = await runInImage(
      images.build,
      ['bash', '-c', 'for w in /index/files/numpy/*.whl; do auditwheel show "$w" || exit 1; done'],
      {
        binds: [`${index}:/index:ro`],
      },
    );
    expect(exitCode, output).toBe(0);
    // auditwheel wraps its lines wherever the file name ends: compare with the white space folded.
    expect(output.replace(/\s+/g, ' ').match(/consistent with the following platform tag: "manylinux_2_31_x86_64"/g)).toHaveLength(1);
    expect(output).not.toMatch(/external shared libraries/);
  });

  it('the recipe test (BLAS matmul, solve and inverse) passed in the runtime image, and pip installs it there', async () => {
    const cells = first.events.filter((e) => e.type === 'cell');
    expect(cells.map((c) => c.outcome)).toEqual(['published']);
    const ca = caMount();
    const { exitCode, output } = await runInImage(
      images.runtime,
      [
        'bash',
        '-c',
        '/opt/python/cp313-cp313/bin/python -m venv /tmp/v && /tmp/v/bin/pip install -q --index-url file:///index/simple/ --only-binary :all: numpy && cd /tmp && ' +
          "/tmp/v/bin/python -c \"import numpy as np; a = np.random.rand(200, 200) + 200 * np.eye(200); assert np.allclose(a @ np.linalg.inv(a), np.eye(200)); print(np.show_config(mode='dicts')['Build Dependencies']['blas']['name'])\"",
      ],
      { binds: [`${index}:/index:ro`, ...ca.binds], env: ca.env },
    );
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/openblas/);
  });

  it('a second build rebuilds no image and no wheel, and says so', async () => {
    const second = await runWheelfarm(['build', 'numpy', '--index', index, '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    const imageEvents = second.events.filter((e) => e.type === 'image');
    // The build and runtime images, and the recipe image (with GCC 14 in it): all there, none built.
    expect(imageEvents.map((e) => [e.kind, e.status])).toEqual([
      ['build', 'present'],
      ['runtime', 'present'],
      ['recipe', 'present'],
    ]);
    expect(second.events.filter((e) => e.type === 'cell').map((c) => [c.outcome, c.reason])).toEqual([['skipped', 'already in the index']]);
  });
});
