import { valid as validPep440Version, validRange as validPep440Range } from '@renovatebot/pep440';
import { isValidProjectName } from '../wheels/names.ts';

/**
 * A named PEP 508 requirement (`flask[async] >= 3, < 4 ; python_version >= "3.10"`), checked as far
 * as the host needs: the name strictly (it keys everything after), extras and version specifiers
 * against obvious garbage. The marker is kept as written: the resolver that runs later, with the
 * target Python, evaluates it and reports the rest.
 */
export interface Pep508Requirement {
  name: string;
  extras: string[];
  /** The PEP 440 specifier set, parentheses dropped; empty when any version goes. */
  specifier: string;
  marker?: string;
}

/** What is wrong with a requirement, said as "expected …" so that it can follow `file:line: \`text\``. */
export interface Pep508Problem {
  problem: string;
}

const NAME_TOKEN = /^[^\s[\](),;<>=!~@'"]+/;

export function parsePep508(text: string): Pep508Requirement | Pep508Problem {
  const name = NAME_TOKEN.exec(text)?.[0];
  if (name === undefined) return { problem: 'does not start with a project name: expected a requirement like `flask>=3.0`' };
  if (!isValidProjectName(name)) {
    return { problem: `names \`${name}\`, not a valid project name: expected ASCII letters and digits, with \`-\`, \`_\`, \`.\` inside` };
  }
  let rest = text.slice(name.length).trim();
  const extras = takeExtras(rest);
  if ('problem' in extras) return extras;
  rest = rest.slice(extras.length).trim();
  if (rest.startsWith('@')) return { problem: 'is a direct reference (`name @ URL`): expected a name and version specifiers' };
  const semicolon = rest.indexOf(';');
  const marker = semicolon < 0 ? undefined : rest.slice(semicolon + 1).trim();
  const specifier = stripParentheses((semicolon < 0 ? rest : rest.slice(0, semicolon)).trim());
  const problem = specifierProblem(specifier) ?? (marker === undefined ? undefined : markerProblem(marker));
  if (problem) return { problem };
  return { name, extras: extras.names, specifier, ...(marker === undefined ? {} : { marker }) };
}

/** The `[a,b]` after the name: its names and how many characters it took. */
function takeExtras(rest: string): { names: string[]; length: number } | Pep508Problem {
  if (!rest.startsWith('[')) return { names: [], length: 0 };
  const close = rest.indexOf(']');
  if (close < 0) return { problem: 'has `[` without `]`: expected extras like `name[extra1,extra2]`' };
  const inside = rest.slice(1, close).trim();
  const names = inside === '' ? [] : inside.split(',').map((extra) => extra.trim());
  const bad = names.find((extra) => !isValidProjectName(extra));
  if (bad !== undefined) return { problem: `has the extra \`${bad}\`: expected extras like \`name[extra1,extra2]\`` };
  return { names, length: close + 1 };
}

function stripParentheses(specifier: string): string {
  return specifier.startsWith('(') && specifier.endsWith(')') ? specifier.slice(1, -1).trim() : specifier;
}

function specifierProblem(specifier: string): string | undefined {
  if (specifier === '' || validPep440Range(specifier)) return undefined;
  const clauses = specifier.split(',').map((clause) => clause.trim());
  if (clauses.includes('')) return `has \`${specifier}\` with an empty clause: expected something like \`>=1.2,<2\``;
  const bad = clauses.find((clause) => !validPep440Range(clause)) ?? specifier;
  const asVersion = validPep440Version(bad) ? ` (a bare version: write \`==${bad}\`)` : '';
  return `has \`${bad}\`, not a PEP 440 version specifier${asVersion}: expected something like \`==1.2.3\` or \`>=1.2,<2\``;
}

/** Only what a glance can tell: a marker is there and its quotes are closed. */
function markerProblem(marker: string): string | undefined {
  if (marker === '') return 'has `;` without a marker after it: expected something like `; python_version >= "3.10"`';
  let open: string | undefined;
  for (const char of marker) {
    if (char === open) open = undefined;
    else if (open === undefined && (char === '"' || char === "'")) open = char;
  }
  if (open !== undefined)
    return `has the marker \`${marker}\` with an unclosed quote: expected something like \`python_version >= "3.10"\``;
  return undefined;
}
