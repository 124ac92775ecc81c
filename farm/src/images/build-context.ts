import type { Readable } from 'node:stream';
import type { FileToCopy } from '../runtime/container-runtime.ts';
import { packFiles } from '../runtime/tar-streams.ts';

/**
 * The tar stream sent to the engine as the build context: the rendered Dockerfile, the scripts
 * beside the template, the pinned sources (streamed from the cache) and the host's CA bundle
 * (an empty file when there is none; the Dockerfile checks).
 */
export function packBuildContext({
  dockerfile,
  scripts,
  sources,
  hostCaPath,
}: {
  dockerfile: string;
  scripts: Record<string, string>;
  sources: { name: string; path: string }[];
  hostCaPath: string | undefined;
}): Readable {
  const files: FileToCopy[] = [
    { name: 'Dockerfile', source: { content: dockerfile } },
    ...Object.entries(scripts).map(([name, content]) => ({ name, source: { content }, mode: 0o755 })),
    ...sources.map(({ name, path }) => ({ name: `sources/${name}`, source: { path } })),
    { name: 'host-ca.crt', source: hostCaPath ? { path: hostCaPath } : { content: '' } },
  ];
  return packFiles(files);
}
