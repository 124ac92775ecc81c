import { afterEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import type { ContainerRuntime } from '../../../farm/src/runtime/container-runtime.ts';
import { runtimeForHost } from '../../../farm/src/runtime/docker-hosts.ts';
import { DockerRuntime } from '../../../farm/src/runtime/docker-runtime.ts';
import { UpstreamForContainers } from '../../../farm/src/upstream/upstream-for-containers.ts';
import { basicAuth, startFixtureServer } from '../../fixtures/upstream/fixture-server.ts';
import type { FixtureServer } from '../../fixtures/upstream/fixture-server.ts';

/** An engine as far as the upstream's reach goes: where it runs, and its bridge's gateway (counted). */
function engine(description: string, local: boolean, gateway = '127.0.0.1') {
  const asked = { gateway: 0 };
  const runtime = {
    description,
    local,
    bridgeGateway: async () => {
      asked.gateway += 1;
      return gateway;
    },
  } as unknown as ContainerRuntime;
  return { runtime, asked };
}

const LOCAL = 'unix:///var/run/docker.sock';
const REMOTE = 'build2 (ssh://farm@build2.example)';

let server: FixtureServer | undefined;
let access: UpstreamForContainers | undefined;
afterEach(async () => {
  await access?.close();
  await server?.close();
  access = undefined;
  server = undefined;
});

describe('UpstreamForContainers', () => {
  it('an upstream URL without credentials goes in as it is, on any engine, and no engine is asked anything', async () => {
    access = new UpstreamForContainers({
      upstream: async () => ({ url: 'https://mirror.example/simple/', source: 'settings' }),
      proxyEnv: { HTTPS_PROXY: 'http://proxy:3128' },
    });
    const remote = engine(REMOTE, false);
    expect(await access.env(remote.runtime)).toEqual({ PIP_INDEX_URL: 'https://mirror.example/simple/' });
    await access.check(remote.runtime);
    expect(remote.asked.gateway).toBe(0);
  });

  it('with credentials: the proxy on the bridge gateway, one per gateway, reachable until close(), with NO_PROXY when a proxy is set', async () => {
    server = await startFixtureServer({
      '/simple/private/': (_req, res) => void res.writeHead(403, { 'content-type': 'text/plain' }).end('not yours'),
      '/simple/demo/': (req, res) =>
        void res
          .writeHead(req.headers.authorization === basicAuth('u', 'p4ss') ? 200 : 401, { 'content-type': 'text/html' })
          .end('<a href="demo-1.0.tar.gz">demo</a>'),
    });
    const url = `${server.origin.replace('http://', 'http://u:p4ss@')}/simple/`;
    access = new UpstreamForContainers({
      upstream: async () => ({ url, source: 'pip-config' }),
      proxyEnv: { HTTP_PROXY: 'http://proxy:3128', NO_PROXY: 'internal.example' },
    });
    const local = engine(LOCAL, true);
    const env = await access.env(local.runtime);
    expect(env.PIP_INDEX_URL).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{32}\/simple\/$/);
    expect(env.PIP_TRUSTED_HOST).toBe(new URL(env.PIP_INDEX_URL).host);
    expect(env.NO_PROXY).toBe('internal.example,127.0.0.1');
    expect(env.no_proxy).toBe('127.0.0.1');
    expect(JSON.stringify(env)).not.toContain('p4ss');
    expect(await access.env(local.runtime)).toEqual(env);

    const page = await fetch(`${env.PIP_INDEX_URL}demo/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('demo-1.0.tar.gz');

    // A step watches while it runs: it hears of the upstream's refusals, and nothing once it stops.
    const heard: string[] = [];
    const unwatch = access.watch((problem) => heard.push(problem));
    expect((await fetch(`${env.PIP_INDEX_URL}private/`)).status).toBe(403);
    unwatch();
    expect((await fetch(`${env.PIP_INDEX_URL}private/`)).status).toBe(403);
    expect(heard).toEqual([expect.stringMatching(/refused the credentials of its URL: HTTP 403 for GET \/simple\/private\//)]);
    expect(heard.join('')).not.toContain('p4ss');

    await access.close();
    await expect(fetch(`${env.PIP_INDEX_URL}demo/`)).rejects.toThrow();
  });

  it('with credentials and an engine on another machine: a UserInputError naming the host and the setting, before the engine is asked', async () => {
    access = new UpstreamForContainers({
      upstream: async () => ({ url: 'https://tok:secret@mirror.example/simple/', source: 'settings' }),
      proxyEnv: {},
    });
    const remote = engine(REMOTE, false);
    for (const attempt of [access.env(remote.runtime), access.check(remote.runtime)]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UserInputError);
      expect((error as UserInputError).code).toBe('upstream-credentials-remote-engine');
      expect((error as UserInputError).message).toContain(REMOTE);
      expect((error as UserInputError).message).toContain('`upstream.index-url`');
      expect((error as UserInputError).message).not.toContain('secret');
      expect((error as UserInputError).hint).toContain('`hosts`');
    }
    expect(remote.asked.gateway).toBe(0);
  });
});

describe('DockerRuntime.local', () => {
  it.each([
    ['unix:///var/run/docker.sock', true],
    ['tcp://127.0.0.1:2375', true],
    ['tcp://localhost:2375', true],
    ['tcp://10.0.0.5:2375', false],
    ['tcp://build2.example:2376', false],
    ['ssh://farm@build2.example', false],
    ['ssh://farm@localhost', true],
  ])('%s: %s', (docker, local) => {
    expect(runtimeForHost({ name: 'h', docker, slots: 1 }, { SSH_AUTH_SOCK: '/tmp/agent.sock' }).local).toBe(local);
  });

  it('the engine of DOCKER_HOST, or of the default socket when it is not set', () => {
    const saved = process.env.DOCKER_HOST;
    try {
      delete process.env.DOCKER_HOST;
      expect(new DockerRuntime().local).toBe(true);
      process.env.DOCKER_HOST = 'unix:///run/engine-2/docker.sock';
      expect(new DockerRuntime().local).toBe(true);
      process.env.DOCKER_HOST = 'tcp://build2.example:2375';
      expect(new DockerRuntime().local).toBe(false);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
  });
});
