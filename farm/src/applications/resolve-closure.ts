import { UserInputError, WheelfarmError } from '../errors.ts';
import type { ImagePython } from '../images/image-definitions.ts';
import type { BuildUser } from '../pipeline/with-container.ts';
import { normalizeName } from '../wheels/names.ts';
import type { ApplicationInput, LockInput, RequirementLine } from './application-input.ts';
import type { Closure } from './closure.ts';
import { applicationSlug } from './closure-record.ts';
import { ClosureBuilder } from './closure.ts';
import { lineLabel, resolutionError } from './pip-errors.ts';
import type { ResolverDeps } from './run-resolver.ts';
import { runResolver } from './run-resolver.ts';
import type { UpstreamProjects } from './upstream-projects.ts';

interface ResolvedDist {
  name: string;
  version: string;
  requested: boolean;
  requiredBy: { name: string; version: string; requirement: string }[];
}

type RequirementsAnswer = { python: string; error: string } | { python: string; dists: ResolvedDist[] };
type LockAnswer = { python: string; admitted: false; why: string } | { python: string; admitted: true; selected: number[] };

export interface ClosureTarget {
  /** A name for logs and records. */
  application: string;
  pythons: ImagePython[];
  /** The build image and its user: the resolver runs there, with each target CPython. */
  image: string;
  user: BuildUser;
}

/**
 * An application's closure for each target Python: its requirements resolved by pip run with that
 * Python (markers, requires-python and the platform are the target's own), its locks' packages
 * selected by their markers there (verified later, never re-resolved). Names are checked upstream
 * first, so a private or misspelt name is an error at its line before any container starts.
 */
export async function resolveClosure(
  deps: ResolverDeps & { projects: UpstreamProjects },
  inputs: ApplicationInput[],
  target: ClosureTarget,
): Promise<Closure> {
  const builder = new ClosureBuilder();
  const lines = inputs.flatMap((input) => (input.kind === 'requirements' ? input.lines : []));
  if (lines.some((l) => !l.constraint)) {
    await checkNamesUpstream(deps.projects, lines);
    await resolveRequirements(deps, lines, target, builder);
  }
  for (const lock of inputs.filter((input): input is LockInput => input.kind === 'lock')) await selectLocked(deps, lock, target, builder);
  return builder.build(
    target.application,
    target.pythons.map((p) => p.minor),
  );
}

async function checkNamesUpstream(projects: UpstreamProjects, lines: RequirementLine[]): Promise<void> {
  const first = new Map<string, RequirementLine>();
  for (const line of lines) if (!line.constraint && !first.has(line.name)) first.set(line.name, line);
  await Promise.all(
    [...first.values()].map(async (line) => {
      try {
        await projects.files(line.name);
      } catch (error) {
        if (!(error instanceof WheelfarmError) || error.code !== 'package-not-found') throw error;
        throw new UserInputError(
          'requirement-not-found',
          `${lineLabel(line)}: \`${line.name}\` is not on the upstream index (${await projects.where()})`,
          {
            hint: 'a private package must be published to the upstream index (or a recipe must give its source) before the farm can build it; otherwise drop the line',
          },
        );
      }
    }),
  );
}

async function resolveRequirements(deps: ResolverDeps, lines: RequirementLine[], target: ClosureTarget, builder: ClosureBuilder) {
  const requirements = lines.filter((l) => !l.constraint).map((l) => l.requirement);
  const constraints = lines.filter((l) => l.constraint).map((l) => l.requirement);
  const files: Record<string, string> = { 'requirements.txt': `${requirements.join('\n')}\n` };
  if (constraints.length > 0) files['constraints.txt'] = `${constraints.join('\n')}\n`;
  const job = { requirements: 'requirements.txt', ...(constraints.length > 0 ? { constraints: 'constraints.txt' } : {}) };
  const answers = (await runResolver(deps, { ...resolverJob(target), files, job })) as RequirementsAnswer[];
  for (const answer of answers) {
    if ('error' in answer) throw resolutionError(answer.python, answer.error, lines);
    for (const dist of answer.dists) {
      const normalized = normalizeName(dist.name);
      const asked = lines.filter((l) => !l.constraint && l.name === normalized);
      const why = [
        ...(dist.requested ? asked.map(lineLabel) : []),
        ...dist.requiredBy.map((p) => `${p.name} ${p.version} requires ${p.requirement}`),
      ];
      builder.add(answer.python, {
        name: dist.name,
        normalized,
        version: dist.version,
        why,
        lines: lines.filter((l) => l.name === normalized),
      });
    }
  }
}

async function selectLocked(deps: ResolverDeps, lock: LockInput, target: ClosureTarget, builder: ClosureBuilder) {
  const packages = lock.packages.map((p) => ({ name: p.name, version: p.version, marker: p.marker, requiresPython: p.requiresPython }));
  const job = { lock: { requiresPython: lock.requiresPython, environments: lock.environments, packages } };
  const answers = (await runResolver(deps, { ...resolverJob(target), files: {}, job })) as LockAnswer[];
  for (const answer of answers) {
    if (!answer.admitted) {
      throw new UserInputError('lock-not-for-python', `${lock.file} has no entry for Python ${answer.python}: ${answer.why}`, {
        hint: `lock it for Python ${answer.python} too (e.g. \`uv export --format pylock.toml\` with that Python), or leave it out with --python`,
      });
    }
    for (const index of answer.selected) {
      const locked = lock.packages[index]!;
      const why = [`${lock.file}:${locked.line}`];
      builder.add(answer.python, { name: locked.name, normalized: locked.normalized, version: locked.version, why, locked });
    }
  }
}

function resolverJob(target: ClosureTarget) {
  return {
    logName: `closure-${applicationSlug(target.application)}`,
    image: target.image,
    user: target.user,
    pythons: target.pythons,
  };
}
