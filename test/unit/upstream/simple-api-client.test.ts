import { afterEach, describe, expect, it } from 'vitest';
import { TransientError, UserInputError, WheelfarmError } from '../../../farm/src/errors.ts';
import { fetchProjectFiles } from '../../../farm/src/upstream/simple-api-client.ts';
import { PEP691, basicAuth, sendJson, sendStatus, sequence, startFixtureServer } from '../../fixtures/upstream/fixture-server.ts';
import type { FixtureServer } from '../../fixtures/upstream/fixture-server.ts';

const SHA_A = 'a'.repeat(64);
const SHA_B = 'B'.repeat(64);

function page(files: unknown[], name = 'markupsafe'): unknown {
  return { meta: { 'api-version': '1.1' }, name, files };
}

let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function expectRejection(promise: Promise<unknown>): Promise<WheelfarmError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WheelfarmError);
  return error as WheelfarmError;
}

describe('fetchProjectFiles', () => {
  it('lists the files of a project from the PEP 691 JSON page, resolving relative URLs', async () => {
    server = await startFixtureServer({
      '/simple/markupsafe/': sendJson(
        page(
          [
            {
              filename: 'MarkupSafe-3.0.3.tar.gz',
              url: '../../files/MarkupSafe-3.0.3.tar.gz#sha256=ignored',
              hashes: { sha256: SHA_A },
              'requires-python': '>=3.9',
              yanked: false,
              size: 1234,
            },
            {
              filename: 'MarkupSafe-2.0.0.tar.gz',
              url: 'https://files.example.invalid/MarkupSafe-2.0.0.tar.gz',
              hashes: { sha256: SHA_B },
              yanked: 'broken build',
            },
            { filename: 'MarkupSafe-1.0.tar.gz', url: 'MarkupSafe-1.0.tar.gz', hashes: { md5: 'abc' }, yanked: true },
          ],
          'MarkupSafe',
        ),
      ),
    });
    const result = await fetchProjectFiles({ indexUrl: `${server.origin}/simple`, project: 'MarkupSafe' });

    expect(result.name).toBe('MarkupSafe');
    expect(result.files).toEqual([
      {
        filename: 'MarkupSafe-3.0.3.tar.gz',
        url: `${server.origin}/files/MarkupSafe-3.0.3.tar.gz#sha256=ignored`,
        sha256: SHA_A,
        requiresPython: '>=3.9',
        yanked: false,
        size: 1234,
      },
      {
        filename: 'MarkupSafe-2.0.0.tar.gz',
        url: 'https://files.example.invalid/MarkupSafe-2.0.0.tar.gz',
        sha256: SHA_B.toLowerCase(),
        yanked: 'broken build',
      },
      { filename: 'MarkupSafe-1.0.tar.gz', url: `${server.origin}/simple/markupsafe/MarkupSafe-1.0.tar.gz`, yanked: true },
    ]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.url).toBe('/simple/markupsafe/');
    expect(server.requests[0]?.headers.accept).toBe(PEP691);
  });

  it('asks for the normalized project name', async () => {
    server = await startFixtureServer({ '/simple/zope-interface/': sendJson(page([], 'zope-interface')) });
    const result = await fetchProjectFiles({ indexUrl: `${server.origin}/simple/`, project: 'Zope.Interface' });
    expect(result).toEqual({ name: 'zope-interface', files: [] });
    expect(server.requests.map((request) => request.url)).toEqual(['/simple/zope-interface/']);
  });

  it('sends credentials of the index URL as Basic auth, never in the request URL', async () => {
    server = await startFixtureServer({
      '/private/simple/demo/': (req, res) => {
        if (req.headers.authorization !== basicAuth('alice', 's:cret@1')) {
          res.writeHead(401).end();
          return;
        }
        sendJson(
          page(
            [
              { filename: 'demo-1.0.tar.gz', url: '/private/files/demo-1.0.tar.gz', hashes: { sha256: SHA_A } },
              { filename: 'demo-0.9.tar.gz', url: 'https://elsewhere.example.invalid/demo-0.9.tar.gz', hashes: {} },
            ],
            'demo',
          ),
        )(req, res, server!.requests.at(-1)!);
      },
    });
    const indexUrl = `${server.origin.replace('//', '//alice:s%3Acret%401@')}/private/simple/`;
    const result = await fetchProjectFiles({ indexUrl, project: 'demo' });

    const seen = server.requests[0];
    expect(seen?.headers.authorization).toBe(basicAuth('alice', 's:cret@1'));
    expect(seen?.url).toBe('/private/simple/demo/');
    expect(seen?.url).not.toContain('alice');
    // Files on the index's own origin keep its credentials (as pip does); others do not get them.
    expect(result.files[0]?.url).toBe(`${server.origin.replace('//', '//alice:s%3Acret%401@')}/private/files/demo-1.0.tar.gz`);
    expect(result.files[1]?.url).toBe('https://elsewhere.example.invalid/demo-0.9.tar.gz');
  });

  it('reports an unknown package as package-not-found without leaking the password', async () => {
    server = await startFixtureServer({});
    const indexUrl = `${server.origin.replace('//', '//bob:hunter2@')}/simple/`;
    const error = await expectRejection(fetchProjectFiles({ indexUrl, project: 'no-such-thing' }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('package-not-found');
    expect(error.message).toBe(
      `package \`no-such-thing\` was not found on the upstream index ${server.origin.replace('//', '//bob:***@')}/simple/`,
    );
    expect(error.message).not.toContain('hunter2');
    expect(error.hint).toMatch(/spelling/);
    expect(server.requests).toHaveLength(1);
  });

  it.each([401, 403])('reports HTTP %i as upstream-auth with a hint about credentials', async (status) => {
    server = await startFixtureServer({ '/simple/demo/': sendStatus(status) });
    const error = await expectRejection(fetchProjectFiles({ indexUrl: `${server.origin}/simple/`, project: 'demo', retryDelayMs: 0 }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('upstream-auth');
    expect(error.message).toContain(String(status));
    expect(error.hint).toMatch(/credentials/);
    expect(error.hint).toMatch(/pip config/);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a 503 and succeeds when the index recovers', async () => {
    server = await startFixtureServer({
      '/simple/demo/': sequence(sendStatus(503), sendStatus(429), sendJson(page([], 'demo'))),
    });
    const result = await fetchProjectFiles({ indexUrl: `${server.origin}/simple/`, project: 'demo', retries: 2, retryDelayMs: 1 });
    expect(result.name).toBe('demo');
    expect(server.requests).toHaveLength(3);
  });

  it('gives up on a 503 that never ends with TransientError upstream-unavailable', async () => {
    server = await startFixtureServer({ '/simple/demo/': sendStatus(503) });
    const error = await expectRejection(
      fetchProjectFiles({ indexUrl: `${server.origin}/simple/`, project: 'demo', retries: 2, retryDelayMs: 1 }),
    );
    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('upstream-unavailable');
    expect(error.message).toContain('503');
    expect((error as TransientError).retryable).toBe(true);
    expect(error.cause).toBeInstanceOf(TransientError);
    expect(server.requests).toHaveLength(3);
  });

  it('treats a refused connection as transient', async () => {
    server = await startFixtureServer({});
    const origin = server.origin;
    await server.close();
    server = undefined;
    const error = await expectRejection(fetchProjectFiles({ indexUrl: `${origin}/simple/`, project: 'demo', retries: 1, retryDelayMs: 1 }));
    expect(error).toBeInstanceOf(TransientError);
    expect(error.code).toBe('upstream-unavailable');
    expect(error.message).toMatch(/ECONNREFUSED/);
  });

  it('rejects an HTML answer with upstream-not-json', async () => {
    server = await startFixtureServer({
      '/simple/demo/': (_req, res) => {
        res
          .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          .end('<html><a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a></html>');
      },
    });
    const error = await expectRejection(fetchProjectFiles({ indexUrl: `${server.origin}/simple/`, project: 'demo' }));
    expect(error.code).toBe('upstream-not-json');
    expect(error.message).toContain('text/html');
    expect(error.hint).toMatch(/PEP 691/);
  });

  it('rejects JSON that is not a PEP 691 project page', async () => {
    server = await startFixtureServer({
      '/simple/demo/': sendJson({ meta: { 'api-version': '1.0' }, name: 'demo', files: [{ filename: 'x' }] }),
    });
    const error = await expectRejection(fetchProjectFiles({ indexUrl: `${server.origin}/simple/`, project: 'demo' }));
    expect(error.code).toBe('upstream-not-json');
    expect(error.message).toMatch(/files\.0\.url/);
  });

  it('rejects an unknown major API version', async () => {
    server = await startFixtureServer({ '/simple/demo/': sendJson({ meta: { 'api-version': '2.0' }, name: 'demo', files: [] }) });
    const error = await expectRejection(fetchProjectFiles({ indexUrl: `${server.origin}/simple/`, project: 'demo' }));
    expect(error.code).toBe('upstream-api-version');
  });

  it('validates its options up front', async () => {
    await expect(fetchProjectFiles({ indexUrl: 'http://127.0.0.1:1/simple/', project: 'demo', retries: -1 })).rejects.toThrow(
      'Expected `retries` to be an integer >= 0, got `-1` (number)',
    );
    const error = await expectRejection(fetchProjectFiles({ indexUrl: 'http://127.0.0.1:1/simple/', project: 'bad name!' }));
    expect(error.code).toBe('bad-package-name');
    const badUrl = await expectRejection(fetchProjectFiles({ indexUrl: 'ftp://127.0.0.1/simple/', project: 'demo' }));
    expect(badUrl.code).toBe('bad-index-url');
  });
});
