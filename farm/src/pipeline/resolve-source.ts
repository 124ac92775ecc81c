import { basename, join } from 'node:path';
import { eq } from '@renovatebot/pep440';
import { checkSdist } from '../archives/check-sdist.ts';
import { UserInputError } from '../errors.ts';
import type { Recipe } from '../recipes/recipe.ts';
import { fetchGitSource } from '../upstream/git-source.ts';
import { redactUrl } from '../upstream/redact-url.ts';
import { selectSdist } from '../upstream/select-sdist.ts';
import type { SelectedSdist } from '../upstream/select-sdist.ts';
import { fetchProjectFiles } from '../upstream/simple-api-client.ts';
import { parseSdistFilename } from '../wheels/wheel-filename.ts';
import type { ContentCache } from '../upstream/content-cache.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';
import type { EmitEvent } from './events.ts';
import type { PackageSpec } from './parse-package-spec.ts';

/** What resolving a source needs: the upstream index, events, the run's abort signal. */
export interface ResolveDeps {
  upstream: Pick<UpstreamForContainers, 'index'>;
  emit: EmitEvent;
  signal: AbortSignal;
}

/** What fetching an sdist needs: the farm's home (git checkouts), the sdist cache, events, the abort signal. */
export interface FetchDeps {
  home: string;
  sdists: ContentCache;
  emit: EmitEvent;
  signal: AbortSignal;
}

/** What resolve found: enough to name every cell before anything is fetched. */
export interface ResolvedSource {
  name: string;
  version: string;
  filename: string;
  requiresPython?: string;
  /** The sdist's size in bytes, when the index says: a first guess at how long a build takes. */
  size?: number;
  origin: { kind: 'download'; url: string; sha256: string } | { kind: 'git'; url: string; commit: string };
  /** For people: the index, URL or repository it comes from (credentials redacted). */
  from: string;
}

/**
 * resolve: where the sdist comes from. By default the upstream index's PEP 691 page; a recipe
 * may name a URL (with its sha256) or a git commit instead.
 */
export async function resolveSource(deps: ResolveDeps, spec: PackageSpec, recipe: Recipe): Promise<ResolvedSource> {
  const resolved = await resolveByKind(deps, spec, recipe);
  if (spec.version !== undefined && !eq(spec.version, resolved.version)) {
    throw new UserInputError(
      'version-not-in-recipe',
      `${recipe.file} builds ${resolved.name} ${resolved.version} from its ${recipe.source.kind} source, not ${spec.version}`,
      {
        hint: `build without a version, or change the source in ${recipe.file}`,
      },
    );
  }
  deps.emit({ type: 'resolved', project: resolved.name, version: resolved.version, sdist: resolved.filename, upstream: resolved.from });
  return resolved;
}

async function resolveByKind(deps: ResolveDeps, spec: PackageSpec, recipe: Recipe): Promise<ResolvedSource> {
  const own = recipeOwnSource(spec.name, recipe);
  if (own) return own;
  const upstream = await deps.upstream.index();
  const project = await fetchProjectFiles({ indexUrl: upstream.url, project: spec.name, signal: deps.signal });
  const sdist = selectSdist({
    project: project.name,
    files: project.files,
    ...(spec.version ? { version: spec.version } : {}),
    ...(recipe.versions ? { specifier: recipe.versions } : {}),
  });
  return indexSource(sdist, upstream.url);
}

/** An sdist chosen on the upstream index as a source to build. */
export function indexSource(sdist: SelectedSdist, indexUrl: string): ResolvedSource {
  return {
    name: sdist.name,
    version: sdist.version,
    filename: sdist.filename,
    ...(sdist.requiresPython ? { requiresPython: sdist.requiresPython } : {}),
    ...(sdist.size !== undefined ? { size: sdist.size } : {}),
    origin: { kind: 'download', url: sdist.url, sha256: sdist.sha256 },
    from: redactUrl(indexUrl),
  };
}

/**
 * The sdist of a recipe with its own source (a URL with its sha256, or a git commit), which needs
 * no index; undefined for the usual index source.
 */
export function recipeOwnSource(name: string, recipe: Recipe): ResolvedSource | undefined {
  const { source } = recipe;
  if (source.kind === 'url') {
    const filename = basename(new URL(source.url).pathname);
    const { version } = parseSdistFilename(filename, name);
    return { name, version, filename, origin: { kind: 'download', url: source.url, sha256: source.sha256 }, from: redactUrl(source.url) };
  }
  if (source.kind === 'git') {
    return {
      name,
      version: source.version,
      filename: `${name}-${source.version}.tar.gz`,
      origin: { kind: 'git', url: source.url, commit: source.commit },
      from: `${redactUrl(source.url)}@${source.commit.slice(0, 12)}`,
    };
  }
  return undefined;
}

/**
 * fetch: the sdist into the content-addressed cache (a second build never downloads again), then
 * checked on the host as a hostile archive before any container sees it (a cached one too: the
 * limits or the checks may have changed since it was fetched).
 */
export async function fetchSource(deps: FetchDeps, source: ResolvedSource): Promise<{ path: string; filename: string }> {
  const { origin } = source;
  const result =
    origin.kind === 'git'
      ? await fetchGitSource({
          root: join(deps.home, 'cache', 'git'),
          url: origin.url,
          commit: origin.commit,
          name: source.name,
          version: source.version,
          signal: deps.signal,
        })
      : {
          ...(await deps.sdists.fetchVerified({
            urls: [origin.url],
            sha256: origin.sha256,
            filename: source.filename,
            signal: deps.signal,
          })),
          filename: source.filename,
        };
  await checkSdist({ path: result.path, displayName: result.filename, signal: deps.signal });
  deps.emit({ type: 'fetched', sdist: result.filename, cached: !result.downloaded, path: result.path });
  return { path: result.path, filename: result.filename };
}
