import type { RequirementLine, RequirementsInput } from '../../applications/application-input.ts';
import { parsePep508 } from '../../applications/pep508-name.ts';
import type { ScheduleResult } from '../../matrix/cell-scheduler.ts';
import type { GatheredMatrix } from '../../matrix/gather-parts.ts';
import type { PlannedCell } from '../../matrix/plan-matrix.ts';
import { pythonVersionFromTag } from '../../wheels/build-id.ts';
import { normalizeName } from '../../wheels/names.ts';

/**
 * What `build NAME` brings in after the package: its runtime closure, for the Pythons whose wheel
 * the index now has, as an application of its own. The wheels' `Requires-Dist` (of a wheel built now,
 * or of one already there, from the index's `.metadata`) says whether there is anything to bring (none:
 * nothing more runs, no resolver); where the backend keeps no metadata wheelfarm reads (devpi,
 * pypiserver), the release itself (`name==version`) is resolved. A release from a recipe's own source
 * (not on the upstream) is resolved through its wheels' dependencies only.
 */
export function dependenciesOfBuilt(
  gathered: GatheredMatrix,
  chosen: PlannedCell[],
  run: ScheduleResult,
): { inputs: RequirementsInput[]; application: string; pythons: string[] } | undefined {
  const pkg = gathered.packages[0];
  const release = pkg?.releases[0];
  if (!pkg || !release) return undefined;
  const pythonOf = new Map(chosen.map((c) => [c.buildId, pythonVersionFromTag(c.cell.python)]));
  const ok = run.results.filter((r) => r.outcome !== 'failed' && pythonOf.has(r.buildId));
  if (ok.length === 0) return undefined;
  const known = [...new Set(ok.flatMap((r) => r.requiresDist ?? []).filter((req) => !/\bextra\s*==/.test(req)))];
  const unread = ok.some((r) => r.requiresDist === undefined);
  const onUpstream = pkg.recipe.source.kind === 'index';
  const requirements = unread && onUpstream ? [`${release.name}==${release.version}`] : known;
  if (requirements.length === 0) return undefined;
  const file = `${release.name} ${release.version} (Requires-Dist)`;
  const lines = requirements.flatMap((requirement, i): RequirementLine[] => {
    const parsed = parsePep508(requirement);
    if ('problem' in parsed) return [];
    return [{ file, line: i + 1, requirement, name: normalizeName(parsed.name), hashes: [], constraint: false }];
  });
  const pythons = [...new Set(ok.map((r) => pythonOf.get(r.buildId)!))];
  return { inputs: [{ kind: 'requirements', file, lines }], application: `${release.name}-${release.version}-dependencies`, pythons };
}
