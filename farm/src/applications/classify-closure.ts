import { eq } from '@renovatebot/pep440';
import { IntegrityError, UserInputError } from '../errors.ts';
import type { ResolvedSource } from '../pipeline/resolve-source.ts';
import { indexSource, recipeOwnSource } from '../pipeline/resolve-source.ts';
import { displayPath } from '../recipes/display-path.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { selectSdist } from '../upstream/select-sdist.ts';
import type { UpstreamFile } from '../upstream/simple-api-client.ts';
import { pythonTagFromVersion } from '../wheels/build-id.ts';
import { isPureWheel } from '../wheels/platform-tags.ts';
import { wheelServesPython } from '../wheels/python-tags.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';
import type { Closure, ClosureDist } from './closure.ts';
import { pythonsOf } from './closure.ts';
import { lineLabel } from './pip-errors.ts';
import type { UpstreamProjects } from './upstream-projects.ts';

/** `mirror`: the upstream's pure wheel, copied byte for byte; `build`: a cell per Python from the sdist. */
export type ClosureEntry =
  | { kind: 'mirror'; dist: ClosureDist; pythons: string[]; file: UpstreamFile; reason: string }
  | { kind: 'build'; dist: ClosureDist; pythons: string[]; source: ResolvedSource; recipe: Recipe; reason: string };

export interface ClassifyDeps {
  projects: UpstreamProjects;
  recipe: (name: string) => Promise<Recipe>;
  /** `closure.pure`: `build` takes nothing prebuilt, pure wheels included. */
  pure: 'mirror' | 'build';
}

/**
 * What the farm does with each distribution of a closure: built from its sdist when it has native
 * code (no pure `py3-none-any` wheel upstream for every Python that needs it), when a recipe says so
 * (a recipe file, or one giving its own source), or when `closure.pure` is `build`; mirrored
 * otherwise. The file taken is checked against the application's `--hash` or lock hashes here, before
 * anything is fetched.
 */
export async function classifyClosure(deps: ClassifyDeps, closure: Closure): Promise<ClosureEntry[]> {
  return Promise.all(closure.dists.map((dist) => classifyDist(deps, dist, pythonsOf(dist, closure))));
}

async function classifyDist(deps: ClassifyDeps, dist: ClosureDist, pythons: string[]): Promise<ClosureEntry> {
  const recipe = await deps.recipe(dist.normalized);
  const own = recipeOwnSource(dist.normalized, recipe);
  if (own) {
    if (!eq(own.version, dist.version)) {
      throw new UserInputError(
        'version-not-in-recipe',
        `the closure needs ${dist.name} ${dist.version}, but ${recipe.file} builds ${own.version} from its ${recipe.source.kind} source`,
        {
          hint: `pin ${dist.name}==${own.version} in the application, or change the source in ${recipe.file}`,
        },
      );
    }
    return { kind: 'build', dist, pythons, source: own, recipe, reason: `its recipe gives its source (${displayPath(recipe.file!)})` };
  }
  const { url } = await deps.projects.upstream();
  const page = await deps.projects.files(dist.normalized);
  const files = page.files.filter((f) => fileVersionIs(f.filename, dist));
  const pure = files.find((f) => servesAll(f.filename, pythons));
  if (pure && recipe.file === undefined && deps.pure === 'mirror') {
    checkHash(dist, pure);
    return { kind: 'mirror', dist, pythons, file: pure, reason: 'a pure wheel upstream' };
  }
  const reason =
    recipe.file !== undefined
      ? `a recipe builds it (${displayPath(recipe.file)})`
      : pure
        ? 'closure.pure: build'
        : 'no pure wheel upstream: native code, or only an sdist';
  const sdist = selectSdistOrExplain(page.name, page.files, dist, reason);
  checkHash(dist, { filename: sdist.filename, sha256: sdist.sha256 });
  return { kind: 'build', dist, pythons, source: indexSource(sdist, url), recipe, reason };
}

function selectSdistOrExplain(project: string, files: readonly UpstreamFile[], dist: ClosureDist, reason: string) {
  try {
    return selectSdist({ project, files, version: dist.version });
  } catch (error) {
    if (!(error instanceof UserInputError)) throw error;
    throw new UserInputError(
      'no-sdist-to-build',
      `${dist.name} ${dist.version} must be built (${reason}), but the upstream has no sdist of it`,
      {
        hint: 'give it a recipe with its own source (`source: {url, sha256}` or a git commit), or pin a version that has an sdist',
      },
    );
  }
}

function fileVersionIs(filename: string, dist: ClosureDist): boolean {
  if (!filename.endsWith('.whl')) return false;
  try {
    return eq(parseWheelFilename(filename).version, dist.version);
  } catch {
    return false;
  }
}

function servesAll(filename: string, pythons: string[]): boolean {
  const parts = parseWheelFilename(filename);
  return isPureWheel(parts) && parts.abiTags.includes('none') && pythons.every((p) => wheelServesPython(parts, pythonTagFromVersion(p)));
}

/** The file the farm takes must be one the application allows: a `--hash` line's, or the lock's entry with the same bytes. */
function checkHash(dist: ClosureDist, file: { filename: string; sha256?: string | undefined }): void {
  const upstream = file.sha256?.toLowerCase();
  if (dist.locked) {
    const locked = [...dist.locked.wheels, ...(dist.locked.sdist ? [dist.locked.sdist] : [])].find((f) => f.filename === file.filename);
    if (!locked) {
      throw new UserInputError(
        'lock-file-missing',
        `the lock's entry for ${dist.name} ${dist.version} (line ${dist.locked.line}) does not list ${file.filename}, the file the farm takes`,
        {
          hint: 'the farm mirrors the pure wheel or builds from the sdist: lock with both listed (uv and pip lock every file of a release by default)',
        },
      );
    }
    if (upstream !== undefined && locked.sha256 !== upstream)
      throw hashMismatch(dist, file.filename, upstream, [locked.sha256], `the lock (line ${dist.locked.line})`);
    return;
  }
  if (dist.hashes.length === 0) return;
  if (upstream === undefined || !dist.hashes.includes(upstream)) {
    const where = dist.lines
      .filter((l) => l.hashes.length > 0)
      .map(lineLabel)
      .join('; ');
    throw hashMismatch(dist, file.filename, upstream ?? '(none given upstream)', dist.hashes, where);
  }
}

function hashMismatch(dist: ClosureDist, filename: string, upstream: string, allowed: string[], where: string): IntegrityError {
  return new IntegrityError(
    'hash-mismatch',
    `${filename} (${dist.name} ${dist.version}) has sha256 ${upstream} upstream, which ${where} does not allow (${allowed.map((h) => h.slice(0, 12)).join(', ')}…)`,
    {
      hint: 'regenerate the hashes (pip-compile --generate-hashes, uv pip compile --generate-hashes) from the index you trust; a changed file upstream can mean tampering',
    },
  );
}
