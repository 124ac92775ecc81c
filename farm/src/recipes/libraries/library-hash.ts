import { createHash } from 'node:crypto';
import { canonicalJson } from '../../pipeline/build-inputs.ts';
import type { LibraryDefinition } from './library-definition.ts';

/**
 * The input hash of one library: a sha256 over what decides the bytes of its build, and nothing
 * else, so that the image layer it goes into can be tagged by it (the layer is rebuilt when, and only
 * when, the hash changes). In it: the name, the version, the sources' sha256 in order (the first that
 * downloads wins, so order can decide which bytes are built), the system packages (sorted: install
 * order does not matter), the build, and the hashes of its direct dependencies (which contain theirs).
 * Not in it: URLs (a new mirror of the same bytes builds the same), the dependencies' version
 * constraints (they choose nothing: there is one definition per name), comments, the file's path.
 *
 * `dependencyHashes` has the hash of each of `definition.depends` by name, no more and no less.
 */
export function libraryHash(definition: LibraryDefinition, dependencyHashes: Record<string, string>): string {
  const names = [...new Set(definition.depends.map((dependency) => dependency.name))].sort();
  const given = Object.keys(dependencyHashes).sort();
  if (names.join('\0') !== given.join('\0')) {
    throw new Error(`libraryHash(${definition.name}): dependency hashes for [${given.join(', ')}], its depends are [${names.join(', ')}]`);
  }
  const normalized = {
    name: definition.name,
    version: definition.version,
    sources: definition.sources.map((source) => source.sha256),
    system: { apt: sortedUnique(definition.system.apt), dnf: sortedUnique(definition.system.dnf) },
    build: definition.build,
    depends: Object.fromEntries(names.map((name) => [name, dependencyHashes[name]!])),
  };
  return createHash('sha256')
    .update(`wheelfarm-library-v1\0${canonicalJson(normalized)}`)
    .digest('hex');
}

/** The hash of each of `definitions`, given dependencies first (as resolveLibraries orders them). */
export function libraryHashes(definitions: LibraryDefinition[]): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const definition of definitions) {
    const dependencyHashes: Record<string, string> = {};
    for (const { name } of definition.depends) {
      const hash = hashes.get(name);
      if (hash === undefined) throw new Error(`libraryHashes: ${definition.name} comes before its dependency ${name}`);
      dependencyHashes[name] = hash;
    }
    hashes.set(definition.name, libraryHash(definition, dependencyHashes));
  }
  return hashes;
}

function sortedUnique(values: string[]): string[] {
  return [...new Set(values)].sort();
}
