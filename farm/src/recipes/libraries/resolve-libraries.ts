import { join } from 'node:path';
import { UserInputError } from '../../errors.ts';
import { displayPath } from '../display-path.ts';
import { checkConstraint } from './library-definition.ts';
import type { LibraryDefinition, LibraryRequest } from './library-definition.ts';
import { parseLibraryConstraint, parseLibraryVersion, satisfiesLibraryConstraint } from './library-version.ts';
import { loadLibraries } from './load-libraries.ts';
import type { DefinitionKind, LoadedLibraries } from './load-libraries.ts';

/**
 * The definitions `wanted` needs, each once, dependencies before what depends on them (the order to
 * build their layers in), every request checked on the way. `where` names who asks
 * (`recipes/numpy.yaml`) for requests that carry no `where` of their own.
 *
 * Throws UserInputError: `unknown-library` (no such definition: the message names who asked and the
 * definitions there are), `library-version-unsatisfied` (the definition's version does not satisfy
 * the constraint), `library-cycle` (definitions that depend on each other: `a -> b -> a`),
 * `bad-library-version` (a constraint that is not one), or the problem of a definition file that is
 * needed and broken (`bad-library-definition`, `misnamed-library`, ...).
 */
export async function resolveLibraries(
  recipesDir: string,
  wanted: LibraryRequest[],
  where: string,
  kind: DefinitionKind = 'library',
): Promise<LibraryDefinition[]> {
  if (wanted.length === 0) return [];
  const loaded = await loadLibraries(recipesDir, kind);
  const order: LibraryDefinition[] = [];
  const done = new Set<string>();
  const visit = (request: LibraryRequest, asker: string, trail: LibraryDefinition[]): void => {
    checkConstraint(request, asker);
    const definition = lookUp(loaded, request, asker, kind);
    checkSatisfied(request, definition, asker);
    const loopStart = trail.findIndex((on) => on.name === definition.name);
    if (loopStart >= 0) throw cycleError(trail.slice(loopStart), definition);
    if (done.has(definition.name)) return;
    for (const dependency of definition.depends) visit(dependency, displayPath(definition.file), [...trail, definition]);
    done.add(definition.name);
    order.push(definition);
  };
  for (const request of wanted) visit(request, where, []);
  return order;
}

/** The definition asked for; its own error when its file is broken; else `unknown-library`. */
function lookUp(loaded: LoadedLibraries, request: LibraryRequest, asker: string, kind: DefinitionKind): LibraryDefinition {
  const definition = loaded.libraries.get(request.name);
  if (definition) return definition;
  const problem = loaded.problems.get(request.name)?.[0];
  if (problem) throw problem;
  const names = [...loaded.libraries.keys(), ...loaded.problems.keys()].sort();
  const dir = displayPath(loaded.dir);
  const there = names.length === 0 ? `there are none in ${dir}` : `${dir} defines ${names.join(', ')}`;
  throw new UserInputError(
    kind === 'library' ? 'unknown-library' : 'unknown-toolchain',
    `${request.where ?? asker} asks for ${kind} \`${request.name}\`, which has no definition: no ${displayPath(join(loaded.dir, `${request.name}.yaml`))} (${there})`,
    {
      hint: `name one of the definitions, or write ${displayPath(join(loaded.dir, `${request.name}.yaml`))}: its version, sources with sha256 and how to build it`,
    },
  );
}

function checkSatisfied(request: LibraryRequest, definition: LibraryDefinition, asker: string): void {
  if (request.version === undefined) return;
  const version = parseLibraryVersion(definition.version)!;
  if (satisfiesLibraryConstraint(version, parseLibraryConstraint(request.version)!)) return;
  throw new UserInputError(
    'library-version-unsatisfied',
    `${request.where ?? asker} asks for ${request.name} ${request.version}, ${definition.versionWhere} has ${definition.version}`,
    {
      hint: `update ${displayPath(definition.file)} to a version that satisfies ${request.version} (its sources and their sha256 with it), or change the constraint`,
    },
  );
}

/** `loop` starts at the definition met again: a -> b -> (a again). */
function cycleError(loop: LibraryDefinition[], again: LibraryDefinition): UserInputError {
  const names = [...loop, again].map((definition) => definition.name).join(' -> ');
  const edges = loop.map((definition, i) => {
    const next = loop[i + 1] ?? again;
    return definition.depends.find((dependency) => dependency.name === next.name)?.where ?? displayPath(definition.file);
  });
  return new UserInputError('library-cycle', `library definitions depend on each other in a loop: ${names} (${edges.join(', ')})`, {
    hint: 'a library cannot be built before itself: remove one of these `depends` entries',
  });
}
