/**
 * A benchmark's clean-up on the way out: SIGINT or SIGTERM runs `cleanUp` and exits 130 (a second
 * signal exits at once); an error nothing caught is printed under the benchmark's `name`, cleaned up
 * after, and exits 1.
 */
export function cleanUpOnExit(name: string, cleanUp: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) process.exit(130);
      stopping = true;
      console.error(`\n${signal}: cleaning up`);
      void cleanUp().finally(() => process.exit(130));
    });
  }
  for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
    process.on(event, (error: unknown) => {
      console.error(`${name}: error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      void cleanUp().finally(() => process.exit(1));
    });
  }
}
