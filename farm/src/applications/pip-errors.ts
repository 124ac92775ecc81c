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
  const tail = pipSays.slice(-12).join('\n');
  const causes = conflictCauses(pipSays);
  if (causes.length > 0) {
    const named = new Set(causes.map(normalizeName));
    const conflicting = lines.filter((l) => named.has(l.name));
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

/** The projects in pip's "The conflict is caused by:" block (`The user requested x==1`, `y 2.0 depends on x<1`). */
function conflictCauses(pipSays: string[]): string[] {
  const start = pipSays.findIndex((l) => l.startsWith('The conflict is caused by'));
  if (start < 0) return [];
  const names: string[] = [];
  for (const line of pipSays.slice(start + 1)) {
    const requested = /^The user requested (?:\(constraint\) )?([A-Za-z0-9._-]+)/.exec(line);
    const depends = /^\S+ \S+ depends on ([A-Za-z0-9._-]+)/.exec(line);
    const match = requested ?? depends;
    if (!match) break;
    names.push(match[1]!);
  }
  return names;
}
