import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../farm/src/config/settings.ts';
import { createFarmContext } from '../../farm/src/farm-context.ts';
import type { FarmContext } from '../../farm/src/farm-context.ts';
import { BuildStepError } from '../../farm/src/errors.ts';
import { buildCell } from '../../farm/src/pipeline/build-cell.ts';
import type { CellPlan } from '../../farm/src/pipeline/cell-plan.ts';
import type { FarmEvent } from '../../farm/src/pipeline/events.ts';
import { packBuildContext } from '../../farm/src/images/build-context.ts';
import { formatBuildId } from '../../farm/src/wheels/build-id.ts';
import { REPO_ROOT, caMount, currentImages, makeTempDir, runInImage, wheelfarmContainers } from './helpers.ts';

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');

/** Make a real sdist (`name-version.tar.gz` with one top-level folder) from a fixture folder. */
async function makeSdist(fixture: string, name: string, version: string): Promise<string> {
  const dir = await makeTempDir('sdist');
  const path = join(dir, `${name}-${version}.tar.gz`);
  await execa('tar', ['-czf', path, '--transform', `s,^\\.,${name}-${version},`, '-C', join(FIXTURES, 'sdists', fixture), '.']);
  return path;
}

/**
 * Cells driven through the pipeline directly, for sdists that are not on the upstream index:
 * a package linking a system library (grafted by auditwheel) and one whose build fails.
 */
describe('pipeline cells with fixture sdists', () => {
  let images: Awaited<ReturnType<typeof currentImages>>;
  let context: FarmContext;
  let index: string;
  const events: FarmEvent[] = [];

  beforeAll(async () => {
    images = await currentImages();
    index = await makeTempDir('index');
    const settings = await loadSettings({ root: REPO_ROOT });
    context = createFarmContext({ settings, emit: (e) => events.push(e), signal: new AbortController().signal, indexDir: index });
  });

  async function plan(name: string, sdistPath: string, buildImage: string, python = 'cp313'): Promise<CellPlan> {
    const cell = { name, version: '0.1.0', python, platform: 'manylinux_2_31_x86_64' };
    return {
      cell,
      buildId: formatBuildId(cell),
      pythonDir: `${python}-${python}`,
      sdist: { filename: sdistPath.split('/').pop()!, path: sdistPath },
      images: { build: buildImage, runtime: images.runtime },
      user: { name: 'builder', uid: 1000 },
      upstreamIndexUrl: (await context.upstreamIndex()).url,
    };
  }

  it('grafts a linked system library into <pkg>.libs/ so it imports where the library is absent', async () => {
    // The build image plus libyaml-dev: what a recipe image will provide (issue 3).
    const dockerfile = await readFile(join(FIXTURES, 'Dockerfile.libyaml'), 'utf8');
    const tag = `wheelfarm-test/build-libyaml:${createHash('sha256').update(images.build + dockerfile).digest('hex').slice(0, 16)}`;
    if (!(await context.runtime.inspectImage(tag))) {
      await context.runtime.buildImage({
        context: packBuildContext({ dockerfile, scripts: {}, sources: [], hostCaPath: undefined }),
        tag,
        buildArgs: { BUILD_IMAGE: images.build },
      });
    }
    const sdist = await makeSdist('yamlver', 'yamlver', '0.1.0');
    const result = await buildCell(context, await plan('yamlver', sdist, tag));
    expect(result.error?.message, result.log).toBeUndefined();
    expect(result.outcome).toBe('published');
    const [wheel] = await readdir(join(index, 'files', 'yamlver'));
    expect(wheel).toMatch(/^yamlver-0\.1\.0-cp313-cp313-.*manylinux_2_31_x86_64.*\.whl$/);

    const listing = await execa('python3', ['-m', 'zipfile', '-l', join(index, 'files', 'yamlver', wheel!)]);
    expect(listing.stdout).toMatch(/yamlver\.libs\/libyaml-0[^\s]*\.so[^\s]*/);

    const ca = caMount();
    const check = await runInImage(
      images.runtime,
      [
        'bash',
        '-c',
        'if ls /usr/lib/x86_64-linux-gnu/libyaml* /lib/x86_64-linux-gnu/libyaml* 2>/dev/null; then echo LIBYAML_PRESENT; fi; ' +
          '/opt/python/cp313-cp313/bin/python -m venv /tmp/v && /tmp/v/bin/pip install -q --no-cache-dir --index-url file:///index/simple/ --only-binary :all: yamlver ' +
          '&& cd /tmp && /tmp/v/bin/python -c "import yamlver; print(\'libyaml\', yamlver.libyaml_version())"',
      ],
      { binds: [`${index}:/index:ro`, ...ca.binds], env: ca.env },
    );
    expect(check.output).not.toContain('LIBYAML_PRESENT');
    expect(check.exitCode, check.output).toBe(0);
    expect(check.output).toMatch(/libyaml 0\.\d+\.\d+/);
  });

  it('a build that fails: the log tail names the compiler error, nothing is published, no container is left', async () => {
    const sdist = await makeSdist('broken', 'brokenext', '0.1.0');
    const result = await buildCell(context, await plan('brokenext', sdist, images.build));
    expect(result.outcome).toBe('failed');
    expect(result.error).toBeInstanceOf(BuildStepError);
    const error = result.error as BuildStepError;
    expect(error.step).toBe('build');
    expect(error.logTail.join('\n')).toContain('WHEELFARM_EXPECTED_COMPILE_ERROR');
    expect(await readFile(result.log!, 'utf8')).toContain('error:');
    await expect(readdir(join(index, 'files', 'brokenext'))).rejects.toThrow(/ENOENT/);
    expect(await context.publisher.listFiles('brokenext')).toEqual([]);
    expect(await wheelfarmContainers()).toEqual([]);
    const failedCell = events.find((e) => e.type === 'cell' && e.outcome === 'failed');
    expect(failedCell).toMatchObject({ buildId: 'brokenext-0.1.0-cp313-manylinux_2_31_x86_64' });
  });
});
