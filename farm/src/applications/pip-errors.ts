import { UserInputError } from '../errors.ts';
import { normalizeName } from '../wheels/names.ts';
import type { RequirementLine } from './application-input.ts';

/** Where a requirement line is, for people: `requirements.txt:3 flask==3.1.*`. */
export function lineLabel(line: RequirementLine): string {
  return `${line.file}:${line.line} ${line.requirement}`;
}

/**
 * What pip's resolver said when it found no closure, as the farm's error: the requirement lines that
 * conflict (pip's "The conflict is caused by" names projects; the application's lines naming them
 * are what the user edits), a distribution no release satisfies, or pip's own last words.
 */
export function resolutionError(python: string, pipError: string, lines: RequirementLine[]): UserInputError {
  const pipSays = pipError
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  // pip's own explanation starts at its first error (a build's output, `× ...`) or ERROR line; before it come its downloads.
  const from = pipSays.findIndex((l) => l.startsWith('ERROR') || l.startsWith('×') || l.startsWith('error:'));
  const tail = (from >= 0 ? pipSays.slice(from) : pipSays.slice(-12)).slice(0, 24).join('\n');
  const causes = conflictCauses(pipSays);
  const cited = citedLines(pipError, lines);
  if (causes.length > 0 || cited.length > 0) {
    const named = new Set(causes.map(normalizeName));
    const conflicting = lines.filter((l) => named.has(l.name) || cited.includes(l));
    const where = conflicting.length > 0 ? conflicting.map(lineLabel).join('; ') : [...named].join(', ');
    return new UserInputError('conflicting-requirements', `the requirements conflict for Python ${python}: ${where}`, {
      hint: `pip's resolver says:\n${tail}\nloosen or align these lines so one version satisfies them all`,
    });
  }
  const missing = /No matching distribution found for ([A-Za-z0-9._-]+)/.exec(pipError)?.[1];
  if (missing) {
    const line = lines.find((l) => l.name === normalizeName(missing));
    const where = line ? `${lineLabel(line)}: ` : '';
    return new UserInputError(
      'requirement-not-satisfiable',
      `${where}no release of \`${missing}\` on the upstream index satisfies the requirements for Python ${python}`,
      { hint: `pip says:\n${tail}\ncheck the version range and the release's requires-python, or leave Python ${python} out (--python)` },
    );
  }
  return new UserInputError('resolution-failed', `pip could not resolve the requirements for Python ${python}`, {
    hint: `pip says:\n${tail}`,
  });
}

/**
 * The lines pip's "Cannot install A and B" cites: `-r .../requirements.txt (line 2)` is the farm's
 * file of the application's requirements in order (constraints likewise), so line N is the N-th of them.
 */
function citedLines(pipError: string, lines: RequirementLine[]): RequirementLine[] {
  const cannot = /Cannot install (.+?) because/.exec(pipError)?.[1] ?? '';
  const cited: RequirementLine[] = [];
  for (const match of cannot.matchAll(/-([rc]) \S+ \(line (\d+)\)/g)) {
    const pool = lines.filter((l) => l.constraint === (match[1] === 'c'));
    const line = pool[Number(match[2]) - 1];
    if (line) cited.push(line);
  }
  return cited;
}

/** The projects in pip's "The conflict is caused by:" block (`The user requested x==1`, `y 2.0 depends on x<1`). */
function conflictCauses(pipSays: string[]): string[] {
  const start = pipSays.findIndex((l) => l.startsWith('The conflict is caused by'));
  if (start < 0) return [];
  const names: string[] = [];
  for (const line of pipSays.slice(start + 1)) {
    const requested = /^The user requested (?:\(constraint\) )?([A-Za-z0-9._-]+)/.exec(line);
    // `requests 2.32.5 depends on urllib3<3,>=1.21.1`: the line pinning requests is part of the conflict too.
    const depends = /^([A-Za-z0-9._-]+)(?:\[[^\]]*\])? \S+ depends on ([A-Za-z0-9._-]+)/.exec(line);
    if (requested) names.push(requested[1]!);
    else if (depends) names.push(depends[1]!, depends[2]!);
    else break;
  }
  return names;
}
