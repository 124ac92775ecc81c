import { basename } from 'node:path';
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { WheelfarmError } from '../errors.ts';

export interface WheelContents {
  /** `Name` from METADATA, as the project spells it. */
  name: string;
  version: string;
  requiresPython?: string;
  /** Importable top-level names, public ones first, then `_private` ones, each group sorted. */
  topLevelModules: string[];
  rootIsPurelib: boolean;
  /** `Requires-Dist` from METADATA, each as written (markers included): the wheel's runtime dependencies. */
  requiresDist: string[];
}

/** The dist-info files we read; everything else is known from the central directory alone. */
interface DistInfoEntries {
  metadata?: Entry;
  wheel?: Entry;
  topLevel?: Entry;
}

// Caps so a hostile or broken wheel cannot make us buffer gigabytes of "metadata".
const METADATA_HEADER_LIMIT = 1024 * 1024;
const SMALL_FILE_LIMIT = 1024 * 1024;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
const EXTENSION_MODULE = /\.(so|pyd)$/;
const BLANK_LINE = /\r?\n\r?\n/;

/**
 * Reads what the farm needs to know about a built wheel from its zip central directory and three small
 * dist-info files, without extracting it: wheels can be several gigabytes.
 */
export async function readWheelContents(path: string): Promise<WheelContents> {
  const zip = await openZip(path);
  try {
    const entryNames: string[] = [];
    const distInfos = new Map<string, DistInfoEntries>();
    for await (const entry of zip.eachEntry()) {
      entryNames.push(entry.fileName);
      recordDistInfoEntry(distInfos, entry);
    }
    const distInfo = pickDistInfo(path, distInfos);
    const metadataText = await readEntryText(zip, distInfo.metadata, { path, limit: METADATA_HEADER_LIMIT, stopAtBlankLine: true });
    const metadata = parseHeaders(metadataText);
    const wheel = parseHeaders(await readEntryText(zip, distInfo.wheel, { path, limit: SMALL_FILE_LIMIT }));
    const topLevel = distInfo.topLevel && (await readEntryText(zip, distInfo.topLevel, { path, limit: SMALL_FILE_LIMIT }));
    return {
      ...nameAndVersion(path, metadata),
      ...optionalRequiresPython(metadata),
      topLevelModules: sortModules(topLevel === undefined ? modulesFromEntries(entryNames) : modulesFromTopLevelTxt(topLevel)),
      // The spec requires the field; pip reads a missing one as false, and so do we.
      rootIsPurelib: (wheel.get('root-is-purelib') ?? '').toLowerCase() === 'true',
      requiresDist: requiresDistOf(metadataText),
    };
  } catch (error) {
    throw asBadWheel(path, error);
  } finally {
    zip.close();
  }
}

async function openZip(path: string): Promise<ZipFile> {
  try {
    return await yauzl.openPromise(path, { lazyEntries: true, autoClose: false });
  } catch (error) {
    const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new WheelfarmError('bad-wheel', `${path} ${missing ? 'does not exist' : 'is not a readable zip archive'}`, {
      hint: missing
        ? 'Check the path; the build may not have produced a wheel.'
        : 'The wheel is truncated or not a zip file; rebuild it (a crashed copy or an HTML error page saved as .whl look like this).',
      cause: error,
    });
  }
}

function recordDistInfoEntry(distInfos: Map<string, DistInfoEntries>, entry: Entry): void {
  const [top, file, ...rest] = entry.fileName.split('/');
  if (top === undefined || !top.endsWith('.dist-info') || rest.length > 0) return;
  const found = distInfos.get(top) ?? {};
  distInfos.set(top, found);
  if (file === 'METADATA') found.metadata = entry;
  else if (file === 'WHEEL') found.wheel = entry;
  else if (file === 'top_level.txt') found.topLevel = entry;
}

function pickDistInfo(path: string, distInfos: Map<string, DistInfoEntries>): DistInfoEntries & { metadata: Entry; wheel: Entry } {
  const hint =
    'A wheel holds exactly one `<name>-<version>.dist-info/` folder with METADATA and WHEEL; rebuild it with a standard build backend.';
  if (distInfos.size !== 1) {
    const found =
      distInfos.size === 0 ? 'no .dist-info folder' : `${distInfos.size} .dist-info folders (${[...distInfos.keys()].join(', ')})`;
    throw new WheelfarmError('bad-wheel', `${path} has ${found}`, { hint });
  }
  const [[folder, entries]] = [...distInfos] as [[string, DistInfoEntries]];
  const { metadata, wheel } = entries;
  if (!metadata || !wheel) {
    throw new WheelfarmError('bad-wheel', `${path} has no ${metadata ? 'WHEEL' : 'METADATA'} file in ${folder}/`, { hint });
  }
  return { ...entries, metadata, wheel };
}

/**
 * Streams one entry into a string. With `stopAtBlankLine` it stops at the end of METADATA's headers:
 * the long description after them can be huge and is of no interest.
 */
async function readEntryText(
  zip: ZipFile,
  entry: Entry,
  options: { path: string; limit: number; stopAtBlankLine?: boolean },
): Promise<string> {
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  let size = 0;
  // The last bytes of the previous chunk, so a blank line split across two chunks is still seen.
  let carry = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (options.stopAtBlankLine) {
      const window = carry + chunk.toString('latin1');
      if (BLANK_LINE.test(window)) break;
      carry = window.slice(-3);
    }
    if (size > options.limit) {
      throw new WheelfarmError('bad-wheel', `${options.path}: ${entry.fileName} is larger than ${options.limit} bytes`, {
        hint: 'The dist-info metadata is unreasonably large; check how the wheel was built.',
      });
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** RFC 822 style `Key: value` lines with indented continuations, up to the first blank line. Keys lower-cased. */
/** Every `Requires-Dist` header of METADATA's header block (parseHeaders keeps one of each key). */
export function requiresDistOf(text: string): string[] {
  const [headers = ''] = text.split(BLANK_LINE, 1);
  return headers
    .split(/\r?\n/)
    .filter((line) => /^requires-dist:/i.test(line))
    .map((line) => line.slice(line.indexOf(':') + 1).trim())
    .filter((requirement) => requirement.length > 0);
}

function parseHeaders(text: string): Map<string, string> {
  const headers = new Map<string, string>();
  let lastKey: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') break;
    if (/^[ \t]/.test(line) && lastKey !== undefined) {
      headers.set(lastKey, `${headers.get(lastKey) ?? ''} ${line.trim()}`.trim());
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    lastKey = line.slice(0, colon).trim().toLowerCase();
    // Repeated keys (Classifier, Requires-Dist) do not matter here; keep the first.
    if (!headers.has(lastKey)) headers.set(lastKey, line.slice(colon + 1).trim());
    else lastKey = undefined;
  }
  return headers;
}

function nameAndVersion(path: string, metadata: Map<string, string>): { name: string; version: string } {
  const name = metadata.get('name');
  const version = metadata.get('version');
  if (!name || !version) {
    throw new WheelfarmError('bad-wheel', `${path}: METADATA has no ${name ? 'Version' : 'Name'} field`, {
      hint: 'Core metadata must name the project and its version; rebuild the wheel with a standard build backend.',
    });
  }
  return { name, version };
}

function optionalRequiresPython(metadata: Map<string, string>): { requiresPython?: string } {
  const requiresPython = metadata.get('requires-python');
  return requiresPython ? { requiresPython } : {};
}

function modulesFromTopLevelTxt(text: string): string[] {
  return [
    ...new Set(
      text
        .split(/\r?\n/)
        .map((line) => line.trim())
        .filter((line) => line !== ''),
    ),
  ];
}

/**
 * Without top_level.txt (flit, hatch, maturin, meson-python do not write it), guess from the layout:
 * top-level `.py` files and extension modules, and folders holding an `__init__.py` or an extension module
 * at any depth (so PEP 420 namespace packages count). Files under `<name>.data/purelib|platlib/` install
 * into site-packages too. `.dist-info`, `.data` and auditwheel's `<pkg>.libs` are not identifiers, so drop out.
 */
function modulesFromEntries(entryNames: string[]): string[] {
  const modules = new Set<string>();
  for (const entryName of entryNames) {
    const relative = siteRelativePath(entryName);
    const segments = relative.split('/');
    const file = segments.at(-1) ?? '';
    const top = segments[0] ?? '';
    const candidate = segments.length === 1 ? moduleNameOfFile(file) : isPackageMarker(file) ? top : undefined;
    if (candidate !== undefined && IDENTIFIER.test(candidate)) modules.add(candidate);
  }
  return [...modules];
}

/** Strips `<name>.data/purelib/` or `.../platlib/`, which pip installs at the site-packages root. */
function siteRelativePath(entryName: string): string {
  const match = /^[^/]+\.data\/(?:purelib|platlib)\/(.+)$/.exec(entryName);
  return match?.[1] ?? entryName;
}

function moduleNameOfFile(file: string): string | undefined {
  if (file.endsWith('.py')) return file.slice(0, -'.py'.length);
  // `_speedups.cpython-313-x86_64-linux-gnu.so` and `_speedups.abi3.so` both import as `_speedups`.
  if (EXTENSION_MODULE.test(file)) return file.split('.')[0];
  return undefined;
}

function isPackageMarker(file: string): boolean {
  return file === '__init__.py' || EXTENSION_MODULE.test(file);
}

function sortModules(modules: string[]): string[] {
  const rank = (module: string): number => (module.startsWith('_') ? 1 : 0);
  return [...modules].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function asBadWheel(path: string, error: unknown): WheelfarmError {
  if (error instanceof WheelfarmError) return error;
  return new WheelfarmError('bad-wheel', `${path} could not be read as a wheel: ${(error as Error).message}`, {
    hint: `Check that ${basename(path)} is a complete, uncorrupted wheel; rebuild it if unsure.`,
    cause: error,
  });
}
