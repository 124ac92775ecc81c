import type { FarmContext } from '../farm-context.ts';
import { redactUrl } from '../upstream/redact-url.ts';
import { selectSdist } from '../upstream/select-sdist.ts';
import type { SelectedSdist } from '../upstream/select-sdist.ts';
import { fetchProjectFiles } from '../upstream/simple-api-client.ts';
import type { PackageSpec } from './parse-package-spec.ts';

/** resolve: the upstream index's PEP 691 page -> the sdist to build (URL, sha256, requires-python). */
export async function resolveSource(context: FarmContext, spec: PackageSpec): Promise<SelectedSdist> {
  const upstream = await context.upstreamIndex();
  const project = await fetchProjectFiles({ indexUrl: upstream.url, project: spec.name, signal: context.signal });
  const sdist = selectSdist({ project: project.name, files: project.files, ...(spec.version ? { version: spec.version } : {}) });
  context.emit({ type: 'resolved', project: sdist.name, version: sdist.version, sdist: sdist.filename, upstream: redactUrl(upstream.url) });
  return sdist;
}

/** fetch: the sdist into the content-addressed cache (a second build never downloads again). */
export async function fetchSource(context: FarmContext, sdist: SelectedSdist): Promise<string> {
  const result = await context.sdistCache.fetchVerified({
    urls: [sdist.url],
    sha256: sdist.sha256,
    filename: sdist.filename,
    signal: context.signal,
  });
  context.emit({ type: 'fetched', sdist: sdist.filename, cached: !result.downloaded, path: result.path });
  return result.path;
}
