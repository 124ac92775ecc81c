import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/free-port.ts';
import { failureReason } from '../../support/needs.ts';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '../../../scripts/start-moto.sh');

export interface S3TestServer {
  /** e.g. `http://127.0.0.1:40123`; '' when missing. */
  endpoint: string;
  /** Whether it is WHEELFARM_TEST_S3_ENDPOINT (MinIO, real S3) rather than a moto started here. */
  external: boolean;
  /** Why there is no server (moto could not be installed or started), for describeNeeding; undefined when there is one. */
  missing: string | undefined;
  stop(): Promise<void>;
}

/**
 * A real S3-compatible server for a test file: moto, started through scripts/start-moto.sh on a free
 * port with its own state directory, or whatever WHEELFARM_TEST_S3_ENDPOINT points at (credentials
 * from the usual AWS environment). moto accepts any credentials, but the SDK's default chain needs some.
 */
export async function startS3TestServer(): Promise<S3TestServer> {
  const external = process.env.WHEELFARM_TEST_S3_ENDPOINT;
  if (external) return { endpoint: external.replace(/\/+$/, ''), external: true, missing: undefined, stop: async () => {} };
  const state = mkdtempSync(join(tmpdir(), 'wheelfarm-moto-'));
  const env = { ...process.env, MOTO_PORT: String(await freePort()), MOTO_STATE_DIR: state };
  const stopServer = async () => {
    await run(SCRIPT, ['stop'], { env });
  };
  const stop = async () => {
    await stopServer();
    rmSync(state, { recursive: true, force: true });
  };
  try {
    await run(SCRIPT, ['install'], { timeout: 10 * 60_000 });
  } catch (error) {
    return {
      endpoint: '',
      external: false,
      missing: `moto could not be installed (scripts/start-moto.sh install): ${failureReason(error)}`,
      stop,
    };
  }
  let endpoint: string;
  try {
    endpoint = (await run(SCRIPT, [], { env, timeout: 60_000 })).stdout.trim();
  } catch (error) {
    // The state directory stays: the reason may name the server's log in it.
    return {
      endpoint: '',
      external: false,
      missing: `moto could not be started (scripts/start-moto.sh): ${failureReason(error)}`,
      stop: stopServer,
    };
  }
  process.env.AWS_ACCESS_KEY_ID ??= 'wheelfarm-test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'wheelfarm-test';
  return { endpoint, external: false, missing: undefined, stop };
}
