import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, PublishConflictError, UserInputError, type WheelfarmError } from '../../../farm/src/errors.ts';
import { tempPathFor } from '../../../farm/src/index/atomic-write.ts';
import { LocalDirPublisher } from '../../../farm/src/index/local-dir-publisher.ts';
import type { WheelToPublish } from '../../../farm/src/index/publisher.ts';
import { makePureWheel } from '../../fixtures/wheels/make-zip.ts';
import type { PureWheelOptions } from '../../fixtures/wheels/make-zip.ts';
import { links, rejection } from '../../support/html.ts';

const run = promisify(execFile);
const PUBLISHER_MODULE = pathToFileURL(join(import.meta.dirname, '../../../farm/src/index/local-dir-publisher.ts')).href;
const ATOMIC_WRITE_MODULE = pathToFileURL(join(import.meta.dirname, '../../../farm/src/index/atomic-write.ts')).href;

let work: string;
let root: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'wheelfarm-publish-'));
  root = join(work, 'index');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Builds a wheel in its own folder (so two wheels may share a filename) and describes it for publishing. */
function wheel(options: PureWheelOptions & { project?: string }): WheelToPublish {
  const dir = mkdtempSync(join(work, 'build-'));
  const built = makePureWheel(dir, options);
  const request: WheelToPublish = {
    path: built.path,
    filename: built.filename,
    sha256: sha256(built.path),
    project: options.project ?? options.name,
  };
  if (options.requiresPython) request.requiresPython = options.requiresPython;
  return request;
}

/** Every file under the index except lock directories, relative to the root. */
function indexFiles(): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .filter((path) => !path.startsWith(join('.wheelfarm', 'locks')))
    .sort();
}

function page(...segments: string[]): string {
  return readFileSync(join(root, 'simple', ...segments, 'index.html'), 'utf8');
}

describe('LocalDirPublisher', () => {
  it('publishes a wheel: file, manifest, project page and root page', async () => {
    const publisher = new LocalDirPublisher({ root });
    const tiny = wheel({ name: 'Tiny.Pkg', version: '1.0', requiresPython: '>=3.9' });

    expect(await publisher.publish(tiny)).toBe('published');

    expect(indexFiles()).toEqual([
      join('.wheelfarm', 'projects', 'tiny-pkg.json'),
      join('files', 'tiny-pkg', tiny.filename),
      join('files', 'tiny-pkg', `${tiny.filename}.metadata`),
      join('simple', 'index.html'),
      join('simple', 'index.json'),
      join('simple', 'tiny-pkg', 'index.html'),
      join('simple', 'tiny-pkg', 'index.json'),
    ]);
    // PEP 658/714: the wheel's METADATA byte for byte beside it, its hash on the link and in the JSON page.
    const metadataPath = join(root, 'files', 'tiny-pkg', `${tiny.filename}.metadata`);
    expect(readFileSync(metadataPath, 'utf8')).toMatch(/^Metadata-Version: .*\nName: Tiny\.Pkg\n/);
    const metadataSha = sha256(metadataPath);
    expect(page('tiny-pkg')).toContain(`data-core-metadata="sha256=${metadataSha}"`);
    // Never PEP 658's first name: pip 22.x mishandles it (see render-simple-page.ts).
    expect(page('tiny-pkg')).not.toContain('dist-info-metadata');
    const json = JSON.parse(readFileSync(join(root, 'simple', 'tiny-pkg', 'index.json'), 'utf8'));
    expect(json).toMatchObject({
      meta: { 'api-version': '1.1' },
      name: 'Tiny.Pkg',
      versions: ['1.0'],
      files: [
        {
          filename: tiny.filename,
          url: `../../files/tiny-pkg/${tiny.filename}`,
          hashes: { sha256: tiny.sha256 },
          'requires-python': '>=3.9',
          'core-metadata': { sha256: metadataSha },
          size: statSync(tiny.path).size,
          yanked: false,
        },
      ],
    });
    expect(Date.parse(json.files[0]['upload-time'])).not.toBeNaN();
    expect(JSON.parse(readFileSync(join(root, 'simple', 'index.json'), 'utf8'))).toEqual({
      meta: { 'api-version': '1.1' },
      projects: [{ name: 'tiny-pkg' }],
    });
    expect(sha256(join(root, 'files', 'tiny-pkg', tiny.filename))).toBe(tiny.sha256);
    expect(links(page('tiny-pkg'))).toEqual([`../../files/tiny-pkg/${tiny.filename}#sha256=${tiny.sha256}`]);
    expect(page('tiny-pkg')).toContain('data-requires-python="&gt;=3.9"');
    expect(links(page())).toEqual(['tiny-pkg/']);
    expect(await publisher.listFiles('TINY_pkg')).toEqual([
      { filename: tiny.filename, sha256: tiny.sha256, size: statSync(tiny.path).size, requiresPython: '>=3.9' },
    ]);
    expect(publisher.indexUrl).toBe(`${pathToFileURL(join(root, 'simple')).href}/`);
  });

  it('lists nothing for an unknown project', async () => {
    expect(await new LocalDirPublisher({ root }).listFiles('nothing-here')).toEqual([]);
  });

  it('treats the same bytes again as a no-op', async () => {
    const publisher = new LocalDirPublisher({ root });
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await publisher.publish(tiny);
    const before = indexFiles().map((path) => [path, statSync(join(root, path)).mtimeMs, statSync(join(root, path)).ino]);

    expect(await publisher.publish({ ...tiny })).toBe('unchanged');
    expect(await new LocalDirPublisher({ root }).publish({ ...tiny, sha256: tiny.sha256.toUpperCase() })).toBe('unchanged');

    const after = indexFiles().map((path) => [path, statSync(join(root, path)).mtimeMs, statSync(join(root, path)).ino]);
    expect(after).toEqual(before);
  });

  it('refuses other bytes under a published filename and leaves everything as it was', async () => {
    const publisher = new LocalDirPublisher({ root });
    const original = wheel({ name: 'tiny', version: '1.0', marker: 'first build' });
    const rebuild = wheel({ name: 'tiny', version: '1.0', marker: 'second build' });
    expect(rebuild.filename).toBe(original.filename);
    expect(rebuild.sha256).not.toBe(original.sha256);
    await publisher.publish(original);
    const manifest = readFileSync(join(root, '.wheelfarm', 'projects', 'tiny.json'), 'utf8');
    const projectPage = page('tiny');

    const error = await rejection(publisher.publish(rebuild));

    expect(error).toBeInstanceOf(PublishConflictError);
    const conflict = error as PublishConflictError;
    expect(conflict.code).toBe('publish-conflict');
    expect(conflict.message).toContain(original.filename);
    expect(conflict.message).toContain(original.sha256);
    expect(conflict.message).toContain(rebuild.sha256);
    expect(conflict.hint).toContain('build tag');
    expect(sha256(join(root, 'files', 'tiny', original.filename))).toBe(original.sha256);
    expect(readFileSync(join(root, '.wheelfarm', 'projects', 'tiny.json'), 'utf8')).toBe(manifest);
    expect(page('tiny')).toBe(projectPage);
    expect(indexFiles()).toHaveLength(7);
  });

  it('refuses a wheel whose bytes do not match its sha256 and leaves no file behind', async () => {
    const publisher = new LocalDirPublisher({ root });
    const tiny = wheel({ name: 'tiny', version: '1.0' });

    const error = await rejection(publisher.publish({ ...tiny, sha256: 'f'.repeat(64) }));

    expect(error).toBeInstanceOf(IntegrityError);
    expect((error as IntegrityError).message).toContain(tiny.sha256);
    expect(indexFiles()).toEqual([]);
    expect(await publisher.listFiles('tiny')).toEqual([]);
  });

  it('verifies the bytes even when the filename is already published', async () => {
    const publisher = new LocalDirPublisher({ root });
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await publisher.publish(tiny);
    const other = wheel({ name: 'tiny', version: '1.0', marker: 'other' });

    // The claimed hash is the published one, but the bytes on disk are different.
    const error = await rejection(publisher.publish({ ...other, sha256: tiny.sha256 }));

    expect(error).toBeInstanceOf(IntegrityError);
    expect(sha256(join(root, 'files', 'tiny', tiny.filename))).toBe(tiny.sha256);
  });

  it('keeps every wheel of concurrent publishes to one project', async () => {
    const publisher = new LocalDirPublisher({ root });
    const wheels = Array.from({ length: 10 }, (_, index) => wheel({ name: 'busy', version: `1.0.${index}` }));

    const outcomes = await Promise.all(wheels.map((each) => publisher.publish(each)));

    expect(outcomes).toEqual(Array(10).fill('published'));
    const filenames = wheels.map((each) => each.filename).sort();
    expect((await publisher.listFiles('busy')).map((file) => file.filename)).toEqual(filenames);
    expect(links(page('busy'))).toEqual(wheels.map((each) => `../../files/busy/${each.filename}#sha256=${each.sha256}`).sort());
    expect(indexFiles().filter((path) => path.includes('.tmp'))).toEqual([]);
  });

  it('keeps every project on the root page when several publish at once', async () => {
    const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo', 'foxtrot'];
    const outcomes = await Promise.all(names.map((name) => new LocalDirPublisher({ root }).publish(wheel({ name, version: '1.0' }))));
    expect(outcomes).toEqual(Array(names.length).fill('published'));
    expect(links(page())).toEqual([...names].sort().map((name) => `${name}/`));
  });

  it('keeps every wheel when several processes publish to one project at once', async () => {
    const perProcess = 4;
    const batches = Array.from({ length: 3 }, (_, process) =>
      Array.from({ length: perProcess }, (_, index) => wheel({ name: 'shared', version: `${process + 1}.${index}` })),
    );
    const script = `
      const { LocalDirPublisher } = await import(${JSON.stringify(PUBLISHER_MODULE)});
      const [root, wheels] = JSON.parse(process.argv[1]);
      const publisher = new LocalDirPublisher({ root });
      const outcomes = await Promise.all(wheels.map((wheel) => publisher.publish(wheel)));
      process.stdout.write(JSON.stringify(outcomes));
    `;
    const outputs = await Promise.all(
      batches.map((batch) => run(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, JSON.stringify([root, batch])])),
    );

    expect(outputs.flatMap((output) => JSON.parse(output.stdout) as string[])).toEqual(Array(12).fill('published'));
    const filenames = batches
      .flat()
      .map((each) => each.filename)
      .sort();
    expect((await new LocalDirPublisher({ root }).listFiles('shared')).map((file) => file.filename)).toEqual(filenames);
    expect(links(page('shared'))).toHaveLength(12);
  });

  it('ignores leftover temp files and completes the pages of a publish that crashed after its manifest', async () => {
    const publisher = new LocalDirPublisher({ root });
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await publisher.publish(tiny);
    // What a crash can leave: half-written temp files, and a manifest whose pages were never written.
    writeFileSync(join(root, '.wheelfarm', 'projects', '.ghost.json.123.abcd.tmp'), '{"half');
    writeFileSync(join(root, 'files', 'tiny', `.${tiny.filename}.123.abcd.tmp`), 'partial');
    rmSync(join(root, 'simple'), { recursive: true });

    expect(await publisher.publish(tiny)).toBe('unchanged');

    expect(links(page())).toEqual(['tiny/']);
    expect(links(page('tiny'))).toEqual([`../../files/tiny/${tiny.filename}#sha256=${tiny.sha256}`]);
    expect(await publisher.listFiles('tiny')).toHaveLength(1);
    const another = wheel({ name: 'tiny', version: '2.0' });
    expect(await publisher.publish(another)).toBe('published');
    expect(links(page('tiny'))).toHaveLength(2);
  });

  it("removes the temp files of publishes whose process died, keeps a live writer's, and repair does too", async () => {
    const publisher = new LocalDirPublisher({ root });
    await publisher.publish(wheel({ name: 'tiny', version: '1.0' }));
    // Temp files named as a publish names them, by a process that then exits (as if killed mid-write).
    const script = `
      const { writeFileSync } = await import('node:fs');
      const { tempPathFor } = await import(${JSON.stringify(ATOMIC_WRITE_MODULE)});
      const paths = JSON.parse(process.argv[1]).map((path) => tempPathFor(path));
      for (const path of paths) writeFileSync(path, 'half of it');
      process.stdout.write(JSON.stringify(paths));
    `;
    const writeAsDeadProcess = async (...paths: string[]): Promise<string[]> =>
      JSON.parse(
        (await run(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, JSON.stringify(paths)])).stdout,
      ) as string[];
    const tinyDir = join(root, 'files', 'tiny');
    const dead = await writeAsDeadProcess(
      join(tinyDir, 'tiny-3.0-py3-none-any.whl'),
      join(root, '.wheelfarm', 'projects', 'tiny.json'),
      join(root, '.wheelfarm', 'pending', 'tiny'),
      join(root, 'simple', 'tiny', 'index.html'),
    );
    const live = tempPathFor(join(tinyDir, 'tiny-4.0-py3-none-any.whl'));
    writeFileSync(live, 'still being written');
    const foreign = join(tinyDir, '.tiny-5.0-py3-none-any.whl.123.abcd.tmp');
    writeFileSync(foreign, 'no host in its name');

    expect(await publisher.publish(wheel({ name: 'tiny', version: '2.0' }))).toBe('published');
    expect(dead.filter((path) => existsSync(path))).toEqual([]);
    expect([live, foreign].filter((path) => existsSync(path))).toEqual([live, foreign]);

    const again = await writeAsDeadProcess(join(tinyDir, 'tiny-3.0-py3-none-any.whl'), join(root, 'simple', 'index.html'));
    expect(await publisher.repair()).toMatchObject({ projects: 1, tempFilesRemoved: 2 });
    expect(again.filter((path) => existsSync(path))).toEqual([]);
    expect(existsSync(live)).toBe(true);
  });

  it('replaces debris of a crash between the wheel and the manifest', async () => {
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    mkdirSync(join(root, 'files', 'tiny'), { recursive: true });
    writeFileSync(join(root, 'files', 'tiny', tiny.filename), 'never published');

    expect(await new LocalDirPublisher({ root }).publish(tiny)).toBe('published');
    expect(sha256(join(root, 'files', 'tiny', tiny.filename))).toBe(tiny.sha256);
  });

  it('rejects bad requests before touching the index', async () => {
    const publisher = new LocalDirPublisher({ root });
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await expect(publisher.publish({ ...tiny, project: 'other' })).rejects.toThrow(UserInputError);
    await expect(publisher.publish({ ...tiny, sha256: 'abc' })).rejects.toThrow(UserInputError);
    await expect(publisher.publish({ ...tiny, path: join(work, 'missing.whl') })).rejects.toThrow(/no wheel file/);
    const badName = (await rejection(publisher.publish({ ...tiny, filename: 'tiny.whl' }))) as WheelfarmError;
    expect(badName.code).toBe('bad-wheel-filename');
    expect(indexFiles()).toEqual([]);
    expect(() => new LocalDirPublisher({ root: '' })).toThrow(UserInputError);
  });

  it('serves an index that pip downloads and installs from, honouring requires-python', async () => {
    const publisher = new LocalDirPublisher({ root });
    const current = wheel({ name: 'Tiny-Pkg', version: '1.0', requiresPython: '>=3' });
    const future = wheel({ name: 'Tiny-Pkg', version: '2.0', requiresPython: '>=3.99' });
    await publisher.publish(current);
    await publisher.publish(future);
    const env = pipEnv();

    const downloads = join(work, 'downloads');
    await run(
      'python3',
      ['-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:', '--index-url', publisher.indexUrl, '-d', downloads, 'tiny_pkg'],
      { env },
    );
    expect(readdirSync(downloads)).toEqual([current.filename]);
    expect(sha256(join(downloads, current.filename))).toBe(current.sha256);

    const target = join(work, 'site');
    await run(
      'python3',
      ['-m', 'pip', 'install', '--no-deps', '--only-binary', ':all:', '--index-url', publisher.indexUrl, '--target', target, 'Tiny.Pkg'],
      { env },
    );
    expect(readFileSync(join(target, 'tiny_pkg', '__init__.py'), 'utf8')).toContain('VERSION = "1.0"');
  }, 60_000);
});

/** pip without the user's configuration, so it can only see the index under test. */
function pipEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PIP_')));
  return { ...env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_NO_CACHE_DIR: '1' };
}

describe('LocalDirPublisher: yanking (PEP 592) and repair', () => {
  it('yanks every file of a version with its reason, on both pages; unyank undoes it', async () => {
    const publisher = new LocalDirPublisher({ root });
    const one = wheel({ name: 'tiny', version: '1.0' });
    const two = wheel({ name: 'tiny', version: '2.0' });
    await publisher.publish(one);
    await publisher.publish(two);
    expect(await publisher.setYanked('TINY', '1.0.0', { reason: 'broken "build"' })).toEqual([one.filename]);
    expect(page('tiny')).toContain('data-yanked="broken &quot;build&quot;"');
    const json = () => JSON.parse(readFileSync(join(root, 'simple', 'tiny', 'index.json'), 'utf8'));
    expect(json().files.map((f: { yanked: unknown }) => f.yanked)).toEqual(['broken "build"', false]);
    expect(await publisher.setYanked('tiny', '1.0', { reason: 'broken "build"' })).toEqual([]);
    expect(await publisher.setYanked('tiny', '1.0', false)).toEqual([one.filename]);
    expect(page('tiny')).not.toContain('data-yanked');
    expect(json().files.map((f: { yanked: unknown }) => f.yanked)).toEqual([false, false]);
  });

  it('yanking a version that is not published names the versions that are', async () => {
    const publisher = new LocalDirPublisher({ root });
    await publisher.publish(wheel({ name: 'tiny', version: '1.0' }));
    await expect(publisher.setYanked('tiny', '3.0', {})).rejects.toThrow(/tiny 3\.0 is not in/);
    await expect(publisher.setYanked('tiny', '3.0', {})).rejects.toMatchObject({
      code: 'version-not-published',
      hint: 'published versions: 1.0',
    });
  });

  it('repair rebuilds lost pages and writes missing .metadata files from the stored wheels', async () => {
    const publisher = new LocalDirPublisher({ root });
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await publisher.publish(tiny);
    const metadata = join(root, 'files', 'tiny', `${tiny.filename}.metadata`);
    const before = readFileSync(metadata);
    rmSync(metadata);
    rmSync(join(root, 'simple'), { recursive: true });
    expect(await publisher.repair()).toEqual({ projects: 1, metadataWritten: 1, tempFilesRemoved: 0 });
    expect(readFileSync(metadata)).toEqual(before);
    expect(links(page('tiny'))).toEqual([`../../files/tiny/${tiny.filename}#sha256=${tiny.sha256}`]);
    expect(links(page())).toEqual(['tiny/']);
    expect(await publisher.repair()).toEqual({ projects: 1, metadataWritten: 0, tempFilesRemoved: 0 });
  });
});
