import { aroundEach, describe } from 'vitest';

/**
 * Tests that need a server or tool this machine may lack (moto, pypiserver, devpi-server, PostgreSQL,
 * a tmpfs mount). A skipped test is not a passing test: under CI (`CI` set to anything non-empty) a
 * missing one fails every test that needs it, with the reason; elsewhere those tests skip, and
 * missing-needs-reporter.ts lists each such suite and its reason at the end of the run.
 */

declare module 'vitest' {
  interface TaskMeta {
    /** Why the server or tool the suite needs is missing (see describeNeeding). */
    missing?: string;
  }
}

/** Whether this run is CI's, where nothing a test needs may be missing. */
export function underCi(): boolean {
  return !!process.env.CI;
}

/**
 * `describe(name, body)` for tests that need what `missing` says is missing (a sentence such as
 * "moto could not be installed: <pip's error>"), or that is there when `missing` is undefined. The
 * tests are registered either way. Under CI each of them fails with the reason; elsewhere they skip.
 * A beforeAll in `body` that starts the missing thing must return early when it is missing: under CI
 * it still runs (beforeEach hooks do not), and its own error would hide the reason.
 */
export function describeNeeding(missing: string | undefined, name: string, body: () => void): void {
  if (missing === undefined) {
    describe(name, body);
    return;
  }
  if (!underCi()) {
    describe(name, { skip: true, meta: { missing } }, body);
    return;
  }
  describe(name, { meta: { missing } }, () => {
    aroundEach(async () => {
      throw new Error(`${missing} (CI is set, so a missing server or tool fails the tests that need it)`);
    });
    body();
  });
}

/** What a failed command said on stderr (its last lines), else the error itself: the reason something is missing. */
export function failureReason(error: unknown, lines = 3): string {
  const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
  return stderr ? stderr.split('\n').slice(-lines).join(' / ') : String(error);
}
