import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure, fast, no Docker) and `docker` (real engine, real images, real pip).
// `pnpm test` runs both; `pnpm test:unit` only the first.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
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
