import { normalizeName } from './names.ts';

/** A cell of the farm: one package version built for one Python on one platform. */
export interface Cell {
  /** Project name as the user or the upstream index spells it (kept for display). */
  name: string;
  version: string;
  /** CPython tag, e.g. `cp313`. */
  python: string;
  /** Platform tag the wheel is repaired to, e.g. `manylinux_2_31_x86_64`. */
  platform: string;
}

/**
 * The build identifier people read everywhere (logs, labels, paths, errors):
 * `markupsafe-3.0.3-cp313-manylinux_2_31_x86_64`. Safe as a file name and a Docker label value.
 */
export function formatBuildId(cell: Cell): string {
  return [normalizeName(cell.name), cell.version, cell.python, cell.platform].join('-').replace(/[^A-Za-z0-9._+!-]/g, '_');
}

/** `3.13` -> `cp313`. Throws on anything that is not `<major>.<minor>`. */
export function pythonTagFromVersion(version: string): string {
  const match = /^(\d)\.(\d{1,2})$/.exec(version.trim());
  if (!match) throw new RangeError(`Expected a Python version like \`3.13\`, got \`${version}\``);
  return `cp${match[1]}${match[2]}`;
}

/** `cp313` -> `3.13`. */
export function pythonVersionFromTag(tag: string): string {
  const match = /^cp(\d)(\d{1,2})$/.exec(tag);
  if (!match) throw new RangeError(`Expected a CPython tag like \`cp313\`, got \`${tag}\``);
  return `${match[1]}.${match[2]}`;
}
