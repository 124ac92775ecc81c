import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { UserInputError } from '../../errors.ts';
import { displayPath } from '../display-path.ts';
import { LIBRARY_NAME } from '../recipe-schema.ts';
import { readLibraryFile } from './library-definition.ts';
import type { LibraryDefinition } from './library-definition.ts';

/** Library definitions live in this folder of the recipes folder: `recipes/libraries/<name>.yaml`. */
export const LIBRARIES_FOLDER = 'libraries';

/**
 * What is built from pinned source: native libraries (`recipes/libraries/`) and toolchains
 * (`recipes/toolchains/`, GCC), both written and checked the same way (library-schema.ts).
 */
export type DefinitionKind = 'library' | 'toolchain';

export const DEFINITION_FOLDERS: Record<DefinitionKind, string> = { library: LIBRARIES_FOLDER, toolchain: 'toolchains' };

export interface LoadedLibraries {
  /** `<recipesDir>/libraries`. */
  dir: string;
  /** The valid definitions by name. */
  libraries: Map<string, LibraryDefinition>;
  /**
   * What is wrong with the others, by the name they would be asked for (a misnamed `GEOS.yaml` under
   * `geos`), so asking for one gives its own error rather than "unknown"; a name may have several.
   */
  problems: Map<string, UserInputError[]>;
}

const EXTENSION = /\.ya?ml$/;

/**
 * Every definition in `<recipesDir>/libraries/`, each file read on its own so that one broken file
 * does not hide the others; none when the folder does not exist.
 */
export async function loadLibraries(recipesDir: string, kind: DefinitionKind = 'library'): Promise<LoadedLibraries> {
  const dir = join(recipesDir, DEFINITION_FOLDERS[kind]);
  const loaded: LoadedLibraries = { dir, libraries: new Map(), problems: new Map() };
  for (const fileName of await listLibraryFiles(dir)) {
    const file = join(dir, fileName);
    const stem = fileName.replace(EXTENSION, '');
    const problem = (name: string, error: UserInputError) => loaded.problems.set(name, [...(loaded.problems.get(name) ?? []), error]);
    if (fileName !== `${stem}.yaml` || !LIBRARY_NAME.test(stem)) {
      problem(stem.toLowerCase(), misnamedLibraryError(file, stem, dir, kind));
      continue;
    }
    try {
      loaded.libraries.set(stem, await readLibraryFile({ file, name: stem }));
    } catch (error) {
      if (!(error instanceof UserInputError)) throw error;
      problem(stem, error);
    }
  }
  return loaded;
}

async function listLibraryFiles(dir: string): Promise<string[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new UserInputError('bad-libraries-dir', `cannot read the library definitions folder ${dir}: ${(error as Error).message}`, {
      cause: error,
      hint: `make ${displayPath(dir)} a readable folder`,
    });
  }
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.') && EXTENSION.test(entry.name))
    .map((entry) => entry.name)
    .sort();
}

/** A definition file whose name is no library name (`GEOS.yaml`, `geos.yml`): saying what to rename it to. */
function misnamedLibraryError(file: string, stem: string, dir: string, kind: DefinitionKind): UserInputError {
  const fixed = stem.toLowerCase();
  const rename = LIBRARY_NAME.test(fixed) ? `: rename it to ${displayPath(join(dir, `${fixed}.yaml`))}` : '';
  return new UserInputError(
    'misnamed-library',
    `${displayPath(file)}: ${kind} definitions are named \`<name>.yaml\`, the name in lower case (letters, digits, \`.\`, \`_\`, \`+\`, \`-\`)${rename}`,
    { hint: 'recipes ask for a library by its file name: `build: { libraries: [{ name: geos }] }` reads recipes/libraries/geos.yaml' },
  );
}
