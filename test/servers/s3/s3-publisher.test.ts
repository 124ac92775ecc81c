import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError, PublishConflictError } from '../../../farm/src/errors.ts';
import type { WheelToPublish } from '../../../farm/src/index/publisher.ts';
import { createIndexBucket, deleteKeys, listKeys, makeS3Client } from '../../../farm/src/index/s3/s3-bucket-admin.ts';
import { parseS3IndexUrl, S3Publisher } from '../../../farm/src/index/s3/s3-publisher.ts';
import { makePureWheel } from '../../fixtures/wheels/make-zip.ts';
import type { PureWheelOptions } from '../../fixtures/wheels/make-zip.ts';
import { links, rejection } from '../../support/html.ts';
import { describeNeeding } from '../../support/needs.ts';
import { startS3TestServer } from './s3-test-server.ts';

/**
 * Against a real S3-compatible server (see s3-test-server.ts): moto started here, or
 * WHEELFARM_TEST_S3_ENDPOINT (the bucket WHEELFARM_TEST_S3_BUCKET must then allow anonymous GETs
 * for the pip test).
 */
const run = promisify(execFile);
const server = await startS3TestServer();
const { endpoint, external, missing } = server;

const bucket = process.env.WHEELFARM_TEST_S3_BUCKET ?? `wheelfarm-test-${randomBytes(4).toString('hex')}`;
let admin: ReturnType<typeof makeS3Client>;
let work: string;

beforeAll(async () => {
  if (missing) return;
  admin = makeS3Client({ endpoint });
  // Anonymous GETs, as a bucket serving a public index has.
  if (!process.env.WHEELFARM_TEST_S3_BUCKET) await createIndexBucket(admin, bucket, { publicRead: true });
  work = mkdtempSync(join(tmpdir(), 'wheelfarm-s3-test-'));
}, 60_000);

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  await server.stop();
});

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function wheel(options: PureWheelOptions & { project?: string }): WheelToPublish {
  const dir = mkdtempSync(join(work, 'build-'));
  const built = makePureWheel(dir, options);
  const request: WheelToPublish = {
    path: built.path,
    filename: built.filename,
    sha256: sha256(readFileSync(built.path)),
    project: options.project ?? options.name,
  };
  if (options.requiresPython) request.requiresPython = options.requiresPython;
  return request;
}

function newPrefix(): string {
  return `idx-${randomBytes(4).toString('hex')}`;
}

function publisher(prefix: string): S3Publisher {
  return new S3Publisher({ bucket, prefix, endpoint });
}

/** Every key under the prefix (relative to it) with its ETag. */
async function objects(prefix: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const [key, etag] of await listKeys(admin, bucket, `${prefix}/`)) found.set(key.slice(prefix.length + 1), etag);
  return found;
}

/** An anonymous HTTP GET, as pip or a browser does it. */
async function get(prefix: string, key: string): Promise<{ status: number; type: string | null; cache: string | null; body: Buffer }> {
  const response = await fetch(`${endpoint}/${bucket}/${prefix}/${key}`);
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    cache: response.headers.get('cache-control'),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

describe('parseS3IndexUrl', () => {
  it('reads bucket, prefix, endpoint and region', () => {
    expect(parseS3IndexUrl('s3://my-wheels/a/b/?endpoint=http://127.0.0.1:9000&region=eu-west-1')).toEqual({
      bucket: 'my-wheels',
      prefix: 'a/b',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
    });
    expect(parseS3IndexUrl('s3://my-wheels')).toEqual({ bucket: 'my-wheels', prefix: '' });
    expect(() => parseS3IndexUrl('https://my-wheels/x')).toThrow(/not an S3 index URL/);
  });
});

describeNeeding(missing, `S3Publisher against ${external ? endpoint : 'moto'}`, () => {
  it('publishes wheels: files, metadata, manifest, pages at both keys, JSON, root', async () => {
    const prefix = newPrefix();
    const index = publisher(prefix);
    const first = wheel({ name: 'Tiny.Pkg', version: '1.0', requiresPython: '>=3.9' });
    const second = wheel({ name: 'Tiny.Pkg', version: '1.1' });

    expect(await index.publish(first)).toBe('published');
    expect(await index.publish(second)).toBe('published');

    expect([...(await objects(prefix)).keys()].sort()).toEqual(
      [
        '.wheelfarm/projects/tiny-pkg.json',
        `files/tiny-pkg/${first.filename}`,
        `files/tiny-pkg/${first.filename}.metadata`,
        `files/tiny-pkg/${second.filename}`,
        `files/tiny-pkg/${second.filename}.metadata`,
        'simple/',
        'simple/index.html',
        'simple/index.json',
        'simple/tiny-pkg/',
        'simple/tiny-pkg/index.html',
        'simple/tiny-pkg/index.json',
      ].sort(),
    );
    const wheelObject = await get(prefix, `files/tiny-pkg/${first.filename}`);
    expect(sha256(wheelObject.body)).toBe(first.sha256);
    expect(wheelObject.cache).toContain('immutable');
    const metadata = await get(prefix, `files/tiny-pkg/${first.filename}.metadata`);
    expect(metadata.body.toString()).toMatch(/^Metadata-Version: .*\nName: Tiny\.Pkg\n/);

    const page = await get(prefix, 'simple/tiny-pkg/index.html');
    const directoryPage = await get(prefix, 'simple/tiny-pkg/');
    expect(page.type).toMatch(/^text\/html/);
    expect(directoryPage.type).toMatch(/^text\/html/);
    expect(page.cache).toMatch(/max-age=\d+/);
    expect(page.cache).not.toContain('immutable');
    expect(directoryPage.body.toString()).toBe(page.body.toString());
    expect(links(page.body.toString())).toEqual([
      `../../files/tiny-pkg/${first.filename}#sha256=${first.sha256}`,
      `../../files/tiny-pkg/${second.filename}#sha256=${second.sha256}`,
    ]);
    expect(page.body.toString()).toContain('data-requires-python="&gt;=3.9"');
    expect(page.body.toString()).toContain(`data-core-metadata="sha256=${sha256(metadata.body)}"`);

    const json = await get(prefix, 'simple/tiny-pkg/index.json');
    expect(json.type).toBe('application/vnd.pypi.simple.v1+json');
    expect(JSON.parse(json.body.toString())).toMatchObject({
      meta: { 'api-version': '1.1' },
      name: 'Tiny.Pkg',
      versions: ['1.0', '1.1'],
      files: [
        {
          filename: first.filename,
          url: `../../files/tiny-pkg/${first.filename}`,
          hashes: { sha256: first.sha256 },
          'requires-python': '>=3.9',
          'core-metadata': { sha256: sha256(metadata.body) },
          size: statSync(first.path).size,
          yanked: false,
        },
        { filename: second.filename },
      ],
    });

    const root = await get(prefix, 'simple/');
    expect(root.type).toMatch(/^text\/html/);
    expect(links(root.body.toString())).toEqual(['tiny-pkg/']);
    expect((await get(prefix, 'simple/index.html')).body.toString()).toBe(root.body.toString());
    expect(JSON.parse((await get(prefix, 'simple/index.json')).body.toString())).toEqual({
      meta: { 'api-version': '1.1' },
      projects: [{ name: 'tiny-pkg' }],
    });

    expect(await new S3Publisher({ bucket, prefix, endpoint }).listFiles('TINY_pkg')).toEqual([
      { filename: first.filename, sha256: first.sha256, size: statSync(first.path).size, requiresPython: '>=3.9' },
      { filename: second.filename, sha256: second.sha256, size: statSync(second.path).size },
    ]);
    expect(await index.listFiles('nothing-here')).toEqual([]);
    expect(index.indexUrl).toBe(`${endpoint}/${bucket}/${prefix}/simple/`);
  });

  it('treats the same bytes again as a no-op and writes nothing', async () => {
    const prefix = newPrefix();
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await publisher(prefix).publish(tiny);
    const before = await objects(prefix);

    expect(await publisher(prefix).publish({ ...tiny })).toBe('unchanged');
    expect(await publisher(prefix).publish({ ...tiny, sha256: tiny.sha256.toUpperCase() })).toBe('unchanged');

    expect(await objects(prefix)).toEqual(before);
  });

  it('refuses other bytes under a published filename and changes nothing', async () => {
    const prefix = newPrefix();
    const original = wheel({ name: 'tiny', version: '1.0', marker: 'first build' });
    const rebuild = wheel({ name: 'tiny', version: '1.0', marker: 'second build' });
    expect(rebuild.filename).toBe(original.filename);
    await publisher(prefix).publish(original);
    const before = await objects(prefix);

    const error = await rejection(publisher(prefix).publish(rebuild));

    expect(error).toBeInstanceOf(PublishConflictError);
    expect((error as PublishConflictError).message).toContain(original.sha256);
    expect((error as PublishConflictError).message).toContain(rebuild.sha256);
    expect(await objects(prefix)).toEqual(before);
    expect(sha256((await get(prefix, `files/tiny/${original.filename}`)).body)).toBe(original.sha256);
  });

  it('refuses other bytes even when the wheel object exists but is not in the manifest yet', async () => {
    const prefix = newPrefix();
    const original = wheel({ name: 'tiny', version: '1.0', marker: 'first build' });
    const rebuild = wheel({ name: 'tiny', version: '1.0', marker: 'second build' });
    // Two farms race: both pass the manifest check, only one wheel object can be created.
    const outcomes = await Promise.allSettled([publisher(prefix).publish(original), publisher(prefix).publish(rebuild)]);

    const fulfilled = outcomes.filter((outcome) => outcome.status === 'fulfilled');
    const rejected = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.reason).toBeInstanceOf(PublishConflictError);
    const files = await publisher(prefix).listFiles('tiny');
    expect(files).toHaveLength(1);
    expect(sha256((await get(prefix, `files/tiny/${original.filename}`)).body)).toBe(files[0]!.sha256);
  });

  it('refuses a wheel whose bytes do not match its sha256 and uploads nothing', async () => {
    const prefix = newPrefix();
    const tiny = wheel({ name: 'tiny', version: '1.0' });

    const error = await rejection(publisher(prefix).publish({ ...tiny, sha256: 'f'.repeat(64) }));

    expect(error).toBeInstanceOf(IntegrityError);
    expect((await objects(prefix)).size).toBe(0);
  });

  it('keeps every wheel of 10 concurrent publishes to one project from 3 publishers', async () => {
    const prefix = newPrefix();
    const publishers = [publisher(prefix), publisher(prefix), publisher(prefix)];
    const wheels = Array.from({ length: 10 }, (_, index) => wheel({ name: 'busy', version: `1.0.${index}` }));

    const outcomes = await Promise.all(wheels.map((each, index) => publishers[index % 3]!.publish(each)));

    expect(outcomes).toEqual(Array(10).fill('published'));
    const filenames = wheels.map((each) => each.filename).sort();
    expect((await publishers[0]!.listFiles('busy')).map((file) => file.filename)).toEqual(filenames);
    const expectedLinks = wheels.map((each) => `../../files/busy/${each.filename}#sha256=${each.sha256}`).sort();
    expect(links((await get(prefix, 'simple/busy/')).body.toString())).toEqual(expectedLinks);
    expect(links((await get(prefix, 'simple/busy/index.html')).body.toString())).toEqual(expectedLinks);
    expect(
      JSON.parse((await get(prefix, 'simple/busy/index.json')).body.toString()).files.map((file: { filename: string }) => file.filename),
    ).toEqual(filenames);
  }, 60_000);

  it('keeps every project on the root page when several publish at once', async () => {
    const prefix = newPrefix();
    const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo', 'foxtrot'];
    const wheels = names.map((name) => wheel({ name, version: '1.0' }));

    await Promise.all(wheels.map((each) => publisher(prefix).publish(each)));

    const sorted = [...names].sort();
    expect(links((await get(prefix, 'simple/')).body.toString())).toEqual(sorted.map((name) => `${name}/`));
    expect(JSON.parse((await get(prefix, 'simple/index.json')).body.toString()).projects).toEqual(sorted.map((name) => ({ name })));
  }, 60_000);

  it('yanks and unyanks every file of a version (PEP 592), through the CLI too; the pages follow', async () => {
    const prefix = newPrefix();
    const index = publisher(prefix);
    const old = wheel({ name: 'Tiny.Pkg', version: '1.0' });
    await index.publish(old);
    await index.publish(wheel({ name: 'Tiny.Pkg', version: '1.1' }));

    expect(await index.setYanked('tiny_pkg', '1.0', { reason: 'broken <build>' })).toEqual([old.filename]);
    expect(await index.setYanked('tiny_pkg', '1.0', { reason: 'broken <build>' })).toEqual([]);
    const page = (await get(prefix, 'simple/tiny-pkg/')).body.toString();
    expect(page).toMatch(new RegExp(`${old.filename.replace(/\./g, '\\.')}#sha256=[0-9a-f]+"[^>]*data-yanked="broken &lt;build&gt;"`));
    const json = JSON.parse((await get(prefix, 'simple/tiny-pkg/index.json')).body.toString()) as {
      files: { filename: string; yanked: unknown }[];
    };
    expect(json.files.map((f) => f.yanked)).toEqual(['broken <build>', false]);

    const cli = (args: string[]) =>
      run(
        join(import.meta.dirname, '../../../wheelfarm'),
        ['index', ...args, '--index', `s3://${bucket}/${prefix}?endpoint=${endpoint}`, '--json'],
        {
          env: process.env,
        },
      );
    const unyank = await cli(['unyank', 'Tiny.Pkg==1.0']);
    expect(JSON.parse(unyank.stdout.trim().split('\n').pop()!)).toMatchObject({ type: 'unyanked', files: [old.filename] });
    expect((await get(prefix, 'simple/tiny-pkg/')).body.toString()).not.toContain('data-yanked');

    const missing = await rejection(cli(['yank', 'tiny-pkg==9.9']));
    expect(missing).toMatchObject({ code: 2 });
    expect((missing as { stdout: string }).stdout).toContain('tiny-pkg 9.9 is not in');
    expect((missing as { stdout: string }).stdout).toContain('published versions: 1.0, 1.1');
  }, 120_000);

  it('index repair rewrites pages lost after a crash between manifest and pages', async () => {
    const prefix = newPrefix();
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await publisher(prefix).publish(tiny);
    const page = (await get(prefix, 'simple/tiny/')).body.toString();
    // What a crash right after the manifest write leaves: the pages are missing (deleted here).
    await deleteKeys(
      admin,
      bucket,
      ['simple/tiny/', 'simple/tiny/index.html', 'simple/tiny/index.json', 'simple/'].map((key) => `${prefix}/${key}`),
    );
    expect((await get(prefix, 'simple/tiny/')).status).toBe(404);
    expect(await publisher(prefix).repair()).toEqual({ projects: 1, metadataWritten: 0, tempFilesRemoved: 0 });
    expect((await get(prefix, 'simple/tiny/')).body.toString()).toBe(page);
    expect(links((await get(prefix, 'simple/')).body.toString())).toEqual(['tiny/']);
    expect((await get(prefix, 'simple/tiny/index.json')).status).toBe(200);
  }, 60_000);

  it('serves pip over plain HTTP', async () => {
    const prefix = newPrefix();
    const index = publisher(prefix);
    await index.publish(wheel({ name: 'Tiny.Pkg', version: '1.0' }));
    const newest = wheel({ name: 'Tiny.Pkg', version: '1.1' });
    await index.publish(newest);
    const target = join(work, `download-${prefix}`);
    mkdirSync(target);

    await run(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary',
        ':all:',
        '--no-cache-dir',
        '--index-url',
        `${endpoint}/${bucket}/${prefix}/simple/`,
        '-d',
        target,
        'tiny-pkg',
      ],
      // Only our index: not the machine's find-links.
      { env: { ...process.env, PIP_FIND_LINKS: '', PIP_CONFIG_FILE: '/dev/null', PIP_NO_INPUT: '1' }, timeout: 120_000 },
    );

    expect(readdirSync(target)).toEqual([newest.filename]);
    expect(sha256(readFileSync(join(target, newest.filename)))).toBe(newest.sha256);
  }, 150_000);
});
