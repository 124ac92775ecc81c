import { readFile } from 'node:fs/promises';
import { asFileYamlError, formatPath, parseYamlText, yamlLocator } from '../../config/yaml-file.ts';
import { UserInputError } from '../../errors.ts';
import { displayPath } from '../display-path.ts';
import { librarySchema } from './library-schema.ts';
import type { LibraryFile } from './library-schema.ts';
import { LIBRARY_CONSTRAINT_FORM, LIBRARY_VERSION_FORM, parseLibraryConstraint, parseLibraryVersion } from './library-version.ts';

/** A library asked for, by a recipe's `build.libraries` or a definition's `depends`. */
export interface LibraryRequest {
  name: string;
  /** A constraint like `>=3.10,<4` (see library-version.ts); undefined: any version. */
  version?: string | undefined;
  /** Where it is written, `file:line` (`recipes/numpy.yaml:7`); undefined: the asker resolveLibraries is given. */
  where?: string | undefined;
  /** The field that holds it (`build.libraries[0]`), named in messages about its constraint. */
  field?: string | undefined;
}

export type LibraryBuild =
  | { kind: 'autotools'; configureArgs: string[] }
  | { kind: 'cmake'; args: string[] }
  | { kind: 'meson'; args: string[] }
  /** Run in the unpacked source with `$PREFIX` (install there) and `$SRC` (the unpacked source) set. */
  | { kind: 'script'; script: string };

/** One library definition file with its defaults applied (see library-schema.ts for each field). */
export interface LibraryDefinition {
  /** The file's name without `.yaml`: `geos`. */
  name: string;
  /** Absolute path of the definition file. */
  file: string;
  /** Dotted numbers: `3.13.1`. */
  version: string;
  /** Tried in order; the first download whose sha256 matches wins. `debian:` URLs are archive paths. */
  sources: { url: string; sha256: string }[];
  /** Other definitions it is built against, each with `where` (`file:line`) and `field` set. */
  depends: LibraryRequest[];
  system: { apt: string[]; dnf: string[] };
  build: LibraryBuild;
  /** `file:line` of `version`, for messages. */
  versionWhere: string;
}

/**
 * Read and validate one definition file. Throws UserInputError `bad-library-definition` (the
 * schema, or YAML that does not parse) or `bad-library-version` (a version or constraint that is
 * not dotted numbers), each naming file, line and field.
 */
export async function readLibraryFile({ file, name }: { file: string; name: string }): Promise<LibraryDefinition> {
  const shown = displayPath(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UserInputError('file-unreadable', `cannot read the library definition ${shown}: ${(error as Error).message}`, {
      cause: error,
      hint: `check that ${shown} is a readable file`,
    });
  }
  let parsed: LibraryFile;
  try {
    parsed = parseYamlText(text, librarySchema, { kind: 'library definition', path: shown });
  } catch (error) {
    throw asFileYamlError(error, 'bad-library-definition', 'version: ">=2.12"');
  }
  const at = yamlLocator(text, shown);
  checkVersion(parsed.version, at(['version']), 'version');
  const depends = (parsed.depends ?? []).map(({ name: dependency, version }, i) => {
    const request = { name: dependency, version, where: at(['depends', i]), field: formatPath(['depends', i]) };
    checkConstraint(request);
    return request;
  });
  return {
    name,
    file,
    version: parsed.version.trim(),
    sources: parsed.sources.map(({ url, sha256 }) => ({ url, sha256 })),
    depends,
    system: { apt: parsed.system?.apt ?? [], dnf: parsed.system?.dnf ?? [] },
    build: buildOf(parsed.build),
    versionWhere: at(['version']),
  };
}

/** Throws `bad-library-version` unless `text` is dotted numbers. */
function checkVersion(text: string, where: string, field: string): void {
  if (parseLibraryVersion(text) !== undefined) return;
  throw new UserInputError(
    'bad-library-version',
    `${where}: \`${field}\`: \`${text}\` is not a library version: expected ${LIBRARY_VERSION_FORM}`,
    {
      hint: 'library versions are compared number by number; write the upstream release as dotted numbers',
    },
  );
}

/** Throws `bad-library-version` unless the request's constraint (if any) is one library-version.ts reads. */
export function checkConstraint(request: LibraryRequest, asker?: string): void {
  if (request.version === undefined || parseLibraryConstraint(request.version) !== undefined) return;
  const where = request.where ?? asker ?? 'a library request';
  const field = request.field === undefined ? '' : ` \`${request.field}.version\`:`;
  throw new UserInputError(
    'bad-library-version',
    `${where}:${field} \`${request.version}\` is not a library version constraint: expected ${LIBRARY_CONSTRAINT_FORM}`,
    { hint: 'library versions are dotted numbers compared number by number: neither semver ranges (`^`, `~`) nor PEP 440 (`*`, `~=`)' },
  );
}

function buildOf(written: LibraryFile['build']): LibraryBuild {
  if (written.autotools) return { kind: 'autotools', configureArgs: written.autotools['configure-args'] ?? [] };
  if (written.cmake) return { kind: 'cmake', args: written.cmake.args ?? [] };
  if (written.meson) return { kind: 'meson', args: written.meson.args ?? [] };
  return { kind: 'script', script: written.script! };
}
