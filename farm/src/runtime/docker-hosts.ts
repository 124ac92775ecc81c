import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import type { HostSettings, ResolvedSettings } from '../config/settings.ts';
import { EnvironmentError, UserInputError } from '../errors.ts';
import { DockerRuntime } from './docker-runtime.ts';

/** The host cells run on when the settings name no `hosts`: the engine the docker CLI would use. */
export const LOCAL_HOST = 'local';

/** The engine the docker CLI talks to when DOCKER_HOST is not set. */
export const DEFAULT_DOCKER_URL = 'unix:///var/run/docker.sock';

/** docker-modem's options, with the `pathPrefix` its types leave out. */
type DockerHostOptions = Docker.DockerOptions & { pathPrefix?: string | undefined };

/**
 * docker-modem starts from DOCKER_HOST, DOCKER_CERT_PATH, DOCKER_TLS_VERIFY and DOCKER_CLIENT_TIMEOUT
 * and lets our options override them key by key: every key they could set is given here, so that a
 * host's engine is the one its settings name whatever the environment says.
 */
const NOTHING_FROM_ENVIRONMENT: DockerHostOptions = {
  socketPath: undefined,
  host: undefined,
  port: undefined,
  protocol: undefined,
  username: undefined,
  ca: undefined,
  cert: undefined,
  key: undefined,
  pathPrefix: undefined,
  timeout: undefined,
};

/** A dockerode client for one host of the `hosts` setting (unix socket, TCP with or without TLS, SSH). */
export function dockerForHost(host: HostSettings, env: NodeJS.ProcessEnv = process.env): Docker {
  return new Docker(dockerOptionsForHost(host, env));
}

/** The docker-modem options for a host; exported for the tests, which cannot dial remote engines. */
export function dockerOptionsForHost(host: HostSettings, env: NodeJS.ProcessEnv = process.env): DockerHostOptions {
  const url = parseEngineUrl(host);
  if (host.tls && url.protocol !== 'tcp:') {
    throw badHost(host, `has \`tls\`, which only applies to tcp:// engines`, 'remove `tls`, or use a tcp://HOST:PORT engine');
  }
  switch (url.protocol) {
    case 'unix:': {
      if (url.hostname !== '' || !url.pathname.startsWith('/') || url.pathname === '/') {
        throw badHost(
          host,
          `names the socket \`${host.docker}\`, which is not an absolute path`,
          'write it as unix:///path/to/docker.sock (three slashes)',
        );
      }
      return { ...NOTHING_FROM_ENVIRONMENT, socketPath: decodeURIComponent(url.pathname) };
    }
    case 'tcp:': {
      if (url.hostname === '') throw badHost(host, `has no host name in \`${host.docker}\``, 'write it as tcp://HOST:PORT');
      if (url.pathname !== '' && url.pathname !== '/') {
        throw badHost(host, `has a path in \`${host.docker}\``, 'write it as tcp://HOST:PORT, without a path');
      }
      const tls = host.tls ? readTlsFiles(host, host.tls) : undefined;
      return {
        ...NOTHING_FROM_ENVIRONMENT,
        host: url.hostname,
        // The docker CLI's defaults: 2376 for TLS, 2375 for plain HTTP.
        port: Number(url.port || (tls ? 2376 : 2375)),
        protocol: tls ? 'https' : 'http',
        pathPrefix: '/',
        ...tls,
      };
    }
    case 'ssh:': {
      if (url.hostname === '') throw badHost(host, `has no host name in \`${host.docker}\``, 'write it as ssh://USER@HOST');
      if (url.username === '') throw badHost(host, `has no user name in \`${host.docker}\``, 'write it as ssh://USER@HOST');
      const agent = env.SSH_AUTH_SOCK;
      if (!agent) {
        throw new EnvironmentError(
          'ssh-agent-missing',
          `host ${host.name} (${host.docker}) is reached over SSH, and no SSH agent is running (SSH_AUTH_SOCK is not set)`,
          {
            hint: 'start one and add the key that logs in to the host (`eval "$(ssh-agent)"; ssh-add`), or reach the engine over tcp:// with TLS',
          },
        );
      }
      return {
        ...NOTHING_FROM_ENVIRONMENT,
        protocol: 'ssh',
        host: url.hostname,
        port: Number(url.port || 22),
        pathPrefix: '/',
        username: decodeURIComponent(url.username),
        // The remote end runs `docker system dial-stdio`; keys come from the agent, like the docker CLI's.
        sshOptions: { agent, ...(url.password ? { password: decodeURIComponent(url.password) } : {}) },
      };
    }
    default:
      throw badHost(
        host,
        `has the engine URL \`${redactEngineUrl(host.docker)}\`, which is not unix://, tcp:// or ssh://`,
        'use unix:///path, tcp://HOST:PORT or ssh://USER@HOST',
      );
  }
}

/** A runtime for one host; its description (in logs and errors) is the host's name and engine URL. */
export function runtimeForHost(host: HostSettings, env: NodeJS.ProcessEnv = process.env): DockerRuntime {
  return new DockerRuntime({ docker: dockerForHost(host, env), description: describeHost(host) });
}

export function describeHost(host: HostSettings): string {
  return `${host.name} (${redactEngineUrl(host.docker)})`;
}

/**
 * The hosts cells run on: the `hosts` setting, else one host named `local` on the engine the
 * docker CLI would use (DOCKER_HOST, with DOCKER_CERT_PATH's certificates when it asks for TLS,
 * else the default socket) with `jobs` slots.
 */
export function defaultHosts(settings: Pick<ResolvedSettings, 'hosts' | 'jobs'>, env: NodeJS.ProcessEnv = process.env): HostSettings[] {
  if (settings.hosts !== undefined) return settings.hosts;
  const docker = env.DOCKER_HOST || DEFAULT_DOCKER_URL;
  if (!/^(unix|tcp|ssh):\/\//.test(docker)) {
    throw new UserInputError(
      'bad-environment',
      `DOCKER_HOST is \`${redactEngineUrl(docker)}\`; wheelfarm reaches engines at unix://, tcp:// or ssh:// URLs`,
      {
        hint: 'set DOCKER_HOST to unix:///path, tcp://HOST:PORT or ssh://USER@HOST, or unset it to use the local socket',
      },
    );
  }
  const certPath = env.DOCKER_CERT_PATH || join(homedir(), '.docker');
  const wantsTls = docker.startsWith('tcp://') && (!!env.DOCKER_CERT_PATH || (!!env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0'));
  return [
    {
      name: LOCAL_HOST,
      docker,
      slots: settings.jobs,
      ...(wantsTls ? { tls: { ca: join(certPath, 'ca.pem'), cert: join(certPath, 'cert.pem'), key: join(certPath, 'key.pem') } } : {}),
    },
  ];
}

function parseEngineUrl(host: HostSettings): URL {
  try {
    return new URL(host.docker);
  } catch {
    throw badHost(
      host,
      `has the engine URL \`${redactEngineUrl(host.docker)}\`, which is not a URL`,
      'use unix:///path, tcp://HOST:PORT or ssh://USER@HOST',
    );
  }
}

function readTlsFiles(host: HostSettings, tls: NonNullable<HostSettings['tls']>): { ca: Buffer; cert: Buffer; key: Buffer } {
  const read = (role: 'ca' | 'cert' | 'key'): Buffer => {
    const path = tls[role];
    try {
      return readFileSync(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const problem = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (error as Error).message})`;
      throw new UserInputError('host-tls-file', `host ${host.name}: its TLS ${role} file ${path} ${problem}`, {
        cause: error,
        hint: `fix \`tls.${role}\` of host ${host.name} in the settings file (PEM files; relative paths start at the settings file's folder)`,
      });
    }
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key') };
}

function badHost(host: HostSettings, problem: string, hint: string): UserInputError {
  return new UserInputError('bad-host', `host ${host.name} ${problem}`, { hint: `${hint} in \`hosts\` of the settings file` });
}

/** An engine URL with any password left out (ssh://USER:PASSWORD@HOST is accepted, never shown). */
function redactEngineUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, '$1:***@');
}
