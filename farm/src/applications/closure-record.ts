import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClosureEntry } from './classify-closure.ts';
import type { Closure } from './closure.ts';

/** One distribution of a closure as recorded and as `--json` shows it. */
export interface ClosureEntryJson {
  name: string;
  version: string;
  kind: 'build' | 'mirror';
  reason: string;
  pythons: string[];
  /** Python -> why the closure has it there. */
  why: Record<string, string[]>;
  /** The file taken from the upstream: the pure wheel mirrored, or the sdist built. */
  file: string;
}

export function closureEntryJson(entry: ClosureEntry): ClosureEntryJson {
  return {
    name: entry.dist.name,
    version: entry.dist.version,
    kind: entry.kind,
    reason: entry.reason,
    pythons: entry.pythons,
    why: Object.fromEntries(entry.dist.why),
    file: entry.kind === 'mirror' ? entry.file.filename : entry.source.filename,
  };
}

/** A file-name-safe form of an application's name. */
export function applicationSlug(application: string): string {
  return application.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '') || 'application';
}

/**
 * Records the resolved closure (which application pulled which distribution, for which Python, and
 * why) at `<home>/applications/<slug>.json`, replaced whole (written aside, then renamed): the
 * latest resolution of each application. Returns its path.
 */
export async function recordClosure(home: string, closure: Closure, entries: ClosureEntry[], now = new Date()): Promise<string> {
  const dir = join(home, 'applications');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${applicationSlug(closure.application)}.json`);
  const record = {
    application: closure.application,
    pythons: closure.pythons,
    resolvedAt: now.toISOString(),
    dists: entries.map(closureEntryJson),
  };
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(temp, path);
  return path;
}
