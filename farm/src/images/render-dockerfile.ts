import type { ImageDefinitions, PythonSource } from './image-definitions.ts';
import { effectivePolicy, pythonDir, pythonTag } from './image-definitions.ts';
import { renderTemplate } from './render-template.ts';

/** The file name a pinned CPython source has inside the build context (`sources/<name>`). */
export function sourceFileName(source: PythonSource): string {
  const url = source.urls[0]!;
  const extension = /\.(tar\.xz|tar\.gz|tgz|tar\.bz2)$/.exec(url)?.[1] ?? 'tar.gz';
  return `Python-${source.version}.${extension}`;
}

/**
 * Render the Dockerfile template: `{{key}}` placeholders and `# @each python` ... `# @end` blocks
 * repeated once per CPython. Pure, so the rendered text can be hashed and unit-tested.
 */
export function renderDockerfile(template: string, definitions: ImageDefinitions): string {
  const pythons = [...definitions.pythons].sort((a, b) => compareVersions(a.version, b.version));
  const newest = pythons.at(-1)!;
  const values: Record<string, string> = {
    policy: effectivePolicy(definitions),
    'user.name': definitions.user.name,
    'user.uid': String(definitions.user.uid),
    'user.gid': String(definitions.user.gid),
    'newest.dir': pythonDir(newest),
    ...Object.fromEntries(Object.entries(definitions.tools).map(([k, v]) => [`tools.${k}`, v])),
  };
  return renderTemplate(template, { values, lists: { python: pythons.map(pythonVariables) } });
}

function pythonVariables(source: PythonSource): Record<string, string> {
  return { tag: pythonTag(source), dir: pythonDir(source), version: source.version, source: sourceFileName(source) };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const diff = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

export { findUnfilledPlaceholders } from './render-template.ts';
