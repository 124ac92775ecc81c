import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { withFileLock } from '../../../farm/src/index/with-file-lock.ts';

/**
 * The index's cross-process lock when its holder is killed: a real child process takes it and is
 * killed with SIGKILL while holding it (its heartbeat stops, its lock directory stays).
 */
const LOCK_MODULE = pathToFileURL(join(import.meta.dirname, '../../../farm/src/index/with-file-lock.ts')).href;

let work: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'wheelfarm-lock-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

/** A child process that takes the lock, says so, and holds it until killed. */
async function holdInChild(lockPath: string): Promise<ReturnType<typeof spawn>> {
  const script = `
    const { withFileLock } = await import(${JSON.stringify(LOCK_MODULE)});
    // An interval keeps the process alive: a never-settled promise alone would let it exit.
    setInterval(() => {}, 60_000);
    await withFileLock(process.argv[1], async () => { process.stdout.write('held\\n'); await new Promise(() => {}); });
  `;
  const child = spawn(process.execPath, ['--no-warnings', '--input-type=module', '-e', script, lockPath], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  expect(chunk.toString()).toBe('held\n');
  return child;
}

it('takes over at once a lock whose holder on this host was killed (its owner is written beside it)', async () => {
  const lockPath = join(work, 'tiny.lock');
  const child = await holdInChild(lockPath);
  expect(readFileSync(`${lockPath}.owner`, 'utf8').trim()).toBe(`${hostname()}:${child.pid}`);
  child.kill('SIGKILL');
  await once(child, 'exit');
  expect(existsSync(lockPath)).toBe(true);

  const started = performance.now();
  const inside = await withFileLock(lockPath, async (assertHeld) => {
    assertHeld();
    return readFileSync(`${lockPath}.owner`, 'utf8').trim();
  });
  // Without the takeover it would wait for the lock to go stale: 30 s.
  expect(performance.now() - started).toBeLessThan(5_000);
  expect(inside).toBe(`${hostname()}:${process.pid}`);
  expect(existsSync(lockPath)).toBe(false);
  expect(existsSync(`${lockPath}.owner`)).toBe(false);
});

it('waits while a live process holds the lock, and gets it once that process has ended', async () => {
  const lockPath = join(work, 'tiny.lock');
  const child = await holdInChild(lockPath);
  let entered = false;
  const waiting = withFileLock(lockPath, async () => {
    entered = true;
  });
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  expect(entered).toBe(false);
  // SIGTERM ends it without releasing (no handler): the waiter then finds a dead owner and takes over.
  child.kill('SIGTERM');
  await waiting;
  expect(entered).toBe(true);
});
