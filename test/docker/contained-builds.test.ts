import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicAuth, sendBytes, startFixtureServer } from '../fixtures/upstream/fixture-server.ts';
import type { FixtureHandler, FixtureServer } from '../fixtures/upstream/fixture-server.ts';
import { ownerLabel } from '../../farm/src/runtime/labels.ts';
import { installServers, removeDir, startPypiserver, workDir } from '../servers/upload/index-servers.ts';
import type { RunningServer } from '../servers/upload/index-servers.ts';
import { REPO_ROOT, docker, makeTempDir, packFixture, wheelfarmContainers, workVolumes } from './helpers.ts';

/**
 * Builds run other people's code: every container of a cell is contained (non-root, no capability,
 * no-new-privileges, limits, read-only root, nothing of the host mounted, no credential), and the
 * build phase has no network at all. The netfix fixture's build sleeps (NETFIX_SLEEP) and opens a
 * socket (NETFIX_CONNECT=1) when its recipe's build.env says so.
 */
describe('contained builds', () => {
  const PASSWORD = 'wheelfarm-test-index-password';
  let netfix: { path: string; sha256: string };
  let pypiserver: RunningServer;
  let serverDir: string;
  beforeAll(async () => {
    netfix = await packFixture('netfix', 'netfix', '0.1.0');
    const skipped = await installServers();
    if (skipped) throw new Error(skipped);
    serverDir = workDir();
    pypiserver = await startPypiserver(serverDir, 'uploader', PASSWORD);
  });
  afterAll(async () => {
    await pypiserver?.stop();
    if (serverDir) removeDir(serverDir);
  });

  const recipe = (env: Record<string, string>, extra = '') => `source:
  url: ${pathToFileURL(netfix.path).href}
  sha256: ${netfix.sha256}
build:
  env: { ${Object.entries(env)
    .map(([k, v]) => `${k}: "${v}"`)
    .join(', ')} }
${extra}`;

  /** `wheelfarm build netfix` with the test's recipe and home, the farm's other settings as usual. */
  async function build(recipeText: string, { env = {}, index }: { env?: Record<string, string>; index?: string } = {}) {
    const dir = await makeTempDir('contained');
    await writeFile(join(dir, 'netfix.yaml'), recipeText);
    const target = index ?? join(dir, 'index');
    const child = execa(`${REPO_ROOT}/wheelfarm`, ['build', 'netfix', '--python', '3.13', '--index', target, '--json'], {
      cwd: REPO_ROOT,
      reject: false,
      env: { WHEELFARM_RECIPES_DIR: dir, WHEELFARM_HOME: join(dir, 'home'), ...env },
    });
    return { child, index: target, dir };
  }

  /**
   * Waits for the cell's container of `step` to be running and returns `docker inspect` of it; with
   * `owner`, only one of that farm process (another may build the same cell meanwhile).
   */
  async function inspectWhileRunning(
    step: string,
    { owner, deadline = Date.now() + 120_000 }: { owner?: number; deadline?: number } = {},
  ): Promise<Docker.ContainerInspectInfo> {
    const labels = [
      'wheelfarm.build-id=netfix-0.1.0-cp313-manylinux_2_31_x86_64',
      `wheelfarm.step=${step}`,
      ...(owner ? [`wheelfarm.owner=${ownerLabel(owner)}`] : []),
    ];
    while (Date.now() < deadline) {
      const [found] = await docker.listContainers({ filters: { label: labels } });
      if (found) return docker.getContainer(found.Id).inspect();
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no running ${step} container within the time`);
  }

  it('docker inspect of a running build: non-root, CapDrop ALL, no-new-privileges, NetworkMode none, read-only root, limits, no host path, no credential', async () => {
    const secrets = {
      AWS_ACCESS_KEY_ID: 'AKIAWHEELFARMTESTKEY',
      AWS_SECRET_ACCESS_KEY: 'wheelfarm-test-secret-access-key',
      AWS_SESSION_TOKEN: 'wheelfarm-test-session-token',
    };
    // The index the farm publishes to, a real pypiserver, takes a password.
    const { child } = await build(recipe({ NETFIX_SLEEP: '6' }), {
      env: secrets,
      index: `pypiserver+${pypiserver.url.replace('http://', `http://uploader:${PASSWORD}@`)}`,
    });
    const owner = { owner: child.pid! };
    const requires = await inspectWhileRunning('requires', owner);
    const inspected = await inspectWhileRunning('build', owner);
    const testStep = await inspectWhileRunning('test', owner);
    const run = await child;
    expect(run.exitCode, String(run.stderr)).toBe(0);
    const output = String(run.stdout) + String(run.stderr);

    for (const info of [requires, inspected, testStep]) {
      expect(info.Config.User).toBe('builder');
      expect(info.HostConfig.CapDrop).toEqual(['ALL']);
      expect(info.HostConfig.CapAdd ?? []).toEqual([]);
      expect(info.HostConfig.Privileged).toBe(false);
      expect(info.HostConfig.SecurityOpt).toContain('no-new-privileges');
      expect(info.HostConfig.ReadonlyRootfs).toBe(true);
      expect(info.HostConfig.PidsLimit).toBeGreaterThan(0);
      expect(info.HostConfig.Memory).toBeGreaterThan(0);
      expect(Object.keys(info.HostConfig.Tmpfs ?? {}).sort()).toEqual(['/home/builder', '/tmp']);
      // Named volumes only (the cell's work volume and the caches): no bind mount, no Docker socket.
      expect(info.Mounts.map((m) => m.Type)).toEqual(info.Mounts.map(() => 'volume'));
      expect(info.HostConfig.Binds ?? []).toEqual([]);
      expect(JSON.stringify(info.Mounts)).not.toContain('docker.sock');
      const env = info.Config.Env.join('\n');
      for (const secret of [...Object.values(secrets), PASSWORD]) expect(env).not.toContain(secret);
      expect(env).not.toMatch(/^AWS_/m);
    }
    expect(requires.HostConfig.NetworkMode).not.toBe('none');
    expect(inspected.HostConfig.NetworkMode).toBe('none');
    expect(inspected.Mounts.find((m) => m.Destination === '/work')?.Name).toMatch(/^wheelfarm-work-netfix-0\.1\.0-cp313-/);
    // The test container shares the cell's work volume, where the build left the wheel.
    expect(testStep.Mounts.find((m) => m.Destination === '/work')?.Name).toBe(
      inspected.Mounts.find((m) => m.Destination === '/work')?.Name,
    );
    expect(output).not.toContain(PASSWORD);
    expect(await wheelfarmContainers('netfix')).toEqual([]);
    expect(await workVolumes('netfix')).toEqual([]);
  });

  it('an upstream index URL with credentials: containers get the credential proxy, never the user name or password, and the build requirements come through it', async () => {
    const user = 'wheelfarm-upstream-reader';
    const password = 'upstream-s3cret-7f3a91';
    const upstream = await startPrivateIndex(['setuptools', 'wheel'], user, password);
    try {
      const upstreamUrl = `${upstream.origin.replace('http://', `http://${user}:${password}@`)}/simple/`;
      const { child } = await build(recipe({ NETFIX_SLEEP: '6' }), { env: { WHEELFARM_UPSTREAM_INDEX_URL: upstreamUrl } });
      const owner = { owner: child.pid! };
      const requires = await inspectWhileRunning('requires', owner);
      const inspected = await inspectWhileRunning('build', owner);
      const testStep = await inspectWhileRunning('test', owner);
      const run = await child;
      expect(run.exitCode, `${String(run.stdout)}${String(run.stderr)}`).toBe(0);

      // The engine's own word for where its containers reach this machine: every engine reports the
      // gateway of a running container's network (the bridge network's IPAM.Gateway is missing on some).
      const gateway = requires.NetworkSettings.Networks.bridge?.Gateway ?? '';
      expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      for (const info of [requires, inspected, testStep]) {
        const captured = `${info.Config.Env.join('\n')}\n${JSON.stringify(info.Mounts)}\n${JSON.stringify(info.HostConfig.Binds ?? [])}`;
        expect(captured).not.toContain(user);
        expect(captured).not.toContain(password);
      }
      for (const info of [requires, testStep]) {
        const env = Object.fromEntries(
          info.Config.Env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
        );
        expect(env.PIP_INDEX_URL).toMatch(new RegExp(`^http://${gateway.replaceAll('.', '\\.')}:\\d+/[0-9a-f]{32}/simple/$`));
        expect(env.PIP_TRUSTED_HOST).toBe(new URL(env.PIP_INDEX_URL!).host);
      }
      expect(inspected.Config.Env.some((line) => line.startsWith('PIP_INDEX_URL='))).toBe(false);
      // The requires step's pip fetched setuptools from the private index: through the proxy, with the credentials.
      expect(upstream.requests.map((r) => r.url)).toEqual(
        expect.arrayContaining(['/simple/setuptools/', expect.stringMatching(/^\/files\/setuptools-.*\.whl$/)]),
      );
      expect(upstream.requests.filter((r) => r.headers.authorization !== basicAuth(user, password))).toEqual([]);
      expect(String(run.stdout) + String(run.stderr)).not.toContain(password);
      expect(await wheelfarmContainers('netfix')).toEqual([]);
    } finally {
      await upstream.close();
    }
  });

  it('an upstream that refuses the credentials: the requires step fails, and its log says the upstream refused them', async () => {
    const upstream = await startPrivateIndex(['setuptools'], 'wheelfarm-upstream-reader', 'the-right-password');
    try {
      const upstreamUrl = `${upstream.origin.replace('http://', 'http://wheelfarm-upstream-reader:a-wrong-password@')}/simple/`;
      const { child, dir } = await build(recipe({}), { env: { WHEELFARM_UPSTREAM_INDEX_URL: upstreamUrl } });
      const run = await child;
      expect(run.exitCode).toBe(1);
      expect(cellEvent(String(run.stdout))).toMatchObject({ outcome: 'failed', error: { code: 'requires-failed' } });
      const log = gunzipSync(
        await readFile(join(dir, 'home', 'logs', 'netfix-0.1.0-cp313-manylinux_2_31_x86_64', 'latest.log.gz')),
      ).toString();
      expect(log).toMatch(
        /== wheelfarm: the upstream index http:\/\/127\.0\.0\.1:\d+ refused the credentials of its URL: HTTP 401 for GET \/simple\/setuptools\//,
      );
      expect(log + String(run.stdout) + String(run.stderr)).not.toContain('a-wrong-password');
      expect(await wheelfarmContainers('netfix')).toEqual([]);
    } finally {
      await upstream.close();
    }
  });

  it('a build that opens a socket fails in the build phase, saying why; with build.network it builds', async () => {
    const offline = await build(recipe({ NETFIX_CONNECT: '1' }));
    const run = await offline.child;
    expect(run.exitCode).toBe(1);
    const cell = cellEvent(String(run.stdout));
    expect(cell).toMatchObject({ outcome: 'failed', error: { code: 'build-failed' } });
    expect(cell.error.message).toMatch(
      /the build step failed \(exit code 1\): it tried to reach the network \(".*Network is unreachable"\), and builds run with none/,
    );
    expect(cell.error.hint).toContain('build.network: "<why>"');
    expect(existsSync(join(offline.index, 'files', 'netfix'))).toBe(false);

    const online = await build(recipe({ NETFIX_CONNECT: '1' }, '  network: "test: this build opens a socket"\n'));
    const ok = await online.child;
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(existsSync(join(online.index, 'files', 'netfix'))).toBe(true);
    expect(await wheelfarmContainers('netfix')).toEqual([]);
  });

  it('the build record lists the build requirements the offline build installed, with their sha256', async () => {
    const { child, dir } = await build(recipe({}));
    const run = await child;
    expect(run.exitCode, String(run.stderr)).toBe(0);
    const status = await execa(`${REPO_ROOT}/wheelfarm`, ['status', 'netfix', '--json'], {
      cwd: REPO_ROOT,
      env: { WHEELFARM_HOME: join(dir, 'home') },
    });
    const { records } = JSON.parse(String(status.stdout).trim().split('\n').pop()!) as {
      records: { requires?: { file: string; sha256: string }[]; steps: Record<string, number> }[];
    };
    const requires = records[0]!.requires!;
    expect(requires.map((r) => r.file)).toEqual(expect.arrayContaining([expect.stringMatching(/^setuptools-[\d.]+-py3-none-any\.whl$/)]));
    for (const r of requires) expect(r.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(records[0]!.steps)).toEqual(['requires', 'build', 'repair', 'test', 'publish']);
  });

  it('a step that outlives limits.timeout is stopped, with a message naming the limit, and nothing is left', async () => {
    // Longer than the requires step takes on a busy 2-core machine (about 3 s idle), far below the build's sleep.
    const { child, index } = await build(recipe({ NETFIX_SLEEP: '120' }, 'limits:\n  timeout: 20s\n'));
    const started = Date.now();
    const run = await child;
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(run.exitCode).toBe(1);
    const cell = cellEvent(String(run.stdout));
    expect(cell.error.message).toMatch(/the build step was stopped after 20 s, its time limit/);
    expect(cell.error.hint).toContain('limits.timeout');
    expect(existsSync(join(index, 'files', 'netfix'))).toBe(false);
    expect(await wheelfarmContainers('netfix')).toEqual([]);
    expect(await workVolumes('netfix')).toEqual([]);
  });
});

/**
 * A private index on loopback that wants Basic auth for everything: PEP 503 pages whose links are
 * absolute (same origin, so the proxy must rewrite them), and the wheels of `projects`, downloaded
 * by the host's pip from its own index.
 */
async function startPrivateIndex(projects: string[], user: string, password: string): Promise<FixtureServer> {
  const dir = await makeTempDir('private-index');
  await execa('python3', ['-m', 'pip', 'download', '-q', '--no-deps', '--only-binary', ':all:', '-d', dir, ...projects]);
  const files = await readdir(dir);
  const routes: Record<string, FixtureHandler> = {};
  const server = await startFixtureServer(routes);
  const challenge =
    (handler: FixtureHandler): FixtureHandler =>
    (req, res, seen) => {
      if (req.headers.authorization === basicAuth(user, password)) return handler(req, res, seen);
      res.writeHead(401, { 'www-authenticate': 'Basic realm="private"', 'content-type': 'text/plain' }).end('credentials, please');
    };
  for (const project of projects) {
    const mine = files.filter((f) => f.toLowerCase().startsWith(`${project.toLowerCase()}-`));
    const links = await Promise.all(
      mine.map(
        async (f) =>
          `<a href="${server.origin}/files/${f}#sha256=${createHash('sha256')
            .update(await readFile(join(dir, f)))
            .digest('hex')}">${f}</a>`,
      ),
    );
    routes[`/simple/${project}/`] = challenge(
      (_req, res) =>
        void res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body>\n${links.join('\n')}\n</body></html>`),
    );
    for (const f of mine) routes[`/files/${f}`] = challenge(sendBytes(await readFile(join(dir, f))));
  }
  return server;
}

/** The `cell` event of a `--json` run. */
function cellEvent(stdout: string): { outcome: string; error: { code: string; message: string; hint?: string } } {
  const events = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { type: string });
  const cell = events.find((e) => e.type === 'cell');
  if (!cell) throw new Error(`no cell event in:\n${stdout}`);
  return cell as unknown as ReturnType<typeof cellEvent>;
}
