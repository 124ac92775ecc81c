import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../../farm/src/cli/exit-codes.ts';
import { IndexUnavailableError, IntegrityError } from '../../../farm/src/errors.ts';
import type { IndexRetryPolicy } from '../../../farm/src/index/retry-policy.ts';
import { DevpiPublisher } from '../../../farm/src/index/upload/devpi-publisher.ts';
import { PypiserverPublisher } from '../../../farm/src/index/upload/pypiserver-publisher.ts';
import { FaultProxy } from '../../support/fault-proxy.ts';
import { describeNeeding } from '../../support/needs.ts';
import { installServers, rejection, removeDir, startDevpi, startPypiserver, wheel, workDir } from './index-servers.ts';
import type { RunningServer } from './index-servers.ts';

/**
 * The uploading publishers when their server fails: real pypiserver and devpi-server processes, with
 * the fault proxy in front (500/502/503, hangs, cut connections, refused connections) or stopped.
 * What the server holds is always checked straight at the server, past the proxy.
 */
const missing = await installServers();
/** Short delays and timeout, so a test of several tries takes seconds. */
const FAST: Partial<IndexRetryPolicy> = { tries: 3, retryDelayMs: 100, timeoutMs: 1500 };

let work: string;
beforeEach(() => {
  work = workDir();
});
afterEach(() => removeDir(work));

/**
 * A real server started in a directory of its own, the fault proxy in front of it, both for the
 * whole describe block; the proxy's faults and record are cleared after each test. The getters
 * read what beforeAll started.
 */
function serverBehindProxy(start: (dir: string) => Promise<RunningServer>): {
  readonly server: RunningServer;
  readonly serverDir: string;
  readonly proxy: FaultProxy;
} {
  const state: { server?: RunningServer; serverDir?: string; proxy?: FaultProxy } = {};
  beforeAll(async () => {
    if (missing) return;
    state.serverDir = workDir();
    state.server = await start(state.serverDir);
    state.proxy = await FaultProxy.start(state.server.url);
  }, 120_000);
  afterAll(async () => {
    await state.proxy?.close();
    await state.server?.stop();
    if (state.serverDir) removeDir(state.serverDir);
  });
  afterEach(() => {
    state.proxy?.clear();
    state.proxy?.seen.splice(0);
  });
  return {
    get server() {
      return state.server!;
    },
    get serverDir() {
      return state.serverDir!;
    },
    get proxy() {
      return state.proxy!;
    },
  };
}

describeNeeding(missing, 'PypiserverPublisher when pypiserver fails', () => {
  const USER = 'uploader';
  const PASSWORD = 'faulty-1';
  const publisher = (url: string, retry: Partial<IndexRetryPolicy> = FAST) =>
    new PypiserverPublisher({ url, user: USER, password: PASSWORD, retry });

  const env = serverBehindProxy((dir) => startPypiserver(dir, USER, PASSWORD));

  it('retries an upload answered 503 twice (once with Retry-After), then publishes', async () => {
    const tiny = wheel(work, { name: 'retried', version: '1.0' });
    env.proxy.inject({ method: 'POST', path: '/', times: 1, fault: { status: 503, retryAfter: '1' } });
    env.proxy.inject({ method: 'POST', path: '/', times: 1, fault: { status: 503 } });

    expect(await publisher(env.proxy.url).publish(tiny)).toBe('published');

    const posts = env.proxy.requests('POST', '/');
    expect(posts.map((seen) => seen.status)).toEqual([503, 503, 200]);
    expect(posts[1]!.startedAt - posts[0]!.endedAt!).toBeGreaterThanOrEqual(990);
    expect(posts[2]!.startedAt - posts[1]!.endedAt!).toBeGreaterThanOrEqual(190);
    expect((await publisher(env.server.url).listFiles('retried')).map((file) => file.sha256)).toEqual([tiny.sha256]);
  });

  it('reads a simple page again after 502 answers', async () => {
    env.proxy.inject({ method: 'GET', path: '/simple/absent/', times: 2, fault: { status: 502 } });

    expect(await publisher(env.proxy.url).listFiles('absent')).toEqual([]);

    expect(env.proxy.requests('GET', '/simple/absent/').map((seen) => seen.status)).toEqual([502, 502, 404]);
  });

  it('gives up on a permanent 503 with a clear error, and the server lists nothing', async () => {
    env.proxy.inject({ method: 'POST', path: '/', fault: { status: 503, body: 'maintenance until noon' } });

    const error = await rejection(publisher(env.proxy.url).publish(wheel(work, { name: 'refused', version: '1.0' })));

    expect(error).toBeInstanceOf(IndexUnavailableError);
    expect(exitCodeFor(error)).toBe(EXIT.transient);
    expect(error).toMatchObject({ code: 'index-unavailable', tries: 3 });
    const { message, hint } = error as IndexUnavailableError;
    expect(message).toContain(
      `the pypiserver at ${env.proxy.url}/ is unavailable: POST ${env.proxy.url}/ answered HTTP 503: maintenance until noon`,
    );
    expect(message).toMatch(/\(tried 3 times over \d+\.\d s\)$/);
    expect(message).not.toContain(PASSWORD);
    expect(hint).toContain('Publish again once it answers');
    expect(env.proxy.requests('POST', '/')).toHaveLength(3);
    expect(await publisher(env.server.url).listFiles('refused')).toEqual([]);
  });

  it('abandons a page read that hangs after the timeout and reads it again', async () => {
    env.proxy.inject({ method: 'GET', path: '/simple/slow/', times: 1, fault: { hang: true } });

    expect(await publisher(env.proxy.url, { ...FAST, timeoutMs: 1000 }).publish(wheel(work, { name: 'slow', version: '1.0' }))).toBe(
      'published',
    );

    const [hung, retried] = env.proxy.requests('GET', '/simple/slow/');
    expect(hung).toMatchObject({ action: 'hang', clientGaveUp: true });
    expect(hung!.endedAt! - hung!.startedAt).toBeGreaterThanOrEqual(950);
    expect(hung!.endedAt! - hung!.startedAt).toBeLessThan(3000);
    expect(retried!.action).toBe('forwarded');
  });

  it('names the truncated file pypiserver keeps from an upload cut mid-body, and publishes once it is deleted', async () => {
    // About 1 MB, so the cut falls well inside the body.
    const big = wheel(work, { name: 'cut', version: '1.0', marker: randomBytes(768 * 1024).toString('base64') });
    env.proxy.inject({ method: 'POST', path: '/', times: 1, fault: { reset: true } });

    const error = await rejection(publisher(env.proxy.url).publish(big));

    // pypiserver writes what arrives straight under the wheel's name: half the wheel is now served.
    const stored = readFileSync(join(env.serverDir, 'packages', big.filename));
    expect(stored.length).toBeLessThan(statSync(big.path).size);
    expect(error).toBeInstanceOf(IntegrityError);
    expect(exitCodeFor(error)).toBe(EXIT.integrity);
    expect(error).toMatchObject({ code: 'index-partial-upload' });
    expect((error as IntegrityError).message).toBe(
      `the pypiserver at ${env.proxy.url}/ serves a truncated ${big.filename}: the first ${stored.length} of its ${statSync(big.path).size} bytes, left by an upload that broke off`,
    );
    expect((error as IntegrityError).hint).toContain('Delete that file on the server');
    expect(env.proxy.requests('POST', '/')[0]!.action).toBe('reset');

    // What the hint says to do.
    rmSync(join(env.serverDir, 'packages', big.filename));
    expect(await publisher(env.proxy.url).publish(big)).toBe('published');
    expect((await publisher(env.server.url).listFiles('cut')).map((file) => [file.filename, file.sha256])).toEqual([
      [big.filename, big.sha256],
    ]);
  });
});

describeNeeding(missing, 'DevpiPublisher when devpi-server fails', () => {
  const USER = 'builder';
  const PASSWORD = 'faulty-2';
  const publisher = (url: string, retry: Partial<IndexRetryPolicy> = FAST) =>
    new DevpiPublisher({ url, user: USER, password: PASSWORD, index: 'wheels', create: true, retry });

  const env = serverBehindProxy((dir) => startDevpi(dir));

  it('retries a login answered 502 and an upload answered 503, then publishes', async () => {
    const tiny = wheel(work, { name: 'retried', version: '1.0' });
    env.proxy.inject({ method: 'POST', path: '/+login', times: 1, fault: { status: 502 } });
    env.proxy.inject({ method: 'POST', path: `/${USER}/wheels/`, times: 2, fault: { status: 503 } });

    expect(await publisher(env.proxy.url).publish(tiny)).toBe('published');

    // 401: the user does not exist yet, so the publisher creates it and logs in again.
    expect(env.proxy.requests('POST', '/+login').map((seen) => seen.status)).toEqual([502, 401, 200]);
    expect(env.proxy.requests('POST', `/${USER}/wheels/`).map((seen) => seen.status)).toEqual([503, 503, 200]);
    expect((await publisher(env.server.url).listFiles('retried')).map((file) => file.sha256)).toEqual([tiny.sha256]);
  });

  it('uploads again after a reset in the middle of the wheel; devpi keeps nothing of the cut upload', async () => {
    const big = wheel(work, { name: 'cut', version: '1.0', marker: randomBytes(768 * 1024).toString('base64') });
    env.proxy.inject({ method: 'POST', path: `/${USER}/wheels/`, times: 1, fault: { reset: true } });

    expect(await publisher(env.proxy.url).publish(big)).toBe('published');

    const uploads = env.proxy.requests('POST', `/${USER}/wheels/`);
    expect(uploads[0]!.action).toBe('reset');
    expect(uploads.at(-1)).toMatchObject({ action: 'forwarded', status: 200 });
    expect((await publisher(env.server.url).listFiles('cut')).map((file) => [file.filename, file.sha256])).toEqual([
      [big.filename, big.sha256],
    ]);
  });

  it('rides out a server that refuses connections for a moment', async () => {
    await env.proxy.refuseConnections();
    const back = setTimeout(() => void env.proxy.acceptConnections(), 700);
    try {
      // 200 + 400 + 800 ms of waits: it is back before the last try.
      expect(await publisher(env.proxy.url, { tries: 5, retryDelayMs: 200 }).publish(wheel(work, { name: 'blip', version: '1.0' }))).toBe(
        'published',
      );
    } finally {
      clearTimeout(back);
      await env.proxy.acceptConnections();
    }
  });

  // Last: it stops the env.server.
  it('reports a stopped devpi-server after the tries, naming it and the refused connection', async () => {
    await env.server.stop();
    const started = performance.now();

    const error = await rejection(
      publisher(env.server.url, { tries: 3, retryDelayMs: 100 }).publish(wheel(work, { name: 'down', version: '1.0' })),
    );

    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(error).toBeInstanceOf(IndexUnavailableError);
    expect(exitCodeFor(error)).toBe(EXIT.transient);
    expect(error).toMatchObject({ code: 'index-connection-failed', tries: 3 });
    const { message, hint } = error as IndexUnavailableError;
    expect(message).toContain(`could not reach the devpi index ${env.server.url}${USER}/wheels/: POST ${env.server.url}+login failed:`);
    expect(message).toContain('ECONNREFUSED');
    expect(message).not.toContain(PASSWORD);
    expect(hint).toContain('running and reachable');
  });
});
