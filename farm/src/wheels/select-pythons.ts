import { satisfies, validRange } from '@renovatebot/pep440';
import { UserInputError } from '../errors.ts';

export interface SelectPythonsOptions {
  /** Python minor versions to build for, like `['3.11', '3.13']`. */
  requested: string[];
  /** The project's `Requires-Python` / `requires-python`, a PEP 440 specifier set such as `>=3.9,<4`. */
  requiresPython?: string;
}

export interface PythonSelection {
  selected: string[];
  skipped: { python: string; reason: string }[];
}

const MINOR_VERSION = /^\d+\.\d+$/;

/** Keeps the requested Pythons that the project's requires-python admits, and says why the others were dropped. */
export function selectPythons(options: SelectPythonsOptions): PythonSelection {
  const requested = [...new Set(options.requested.map((python) => python.trim()))];
  for (const python of requested) assertMinorVersion(python);
  const specifier = options.requiresPython?.trim() || undefined;
  if (specifier !== undefined) assertSpecifier(specifier);

  const selection: PythonSelection = { selected: [], skipped: [] };
  for (const python of requested) {
    if (specifier === undefined || admits(specifier, python)) selection.selected.push(python);
    else selection.skipped.push({ python, reason: `requires-python ${specifier}` });
  }
  return selection;
}

/**
 * pip compares requires-python with the full interpreter version (3.12.7), but we only know the minor
 * version. A late patch release stands in for "the newest 3.12", so `>=3.12.1` still admits 3.12 while
 * `<3.12` and `!=3.12.*` exclude it, as cibuildwheel does.
 */
function admits(specifier: string, python: string): boolean {
  return satisfies(`${python}.99`, specifier);
}

function assertMinorVersion(python: string): void {
  if (!MINOR_VERSION.test(python)) {
    throw new UserInputError('bad-python-version', `\`${python}\` is not a Python version like \`3.13\``, {
      hint: 'List Python versions as `<major>.<minor>`, e.g. `3.11` or `3.13`.',
    });
  }
}

function assertSpecifier(specifier: string): void {
  if (!validRange(specifier)) {
    throw new UserInputError('bad-requires-python', `requires-python \`${specifier}\` is not a valid PEP 440 specifier set`, {
      hint: 'Use comma-separated PEP 440 clauses such as `>=3.9` or `>=3.9,<4` (not `3.9+` or `>=3.9 <4`).',
    });
  }
}
