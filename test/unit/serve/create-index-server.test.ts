import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import type { Server } from 'node:http';
import { devNull, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIndexServer } from '../../../farm/src/index/serve/create-index-server.ts';
import type { IndexServerLogEntry } from '../../../farm/src/index/serve/create-index-server.ts';
import { closeServer, listenLocal, publishWheel, raw } from './serve-fixtures.ts';

const run = promisify(execFile);
const JSON_TYPE = 'application/vnd.pypi.simple.v1+json';
const HTML_V1 = 'application/vnd.pypi.simple.v1+html';
/** What pip (>= 22.2) sends. */
const PIP_ACCEPT = `${JSON_TYPE}, ${HTML_V1}; q=0.1, text/html; q=0.01`;

let work: string;
let root: string;
let server: Server;
let base: string;
let tinyWheel: string;
let otherWheel: string;
let tinyBytes: Buffer;
const log: IndexServerLogEntry[] = [];
const errors: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'wheelfarm-serve-'));
  root = join(work, 'index');
  tinyWheel = await publishWheel(work, root, { name: 'Tiny.Pkg', version: '1.0', requiresPython: '>=3.8' });
  otherWheel = await publishWheel(work, root, { name: 'other-pkg', version: '2.0' });
  tinyBytes = readFileSync(join(root, 'files', 'tiny-pkg', tinyWheel));
  // A PEP 691 page for tiny-pkg only (the publisher may write these too; other-pkg stays HTML-only).
  writeFileSync(
    join(root, 'simple', 'tiny-pkg', 'index.json'),
    JSON.stringify({
      meta: { 'api-version': '1.1' },
      name: 'tiny-pkg',
      versions: ['1.0'],
      files: [
        {
          filename: tinyWheel,
          url: `../../files/tiny-pkg/${tinyWheel}`,
          hashes: { sha256: createHash('sha256').update(tinyBytes).digest('hex') },
          'requires-python': '>=3.8',
        },
      ],
    }),
  );
  // other-pkg has no JSON page, as in indexes published before PEP 691 support.
  rmSync(join(root, 'simple', 'other-pkg', 'index.json'), { force: true });
  const metadata = join(root, 'files', 'tiny-pkg', `${tinyWheel}.metadata`);
  if (!existsSync(metadata)) writeFileSync(metadata, 'Metadata-Version: 2.1\nName: Tiny.Pkg\nVersion: 1.0\n');
  writeFileSync(join(root, 'files', 'tiny-pkg', `.${tinyWheel}.tmp-123`), 'half a wheel');
  server = createIndexServer({
    root,
    logger: { request: (entry) => log.push(entry), error: (message) => errors.push(message) },
  });
  base = await listenLocal(server);
}, 60_000);

afterAll(async () => {
  await closeServer(server);
  rmSync(work, { recursive: true, force: true });
  expect(errors).toEqual([]);
});

const get = (path: string, headers: Record<string, string> = {}) => raw(base, path, { headers });

describe('pages', () => {
  it('redirects / to /simple/ and adds the trailing slash', async () => {
    expect(await get('/')).toMatchObject({ status: 302, headers: { location: '/simple/' } });
    expect(await get('/simple')).toMatchObject({ status: 301, headers: { location: '/simple/' } });
    expect(await get('/simple/tiny-pkg')).toMatchObject({ status: 301, headers: { location: '/simple/tiny-pkg/' } });
  });

  it('redirects names to their PEP 503 normal form', async () => {
    for (const name of ['Tiny.Pkg', 'TINY_PKG', 'tiny__pkg', 'Tiny-.-Pkg']) {
      expect(await get(`/simple/${name}/`)).toMatchObject({ status: 301, headers: { location: '/simple/tiny-pkg/' } });
      expect(await get(`/simple/${name}`)).toMatchObject({ status: 301, headers: { location: '/simple/tiny-pkg/' } });
    }
  });

  it('serves the root page as HTML with short caching and Vary: Accept', async () => {
    const response = await get('/simple/');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers.vary).toBe('Accept');
    expect(response.headers['cache-control']).toBe('max-age=60');
    expect(response.body.toString()).toContain('tiny-pkg');
    expect(response.body.toString()).toContain('other-pkg');
    expect(Number(response.headers['content-length'])).toBe(response.body.length);
    expect(response.body.equals(readFileSync(join(root, 'simple', 'index.html')))).toBe(true);
  });

  it('negotiates JSON or HTML by Accept and q-values', async () => {
    const html = readFileSync(join(root, 'simple', 'tiny-pkg', 'index.html'));
    const json = readFileSync(join(root, 'simple', 'tiny-pkg', 'index.json'));
    const cases: [string | undefined, string, Buffer][] = [
      [undefined, 'text/html; charset=utf-8', html],
      ['*/*', 'text/html; charset=utf-8', html],
      ['text/html', 'text/html; charset=utf-8', html],
      [HTML_V1, HTML_V1, html],
      [JSON_TYPE, JSON_TYPE, json],
      ['application/vnd.pypi.simple.latest+json', JSON_TYPE, json],
      [PIP_ACCEPT, JSON_TYPE, json],
      [`${JSON_TYPE};q=0.2, text/html;q=0.5`, 'text/html; charset=utf-8', html],
      [`text/html;q=0.1, ${JSON_TYPE}`, JSON_TYPE, json],
      [`text/html;q=0, application/*`, HTML_V1, html],
      [`${JSON_TYPE}, */*;q=0.1`, JSON_TYPE, json],
      [`${JSON_TYPE};q=0, */*`, 'text/html; charset=utf-8', html],
    ];
    for (const [accept, type, body] of cases) {
      const response = await get('/simple/tiny-pkg/', accept === undefined ? {} : { accept });
      expect({ accept, status: response.status, type: response.headers['content-type'] }).toEqual({ accept, status: 200, type });
      expect(response.body.equals(body)).toBe(true);
      expect(response.headers.vary).toBe('Accept');
      expect(response.headers['cache-control']).toBe('max-age=60');
    }
  });

  it('falls back to HTML where there is no index.json, and answers 406 when only JSON is acceptable', async () => {
    const pip = await get('/simple/other-pkg/', { accept: PIP_ACCEPT });
    expect(pip.status).toBe(200);
    expect(pip.headers['content-type']).toBe(HTML_V1);
    expect(pip.body.toString()).toContain(otherWheel);

    const jsonOnly = await get('/simple/other-pkg/', { accept: JSON_TYPE });
    expect(jsonOnly.status).toBe(406);
    expect(jsonOnly.headers.vary).toBe('Accept');
    expect(jsonOnly.body.toString()).toContain('text/html');
    expect((await get('/simple/tiny-pkg/', { accept: 'image/png' })).status).toBe(406);
  });

  it('answers 404 with a short text for an unknown project, also to HEAD', async () => {
    const response = await get('/simple/no-such-project/');
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body.toString()).toMatch(/^no project no-such-project\n$/);
    const head = await raw(base, '/simple/no-such-project/', { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect(head.body.length).toBe(0);
    expect((await get('/simple/tiny-pkg/index.html')).status).toBe(404);
    expect((await get('/simple/-bad-/')).status).toBe(404);
  });

  it('answers 304 to a matching If-None-Match', async () => {
    const first = await get('/simple/tiny-pkg/', { accept: JSON_TYPE });
    const again = await get('/simple/tiny-pkg/', { accept: JSON_TYPE, 'if-none-match': String(first.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
  });
});

describe('files', () => {
  it('serves a wheel with length, type, validators and long caching', async () => {
    const response = await get(`/files/tiny-pkg/${tinyWheel}`);
    expect(response.status).toBe(200);
    expect(response.body.equals(tinyBytes)).toBe(true);
    expect(response.headers).toMatchObject({
      'content-type': 'application/octet-stream',
      'content-length': String(tinyBytes.length),
      'cache-control': 'public, max-age=31536000, immutable',
      'accept-ranges': 'bytes',
    });
    expect(response.headers.etag).toMatch(/^"[0-9a-f]+-[0-9a-f]+"$/);
    expect(response.headers['last-modified']).toBeDefined();
  });

  it('serves PEP 658 metadata files as text', async () => {
    const response = await get(`/files/tiny-pkg/${tinyWheel}.metadata`);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body.toString()).toContain('Name: Tiny.Pkg');
    expect((await get(`/files/other-pkg/other_pkg-9.9-py3-none-any.whl.metadata`)).status).toBe(404);
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await raw(base, `/files/tiny-pkg/${tinyWheel}`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers['content-length']).toBe(String(tinyBytes.length));
    expect(response.body.length).toBe(0);
  });

  it('serves single byte ranges exactly', async () => {
    const size = tinyBytes.length;
    const cases: [string, number, number][] = [
      ['bytes=10-19', 10, 19],
      ['bytes=0-0', 0, 0],
      [`bytes=${size - 7}-`, size - 7, size - 1],
      ['bytes=-22', size - 22, size - 1],
      [`bytes=100-${size + 500}`, 100, size - 1],
    ];
    for (const [range, start, end] of cases) {
      const response = await get(`/files/tiny-pkg/${tinyWheel}`, { range });
      expect({ range, status: response.status }).toEqual({ range, status: 206 });
      expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.headers['content-length']).toBe(String(end - start + 1));
      expect(response.body.equals(tinyBytes.subarray(start, end + 1))).toBe(true);
    }
    // Several ranges, or nonsense: the whole file.
    expect((await get(`/files/tiny-pkg/${tinyWheel}`, { range: 'bytes=0-1,5-6' })).status).toBe(200);
    expect((await get(`/files/tiny-pkg/${tinyWheel}`, { range: 'lines=1-2' })).status).toBe(200);
    // If-Range with another validator: the whole file.
    expect((await get(`/files/tiny-pkg/${tinyWheel}`, { range: 'bytes=0-1', 'if-range': '"other"' })).status).toBe(200);
  });

  it('answers 416 to a range past the end', async () => {
    for (const range of [`bytes=${tinyBytes.length}-`, 'bytes=999999-1000000', 'bytes=-0']) {
      const response = await get(`/files/tiny-pkg/${tinyWheel}`, { range });
      expect({ range, status: response.status }).toEqual({ range, status: 416 });
      expect(response.headers['content-range']).toBe(`bytes */${tinyBytes.length}`);
    }
  });

  it('answers 404 to traversal attempts, dot files and anything outside the two trees', async () => {
    const attempts = [
      '/files/../.wheelfarm/projects/tiny-pkg.json',
      '/files/tiny-pkg/../../.wheelfarm/projects/tiny-pkg.json',
      '/files/tiny-pkg/..%2f..%2f.wheelfarm%2fprojects%2ftiny-pkg.json',
      '/files/tiny-pkg/..%2F..%2Fsimple%2Findex.html',
      `/files/tiny-pkg/%2e%2e/other-pkg/${otherWheel}`,
      '/files/%2e%2e/%2e%2e/etc/passwd',
      '/files/tiny-pkg/..%5c..%5cetc%5cpasswd',
      '/simple/../../etc/passwd',
      '/simple/..%2f..%2f/',
      '/simple/%2e%2e/',
      '/.wheelfarm/projects/tiny-pkg.json',
      '/files//etc/passwd',
      '/files/tiny-pkg/%00',
      '/files/tiny-pkg/%zz',
      `/files/tiny-pkg/.${tinyWheel}.tmp-123`,
      '/files/tiny-pkg/',
      '/files/tiny-pkg',
      '/files/no-such/x.whl',
      `/files/tiny-pkg/${tinyWheel}/x`,
      '/etc/passwd',
    ];
    for (const path of attempts) {
      const response = await get(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
    }
  });

  it('streams a big file and shrugs off clients that hang up mid-download', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 7);
    writeFileSync(join(root, 'files', 'other-pkg', 'big-1.0-py3-none-any.whl'), big);
    const whole = await get('/files/other-pkg/big-1.0-py3-none-any.whl');
    expect(whole.body.equals(big)).toBe(true);
    const url = new URL(base);
    await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<void>((done) => {
            const req = request(
              { host: url.hostname, port: url.port, path: '/files/other-pkg/big-1.0-py3-none-any.whl', agent: false },
              (res) => {
                res.once('data', () => {
                  req.destroy();
                  done();
                });
              },
            );
            req.on('error', () => done());
            req.end();
          }),
      ),
    );
    await new Promise((settle) => setTimeout(settle, 200));
    expect(errors).toEqual([]);
    // The server still answers after that.
    expect((await get('/simple/')).status).toBe(200);
  });

  it('refuses other methods with 405 and Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const response = await raw(base, '/simple/', { method });
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe('GET, HEAD');
    }
  });
});

describe('clients', () => {
  it('answers 200 concurrent GETs of a project page', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 200 });
    try {
      const expected = readFileSync(join(root, 'simple', 'other-pkg', 'index.html'));
      const responses = await Promise.all(Array.from({ length: 200 }, () => raw(base, '/simple/other-pkg/', { agent })));
      expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
      expect(responses.every((r) => r.body.equals(expected))).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('pip downloads from it, through the JSON page and the HTML page', async () => {
    const dest = mkdtempSync(join(work, 'pip-'));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PIP_CONFIG_FILE: devNull,
      PIP_DISABLE_PIP_VERSION_CHECK: '1',
      PIP_NO_INPUT: '1',
      NO_PROXY: '*',
      no_proxy: '*',
    };
    for (const key of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy']) delete env[key];
    for (const name of ['Tiny.Pkg', 'other-pkg']) {
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
          `${base}/simple/`,
          '-d',
          dest,
          name,
        ],
        { env },
      );
    }
    expect(readdirSync(dest).sort()).toEqual([otherWheel, tinyWheel].sort());
    expect(readFileSync(join(dest, tinyWheel)).equals(tinyBytes)).toBe(true);
    expect(log.some((entry) => entry.path === '/simple/tiny-pkg/' && entry.status === 200)).toBe(true);
  }, 60_000);
});
