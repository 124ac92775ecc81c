import { existsSync, lstatSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const REPO_HOME = resolve(import.meta.dirname, '..', '..', '.wheelfarm');
/** scripts/setup.sh's log of a dockerd it started before the run: the engine's, not the tests'. */
const ENGINE_LOG = join(REPO_HOME, 'dockerd.log');

/**
 * globalSetup of the whole run: it fails when anything under the repository's `.wheelfarm` (the
 * user's own farm) was created or changed while the tests ran, naming what. Every test has a home of
 * its own (own-home.ts); this catches one that still reaches the user's farm, as `./wheelfarm
 * status` listing the tests' builds once did. Reads of the user's farm go unnoticed (mtimes only).
 */
export default function setup(): () => void {
  // When vitest started, not now: the projects' globalSetup (the docker images build) run before this one.
  const started = Date.now() - process.uptime() * 1000;
  return () => {
    const changed = changedSince(REPO_HOME, started);
    if (changed.length === 0) return;
    throw new Error(
      `the tests wrote into the user's farm (${REPO_HOME}), which they must never touch: ${changed.slice(0, 20).join(', ')}` +
        `${changed.length > 20 ? ` and ${changed.length - 20} more` : ''}. ` +
        'Give the test a home of its own (WHEELFARM_HOME; test/support/own-home.ts does it for every test file), ' +
        'unless ./wheelfarm ran from this checkout meanwhile.',
    );
  };
}

/** Paths under `root` (itself included) whose mtime is `since` or later: new or changed files, directories with entries added or removed. */
function changedSince(root: string, since: number): string[] {
  if (!existsSync(root)) return [];
  const paths = [root, ...readdirSync(root, { recursive: true, encoding: 'utf8' }).map((name) => join(root, name))];
  return paths
    .filter((path) => path !== ENGINE_LOG && (lstatSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) >= since)
    .map((path) => relative(resolve(root, '..'), path) || path);
}
