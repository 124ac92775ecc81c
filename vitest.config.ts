import { defineConfig } from 'vitest/config';

// Projects: `unit` (pure, fast, no Docker), `servers` (real S3/pypiserver/devpi servers) and `docker`
// (real engine, real images, real pip), which
// `scripts/test.sh` (and so CI) runs; and `slow` (real builds of big packages such as numpy, tens of
// minutes on 2 cores), which exists only with WHEELFARM_SLOW=1: run it with `scripts/test-slow.sh`.
// The CLI colours its messages when it sees a terminal, FORCE_COLOR or a CI variable (picocolors'
// rules); tests read those messages as text, so every process they start gets NO_COLOR, which wins.
process.env.NO_COLOR = '1';

// Every project: each test file has a farm home of its own (never the user's `.wheelfarm`), and the
// environment a test stubs (vi.stubEnv) is restored after it.
const everyProject = { setupFiles: ['test/support/own-home.ts'], unstubEnvs: true };

const slow = {
  test: {
    ...everyProject,
    name: 'slow',
    include: ['test/slow/**/*.test.ts'],
    globalSetup: ['test/docker/global-setup.ts'],
    testTimeout: 90 * 60_000,
    hookTimeout: 90 * 60_000,
    fileParallelism: false,
  },
};

export default defineConfig({
  test: {
    // Suites whose server or tool was missing (test/support/needs.ts) are listed at the end of the run.
    reporters: ['default', './test/support/missing-needs-reporter.ts'],
    // A run fails when a test wrote into the repository's `.wheelfarm`, the user's own farm (listed
    // first: teardowns run last to first, so the homes go even when it fails); the directory of the
    // test files' homes.
    globalSetup: ['test/support/repo-home-guard.ts', 'test/support/test-homes.ts'],
    projects: [
      ...(process.env.WHEELFARM_SLOW ? [slow] : []),
      {
        test: {
          ...everyProject,
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        // Real index servers started by the tests themselves (moto's S3, pypiserver, devpi-server).
        test: {
          ...everyProject,
          name: 'servers',
          include: ['test/servers/**/*.test.ts'],
          testTimeout: 5 * 60_000,
          hookTimeout: 10 * 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          ...everyProject,
          name: 'docker',
          include: ['test/docker/**/*.test.ts'],
          globalSetup: ['test/docker/global-setup.ts'],
          // Real builds: images may be built on first use (minutes), each wheel build takes a while.
          testTimeout: 15 * 60_000,
          hookTimeout: 60 * 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
