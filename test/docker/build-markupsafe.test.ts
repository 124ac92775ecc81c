import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { caMount, currentImages, makeTempDir, runInImage, runWheelfarm, wheelfarmContainers, publishedWheels } from './helpers.ts';

/**
 * The whole pipeline on a real C-extension sdist from the upstream index: built for two Pythons,
 * repaired by the real auditwheel, tested in the runtime image, published to a local index that
 * the real pip installs from.
 */
describe('wheelfarm build markupsafe', () => {
  let index: string;
  let images: Awaited<ReturnType<typeof currentImages>>;
  let first: Awaited<ReturnType<typeof runWheelfarm>>;

  beforeAll(async () => {
    images = await currentImages();
    index = await makeTempDir('index');
    first = await runWheelfarm(['build', 'markupsafe', '--python', '3.11,3.13', '--index', index, '--json']);
  });

  it('builds, repairs, tests and publishes one manylinux_2_31 wheel per Python', async () => {
    expect(first.exitCode, first.stderr + first.stdout).toBe(0);
    const cells = first.events.filter((e) => e.type === 'cell');
    expect(cells.map((c) => c.outcome)).toEqual(['published', 'published']);
    const steps = first.events.filter((e) => e.type === 'step' && e.status === 'done').map((e) => e.step);
    for (const step of ['build', 'repair', 'test', 'publish']) expect(steps.filter((s) => s === step)).toHaveLength(2);
    const files = await publishedWheels(index, 'markupsafe');
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/^markupsafe-[\d.]+-cp311-cp311-.*manylinux_2_31_x86_64.*\.whl$/);
    expect(files[1]).toMatch(/^markupsafe-[\d.]+-cp313-cp313-.*manylinux_2_31_x86_64.*\.whl$/);
    const page = await import('node:fs/promises').then((fs) => fs.readFile(join(index, 'simple', 'markupsafe', 'index.html'), 'utf8'));
    for (const file of files) expect(page).toMatch(new RegExp(`${file.replace(/[.+]/g, '\\$&')}#sha256=[0-9a-f]{64}`));
    expect(page).toContain('data-requires-python="&gt;=');
  });

  it('auditwheel show accepts the published wheels under the policy', async () => {
    const { exitCode, output } = await runInImage(
      images.build,
      ['bash', '-c', 'for w in /index/files/markupsafe/*.whl; do auditwheel show "$w" || exit 1; done'],
      { binds: [`${index}:/index:ro`] },
    );
    expect(exitCode, output).toBe(0);
    // auditwheel wraps its lines wherever the file name ends: compare with the white space folded.
    expect(output.replace(/\s+/g, ' ').match(/consistent with the following platform tag: "manylinux_2_\d+_x86_64"/g)).toHaveLength(2);
  });

  it('pip installs it from the index wheelfarm wrote, in the runtime image, binaries only', async () => {
    const ca = caMount();
    for (const python of ['cp311-cp311', 'cp313-cp313']) {
      const { exitCode, output } = await runInImage(
        images.runtime,
        [
          'bash',
          '-c',
          `set -e; /opt/python/${python}/bin/python -m venv /tmp/v && /tmp/v/bin/pip install -v --no-cache-dir --index-url file:///index/simple/ --only-binary :all: markupsafe ` +
            `&& /tmp/v/bin/python -c "import markupsafe, markupsafe._speedups; print(markupsafe.escape('<x>'))"`,
        ],
        { binds: [`${index}:/index:ro`, ...ca.binds], env: ca.env },
      );
      expect(exitCode, output).toBe(0);
      expect(output).toContain('&lt;x&gt;');
      // PEP 658/714: a current pip (3.13's bundled one) resolves from the `.metadata` file beside the
      // wheel; 3.11.2's bundled pip 22.3 knows only PEP 658's first attribute name, which the index
      // does not emit because that pip mishandles it, so it downloads the wheel instead, and works.
      if (python === 'cp313-cp313') expect(output).toMatch(/markupsafe-[^\s]+\.whl\.metadata/);
      else expect(output).not.toMatch(/\.whl\.metadata/);
    }
  });

  it('leaves no container behind', async () => {
    expect(await wheelfarmContainers('markupsafe')).toEqual([]);
  });

  it('a second build downloads nothing, builds nothing and says the wheels are already there', async () => {
    const second = await runWheelfarm(['build', 'markupsafe', '--python', '3.11,3.13', '--index', index, '--json']);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(second.events.find((e) => e.type === 'fetched')).toMatchObject({ cached: true });
    const cells = second.events.filter((e) => e.type === 'cell');
    expect(cells.map((c) => [c.outcome, c.reason])).toEqual([
      ['skipped', 'already in the index'],
      ['skipped', 'already in the index'],
    ]);
    expect(second.events.filter((e) => e.type === 'step')).toEqual([]);
  });
});
