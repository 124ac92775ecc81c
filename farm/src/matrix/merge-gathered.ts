import type { GatheredApplication } from './gather-application.ts';
import type { GatheredMatrix } from './gather-parts.ts';
import type { MatrixPackage, MatrixPython, PlanEnvironment } from './plan-matrix.ts';

/**
 * The recipes' matrix and the applications' closures as one gathered matrix, so they are planned
 * and scheduled as one (a package both keep built is one package: its releases joined, each release
 * for the Pythons that need it). The environment's Pythons are the union; the matrix's own
 * packages keep to the matrix's Pythons.
 */
export function mergeGathered(matrix: GatheredMatrix, applications: GatheredApplication[]): GatheredMatrix {
  if (applications.length === 0) return matrix;
  const pythons = unionPythons([matrix.environment, ...applications.map((a) => a.environment)]);
  const matrixPythons = new Set(matrix.environment.pythons.map((p) => p.minor));
  const byName = new Map<string, MatrixPackage>();
  const add = (pkg: MatrixPackage) => {
    const closure = pkg.closurePythons ?? new Map(pkg.releases.map((r) => [r.version, matrixPythons]));
    const known = byName.get(pkg.recipe.name);
    if (!known) {
      byName.set(pkg.recipe.name, { ...pkg, closurePythons: new Map(closure) });
      return;
    }
    for (const release of pkg.releases) {
      if (!known.releases.some((r) => r.version === release.version)) known.releases = [...known.releases, release];
      const wanted = new Set([...(known.closurePythons!.get(release.version) ?? []), ...(closure.get(release.version) ?? [])]);
      known.closurePythons!.set(release.version, wanted);
    }
  };
  for (const pkg of [...matrix.packages, ...applications.flatMap((a) => a.packages)]) add(pkg);
  const histories = new Map([...matrix.environment.histories, ...applications.flatMap((a) => [...a.environment.histories])]);
  const environment: PlanEnvironment = { ...matrix.environment, pythons, histories };
  return { ...matrix, packages: [...byName.values()], environment };
}

function unionPythons(environments: PlanEnvironment[]): MatrixPython[] {
  const seen = new Map<string, MatrixPython>();
  for (const env of environments) for (const p of env.pythons) if (!seen.has(p.minor)) seen.set(p.minor, p);
  return [...seen.values()].sort((a, b) => Number(a.minor.split('.')[1]) - Number(b.minor.split('.')[1]));
}
