/** PEP 503 normalization: runs of `-`, `_`, `.` become one `-`, lower case. Compare names only this way. */
export function normalizeName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** PEP 508 project names: ASCII letters and digits, with `-`, `_`, `.` inside. */
const VALID_NAME = /^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i;

export function isValidProjectName(name: string): boolean {
  return VALID_NAME.test(name);
}

/** The name as it appears in wheel and sdist filenames (PEP 427 / PEP 625): `-` becomes `_`. */
export function escapeNameForFilename(name: string): string {
  return normalizeName(name).replace(/-/g, '_');
}
