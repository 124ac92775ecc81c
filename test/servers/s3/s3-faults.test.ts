import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../../farm/src/cli/exit-codes.ts';
import { IndexUnavailableError, TransientError } from '../../../farm/src/errors.ts';
import { parseProjectManifest } from '../../../farm/src/index/project-manifest.ts';
import type { WheelToPublish } from '../../../farm/src/index/publisher.ts';
import type { IndexRetryPolicy } from '../../../farm/src/index/retry-policy.ts';
import { createIndexBucket, listKeys, makeS3Client } from '../../../farm/src/index/s3/s3-bucket-admin.ts';
import { S3Publisher } from '../../../farm/src/index/s3/s3-publisher.ts';
import { FaultProxy, s3ErrorFault } from '../../support/fault-proxy.ts';
import { links, rejection } from '../../support/html.ts';
import { describeNeeding } from '../../support/needs.ts';
import { wheel } from '../upload/index-servers.ts';
import { startS3TestServer } from './s3-test-server.ts';

/**
 * The S3 publisher when the storage fails: a real S3 server (moto, see s3-test-server.ts) behind the
 * fault proxy, which answers 500/503, hangs or cuts connections where a test says. The bucket is
 * always checked straight at the server, past the proxy.
 */
const run = promisify(execFile);
const server = await startS3TestServer();
const { endpoint, missing } = server;

const bucket = `wheelfarm-faults-${randomBytes(4).toString('hex')}`;
/** Short delays and timeout, so a test of several tries takes seconds. */
const FAST: Partial<IndexRetryPolicy> = { tries: 3, retryDelayMs: 100, timeoutMs: 1500 };
let admin: ReturnType<typeof makeS3Client>;
let proxy: FaultProxy;
let work: string;

beforeAll(async () => {
  if (missing) return;
  admin = makeS3Client({ endpoint });
  await createIndexBucket(admin, bucket, { publicRead: true });
  proxy = await FaultProxy.start(endpoint);
  work = mkdtempSync(join(tmpdir(), 'wheelfarm-s3-faults-'));
}, 60_000);

afterEach(() => {
  proxy?.clear();
  proxy?.seen.splice(0);
});

afterAll(async () => {
  await proxy?.close();
  if (work) rmSync(work, { recursive: true, force: true });
  await server.stop();
});

function publisher(prefix: string, retry: Partial<IndexRetryPolicy> = FAST): S3Publisher {
  return new S3Publisher({ bucket, prefix, endpoint: proxy.url, retry });
}

function newPrefix(): string {
  return `idx-${randomBytes(4).toString('hex')}`;
}

/** The path the proxy sees for a key of the index. */
function pathOf(prefix: string, key: string): string {
  return `/${bucket}/${prefix}/${key}`;
}

function wheelKey(tiny: WheelToPublish): string {
  return `files/tiny/${tiny.filename}`;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An object straight from the server, anonymously, as pip reads it. */
async function read(prefix: string, key: string): Promise<Buffer | undefined> {
  const response = await fetch(`${endpoint}/${bucket}/${prefix}/${key}`);
  if (response.status === 404) return undefined;
  expect(response.status).toBe(200);
  return Buffer.from(await response.arrayBuffer());
}

/**
 * Every page and manifest under the prefix, after checking what must hold whatever failed: each
 * manifest parses, each page link and manifest entry names an object that is stored whole (its bytes
 * have the sha256 the link or entry gives).
 */
async function consistentIndex(prefix: string): Promise<Map<string, string>> {
  const keys = [...(await listKeys(admin, bucket, `${prefix}/`)).keys()].map((key) => key.slice(prefix.length + 1));
  const texts = new Map<string, string>();
  for (const key of keys.filter((each) => each.startsWith('simple/') || each.startsWith('.wheelfarm/'))) {
    texts.set(key, (await read(prefix, key))!.toString());
  }
  for (const [key, text] of texts) {
    if (key.startsWith('.wheelfarm/projects/')) {
      const manifest = parseProjectManifest(text);
      for (const file of manifest.files) {
        const stored = await read(prefix, `files/${manifest.normalized}/${file.filename}`);
        expect(stored && sha256(stored), `${key} lists ${file.filename}`).toBe(file.sha256);
      }
    } else if (/^simple\/[^/]+\/(index\.html)?$/.test(key)) {
      for (const href of links(text)) {
        const [path, fragment] = href.split('#sha256=');
        const target = new URL(path!, `http://index/${key}`).pathname.slice(1);
        const stored = await read(prefix, target);
        expect(stored && sha256(stored), `${key} links ${target}`).toBe(fragment);
      }
    }
  }
  return texts;
}

describeNeeding(missing, 'S3Publisher when the storage fails (moto behind a fault proxy)', () => {
  it('retries a wheel upload answered 503 twice, with growing waits, then publishes', async () => {
    const prefix = newPrefix();
    const tiny = wheel(work, { name: 'tiny', version: '1.0' });
    const path = pathOf(prefix, wheelKey(tiny));
    proxy.inject({ method: 'PUT', path, times: 2, fault: s3ErrorFault(503, 'SlowDown') });

    expect(await publisher(prefix).publish(tiny)).toBe('published');

    const puts = proxy.requests('PUT', path);
    expect(puts.map((seen) => seen.status)).toEqual([503, 503, 200]);
    // 100 ms, then 200 ms: the back-off doubles.
    expect(puts[1]!.startedAt - puts[0]!.endedAt!).toBeGreaterThanOrEqual(90);
    expect(puts[2]!.startedAt - puts[1]!.endedAt!).toBeGreaterThanOrEqual(190);
    expect(sha256((await read(prefix, wheelKey(tiny)))!)).toBe(tiny.sha256);
    expect(links((await consistentIndex(prefix)).get('simple/tiny/')!)).toEqual([
      `../../files/tiny/${tiny.filename}#sha256=${tiny.sha256}`,
    ]);
  });

  it('waits as long as a 503 says in Retry-After before trying again', async () => {
    const prefix = newPrefix();
    const path = pathOf(prefix, '.wheelfarm/projects/tiny.json');
    proxy.inject({ method: 'GET', path, times: 1, fault: s3ErrorFault(503, 'SlowDown', '1') });

    expect(await publisher(prefix).publish(wheel(work, { name: 'tiny', version: '1.0' }))).toBe('published');

    const [refused, retried] = proxy.requests('GET', path);
    expect(refused!.status).toBe(503);
    expect(retried!.startedAt - refused!.endedAt!).toBeGreaterThanOrEqual(990);
  });

  it('gives up on a permanent 500 with a clear error, and the index serves what it served before', async () => {
    const prefix = newPrefix();
    const first = wheel(work, { name: 'tiny', version: '1.0' });
    const second = wheel(work, { name: 'tiny', version: '1.1' });
    await publisher(prefix).publish(first);
    const before = await consistentIndex(prefix);
    const manifestPath = pathOf(prefix, '.wheelfarm/projects/tiny.json');
    proxy.inject({ method: 'PUT', path: manifestPath, fault: s3ErrorFault(500, 'InternalError') });

    const error = await rejection(publisher(prefix).publish(second));

    expect(error).toBeInstanceOf(IndexUnavailableError);
    expect(error).toBeInstanceOf(TransientError);
    expect(exitCodeFor(error)).toBe(EXIT.transient);
    expect(error).toMatchObject({ code: 's3-unavailable', tries: 3 });
    const { message, hint } = error as IndexUnavailableError;
    expect(message).toContain(
      `PUT s3://${bucket}/${prefix}/.wheelfarm/projects/tiny.json on ${proxy.url} failed: InternalError (HTTP 500)`,
    );
    expect(message).toMatch(/\(tried 3 times over \d+\.\d s\)$/);
    expect(hint).toContain('still serves what it served before');
    // The first publish's write, then the three tries of the second.
    expect(proxy.requests('PUT', manifestPath).map((seen) => seen.status)).toEqual([200, 500, 500, 500]);
    // Pages and manifest as before; the new wheel may be stored whole beside them, linked by nothing.
    expect(await consistentIndex(prefix)).toEqual(before);

    proxy.clear();
    expect(await publisher(prefix).publish(second)).toBe('published');
    expect(links((await consistentIndex(prefix)).get('simple/tiny/index.html')!)).toHaveLength(2);
  }, 60_000);

  it('says so when the pages cannot be written after the manifest, and the next run (settlePending) finishes the publish', async () => {
    const prefix = newPrefix();
    const first = wheel(work, { name: 'tiny', version: '1.0' });
    const second = wheel(work, { name: 'tiny', version: '1.1' });
    await publisher(prefix).publish(first);
    const pagesBefore = pagesOnly(await consistentIndex(prefix));
    proxy.inject({ method: 'PUT', path: /\/simple\//, fault: s3ErrorFault(503, 'ServiceUnavailable') });

    const error = await rejection(publisher(prefix).publish(second));

    expect(error).toMatchObject({ code: 's3-unavailable' });
    expect((error as IndexUnavailableError).message).toContain(
      `${second.filename} is stored and in the manifest, but the pages were not brought up to date`,
    );
    expect((error as IndexUnavailableError).hint).toContain('wheelfarm index repair');
    expect((error as IndexUnavailableError).listedWheel).toBe(second.filename);
    expect(pagesOnly(await consistentIndex(prefix))).toEqual(pagesBefore);

    proxy.clear();
    // A fresh publisher, as the next run makes: the note the failed publish left says what is owed.
    expect(await publisher(prefix).settlePending()).toEqual(['tiny']);
    expect(links((await consistentIndex(prefix)).get('simple/tiny/')!)).toEqual(
      [first, second].map((each) => `../../files/tiny/${each.filename}#sha256=${each.sha256}`),
    );
    expect(await publisher(prefix).settlePending()).toEqual([]);
  }, 60_000);

  it('abandons a request that hangs after the configured timeout and tries it again', async () => {
    const prefix = newPrefix();
    const tiny = wheel(work, { name: 'tiny', version: '1.0' });
    const path = pathOf(prefix, wheelKey(tiny));
    proxy.inject({ method: 'PUT', path, times: 1, fault: { hang: true } });

    expect(await publisher(prefix, { ...FAST, timeoutMs: 1500 }).publish(tiny)).toBe('published');

    const [hung, retried] = proxy.requests('PUT', path);
    expect(hung).toMatchObject({ action: 'hang', clientGaveUp: true });
    const waited = hung!.endedAt! - hung!.startedAt;
    expect(waited).toBeGreaterThanOrEqual(1400);
    expect(waited).toBeLessThan(4000);
    expect(retried!.status).toBe(200);
    expect(sha256((await read(prefix, wheelKey(tiny)))!)).toBe(tiny.sha256);
  });

  it('reports a storage that never answers as s3-timeout after tries x timeout', async () => {
    const prefix = newPrefix();
    proxy.inject({ method: 'GET', path: pathOf(prefix, '.wheelfarm/projects/tiny.json'), fault: { hang: true } });
    const started = performance.now();

    const error = await rejection(
      publisher(prefix, { tries: 2, retryDelayMs: 100, timeoutMs: 1000 }).publish(wheel(work, { name: 'tiny', version: '1.0' })),
    );

    expect(performance.now() - started).toBeLessThan(2 * 1000 + 100 + 2000);
    expect(error).toMatchObject({ code: 's3-timeout', tries: 2 });
    expect((error as Error).message).toContain(
      `GET s3://${bucket}/${prefix}/.wheelfarm/projects/tiny.json on ${proxy.url} failed: TimeoutError`,
    );
    expect((error as Error).message).toContain('1000 ms');
    expect(exitCodeFor(error)).toBe(EXIT.transient);
    expect((await listKeys(admin, bucket, `${prefix}/`)).size).toBe(0);
  });

  it('uploads the wheel again after a connection reset in the middle of its body; the stored wheel is whole', async () => {
    const prefix = newPrefix();
    // About 1 MB, so the cut falls well inside the body.
    const big = wheel(work, { name: 'tiny', version: '1.0', marker: randomBytes(768 * 1024).toString('base64') });
    const path = pathOf(prefix, wheelKey(big));
    proxy.inject({ method: 'PUT', path, times: 1, fault: { reset: true } });

    expect(await publisher(prefix).publish(big)).toBe('published');

    expect(proxy.requests('PUT', path).map((seen) => seen.action)).toEqual(['reset', 'forwarded']);
    expect(sha256((await read(prefix, wheelKey(big)))!)).toBe(big.sha256);
    await consistentIndex(prefix);
  });

  it('reads the manifest again when its answer is cut in the middle', async () => {
    const prefix = newPrefix();
    await publisher(prefix).publish(wheel(work, { name: 'tiny', version: '1.0' }));
    const path = pathOf(prefix, '.wheelfarm/projects/tiny.json');
    proxy.inject({ method: 'GET', path, times: 1, fault: { reset: true } });

    expect(await publisher(prefix).publish(wheel(work, { name: 'tiny', version: '1.1' }))).toBe('published');

    // The cut read (its headers said 200) is followed by the read that is tried again.
    const reads = proxy.requests('GET', path);
    const cut = reads.findIndex((seen) => seen.action === 'reset');
    expect(reads[cut]).toMatchObject({ status: 200 });
    expect(reads[cut + 1]).toMatchObject({ action: 'forwarded', status: 200 });
    expect(links((await consistentIndex(prefix)).get('simple/tiny/')!)).toHaveLength(2);
  });

  it('rides out an endpoint that refuses connections for a while, and names it when it stays down', async () => {
    const prefix = newPrefix();
    await proxy.refuseConnections();
    const back = setTimeout(() => void proxy.acceptConnections(), 700);
    try {
      // 200 + 400 + 800 ms of waits: it is back before the last try.
      expect(await publisher(prefix, { tries: 5, retryDelayMs: 200 }).publish(wheel(work, { name: 'tiny', version: '1.0' }))).toBe(
        'published',
      );
    } finally {
      clearTimeout(back);
      await proxy.acceptConnections();
    }

    await proxy.refuseConnections();
    try {
      const error = await rejection(
        publisher(prefix, { tries: 2, retryDelayMs: 50 }).publish(wheel(work, { name: 'tiny', version: '1.1' })),
      );
      expect(error).toMatchObject({ code: 's3-connection-failed', tries: 2 });
      expect((error as Error).message).toContain(`on ${proxy.url} failed: ECONNREFUSED`);
      expect((error as IndexUnavailableError).hint).toContain('reachable');
    } finally {
      await proxy.acceptConnections();
    }
  });

  it('the CLI exits 4 with the message and hint, trying as often as the index URL says', async () => {
    const prefix = newPrefix();
    await publisher(prefix).publish(wheel(work, { name: 'tiny', version: '1.0' }));
    proxy.inject({ method: 'GET', fault: s3ErrorFault(503, 'SlowDown') });

    const error = await rejection(
      run(
        join(import.meta.dirname, '../../../wheelfarm'),
        ['index', 'repair', '--index', `s3://${bucket}/${prefix}?endpoint=${proxy.url}&tries=2`, '--json'],
        {
          env: process.env,
        },
      ),
    );

    expect(error).toMatchObject({ code: EXIT.transient });
    const report = JSON.parse((error as { stdout: string }).stdout.trim().split('\n').pop()!) as {
      type: string;
      code: string;
      message: string;
      hint: string;
    };
    expect(report).toMatchObject({ type: 'error', code: 's3-unavailable' });
    expect(report.message).toMatch(
      new RegExp(
        `^LIST s3://${bucket}/${prefix}/\\.wheelfarm/projects/ on ${proxy.url} failed: SlowDown \\(HTTP 503\\): .* \\(tried 2 times over \\d+\\.\\d s\\)$`,
      ),
    );
    expect(report.hint).toContain('Publish again once the storage answers');
    // The LIST of the manifests: the publish's (200), then the CLI's, tried twice (`tries=2`).
    expect(proxy.requests('GET', new RegExp(`^/${bucket}/?$`)).map((seen) => seen.status)).toEqual([200, 503, 503]);
  }, 60_000);
});

function pagesOnly(texts: Map<string, string>): Map<string, string> {
  return new Map([...texts].filter(([key]) => key.startsWith('simple/')));
}
