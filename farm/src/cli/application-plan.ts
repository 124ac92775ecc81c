import { eq } from '@renovatebot/pep440';
import pc from 'picocolors';
import type { GatheredApplication } from '../matrix/gather-application.ts';
import type { PlannedCell } from '../matrix/plan-matrix.ts';
import { pythonTagFromVersion } from '../wheels/build-id.ts';
import { normalizeName } from '../wheels/names.ts';

/** A distribution of an application's closure, as `matrix plan` shows it. */
export interface ApplicationDistState {
  name: string;
  version: string;
  kind: 'build' | 'mirror';
  /**
   * `built` / `mirrored`: in the index; `missing`, `stale`, `failed` (waiting for its back-off): what its cells or file are;
   * `excluded`: a Python that needs it cannot have it (its cell is excluded).
   */
  state: 'built' | 'mirrored' | 'missing' | 'stale' | 'failed' | 'excluded';
  pythons: string[];
  reason: string;
}

/** Each distribution's state: a mirror's from the index, a build's from its cells in the plan (the worst of them). */
export function applicationStates(app: GatheredApplication, cells: PlannedCell[]): ApplicationDistState[] {
  const mirrors = new Map(app.mirrors.map((m) => [`${m.entry.dist.normalized}==${m.entry.dist.version}`, m]));
  return app.entries.map((entry) => {
    const base = { name: entry.dist.name, version: entry.dist.version, kind: entry.kind, pythons: entry.pythons, reason: entry.reason };
    if (entry.kind === 'mirror') {
      const planned = mirrors.get(`${entry.dist.normalized}==${entry.dist.version}`);
      return { ...base, state: planned?.state === 'mirrored' ? 'mirrored' : 'missing' };
    }
    const tags = new Set(entry.pythons.map(pythonTagFromVersion));
    const mine = cells.filter(
      (c) => normalizeName(c.cell.name) === entry.dist.normalized && eq(c.cell.version, entry.source.version) && tags.has(c.cell.python),
    );
    // `excluded`: a Python the closure needs is ruled out for it (the recipe's `python`, the sdist's requires-python).
    const worst = (['failed', 'excluded', 'missing', 'stale'] as const).find((s) => mine.some((c) => c.state === s));
    return { ...base, state: worst ?? (mine.length > 0 && mine.every((c) => c.state === 'built') ? 'built' : 'missing') };
  });
}

export function applicationPlanJson(apps: GatheredApplication[], cells: PlannedCell[]) {
  return apps.map((app) => ({
    name: app.closure.application,
    pythons: app.closure.pythons,
    record: app.record,
    dists: applicationStates(app, cells),
  }));
}

const COLOUR: Record<ApplicationDistState['state'], (text: string) => string> = {
  built: pc.green,
  mirrored: pc.green,
  missing: pc.yellow,
  stale: pc.cyan,
  failed: pc.red,
  excluded: pc.red,
};

/** Per application: one line each distribution (kind, state, Pythons), then its counts. */
export function applicationPlanText(apps: GatheredApplication[], cells: PlannedCell[]): string[] {
  return apps.flatMap((app) => {
    const states = applicationStates(app, cells);
    const width = Math.max(...states.map((s) => `${s.name} ${s.version}`.length), 12);
    const count = (state: string) => states.filter((s) => s.state === state).length;
    const counts = (['built', 'mirrored', 'missing', 'stale', 'failed', 'excluded'] as const)
      .filter((s) => count(s) > 0)
      .map((s) => `${count(s)} ${s}`);
    return [
      '',
      pc.bold(
        `application ${app.closure.application} (Python ${app.closure.pythons.join(', ')}): ${states.length} distribution(s): ${counts.join(', ')}`,
      ),
      ...states.map(
        (s) =>
          `  ${`${s.name} ${s.version}`.padEnd(width)}  ${s.kind.padEnd(6)}  ${COLOUR[s.state](s.state.padEnd(8))}  ${pc.dim(s.reason)}`,
      ),
    ];
  });
}
