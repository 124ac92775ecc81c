import { compare, valid } from '@renovatebot/pep440';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';

/** PEP 691 JSON, API version 1.1 (PEP 700: `versions`, `size`, `upload-time`). */
export const SIMPLE_JSON_TYPE = 'application/vnd.pypi.simple.v1+json';

export interface SimpleJsonFile {
  filename: string;
  /** Relative to the project page, like the HTML page's links. */
  url: string;
  sha256: string;
  size: number;
  requiresPython?: string;
  yanked?: string | boolean;
  coreMetadataSha256?: string;
  /** ISO 8601, UTC. */
  uploadTime?: string;
}

/** One project's PEP 691 page. Pure; files and versions sorted so it renders the same every time. */
export function renderProjectJson(project: { name: string; files: SimpleJsonFile[] }): string {
  const files = [...project.files].sort((a, b) => (a.filename < b.filename ? -1 : a.filename > b.filename ? 1 : 0));
  const versions = [...new Set(files.map((f) => versionOf(f.filename)).filter((v): v is string => v !== undefined))].sort(compare);
  return `${JSON.stringify({
    meta: { 'api-version': '1.1' },
    name: project.name,
    versions,
    files: files.map((file) => ({
      filename: file.filename,
      url: file.url,
      hashes: { sha256: file.sha256 },
      ...(file.requiresPython ? { 'requires-python': file.requiresPython } : {}),
      'core-metadata': file.coreMetadataSha256 ? { sha256: file.coreMetadataSha256 } : false,
      size: file.size,
      ...(file.uploadTime ? { 'upload-time': file.uploadTime } : {}),
      yanked: file.yanked ?? false,
    })),
  })}\n`;
}

/** The PEP 691 root: every project by name. */
export function renderRootJson(projects: { name: string }[]): string {
  const sorted = [...projects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return `${JSON.stringify({ meta: { 'api-version': '1.1' }, projects: sorted.map(({ name }) => ({ name })) })}\n`;
}

function versionOf(filename: string): string | undefined {
  try {
    const version = parseWheelFilename(filename).version;
    return valid(version) ?? undefined;
  } catch {
    return undefined;
  }
}
