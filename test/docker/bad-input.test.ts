import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, makeTempDir, runWheelfarm, wheelfarmContainers } from './helpers.ts';

describe('bad input gets a clear error, a meaningful exit code, and nothing half-written', () => {
  it('a package that does not exist: exit 2, the message names it', async () => {
    const run = await runWheelfarm(['build', 'wheelfarm-no-such-package-xq7', '--index', await makeTempDir('index')]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(/`wheelfarm-no-such-package-xq7` was not found/);
    expect(run.stderr).toMatch(/hint:/);
  });

  it('a version that does not exist: exit 2, the message lists versions that do', async () => {
    const run = await runWheelfarm(['build', 'markupsafe==0.0.1', '--index', await makeTempDir('index'), '--json']);
    expect(run.exitCode).toBe(2);
    const error = run.events.find((e) => e.type === 'error')!;
    expect(error.code).toBe('version-not-found');
    expect(String(error.message)).toMatch(/0\.0\.1/);
    expect(String(error.message) + String(error.hint)).toMatch(/\d+\.\d+\.\d+/);
  });

  it('bad flags and specs: exit 2 with a message that says what was expected', async () => {
    const python = await runWheelfarm(['build', 'markupsafe', '--python', '2.7.x']);
    expect(python.exitCode).toBe(2);
    expect(python.stderr).toMatch(/--python expects a comma-separated list like `3\.11,3\.13`/);
    const spec = await runWheelfarm(['build', 'markupsafe>=2']);
    expect(spec.exitCode).toBe(2);
    expect(spec.stderr).toMatch(/not a package name or `name==version`/);
    const jobs = await runWheelfarm(['build', 'markupsafe', '--jobs', '0']);
    expect(jobs.exitCode).toBe(2);
    expect(jobs.stderr).toMatch(/--jobs expects a whole number from 1 to 64, got `0`/);
    const yank = await runWheelfarm(['index', 'yank', 'markupsafe', '--index', await makeTempDir('index')]);
    expect(yank.exitCode).toBe(2);
    expect(yank.stderr).toMatch(/yank needs an exact version: `markupsafe==VERSION`/);
    const served = await runWheelfarm(['index', 'yank', 'markupsafe==3.0.3', '--index', 'pypiserver+http://u:secret@127.0.0.1:9/']);
    expect(served.exitCode).toBe(2);
    expect(served.stderr).toMatch(/wheelfarm does not write the pages of the pypiserver at http:\/\/127\.0\.0\.1:9\/.*it serves its own/);
    expect(served.stderr).toMatch(/hint: yank or mend it with the server's own tools/);
    expect(served.stderr).not.toContain('secret');
    const target = await runWheelfarm(['build', 'markupsafe', '--index', 'ftp://host/x']);
    expect(target.exitCode).toBe(2);
    expect(target.stderr).toMatch(/`ftp:\/\/host\/x` is not an index: `ftp:\/\/` is not a known index kind/);
    const missing = await runWheelfarm(['build', 'markupsafe', '--python', '3.7']);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/no Python 3\.7/);
  });

  describe('an upstream index that serves bytes other than its sha256 promises', () => {
    // A real HTTP index on loopback, serving a real PEP 691 page and a tarball that does not match.
    let server: ReturnType<typeof createServer>;
    let url: string;
    const promised = 'a'.repeat(64);
    beforeAll(async () => {
      server = createServer((request, response) => {
        if (request.url === '/simple/tamperedpkg/') {
          response.setHeader('content-type', 'application/vnd.pypi.simple.v1+json');
          response.end(
            JSON.stringify({
              meta: { 'api-version': '1.1' },
              name: 'tamperedpkg',
              files: [{ filename: 'tamperedpkg-1.0.tar.gz', url: '/files/tamperedpkg-1.0.tar.gz', hashes: { sha256: promised } }],
            }),
          );
        } else if (request.url === '/files/tamperedpkg-1.0.tar.gz') {
          response.end(Buffer.alloc(4096, 7));
        } else {
          response.statusCode = 404;
          response.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/simple/`;
    });
    afterAll(() => server.close());

    it('is refused: exit 5, the file and both hashes named, nothing in the cache or the index', async () => {
      const home = await makeTempDir('home');
      const index = await makeTempDir('index');
      const run = await runWheelfarm(['build', 'tamperedpkg', '--index', index], {
        env: { WHEELFARM_HOME: home, WHEELFARM_UPSTREAM_INDEX_URL: url },
      });
      expect(run.exitCode, run.stderr).toBe(5);
      expect(run.stderr).toContain('tamperedpkg-1.0.tar.gz');
      expect(run.stderr).toContain(promised);
      expect(existsSync(join(home, 'cache', 'sdists', promised))).toBe(false);
      expect(await readdir(index)).toEqual([]);
    });
  });

  it('a real sdist whose build fails (psycopg2 without its recipe has no pg_config): exit 1, log tail shown, nothing published, no container', async () => {
    const index = await makeTempDir('index');
    // An empty recipes folder: psycopg2 builds with the defaults, which lack libpq-dev.
    const run = await runWheelfarm(['build', 'psycopg2', '--python', '3.13', '--index', index], {
      env: { WHEELFARM_RECIPES_DIR: await makeTempDir('no-recipes') },
    });
    expect(run.exitCode).toBe(1);
    // setup.py looks for pg_config as soon as it runs: when pip asks for the build requirements.
    expect(run.stderr).toMatch(/the requires step failed/);
    expect(run.stderr).toMatch(/\| .*pg_config/);
    expect(run.stderr).toMatch(/\| .*the build backend failed when asked for its build requirements/);
    expect(run.stderr).toMatch(/log: .*logs\/psycopg2-[\d.]+-cp313-manylinux_2_31_x86_64\/.*\.log/);
    expect(existsSync(join(index, 'files', 'psycopg2'))).toBe(false);
    expect(await wheelfarmContainers('psycopg2')).toEqual([]);
  });

  it('Ctrl-C during a build: exit 130, the build container is removed, nothing published', async () => {
    const index = await makeTempDir('index');
    const child = execa(`${REPO_ROOT}/wheelfarm`, ['build', 'markupsafe==3.0.2', '--python', '3.13', '--index', index, '--json'], {
      cwd: REPO_ROOT,
      reject: false,
      buffer: { stdout: true },
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        if (/"type":"step","buildId":"[^"]+","step":"build","status":"started"/.test(chunk.toString())) resolve();
      });
      void child.then(() => reject(new Error('wheelfarm ended before its build step started')));
    });
    // Let the container start working, then interrupt as a terminal would.
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    expect(await wheelfarmContainers('markupsafe')).toEqual([]);
    expect(existsSync(join(index, 'files', 'markupsafe'))).toBe(false);
  });
});
