import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { EnvironmentError, UserInputError } from '../../errors.ts';
import { createIndexServer } from '../../index/serve/create-index-server.ts';
import { EXIT } from '../exit-codes.ts';
import type { ResolvedSettings } from '../../config/settings.ts';
import type { Reporter } from '../reporter.ts';

export interface ServeOptions {
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Port, as given on the command line (default 8080; 0 picks a free one). */
  port?: string | number;
  /** The index directory (default: the settings' index directory). */
  index?: string;
}

/** What serving uses: the settings' index directory, where to report, and the signal that stops it. */
export interface ServeEnvironment {
  settings: Pick<ResolvedSettings, 'indexDir'>;
  reporter: Reporter;
  signal: AbortSignal;
}

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;

/**
 * `wheelfarm serve`: the local index over HTTP, read-only, until SIGINT/SIGTERM (the abort of
 * `signal`), then the server is closed and the command ends with EXIT.ok.
 */
export async function runServe({ settings, reporter, signal }: ServeEnvironment, options: ServeOptions): Promise<number> {
  const port = parsePort(options.port);
  const host = parseHost(options.host);
  const root = options.index ? resolve(options.index) : settings.indexDir;
  const server = createIndexServer({
    root,
    logger: { error: (message) => process.stderr.write(`serve: ${message}\n`) },
  });
  if (signal.aborted) return EXIT.ok;
  await listen(server, host, port);
  try {
    const address = server.address();
    const actualPort = typeof address === 'object' && address ? address.port : port;
    const url = `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}/simple/`;
    const empty = !existsSync(join(root, 'simple', 'index.html'));
    reporter.result({ type: 'serving', url, root }, [
      `serving ${root} at ${url} (pip install --index-url ${url} NAME)`,
      ...(empty ? [`note: ${root} has no simple/index.html yet; build something first (./wheelfarm build NAME)`] : []),
      'press Ctrl-C to stop',
    ]);
    await new Promise<void>((done) => {
      if (signal.aborted) done();
      else signal.addEventListener('abort', () => done(), { once: true });
    });
  } finally {
    await close(server);
  }
  return EXIT.ok;
}

export function parsePort(value: string | number | undefined): number {
  if (value === undefined) return DEFAULT_PORT;
  const text = String(value).trim();
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UserInputError('bad-port', `--port must be a whole number from 0 to 65535, got \`${String(value)}\``, {
      hint: 'For example --port 8080, or --port 0 for any free port.',
    });
  }
  return port;
}

function parseHost(value: string | undefined): string {
  if (value === undefined) return DEFAULT_HOST;
  const host = value.trim();
  if (host === '' || /[\s/]/.test(host)) {
    throw new UserInputError('bad-host', `--host must be an address or host name, got \`${value}\``, {
      hint: 'For example --host 127.0.0.1 (this machine only) or --host 0.0.0.0 (every interface).',
    });
  }
  return host;
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((done, fail) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      fail(listenError(error, host, port));
    };
    const onListening = () => {
      server.off('error', onError);
      done();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

function listenError(error: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (error.code) {
    case 'EADDRINUSE':
      return new UserInputError('port-in-use', `port ${port} on ${host} is already in use`, {
        hint: 'Choose another port with --port N (or --port 0 for any free one), or stop what listens there.',
        cause: error,
      });
    case 'EACCES':
      return new UserInputError('port-denied', `not allowed to listen on port ${port} on ${host}`, {
        hint: 'Ports below 1024 need root; choose a higher one with --port N.',
        cause: error,
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UserInputError('bad-host', `cannot listen on ${host}: no such local address`, {
        hint: 'Use an address of this machine with --host, e.g. 127.0.0.1 or 0.0.0.0.',
        cause: error,
      });
    default:
      return new EnvironmentError('listen-failed', `cannot listen on ${host}:${port}: ${error.message}`, { cause: error });
  }
}

/** Stops accepting, lets requests in flight finish for a moment, then cuts what is left. */
async function close(server: Server): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), 2000);
  await closed;
  clearTimeout(timer);
}
