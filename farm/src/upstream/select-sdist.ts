import { clean, compare, eq, explain, satisfies, valid } from '@renovatebot/pep440';
import { IntegrityError, UserInputError } from '../errors.ts';
import { normalizeName } from '../wheels/names.ts';
import type { UpstreamFile } from './simple-api-client.ts';
import { expectNonEmptyString, expectObject, expectOptionalNonEmptyString } from './validate-options.ts';

export interface SelectSdistOptions {
  /** The project name (as the user or the index spells it); returned as `name`. */
  project: string;
  files: readonly UpstreamFile[];
  /** Exact PEP 440 version to build; without it the newest final release with an sdist. */
  version?: string | undefined;
  /**
   * Without `version`: only releases this PEP 440 specifier admits are candidates (a recipe's
   * `versions`). An exact `version` is built even outside it: the person asked for it.
   */
  specifier?: string | undefined;
}

export interface SelectedSdist {
  name: string;
  /** Canonical PEP 440 form of the version in the filename (`2.0RC1` -> `2.0rc1`). */
  version: string;
  filename: string;
  url: string;
  sha256: string;
  requiresPython?: string;
  /** Bytes, when the index says (PEP 700). */
  size?: number;
}

/** Source distribution archive suffixes we build from (PEP 625 allows `.tar.gz`; legacy `.zip`). */
const SDIST_SUFFIXES = ['.tar.gz', '.zip'] as const;
/** Other source archive suffixes: counted as releases (for messages), never built. */
const OTHER_SOURCE_SUFFIXES = ['.tar.bz2', '.tgz', '.tar.xz', '.tar.z', '.tar'] as const;
const NEWEST_SHOWN = 5;

interface ParsedFile {
  file: UpstreamFile;
  /** Canonical version. */
  version: string;
  isSdist: boolean;
  isYanked: boolean;
}

/**
 * Picks the source distribution to build (pure). Without `version`: the highest PEP 440 version that
 * is not a pre-release and has a non-yanked sdist, or the highest pre-release if there is nothing else.
 * With `version`: exact PEP 440 equality (`1.0` matches `1.0.0`); yanked files count, as in pip.
 */
export function selectSdist(options: SelectSdistOptions): SelectedSdist {
  expectObject('options', options);
  const project = expectNonEmptyString('project', options.project);
  if (!Array.isArray(options.files)) throw new TypeError('Expected `files` to be an array of upstream files');
  const wanted = expectOptionalNonEmptyString('version', options.version);
  const parsed = options.files.flatMap((file) => parseFile(project, file) ?? []);
  const chosen =
    wanted === undefined ? pickLatest(project, admittedBy(project, parsed, options.specifier)) : pickPinned(project, parsed, wanted);
  return toSelected(project, chosen);
}

/**
 * Every version that has a source distribution that is not yanked, newest first (PEP 440 order):
 * what a matrix can keep built. Pure.
 */
export function releasesWithSdists(project: string, files: readonly UpstreamFile[]): { version: string; prerelease: boolean }[] {
  const versions = new Set<string>();
  for (const entry of files.flatMap((file) => parseFile(project, file) ?? [])) {
    if (entry.isSdist && !entry.isYanked) versions.add(entry.version);
  }
  return [...versions].sort((a, b) => compare(b, a)).map((version) => ({ version, prerelease: explain(version)?.is_prerelease ?? false }));
}

function admittedBy(project: string, parsed: ParsedFile[], specifier: string | undefined): ParsedFile[] {
  if (specifier === undefined) return parsed;
  const admitted = parsed.filter((entry) => satisfies(entry.version, specifier));
  if (admitted.length === 0 && parsed.length > 0) {
    throw new UserInputError(
      'no-version-in-range',
      `no release of package \`${project}\` matches \`${specifier}\`; newest available: ${newestVersions(parsed).join(', ')}`,
      {
        hint: 'widen `versions` in the recipe, or build a version explicitly with name==version',
      },
    );
  }
  return admitted;
}

function pickLatest(project: string, parsed: ParsedFile[]): ParsedFile[] {
  const usable = parsed.filter((entry) => entry.isSdist && !entry.isYanked);
  if (usable.length === 0) {
    if (parsed.some((entry) => entry.isSdist)) {
      throw new UserInputError('only-yanked', `every source distribution of package \`${project}\` has been yanked`, {
        hint: `Pin one of these versions explicitly to build it anyway: ${newestVersions(parsed).join(', ')}.`,
      });
    }
    throw noSdistAtAll(project, parsed);
  }
  const finals = usable.filter((entry) => !explain(entry.version)?.is_prerelease);
  const pool = finals.length > 0 ? finals : usable;
  const best = pool.reduce((a, b) => (compare(b.version, a.version) > 0 ? b : a));
  return pool.filter((entry) => eq(entry.version, best.version));
}

function pickPinned(project: string, parsed: ParsedFile[], wanted: string): ParsedFile[] {
  if (valid(wanted.trim()) === null) {
    throw new UserInputError('bad-version', `\`${wanted}\` is not a valid PEP 440 version (asked for package \`${project}\`)`, {
      hint: 'Give a version like `1.2.3`, `2.0rc1`, `1.0.post1` or `1!2.0`.',
    });
  }
  const matching = parsed.filter((entry) => eq(entry.version, wanted.trim()));
  if (matching.length === 0) {
    const newest = newestVersions(parsed);
    const listed = newest.length > 0 ? `; newest available: ${newest.join(', ')}` : '; it has no releases';
    throw new UserInputError(
      'version-not-found',
      `version \`${wanted}\` of package \`${project}\` was not found on the upstream index${listed}`,
      {
        hint: 'Pick one of the available versions, or leave out the version to build the newest release.',
      },
    );
  }
  const sdists = matching.filter((entry) => entry.isSdist);
  if (sdists.length === 0) {
    throw new UserInputError(
      'no-sdist',
      `version \`${wanted}\` of package \`${project}\` has no source distribution (.tar.gz or .zip), only: ${matching.map((entry) => entry.file.filename).join(', ')}`,
      { hint: 'wheelfarm builds from source distributions; pick a version that publishes one.' },
    );
  }
  return sdists;
}

function noSdistAtAll(project: string, parsed: ParsedFile[]): UserInputError {
  if (parsed.length === 0) {
    return new UserInputError('no-sdist', `package \`${project}\` has no releases with files on the upstream index`, {
      hint: 'Check the package name; the project may have no published files.',
    });
  }
  return new UserInputError(
    'no-sdist',
    `package \`${project}\` has no source distribution (.tar.gz or .zip) on the upstream index, only other files (e.g. wheels)`,
    {
      hint: 'wheelfarm builds from source distributions; this project does not publish any.',
    },
  );
}

/** Among the sdists of one version: not yanked first, then with a hash, then `.tar.gz` before `.zip`. */
function toSelected(project: string, candidates: ParsedFile[]): SelectedSdist {
  const rank = (entry: ParsedFile): number =>
    (entry.isYanked ? 4 : 0) + (entry.file.sha256 === undefined ? 2 : 0) + (entry.file.filename.toLowerCase().endsWith('.tar.gz') ? 0 : 1);
  const best = [...candidates].sort((a, b) => rank(a) - rank(b))[0];
  if (best === undefined) throw new Error('selectSdist: no candidate (unreachable)');
  const { file } = best;
  if (file.sha256 === undefined) {
    throw new IntegrityError('no-hash', `the upstream index lists \`${file.filename}\` without a sha256 hash`, {
      hint: 'wheelfarm never builds from unverified bytes; use an index that publishes sha256 hashes (PEP 691 `hashes`).',
    });
  }
  const selected: SelectedSdist = { name: project, version: best.version, filename: file.filename, url: file.url, sha256: file.sha256 };
  if (file.requiresPython !== undefined) selected.requiresPython = file.requiresPython;
  if (file.size !== undefined) selected.size = file.size;
  return selected;
}

/** Distinct versions, newest first, at most NEWEST_SHOWN. */
function newestVersions(parsed: ParsedFile[]): string[] {
  const distinct = [...new Set(parsed.map((entry) => entry.version))];
  return distinct.sort((a, b) => compare(b, a)).slice(0, NEWEST_SHOWN);
}

function parseFile(project: string, file: UpstreamFile): ParsedFile | undefined {
  const lower = file.filename.toLowerCase();
  const isYanked = file.yanked !== false;
  if (lower.endsWith('.whl')) {
    const version = versionFromWheel(project, file.filename);
    return version === undefined ? undefined : { file, version, isSdist: false, isYanked };
  }
  const sdistSuffix = SDIST_SUFFIXES.find((suffix) => lower.endsWith(suffix));
  const suffix = sdistSuffix ?? OTHER_SOURCE_SUFFIXES.find((s) => lower.endsWith(s));
  if (suffix === undefined) return undefined;
  const version = versionFromArchiveStem(project, file.filename.slice(0, -suffix.length));
  return version === undefined ? undefined : { file, version, isSdist: sdistSuffix !== undefined, isYanked };
}

/**
 * `name-version`, where the name may be spelled differently from the project (case, `_`/`.`/`-`)
 * and legacy names keep their `-`: the version starts after the prefix whose normalized form is the project.
 */
export function versionFromArchiveStem(project: string, stem: string): string | undefined {
  const wantedName = normalizeName(project);
  for (let dash = stem.indexOf('-'); dash !== -1; dash = stem.indexOf('-', dash + 1)) {
    if (normalizeName(stem.slice(0, dash)) !== wantedName) continue;
    const version = canonicalVersion(stem.slice(dash + 1));
    if (version !== undefined) return version;
  }
  return undefined;
}

/** `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`; names in wheels never contain `-`. */
function versionFromWheel(project: string, filename: string): string | undefined {
  const [name, version] = filename.split('-');
  if (name === undefined || version === undefined || normalizeName(name) !== normalizeName(project)) return undefined;
  return canonicalVersion(version);
}

function canonicalVersion(text: string): string | undefined {
  return valid(text) === null ? undefined : (clean(text) ?? undefined);
}
