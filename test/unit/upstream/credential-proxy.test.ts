import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../../farm/src/errors.ts';
import { startCredentialProxy } from '../../../farm/src/upstream/credential-proxy.ts';
import type { CredentialProxy } from '../../../farm/src/upstream/credential-proxy.ts';
import { makePureWheel } from '../../fixtures/wheels/make-zip.ts';
import { PEP691, basicAuth, startFixtureServer } from '../../fixtures/upstream/fixture-server.ts';
import type { FixtureHandler, FixtureServer, RecordedRequest } from '../../fixtures/upstream/fixture-server.ts';

const USER = 'farm-reader';
const PASSWORD = 'pr0xy-s3cret-t0ken';
const AUTH = basicAuth(USER, PASSWORD);
const SECRETS = [USER, PASSWORD, AUTH.slice('Basic '.length)];
const BIG = randomBytes(2 * 1024 * 1024);

/**
 * The credential proxy between a real upstream that wants Basic auth (node:http) and clients that
 * have no credentials: fetch() as pip would ask, raw requests as an attacker would, and pip itself.
 */
describe('startCredentialProxy', () => {
  let upstream: FixtureServer;
  let proxy: CredentialProxy;
  let work: string;
  let wheel: { path: string; filename: string; sha256: string };
  /** The second half of the big file waits until the client has the first: proof that nothing is held whole. */
  let releaseSecondHalf: () => void = () => undefined;
  /** Everything a client got back from the proxy (status lines, headers, bodies), searched for the credentials. */
  const received: string[] = [];

  const page = (body: string, contentType: string): FixtureHandler =>
    authenticated((_req, res) => void res.writeHead(200, { 'content-type': contentType }).end(body));

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'wheelfarm-proxy-'));
    const built = makePureWheel(work, { name: 'demo', version: '1.0' });
    const bytes = await readFile(built.path);
    wheel = { ...built, sha256: sha256(bytes) };
    // The routes name the server's own origin: filled in once it listens.
    const routes: Record<string, FixtureHandler> = {};
    upstream = await startFixtureServer(routes);
    const origin = upstream.origin;
    const withCredentials = origin.replace('http://', `http://${USER}:${PASSWORD}@`);
    Object.assign(routes, {
      '/simple/demo/': (req: IncomingMessage, res: ServerResponse, seen: RecordedRequest) =>
        (req.headers.accept ?? '').includes('json')
          ? page(
              JSON.stringify({
                meta: { 'api-version': '1.1' },
                name: 'demo',
                files: [
                  { filename: wheel.filename, url: `${withCredentials}/files/${wheel.filename}`, hashes: { sha256: wheel.sha256 } },
                  { filename: 'demo-0.9.tar.gz', url: 'https://files.example.invalid/demo-0.9.tar.gz', hashes: { sha256: 'a'.repeat(64) } },
                ],
              }),
              PEP691,
            )(req, res, seen)
          : page(
              `<!DOCTYPE html><html><body>\n<a href="${withCredentials}/files/${wheel.filename}#sha256=${wheel.sha256}">${wheel.filename}</a>\n` +
                `<a href="${origin}/files/big.bin">big.bin</a>\n<a href="/files/big.bin">root-relative</a>\n` +
                '<a href="https://files.example.invalid/demo-0.9.tar.gz">elsewhere</a>\n</body></html>',
              'text/html',
            )(req, res, seen),
      [`/files/${wheel.filename}`]: authenticated((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }).end(bytes);
      }),
      '/files/big.bin': authenticated((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BIG.length) });
        res.write(BIG.subarray(0, BIG.length / 2));
        const rest = new Promise<void>((resolve) => (releaseSecondHalf = resolve));
        void rest.then(() => res.end(BIG.subarray(BIG.length / 2)));
      }),
      '/simple/moved/': authenticated((_req, res) => void res.writeHead(301, { location: `${withCredentials}/simple/demo/` }).end()),
      '/simple/away/': authenticated((_req, res) => void res.writeHead(302, { location: 'https://elsewhere.example/simple/demo/' }).end()),
    });
    proxy = await startCredentialProxy({ upstreamUrl: `${withCredentials}/simple/`, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await proxy?.close();
    await upstream?.close();
    await rm(work, { recursive: true, force: true });
  });

  /** A GET through the proxy, recorded for the credentials check. */
  async function get(
    url: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; statusText: string; headers: Headers; body: Buffer }> {
    const response = await fetch(url, { headers, redirect: 'manual' });
    const body = Buffer.from(await response.arrayBuffer());
    received.push(`${response.status} ${response.statusText}`, JSON.stringify([...response.headers]), body.toString('latin1'));
    return { status: response.status, statusText: response.statusText, headers: response.headers, body };
  }

  it('serves the index under a random path of its own, on the address it was given, without credentials in its URL', () => {
    expect(proxy.indexUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}\/simple\/$/);
    expect(proxy.trustedHost).toBe(new URL(proxy.indexUrl).host);
    for (const secret of SECRETS) expect(proxy.indexUrl).not.toContain(secret);
  });

  it('a PEP 503 page: fetched with the credentials, links to the upstream origin rewritten through the proxy, other hosts left alone', async () => {
    const before = upstream.requests.length;
    const page = await get(`${proxy.indexUrl}demo/`, { accept: 'text/html' });
    expect(page.status).toBe(200);
    const base = proxy.indexUrl.replace(/\/simple\/$/, '');
    const links = [...page.body.toString().matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(links).toEqual([
      `${base}/files/${wheel.filename}#sha256=${wheel.sha256}`,
      `${base}/files/big.bin`,
      `${new URL(base).pathname}/files/big.bin`,
      'https://files.example.invalid/demo-0.9.tar.gz',
    ]);
    expect(Number(page.headers.get('content-length'))).toBe(page.body.length);
    const seen = upstream.requests.slice(before);
    expect(seen.map((r) => [r.url, r.headers.authorization])).toEqual([['/simple/demo/', AUTH]]);
  });

  it('a PEP 691 JSON page: its url fields rewritten the same way', async () => {
    const page = await get(`${proxy.indexUrl}demo/`, { accept: PEP691 });
    expect(page.headers.get('content-type')).toBe(PEP691);
    const json = JSON.parse(page.body.toString()) as { files: { url: string }[] };
    const base = proxy.indexUrl.replace(/\/simple\/$/, '');
    expect(json.files.map((f) => f.url)).toEqual([`${base}/files/${wheel.filename}`, 'https://files.example.invalid/demo-0.9.tar.gz']);
  });

  it('a 2 MB file streams through with its bytes and length: the client has the first half before the upstream sends the second', async () => {
    const base = proxy.indexUrl.replace(/\/simple\/$/, '');
    const response = await fetch(`${base}/files/big.bin`, { headers: { 'accept-encoding': 'identity' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe(String(BIG.length));
    const reader = response.body!.getReader();
    const chunks: Uint8Array[] = [];
    const first = await withTimeout(
      reader.read(),
      5000,
      'the first bytes did not arrive before the upstream finished: the proxy holds the file',
    );
    chunks.push(first.value!);
    releaseSecondHalf();
    for (let next = await reader.read(); !next.done; next = await reader.read()) chunks.push(next.value);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(BIG));
  });

  it('a same-origin redirect goes through the proxy; one to another host is passed on as it is', async () => {
    const moved = await get(`${proxy.indexUrl}moved/`);
    expect(moved.status).toBe(301);
    expect(moved.headers.get('location')).toBe(`${proxy.indexUrl}demo/`);
    const away = await get(`${proxy.indexUrl}away/`);
    expect(away.status).toBe(302);
    expect(away.headers.get('location')).toBe('https://elsewhere.example/simple/demo/');
  });

  it('HEAD is forwarded; other methods are refused', async () => {
    const head = await fetch(`${proxy.indexUrl}demo/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const post = await fetch(`${proxy.indexUrl}demo/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('refuses paths outside its base path, absolute-URL requests and CONNECT: it is not an open proxy', async () => {
    const { port, pathname } = new URL(proxy.indexUrl);
    const token = pathname.split('/')[1]!;
    const before = upstream.requests.length;
    expect((await rawRequest(port, { path: '/simple/demo/' })).status).toBe(404);
    expect((await rawRequest(port, { path: `/${token}x/simple/demo/` })).status).toBe(404);
    expect((await rawRequest(port, { path: `${upstream.origin}/simple/demo/` })).status).toBe(400);
    expect((await rawRequest(port, { path: 'http://files.example.invalid/x' })).status).toBe(400);
    await expect(rawRequest(port, { method: 'CONNECT', path: 'files.example.invalid:443' })).rejects.toThrow();
    expect(upstream.requests.length).toBe(before);
    // `//host/...` after the base path is a path of the upstream's origin, never another host.
    expect((await rawRequest(port, { path: `/${token}//files.example.invalid/x` })).status).toBe(404);
    expect(upstream.requests.slice(before).map((r) => r.url)).toEqual(['//files.example.invalid/x']);
  });

  it('credentials the upstream refuses: 401 with a reason that says so, no challenge passed on, and the problem told', async () => {
    const problems: string[] = [];
    const wrong = await startCredentialProxy({
      upstreamUrl: `${upstream.origin.replace('http://', `http://${USER}:wrong@`)}/simple/`,
      host: '127.0.0.1',
      onProblem: (problem) => problems.push(problem),
    });
    try {
      const response = await get(`${wrong.indexUrl}demo/`);
      expect(response.status).toBe(401);
      expect(response.statusText).toBe('Unauthorized (the upstream index refused the credentials of its URL)');
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(problems).toEqual([
        `the upstream index ${upstream.origin} refused the credentials of its URL: HTTP 401 for GET /simple/demo/ (check the user name and password or token in the upstream index URL)`,
      ]);
      received.push(...problems);
    } finally {
      await wrong.close();
    }
  });

  it('an upstream that cannot be reached: 502 with a reason that says so, the cause in the body, and the problem told', async () => {
    const closed = await startFixtureServer({});
    const origin = closed.origin;
    await closed.close();
    const problems: string[] = [];
    const down = await startCredentialProxy({
      upstreamUrl: `${origin.replace('http://', `http://${USER}:${PASSWORD}@`)}/simple/`,
      host: '127.0.0.1',
      onProblem: (problem) => problems.push(problem),
    });
    try {
      const response = await get(`${down.indexUrl}demo/?x=1`);
      expect(response.status).toBe(502);
      expect(response.statusText).toBe('Bad Gateway (the upstream index could not be reached)');
      expect(response.body.toString()).toContain('ECONNREFUSED');
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(new RegExp(`^could not reach the upstream index ${origin} for GET /simple/demo/: .*ECONNREFUSED`));
      received.push(...problems);
    } finally {
      await down.close();
    }
  });

  it('real pip downloads a wheel through it, with no credentials in its configuration', async () => {
    const dest = join(work, 'pip-download');
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PIP_')));
    const result = await execa(
      'python3',
      [
        '-m',
        'pip',
        'download',
        '--no-deps',
        '--only-binary',
        ':all:',
        '--no-cache-dir',
        '--dest',
        dest,
        '--index-url',
        proxy.indexUrl,
        'demo==1.0',
      ],
      {
        env: { ...env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' },
        extendEnv: false,
        reject: false,
      },
    );
    expect(result.exitCode, String(result.stderr)).toBe(0);
    expect(await readdir(dest)).toEqual([wheel.filename]);
    expect(sha256(await readFile(join(dest, wheel.filename)))).toBe(wheel.sha256);
    received.push(String(result.stdout), String(result.stderr));
  }, 60_000);

  it('nothing a client received carries the credentials', () => {
    expect(received.length).toBeGreaterThan(10);
    const all = received.join('\n');
    for (const secret of SECRETS) expect(all).not.toContain(secret);
  });

  it('an address not on this machine: EnvironmentError credential-proxy-failed with a hint', async () => {
    const error = await startCredentialProxy({ upstreamUrl: `${upstream.origin}/simple/`, host: '192.0.2.1' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).code).toBe('credential-proxy-failed');
    expect((error as EnvironmentError).message).toContain('192.0.2.1');
    expect((error as EnvironmentError).hint).toContain('not an address of this machine');
  });
});

/** Requests without the right Authorization get a 401 challenge, as a private index answers. */
function authenticated(handler: FixtureHandler): FixtureHandler {
  return (req, res, seen) => {
    if (req.headers.authorization !== AUTH) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="private"', 'content-type': 'text/plain' }).end('who are you?');
      return;
    }
    handler(req, res, seen);
  };
}

/** A request line as written, for absolute-form targets and CONNECT, which fetch() cannot send. */
function rawRequest(port: string, { method = 'GET', path }: { method?: string; path: string }): Promise<{ status: number }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: Number(port), method, path });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0 }));
    });
    req.on('connect', (res) => reject(new Error(`CONNECT answered ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
