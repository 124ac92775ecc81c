import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { WheelToPublish } from '../../../farm/src/index/publisher.ts';
import { makePureWheel } from '../../fixtures/wheels/make-zip.ts';
import type { PureWheelOptions } from '../../fixtures/wheels/make-zip.ts';
import { freePort } from '../../support/free-port.ts';
import { failureReason } from '../../support/needs.ts';

export const run = promisify(execFile);
const REPO = join(import.meta.dirname, '../../..');
const TOOLS = join(REPO, '.tools');

/**
 * Installs pypiserver and devpi-server into venvs under .tools/ (scripts/start-index-servers.sh install).
 * Returns undefined when that worked, else why they are missing, for describeNeeding.
 */
export async function installServers(): Promise<string | undefined> {
  try {
    await run('bash', [join(REPO, 'scripts/start-index-servers.sh'), 'install'], { timeout: 10 * 60_000 });
    return undefined;
  } catch (error) {
    return `pypiserver/devpi-server could not be installed (scripts/start-index-servers.sh install): ${failureReason(error)}`;
  }
}

export interface RunningServer {
  url: string;
  /** Milliseconds from spawn to the first answer. */
  startupMs: number;
  stop(): Promise<void>;
}

async function startServer(command: string, args: (port: number) => string[], readyPath: string, log: string[]): Promise<RunningServer> {
  const port = await freePort();
  const started = Date.now();
  const child: ChildProcess = spawn(command, args(port), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => log.push(chunk.toString()));
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    const ended = () => {
      exited = true;
      resolve();
    };
    child.once('exit', ended);
    // Could not be started at all (no such program): no process, no `exit`.
    child.once('error', (error) => {
      log.push(`${command}: ${error.message}\n`);
      ended();
    });
  });
  const url = `http://127.0.0.1:${port}/`;
  const stop = async () => {
    // Without a pid there is no process group to end: process.kill(-0) would signal this test's own group.
    if (exited || child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exit;
    clearTimeout(timer);
  };
  for (let attempt = 0; attempt < 600; attempt++) {
    if (exited) throw new Error(`${command} exited before answering:\n${log.join('')}`);
    try {
      const response = await fetch(new URL(readyPath, url), { redirect: 'manual' });
      await response.body?.cancel();
      return { url, startupMs: Date.now() - started, stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await stop();
  throw new Error(`${command} did not answer within 60 s:\n${log.join('')}`);
}

/** A pypiserver with an htpasswd file for `user`/`password`, uploads need auth, no overwrite, no fallback. */
export async function startPypiserver(dir: string, user: string, password: string): Promise<RunningServer> {
  const venv = join(TOOLS, 'venv-pypiserver', 'bin');
  const packages = join(dir, 'packages');
  mkdirSync(packages, { recursive: true });
  const htpasswd = join(dir, 'htpasswd');
  const script =
    'import sys\nfrom passlib.apache import HtpasswdFile\nh = HtpasswdFile(sys.argv[1], new=True)\nh.set_password(sys.argv[2], sys.argv[3])\nh.save()';
  await run(join(venv, 'python'), ['-c', script, htpasswd, user, password]);
  const log: string[] = [];
  return startServer(
    join(venv, 'pypi-server'),
    (port) => ['run', '--host', '127.0.0.1', '-p', String(port), '-a', 'update', '-P', htpasswd, '--disable-fallback', packages],
    'simple/',
    log,
  );
}

/** A devpi-server on a fresh server directory (root has no password; no root/pypi mirror). */
export async function startDevpi(dir: string): Promise<RunningServer> {
  const venv = join(TOOLS, 'venv-devpi', 'bin');
  const serverdir = join(dir, 'devpi');
  await run(join(venv, 'devpi-init'), ['--serverdir', serverdir, '--no-root-pypi']);
  const log: string[] = [];
  return startServer(
    join(venv, 'devpi-server'),
    (port) => ['--serverdir', serverdir, '--host', '127.0.0.1', '--port', String(port)],
    '+api',
    log,
  );
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** A real wheel in its own folder (two may share a filename), described for publishing. */
export function wheel(work: string, options: PureWheelOptions): WheelToPublish {
  const dir = mkdtempSync(join(work, 'build-'));
  const built = makePureWheel(dir, options);
  const request: WheelToPublish = { path: built.path, filename: built.filename, sha256: sha256(built.path), project: options.name };
  if (options.requiresPython) request.requiresPython = options.requiresPython;
  return request;
}

export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'wheelfarm-upload-'));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/** pip without the user's configuration, so it can only see the index under test. */
export function pipEnv(): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PIP_')));
  return { ...env, PIP_CONFIG_FILE: '/dev/null', PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_NO_CACHE_DIR: '1' };
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
