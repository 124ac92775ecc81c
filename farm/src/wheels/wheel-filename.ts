import { valid as validPep440 } from '@renovatebot/pep440';
import { WheelfarmError } from '../errors.ts';
import { normalizeName } from './names.ts';

export interface BuildTag {
  number: number;
  /** Whatever follows the leading digits, often empty. Compared as a string after `number`. */
  suffix: string;
}

export interface WheelFilenameParts {
  /** The distribution name as spelled in the filename (`_` instead of `-`); normalize before comparing. */
  name: string;
  version: string;
  buildTag?: BuildTag;
  pythonTags: string[];
  abiTags: string[];
  platformTags: string[];
}

export interface SdistFilenameParts {
  name: string;
  version: string;
}

const NAME_COMPONENT = /^[A-Za-z0-9](?:[A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** Legacy sdists kept the project's own spelling, dashes included. */
const LEGACY_NAME_COMPONENT = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const BUILD_TAG = /^(\d+)([A-Za-z0-9_.]*)$/;
const TAG = /^[A-Za-z0-9_]+$/;
const SDIST_EXTENSIONS = ['.tar.gz', '.zip'] as const;

/**
 * Splits `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl` (binary distribution format spec).
 * Tag components may be compressed tag sets such as `py2.py3` or `manylinux_2_17_x86_64.manylinux2014_x86_64`.
 */
export function parseWheelFilename(filename: string): WheelFilenameParts {
  const fail = (reason: string): never => {
    throw new WheelfarmError('bad-wheel-filename', `\`${filename}\` is not a valid wheel filename: ${reason}`, {
      hint: 'Wheel filenames look like `name-1.0(-1build)-cp313-cp313-manylinux_2_28_x86_64.whl`; pass the bare filename, not a path.',
    });
  };
  if (!filename.endsWith('.whl')) fail('it does not end with `.whl`');
  const parts = filename.slice(0, -'.whl'.length).split('-');
  if (parts.length !== 5 && parts.length !== 6) {
    fail(`expected 5 or 6 dash-separated components, found ${parts.length}`);
  }
  const [name, version] = parts as [string, string];
  const [pythonTag, abiTag, platformTag] = parts.slice(-3) as [string, string, string];
  if (!NAME_COMPONENT.test(name)) fail(`the name \`${name}\` may only contain letters, digits, \`_\` and \`.\``);
  if (validPep440(version) === null) fail(`the version \`${version}\` is not a PEP 440 version`);
  const result: WheelFilenameParts = {
    name,
    version,
    pythonTags: parseTagSet(pythonTag, 'python', fail),
    abiTags: parseTagSet(abiTag, 'abi', fail),
    platformTags: parseTagSet(platformTag, 'platform', fail),
  };
  if (parts.length === 6) result.buildTag = parseBuildTag(parts[2] ?? '', fail);
  return result;
}

function parseBuildTag(text: string, fail: (reason: string) => never): BuildTag {
  const match = BUILD_TAG.exec(text);
  if (!match) return fail(`the build tag \`${text}\` must start with a digit and contain only letters, digits, \`_\` and \`.\``);
  return { number: Number(match[1]), suffix: match[2] ?? '' };
}

function parseTagSet(text: string, kind: string, fail: (reason: string) => never): string[] {
  const tags = text.split('.');
  if (tags.some((tag) => !TAG.test(tag))) fail(`the ${kind} tag \`${text}\` is not a \`.\`-separated list of tags`);
  return tags;
}

/** The inverse of parseWheelFilename. A `-` in the name becomes `_`; the result is checked by parsing it back. */
export function formatWheelFilename(parts: WheelFilenameParts): string {
  const components = [parts.name.replace(/-/g, '_'), parts.version];
  if (parts.buildTag) components.push(`${parts.buildTag.number}${parts.buildTag.suffix}`);
  components.push(parts.pythonTags.join('.'), parts.abiTags.join('.'), parts.platformTags.join('.'));
  const filename = `${components.join('-')}.whl`;
  parseWheelFilename(filename);
  return filename;
}

/**
 * Splits `{name}-{version}.tar.gz` / `.zip`. PEP 625 names never contain `-`, but legacy sdists do
 * (`python-dateutil-2.8.2.tar.gz`), so the split is chosen by the known project name when given, and
 * otherwise at the first `-` after which a PEP 440 version follows.
 */
export function parseSdistFilename(filename: string, projectName?: string): SdistFilenameParts {
  const fail = (reason: string): never => {
    throw new WheelfarmError('bad-sdist-filename', `\`${filename}\` is not a valid sdist filename: ${reason}`, {
      hint: 'Source distribution filenames look like `name-1.0.tar.gz` (or `.zip`); pass the bare filename, not a path.',
    });
  };
  const extension = SDIST_EXTENSIONS.find((ext) => filename.endsWith(ext));
  if (!extension) return fail('it does not end with `.tar.gz` or `.zip`');
  const stem = filename.slice(0, -extension.length);
  const wanted = projectName === undefined ? undefined : normalizeName(projectName);
  const split = splitStem(stem, (name) => (wanted === undefined ? LEGACY_NAME_COMPONENT.test(name) : normalizeName(name) === wanted));
  if (!split) {
    return fail(
      projectName === undefined
        ? 'no `-` is followed by a PEP 440 version'
        : `it does not start with the project name \`${projectName}\` followed by \`-\` and a PEP 440 version`,
    );
  }
  return split;
}

/** The first split whose name part passes `nameMatches` and whose rest is a PEP 440 version. */
function splitStem(stem: string, nameMatches: (name: string) => boolean): SdistFilenameParts | undefined {
  for (let index = stem.indexOf('-'); index !== -1; index = stem.indexOf('-', index + 1)) {
    const name = stem.slice(0, index);
    const version = stem.slice(index + 1);
    if (nameMatches(name) && validPep440(version) !== null) return { name, version };
  }
  return undefined;
}
