/** The upstream room: where sources come from (the package index) and how their bytes are fetched and verified. */
export { discoverUpstreamIndex, redactUrl } from './upstream-index.ts';
export type { DiscoverUpstreamIndexOptions, UpstreamIndex, UpstreamIndexSource } from './upstream-index.ts';
export { fetchProjectFiles, SIMPLE_JSON_V1 } from './simple-api-client.ts';
export type { FetchProjectFilesOptions, ProjectFiles, UpstreamFile } from './simple-api-client.ts';
export { selectSdist } from './select-sdist.ts';
export type { SelectedSdist, SelectSdistOptions } from './select-sdist.ts';
export { ContentCache } from './content-cache.ts';
export type { ContentCacheOptions, DownloadProgress, FetchVerifiedOptions, FetchVerifiedResult } from './content-cache.ts';
