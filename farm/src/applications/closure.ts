import type { LockedPackage, RequirementLine } from './application-input.ts';

/** One distribution of an application's closure, at one version, for the target Pythons that need it. */
export interface ClosureDist {
  /** As the upstream spells it. */
  name: string;
  /** PEP 503 normalized. */
  normalized: string;
  version: string;
  /** Target Python (`3.13`) -> why it is in the closure there: `requirements.txt:3 flask==3.1.*`, `flask 3.1.2 requires click>=8.1.3`. */
  why: Map<string, string[]>;
  /** The sha256 digests the application allows for its file (`--hash`, a lock's files); empty: any. */
  hashes: string[];
  /** The lines that asked for it, for errors. */
  lines: RequirementLine[];
  /** From a lock: its package entry (files and hashes the farm must take). */
  locked?: LockedPackage;
}

/** An application's closure per target: what its requirements or lock pull in, merged across Pythons. */
export interface Closure {
  /** For people and records: the files it came from (`requirements.txt`, `pylock.toml`). */
  application: string;
  pythons: string[];
  dists: ClosureDist[];
}

/** Accumulates distributions per (name, version) from each target Python's answer. */
export class ClosureBuilder {
  readonly #dists = new Map<string, ClosureDist>();

  add(
    python: string,
    entry: { name: string; normalized: string; version: string; why: string[]; lines?: RequirementLine[]; locked?: LockedPackage },
  ): void {
    const key = `${entry.normalized}==${entry.version}`;
    let dist = this.#dists.get(key);
    if (!dist) {
      dist = { name: entry.name, normalized: entry.normalized, version: entry.version, why: new Map(), hashes: [], lines: [] };
      this.#dists.set(key, dist);
    }
    // The same release from requirements and from a lock: both its lines' hashes and the lock's files are checked.
    if (entry.locked && !dist.locked) dist.locked = entry.locked;
    for (const line of entry.lines ?? []) if (!dist.lines.includes(line)) dist.lines.push(line);
    dist.hashes = [...new Set(dist.lines.flatMap((l) => l.hashes))];
    dist.why.set(python, [...new Set([...(dist.why.get(python) ?? []), ...entry.why])]);
  }

  build(application: string, pythons: string[]): Closure {
    const dists = [...this.#dists.values()].sort((a, b) => a.normalized.localeCompare(b.normalized));
    return { application, pythons, dists };
  }
}

/** The Pythons a distribution of the closure is needed for, in the closure's order. */
export function pythonsOf(dist: ClosureDist, closure: Pick<Closure, 'pythons'>): string[] {
  return closure.pythons.filter((p) => dist.why.has(p));
}
