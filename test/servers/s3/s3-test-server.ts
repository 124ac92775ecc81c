import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/free-port.ts';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '../../../scripts/start-moto.sh');

export interface S3TestServer {
  /** e.g. `http://127.0.0.1:40123`; '' when skipped. */
  endpoint: string;
  /** Whether it is WHEELFARM_TEST_S3_ENDPOINT (MinIO, real S3) rather than a moto started here. */
  external: boolean;
  /** Why the S3 tests must skip (moto could not be installed); undefined when they can run. */
  skipReason: string | undefined;
  stop(): Promise<void>;
}

/**
 * A real S3-compatible server for a test file: moto, started through scripts/start-moto.sh on a free
 * port with its own state directory, or whatever WHEELFARM_TEST_S3_ENDPOINT points at (credentials
 * from the usual AWS environment). moto accepts any credentials, but the SDK's default chain needs some.
 */
export async function startS3TestServer(): Promise<S3TestServer> {
  const external = process.env.WHEELFARM_TEST_S3_ENDPOINT;
  if (external) return { endpoint: external.replace(/\/+$/, ''), external: true, skipReason: undefined, stop: async () => {} };
  const state = mkdtempSync(join(tmpdir(), 'wheelfarm-moto-'));
  const env = { ...process.env, MOTO_PORT: String(await freePort()), MOTO_STATE_DIR: state };
  const removeState = () => rmSync(state, { recursive: true, force: true });
  try {
    execFileSync(SCRIPT, ['install'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10 * 60_000 });
  } catch (error) {
    removeState();
    const stderr = String((error as { stderr?: Buffer }).stderr ?? error)
      .trim()
      .split('\n')
      .slice(-3)
      .join(' ');
    return {
      endpoint: '',
      external: false,
      skipReason: `moto could not be installed (scripts/start-moto.sh install): ${stderr}`,
      stop: async () => {},
    };
  }
  const endpoint = execFileSync(SCRIPT, [], { env, encoding: 'utf8' }).trim();
  process.env.AWS_ACCESS_KEY_ID ??= 'wheelfarm-test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'wheelfarm-test';
  return {
    endpoint,
    external: false,
    skipReason: undefined,
    stop: async () => {
      await run(SCRIPT, ['stop'], { env });
      removeState();
    },
  };
}
