import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, TransientError, WheelfarmError } from '../../../farm/src/errors.ts';
import { ContentCache } from '../../../farm/src/upstream/content-cache.ts';
import type { DownloadProgress } from '../../../farm/src/upstream/content-cache.ts';
import {
  basicAuth,
  dropMidBody,
  sendBytes,
  sendStatus,
  sequence,
  sha256Of,
  startFixtureServer,
} from '../../fixtures/upstream/fixture-server.ts';
import type { FixtureServer } from '../../fixtures/upstream/fixture-server.ts';

const GOOD = Buffer.from('the real sdist bytes\n'.repeat(5000));
const EVIL = Buffer.from('tampered bytes\n'.repeat(5000));
const SHA = sha256Of(GOOD);
const FILENAME = 'demo-1.0.tar.gz';

let server: FixtureServer | undefined;
let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'wheelfarm-cache-'));
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<WheelfarmError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WheelfarmError);
  return error as WheelfarmError;
}

describe('ContentCache', () => {
  it('downloads, verifies and stores at <root>/<sha256>/<filename>, then hits without network', async () => {
    server = await startFixtureServer({ '/files/demo-1.0.tar.gz': sendBytes(GOOD) });
    const cache = new ContentCache({ root, retryDelayMs: 1 });
    const progress: DownloadProgress[] = [];
    const url = `${server.origin}/files/demo-1.0.tar.gz`;

    expect(await cache.has(SHA, FILENAME)).toBe(false);
    const first = await cache.fetchVerified({ urls: [url], sha256: SHA, filename: FILENAME, onProgress: (p) => progress.push(p) });
    expect(first).toEqual({ path: join(root, SHA, FILENAME), downloaded: true, url });
    expect(cache.pathFor(SHA, FILENAME)).toBe(join(root, SHA, FILENAME));
    expect(await readFile(first.path)).toEqual(GOOD);
    expect(await readdir(join(root, SHA))).toEqual([FILENAME]);
    expect(progress.at(-1)).toEqual({ url, receivedBytes: GOOD.length, totalBytes: GOOD.length });
    expect(server.requests[0]?.headers['accept-encoding']).toBe('identity');

    const second = await cache.fetchVerified({ urls: [url], sha256: SHA.toUpperCase(), filename: FILENAME });
    expect(second).toEqual({ path: join(root, SHA, FILENAME), downloaded: false });
    expect(server.count('/files/')).toBe(1);
    expect(await cache.has(SHA, FILENAME)).toBe(true);
  });

  it('sends credentials in a URL as Basic auth and reports the URL redacted', async () => {
    server = await startFixtureServer({
      '/files/demo-1.0.tar.gz': (req, res, seen) => {
        if (req.headers.authorization !== basicAuth('carol', 'p@ss')) return sendStatus(401)(req, res, seen);
        return sendBytes(GOOD)(req, res, seen);
      },
    });
    const cache = new ContentCache({ root });
    const url = `${server.origin.replace('//', '//carol:p%40ss@')}/files/demo-1.0.tar.gz`;
    const result = await cache.fetchVerified({ urls: [url], sha256: SHA, filename: FILENAME });
    expect(result.downloaded).toBe(true);
    expect(result.url).toBe(`${server.origin.replace('//', '//carol:***@')}/files/demo-1.0.tar.gz`);
    expect(server.requests[0]?.headers.authorization).toBe(basicAuth('carol', 'p@ss'));
    expect(server.requests[0]?.url).toBe('/files/demo-1.0.tar.gz');
  });

  it('moves on to the next URL when the first serves wrong bytes (first matching download wins)', async () => {
    server = await startFixtureServer({
      '/mirror-a/demo-1.0.tar.gz': sendBytes(EVIL),
      '/mirror-b/demo-1.0.tar.gz': sendBytes(GOOD),
      '/mirror-c/demo-1.0.tar.gz': sendBytes(GOOD),
    });
    const cache = new ContentCache({ root, retryDelayMs: 1 });
    const urls = ['a', 'b', 'c'].map((m) => `${server!.origin}/mirror-${m}/demo-1.0.tar.gz`);
    const result = await cache.fetchVerified({ urls, sha256: SHA, filename: FILENAME });
    expect(result).toEqual({ path: join(root, SHA, FILENAME), downloaded: true, url: urls[1] });
    expect(await readFile(result.path)).toEqual(GOOD);
    expect(await readdir(join(root, SHA))).toEqual([FILENAME]);
    // A hash mismatch is not retried on the same URL, and later URLs are not asked.
    expect(server.requests.map((r) => r.url)).toEqual(['/mirror-a/demo-1.0.tar.gz', '/mirror-b/demo-1.0.tar.gz']);
  });

  it('fails with IntegrityError hash-mismatch when every URL serves wrong bytes, leaving nothing behind', async () => {
    server = await startFixtureServer({
      '/mirror-a/demo-1.0.tar.gz': sendBytes(EVIL),
      '/mirror-b/demo-1.0.tar.gz': sendBytes('other'),
    });
    const cache = new ContentCache({ root, retryDelayMs: 1 });
    const urls = [`${server.origin}/mirror-a/demo-1.0.tar.gz`, `${server.origin}/mirror-b/demo-1.0.tar.gz`];
    const error = await rejection(cache.fetchVerified({ urls, sha256: SHA, filename: FILENAME }));
    expect(error).toBeInstanceOf(IntegrityError);
    expect(error.code).toBe('hash-mismatch');
    expect(error.message).toContain(FILENAME);
    expect(error.message).toContain(SHA);
    expect(error.message).toContain(sha256Of(EVIL));
    expect(error.message).toContain(sha256Of('other'));
    expect(await readdir(root)).toEqual([]);
    expect(await cache.has(SHA, FILENAME)).toBe(false);
  });

  it('never keeps a partial entry when the server drops the connection mid-body', async () => {
    server = await startFixtureServer({ '/files/demo-1.0.tar.gz': dropMidBody(GOOD.length) });
    const cache = new ContentCache({ root, retries: 1, retryDelayMs: 1 });
    const error = await rejection(
      cache.fetchVerified({ urls: [`${server.origin}/files/demo-1.0.tar.gz`], sha256: SHA, filename: FILENAME }),
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('download-failed');
    expect(error.message).toContain(`${server.origin}/files/demo-1.0.tar.gz`);
    expect(server.count('/files/')).toBe(2);
    expect(await readdir(root)).toEqual([]);
  });

  it('retries a 503 on the same URL, and skips a 404 to the next URL', async () => {
    server = await startFixtureServer({
      '/gone/demo-1.0.tar.gz': sendStatus(404),
      '/flaky/demo-1.0.tar.gz': sequence(sendStatus(503), sendBytes(GOOD)),
    });
    const cache = new ContentCache({ root, retries: 2, retryDelayMs: 1 });
    const urls = [`${server.origin}/gone/demo-1.0.tar.gz`, `${server.origin}/flaky/demo-1.0.tar.gz`];
    const result = await cache.fetchVerified({ urls, sha256: SHA, filename: FILENAME });
    expect(result.url).toBe(urls[1]);
    expect(server.requests.map((r) => r.url)).toEqual(['/gone/demo-1.0.tar.gz', '/flaky/demo-1.0.tar.gz', '/flaky/demo-1.0.tar.gz']);
  });

  it('lists each URL failure, redacted, when no URL works', async () => {
    server = await startFixtureServer({ '/flaky/demo-1.0.tar.gz': sendStatus(503) });
    const cache = new ContentCache({ root, retries: 1, retryDelayMs: 1 });
    const urls = [`${server.origin.replace('//', '//dave:topsecret@')}/gone/demo-1.0.tar.gz`, `${server.origin}/flaky/demo-1.0.tar.gz`];
    const error = await rejection(cache.fetchVerified({ urls, sha256: SHA, filename: FILENAME }));
    expect(error.code).toBe('download-failed');
    expect(error).not.toBeInstanceOf(TransientError);
    expect(error.message).toContain(`${server.origin.replace('//', '//dave:***@')}/gone/demo-1.0.tar.gz: `);
    expect(error.message).toContain('HTTP 404');
    expect(error.message).toContain('HTTP 503');
    expect(error.message).not.toContain('topsecret');
    expect(await readdir(root)).toEqual([]);
  });

  it('ignores a leftover .part file and cleans it up on the next fetch of that entry', async () => {
    server = await startFixtureServer({ '/files/demo-1.0.tar.gz': sendBytes(GOOD) });
    const dir = join(root, SHA);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `.${FILENAME}.deadbeef0000.part`), GOOD.subarray(0, 100));
    const cache = new ContentCache({ root, stalePartMs: 0 });
    expect(await cache.has(SHA, FILENAME)).toBe(false);

    const result = await cache.fetchVerified({ urls: [`${server.origin}/files/demo-1.0.tar.gz`], sha256: SHA, filename: FILENAME });
    expect(result.downloaded).toBe(true);
    expect(await readdir(dir)).toEqual([FILENAME]);
  });

  it('keeps a fresh .part file that may belong to a download in progress elsewhere', async () => {
    server = await startFixtureServer({ '/files/demo-1.0.tar.gz': sendBytes(GOOD) });
    const dir = join(root, SHA);
    await mkdir(dir, { recursive: true });
    const other = `.${FILENAME}.0123456789ab.part`;
    await writeFile(join(dir, other), 'in progress');
    const cache = new ContentCache({ root });
    await cache.fetchVerified({ urls: [`${server.origin}/files/demo-1.0.tar.gz`], sha256: SHA, filename: FILENAME });
    expect((await readdir(dir)).sort()).toEqual([other, FILENAME].sort());
  });

  it('stops at once when aborted, leaving nothing behind', async () => {
    server = await startFixtureServer({ '/files/demo-1.0.tar.gz': sendBytes(GOOD) });
    const cache = new ContentCache({ root });
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(
      cache.fetchVerified({ urls: [`${server.origin}/files/demo-1.0.tar.gz`], sha256: SHA, filename: FILENAME, signal: controller.signal }),
    ).rejects.toThrow('stop');
    expect(server.requests).toHaveLength(0);
    expect(await readdir(root)).toEqual([]);
  });

  it('stops mid-download when aborted, deleting the partial file', async () => {
    server = await startFixtureServer({
      '/files/demo-1.0.tar.gz': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(GOOD.length) });
        res.write(GOOD.subarray(0, 1000)); // and never more
      },
    });
    const cache = new ContentCache({ root });
    const controller = new AbortController();
    const error = await cache
      .fetchVerified({
        urls: [`${server.origin}/files/demo-1.0.tar.gz`, `${server.origin}/never-asked`],
        sha256: SHA,
        filename: FILENAME,
        signal: controller.signal,
        onProgress: () => controller.abort(new Error('user pressed ctrl-c')),
      })
      .catch((reason: unknown) => reason);
    expect(error).toEqual(new Error('user pressed ctrl-c'));
    expect(server.requests.map((r) => r.url)).toEqual(['/files/demo-1.0.tar.gz']);
    expect(await readdir(root)).toEqual([]);
  });

  it('validates its options up front', async () => {
    expect(() => new ContentCache({ root: '' })).toThrow('Expected `root` to be a non-empty string, got `` (string)');
    expect(() => new ContentCache({ root, retryDelayMs: -1 })).toThrow(
      'Expected `retryDelayMs` to be a finite number >= 0, got `-1` (number)',
    );
    const cache = new ContentCache({ root });
    await expect(cache.fetchVerified({ urls: ['http://127.0.0.1:1/x'], sha256: 'abc', filename: FILENAME })).rejects.toThrow(/sha256/);
    await expect(cache.fetchVerified({ urls: ['http://127.0.0.1:1/x'], sha256: SHA, filename: '../evil' })).rejects.toThrow(/filename/);
    await expect(cache.fetchVerified({ urls: [], sha256: SHA, filename: FILENAME })).rejects.toThrow(/urls/);
  });
});

describe('ContentCache with file: URLs (a recipe source on local disk)', () => {
  it('streams a local file in, verified like a download', async () => {
    const source = join(root, 'src', FILENAME);
    await mkdir(join(root, 'src'));
    await writeFile(source, GOOD);
    const cache = new ContentCache({ root: join(root, 'cache') });
    const result = await cache.fetchVerified({ urls: [`file://${source}`], sha256: SHA, filename: FILENAME });
    expect(result.downloaded).toBe(true);
    expect(await readFile(result.path)).toEqual(GOOD);
  });

  it('a local file with other bytes is refused and leaves nothing in the cache', async () => {
    const source = join(root, 'src', FILENAME);
    await mkdir(join(root, 'src'));
    await writeFile(source, EVIL);
    const cache = new ContentCache({ root: join(root, 'cache') });
    const error = await rejection(cache.fetchVerified({ urls: [`file://${source}`], sha256: SHA, filename: FILENAME }));
    expect(error).toBeInstanceOf(IntegrityError);
    expect(await cache.has(SHA, FILENAME)).toBe(false);
  });

  it('a missing local file fails like a 404, naming the URL', async () => {
    const cache = new ContentCache({ root: join(root, 'cache') });
    const error = await rejection(cache.fetchVerified({ urls: [`file://${join(root, 'nope.tar.gz')}`], sha256: SHA, filename: FILENAME }));
    expect(error.message).toContain('nope.tar.gz');
  });
});
