import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBuildLog } from '../../farm/src/records/build-log.ts';
import {
  REPO_ROOT,
  caMount,
  currentImages,
  docker,
  makeTempDir,
  packFixture,
  publishedWheels,
  runInImage,
  runWheelfarm,
  wheelfarmContainers,
} from './helpers.ts';

/**
 * Native libraries built from pinned source (recipes/libraries/), for real: libyaml 0.2.5 (Debian 11
 * has 0.2.2) is the small one CI builds; the shipped recipes' bigger libraries (GEOS, libxml2,
 * libxslt, libgit2, OpenSSL) and GCC go through the same code in scripts/test-slow.sh.
 */
describe('a native library built from source', () => {
  let yamlver: { path: string; sha256: string };
  const createdImages: string[] = [];
  beforeAll(async () => {
    yamlver = await packFixture('yamlver', 'yamlver', '0.1.0');
  });
  afterAll(async () => {
    for (const tag of new Set(createdImages))
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
  });

  /** A recipes folder with `libraries/<name>.yaml` files and `yamlver.yaml` asking for `library`. */
  async function recipesWith(libraries: Record<string, string>, library: string): Promise<string> {
    const dir = await makeTempDir('recipes');
    await mkdir(join(dir, 'libraries'));
    for (const [name, text] of Object.entries(libraries)) await writeFile(join(dir, 'libraries', `${name}.yaml`), text);
    await writeFile(
      join(dir, 'yamlver.yaml'),
      `source:
  url: ${pathToFileURL(yamlver.path).href}
  sha256: ${yamlver.sha256}
build:
  libraries: [{ name: ${library} }]
test:
  command: python -c "import yamlver; v = yamlver.libyaml_version(); assert v == '0.2.5', v; print('libyaml', v)"
`,
    );
    return dir;
  }

  async function build(recipes: string, ...more: string[]) {
    const index = await makeTempDir('index');
    const run = await runWheelfarm(['build', 'yamlver', '--python', '3.13', '--index', index, '--json', ...more], {
      env: { WHEELFARM_RECIPES_DIR: recipes },
    });
    return { ...run, index };
  }

  it('is built once into its own image, grafted into the wheel, named in the build record, and reused by the next build', async () => {
    // The shipped definition, with one CMake variable of this run's own: its image is built here, whatever the engine has.
    const shipped = await readFile(join(REPO_ROOT, 'recipes', 'libraries', 'libyaml.yaml'), 'utf8');
    const definition = shipped.replace('args: [', `args: [-DWHEELFARM_TEST_RUN=${randomUUID()}, `);
    expect(definition).not.toBe(shipped);
    const recipes = await recipesWith({ libyaml: definition }, 'libyaml');
    const run = await build(recipes);
    expect(run.exitCode, run.stderr + run.stdout).toBe(0);
    const built = run.events.filter((e) => e.type === 'image' && (e.kind === 'library' || e.kind === 'recipe') && e.status === 'built');
    createdImages.push(...built.map((e) => String(e.tag)));
    const libraryImage = built.find((e) => e.kind === 'library');
    expect(String(libraryImage?.tag)).toMatch(/^wheelfarm\/library-libyaml:0\.2\.5-[0-9a-f]{16}$/);
    const [wheel] = await publishedWheels(run.index, 'yamlver');
    const listing = (await execa('python3', ['-m', 'zipfile', '-l', join(run.index, 'files', 'yamlver', wheel!)])).stdout;
    expect(listing).toMatch(/yamlver\.libs\/libyaml[^\s]*\.so/);

    // The record names the library and the sha256 of its source; so does the build log.
    const sha256 = 'fa240dbf262be053f3898006d502d514936c818e422afdcf33921c63bed9bf2e';
    const status = await runWheelfarm(['status', 'yamlver', '--json', '--limit', '1']);
    const [record] = (status.events.find((e) => e.type === 'status')!.records as { native: unknown[] }[]) ?? [];
    expect(record!.native).toEqual([{ kind: 'library', name: 'libyaml', version: '0.2.5', sha256, image: libraryImage!.tag }]);
    const log = String(run.events.find((e) => e.type === 'cell')!.log);
    expect(await readBuildLog(log)).toContain(`with library libyaml 0.2.5 built from source (sha256 ${sha256})`);

    // pip installs it in the runtime image, which has no libyaml at all: the grafted 0.2.5 is loaded.
    const ca = caMount();
    const check = await runInImage(
      (await currentImages()).runtime,
      [
        'bash',
        '-c',
        '/opt/python/cp313-cp313/bin/python -m venv /tmp/v && /tmp/v/bin/pip install -q --index-url file:///index/simple/ --only-binary :all: yamlver && cd /tmp && /tmp/v/bin/python -c "import yamlver; print(yamlver.libyaml_version())"',
      ],
      { binds: [`${run.index}:/index:ro`, ...ca.binds], env: ca.env },
    );
    expect(check.exitCode, check.output).toBe(0);
    expect(check.output).toContain('0.2.5');

    // A second build into another index: the library image is reused, not rebuilt.
    const again = await build(recipes);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.events.filter((e) => e.type === 'image' && e.kind === 'library').map((e) => e.status)).toEqual([]);
    expect(again.events.find((e) => e.type === 'image' && e.kind === 'recipe')).toMatchObject({ status: 'present' });

    // `images list` shows the library image with what it holds; `recipes show` lists the library.
    const images = await runWheelfarm(['images', 'list', '--json'], { env: { WHEELFARM_RECIPES_DIR: recipes } });
    const listed = (images.events.find((e) => e.type === 'images')!.images as { tag: string; kind: string; source?: unknown }[]).find(
      (image) => image.tag === libraryImage!.tag,
    );
    expect(listed).toMatchObject({ kind: 'library', current: true, present: true, source: { name: 'libyaml', version: '0.2.5', sha256 } });
    const shown = await runWheelfarm(['recipes', 'show', 'yamlver'], { env: { WHEELFARM_RECIPES_DIR: recipes } });
    expect(shown.stdout + shown.stderr).toContain(
      `#   library libyaml 0.2.5 (cmake; ${join(recipes, 'libraries', 'libyaml.yaml')}), source sha256 ${sha256}`,
    );
  });

  it('two farm processes needing the same new library build it once: the other waits for it and reuses it', async () => {
    const shipped = await readFile(join(REPO_ROOT, 'recipes', 'libraries', 'libyaml.yaml'), 'utf8');
    const recipes = await recipesWith({ libyaml: shipped.replace('args: [', `args: [-DWHEELFARM_TEST_RUN=${randomUUID()}, `) }, 'libyaml');
    const runs = await Promise.all([build(recipes), build(recipes)]);
    for (const run of runs) expect(run.exitCode, run.stderr).toBe(0);
    const libraryEvents = runs.flatMap((run) => run.events.filter((e) => e.type === 'image' && e.kind === 'library'));
    createdImages.push(
      ...runs.flatMap((run) => run.events.filter((e) => e.type === 'image' && e.status === 'built').map((e) => String(e.tag))),
    );
    expect(libraryEvents.filter((e) => e.status === 'built')).toHaveLength(1);
    expect(libraryEvents.filter((e) => e.status === 'present')).toHaveLength(1);
  });

  it('a source whose sha256 does not match: library-source-mismatch naming the definition; nothing cached, no image', async () => {
    const tarball = join(await makeTempDir('src'), 'fake-1.0.tar.gz');
    await writeFile(tarball, 'not the pinned bytes');
    const wrong = 'c'.repeat(64);
    const recipes = await recipesWith(
      { fake: `version: "1.0"\nsources:\n  - url: ${pathToFileURL(tarball).href}\n    sha256: ${wrong}\nbuild: { autotools: {} }\n` },
      'fake',
    );
    const run = await build(recipes);
    expect(run.exitCode).toBe(5);
    const error = (run.events.find((e) => e.type === 'summary') as { results?: { error?: { code: string; message: string } }[] })
      ?.results?.[0]?.error;
    expect(error?.code).toBe('library-source-mismatch');
    expect(error?.message).toContain(`library fake 1.0 (${join(recipes, 'libraries', 'fake.yaml')})`);
    expect(existsSync(join(process.env.WHEELFARM_HOME!, 'cache', 'sources', wrong))).toBe(false);
    expect(await docker.listImages({ filters: { reference: ['wheelfarm/library-fake'] } })).toEqual([]);
    expect(await wheelfarmContainers('yamlver')).toEqual([]);
  });

  it('a library build that fails: library-build-failed naming the library, with the end of its log; no image', async () => {
    const tarball = join(await makeTempDir('src'), 'failing-1.0.tar.gz');
    const dir = await makeTempDir('failing');
    await mkdir(join(dir, 'failing-1.0'));
    await writeFile(join(dir, 'failing-1.0', 'README'), 'a library that does not build\n');
    await execa('tar', ['-czf', tarball, '-C', dir, 'failing-1.0']);
    const sha256 = createHash('sha256')
      .update(await readFile(tarball))
      .digest('hex');
    const script = 'echo "checking for the impossible... no" && echo "configure: error: cannot build here (wheelfarm test)" >&2 && exit 3';
    const recipes = await recipesWith(
      {
        failing: `version: "1.0"\nsources:\n  - url: ${pathToFileURL(tarball).href}\n    sha256: ${sha256}\nbuild:\n  script: '${script}'\n`,
      },
      'failing',
    );
    const run = await build(recipes);
    expect(run.exitCode).toBe(1);
    const error = (run.events.find((e) => e.type === 'summary') as { results?: { error?: { code: string; message: string } }[] })
      ?.results?.[0]?.error;
    expect(error?.code).toBe('library-build-failed');
    expect(error?.message).toContain(`building library failing 1.0 from source failed (${join(recipes, 'libraries', 'failing.yaml')})`);
    expect(error?.message).toContain('configure: error: cannot build here (wheelfarm test)');
    expect(await docker.listImages({ filters: { reference: ['wheelfarm/library-failing'] } })).toEqual([]);
    expect(await wheelfarmContainers('yamlver')).toEqual([]);
  });
});
