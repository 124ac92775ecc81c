import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostSettings } from '../../../farm/src/config/settings.ts';
import { EnvironmentError, UserInputError } from '../../../farm/src/errors.ts';
import { defaultHosts, dockerForHost, dockerOptionsForHost, runtimeForHost } from '../../../farm/src/runtime/docker-hosts.ts';

let dir: string;
let tls: { ca: string; cert: string; key: string };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wheelfarm-hosts-'));
  tls = { ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  // PEM-shaped: docker-modem itself reads DOCKER_CERT_PATH's files when the environment names them.
  for (const [role, path] of Object.entries(tls))
    await writeFile(path, `-----BEGIN CERTIFICATE-----\n${role}\n-----END CERTIFICATE-----\n`);
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function host(docker: string, extra: Partial<HostSettings> = {}): HostSettings {
  return { name: 'builder-1', docker, slots: 2, ...extra };
}

function thrown(action: () => unknown): Error {
  try {
    action();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

describe('dockerForHost', () => {
  it('a unix socket is that socket, whatever DOCKER_HOST and DOCKER_CERT_PATH say', () => {
    const env = { DOCKER_HOST: 'tcp://elsewhere:2376', DOCKER_CERT_PATH: dir, DOCKER_TLS_VERIFY: '1' };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const docker = dockerForHost(host('unix:///run/engine-2/docker.sock'), env);
      const modem = docker.modem as unknown as Record<string, unknown>;
      expect(modem.socketPath).toBe('/run/engine-2/docker.sock');
      expect(modem.host).toBeUndefined();
      expect(modem.protocol).toBe('http');
      expect(modem.ca).toBeUndefined();
    } finally {
      for (const key of Object.keys(env)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('tcp without tls: plain HTTP, port 2375 when none is given', () => {
    expect(dockerOptionsForHost(host('tcp://10.0.0.5:2375'))).toMatchObject({
      host: '10.0.0.5',
      port: 2375,
      protocol: 'http',
      ca: undefined,
    });
    expect(dockerOptionsForHost(host('tcp://builder.internal'))).toMatchObject({ port: 2375, protocol: 'http' });
  });

  it('tcp with tls: HTTPS with the PEM files read, port 2376 when none is given', () => {
    const options = dockerOptionsForHost(host('tcp://builder.internal', { tls }));
    expect(options).toMatchObject({ host: 'builder.internal', port: 2376, protocol: 'https' });
    expect(String(options.ca)).toContain('\nca\n');
    expect(String(options.cert)).toContain('\ncert\n');
    expect(String(options.key)).toContain('\nkey\n');
  });

  it('ssh: the user from the URL, keys from the agent SSH_AUTH_SOCK names', () => {
    const options = dockerOptionsForHost(host('ssh://farm@builder.internal'), { SSH_AUTH_SOCK: '/tmp/agent.sock' });
    expect(options).toMatchObject({
      protocol: 'ssh',
      host: 'builder.internal',
      port: 22,
      username: 'farm',
      sshOptions: { agent: '/tmp/agent.sock' },
    });
    expect(dockerOptionsForHost(host('ssh://farm@builder.internal:2222'), { SSH_AUTH_SOCK: '/a' })).toMatchObject({ port: 2222 });
  });

  it('ssh without an agent is a machine problem, said before any connection is tried', () => {
    const error = thrown(() => dockerForHost(host('ssh://farm@builder.internal'), {}));
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error.message).toContain('builder-1');
    expect(error.message).toContain('SSH_AUTH_SOCK');
  });

  it.each([
    ['http://builder.internal:2375', 'not unix://, tcp:// or ssh://'],
    ['npipe:////./pipe/docker_engine', 'not unix://, tcp:// or ssh://'],
    ['unix://docker.sock', 'not an absolute path'],
    ['unix://', 'not an absolute path'],
    ['tcp://', 'no host name'],
    ['tcp://builder.internal:2375/v1.41', 'has a path'],
    ['ssh://builder.internal', 'no user name'],
    ['not a url', 'not a URL'],
  ])('%s is a UserInputError naming the host', (url, problem) => {
    const error = thrown(() => dockerForHost(host(url), { SSH_AUTH_SOCK: '/a' }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toContain('host builder-1');
    expect(error.message).toContain(problem);
    expect((error as UserInputError).hint).toMatch(/settings file/);
  });

  it('a missing TLS file is a UserInputError naming the host and the file', async () => {
    await rm(tls.cert);
    const error = thrown(() => dockerForHost(host('tcp://builder.internal:2376', { tls })));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toBe(`host builder-1: its TLS cert file ${tls.cert} does not exist`);
    expect((error as UserInputError).hint).toContain('tls.cert');
  });

  it('a TLS file that is a folder cannot be read, and says so', () => {
    const error = thrown(() => dockerForHost(host('tcp://builder.internal:2376', { tls: { ...tls, key: dir } })));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toContain(`TLS key file ${dir} cannot be read`);
  });

  it('tls on a unix or ssh engine is a mistake, not silently ignored', () => {
    const error = thrown(() => dockerForHost(host('unix:///var/run/docker.sock', { tls })));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toContain('only applies to tcp://');
  });

  it('a password in an ssh URL is never shown', () => {
    const runtime = runtimeForHost(host('ssh://farm:s3cret@builder.internal'), { SSH_AUTH_SOCK: '/a' });
    expect(runtime.description).toBe('builder-1 (ssh://farm:***@builder.internal)');
    const error = thrown(() => dockerForHost(host('ftp://farm:s3cret@builder.internal')));
    expect(error.message).not.toContain('s3cret');
  });
});

describe('runtimeForHost', () => {
  it('describes the engine by the host name and engine URL', () => {
    expect(runtimeForHost(host('unix:///run/engine-2/docker.sock')).description).toBe('builder-1 (unix:///run/engine-2/docker.sock)');
  });

  it('a runtime that cannot reach its engine names the host when pinged', async () => {
    const runtime = runtimeForHost(host(`unix://${join(dir, 'no-engine.sock')}`));
    await expect(runtime.ping()).rejects.toThrow(`the Docker engine at builder-1 (unix://${join(dir, 'no-engine.sock')}) does not answer`);
    await expect(runtime.ping()).rejects.toMatchObject({ code: 'docker-unreachable' });
  });
});

describe('defaultHosts', () => {
  it('the hosts of the settings, when there are any', () => {
    const hosts = [host('unix:///a.sock'), { ...host('ssh://u@b'), name: 'b' }];
    expect(defaultHosts({ hosts, jobs: 7 }, {})).toBe(hosts);
  });

  it('else one `local` host on the default socket with `jobs` slots', () => {
    expect(defaultHosts({ hosts: undefined, jobs: 3 }, {})).toEqual([{ name: 'local', docker: 'unix:///var/run/docker.sock', slots: 3 }]);
  });

  it('else one `local` host on DOCKER_HOST, with DOCKER_CERT_PATH certificates for TLS', () => {
    expect(defaultHosts({ hosts: undefined, jobs: 2 }, { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' })).toEqual([
      { name: 'local', docker: 'unix:///run/user/1000/docker.sock', slots: 2 },
    ]);
    expect(defaultHosts({ hosts: undefined, jobs: 2 }, { DOCKER_HOST: 'tcp://10.0.0.5:2376', DOCKER_CERT_PATH: dir })).toEqual([
      { name: 'local', docker: 'tcp://10.0.0.5:2376', slots: 2, tls },
    ]);
    expect(defaultHosts({ hosts: undefined, jobs: 2 }, { DOCKER_HOST: 'tcp://10.0.0.5:2375' })[0]!.tls).toBeUndefined();
  });

  it('a DOCKER_HOST wheelfarm cannot reach is a UserInputError naming DOCKER_HOST', () => {
    const error = thrown(() => defaultHosts({ hosts: undefined, jobs: 2 }, { DOCKER_HOST: 'fd://' }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.message).toContain('DOCKER_HOST is `fd://`');
  });
});
