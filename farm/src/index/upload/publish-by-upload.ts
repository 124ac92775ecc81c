import { stat } from 'node:fs/promises';
import { PublishConflictError, UserInputError, WheelfarmError } from '../../errors.ts';
import { isValidProjectName, normalizeName } from '../../wheels/names.ts';
import { parseWheelFilename } from '../../wheels/wheel-filename.ts';
import type { PublishedFile, PublishOutcome, WheelToPublish } from '../publisher.ts';
import { assertSha256, sha256OfFile } from '../stage-verified-copy.ts';
import type { LegacyUploadResult } from './legacy-upload.ts';
import type { IndexFile } from './read-simple-index.ts';

const SHA256 = /^[0-9a-f]{64}$/;

export interface UploadBackend {
  /** For messages, e.g. `pypiserver at http://127.0.0.1:8080/`. */
  shown: string;
  /** The files the index lists for a (normalized) project. */
  list(normalized: string): Promise<IndexFile[]>;
  upload(wheel: WheelToPublish & { sha256: string }): Promise<LegacyUploadResult>;
}

/**
 * The publish rule shared by the uploading publishers: a filename the index already lists is settled
 * by its sha256 (same -> `unchanged`, other -> PublishConflictError; never overwritten), anything
 * else is uploaded, and the index is read back to check it now serves these bytes.
 */
export async function publishByUpload(wheel: WheelToPublish, backend: UploadBackend): Promise<PublishOutcome> {
  const { normalized, sha256 } = await validateWheel(wheel);
  assertSha256(wheel.path, sha256, await sha256OfFile(wheel.path));
  const request = { ...wheel, sha256 };
  const existing = (await backend.list(normalized)).find((file) => file.filename === wheel.filename);
  if (existing) return settleExisting(existing, request, backend);
  const result = await backend.upload(request);
  const listed = (await backend.list(normalized)).find((file) => file.filename === wheel.filename);
  if (!listed) {
    throw new WheelfarmError('index-not-listing', `the ${backend.shown} accepted ${wheel.filename} but does not list it on its simple page`, {
      hint: 'Check that the index URL points at the index pip installs from (for devpi: /<user>/<index>).',
    });
  }
  // Someone else's upload of the same filename won the race: settle as if it had been there before.
  const outcome = settleExisting(listed, request, backend);
  return result === 'exists' ? outcome : 'published';
}

function settleExisting(existing: IndexFile, wheel: WheelToPublish & { sha256: string }, backend: UploadBackend): PublishOutcome {
  if (existing.sha256 === undefined) {
    throw new WheelfarmError('index-no-hash', `the ${backend.shown} lists ${wheel.filename} without a sha256, so it cannot tell whether it holds these bytes`, {
      hint: 'Configure the index to publish sha256 hashes in its simple pages (pypiserver: `--hash-algo sha256`).',
    });
  }
  if (existing.sha256 !== wheel.sha256) {
    throw new PublishConflictError(
      'publish-conflict',
      `${wheel.filename} is already published on the ${backend.shown} with sha256 ${existing.sha256}; refusing to replace it with different bytes (sha256 ${wheel.sha256})`,
      {
        hint: 'Installers cache wheels by filename, so published bytes never change. Give the rebuild a new build tag (e.g. `-1-` after the version) so it gets a new filename.',
      },
    );
  }
  return 'unchanged';
}

export function toPublishedFiles(files: IndexFile[], sizes: (number | undefined)[]): PublishedFile[] {
  return files.map((file, index) => ({
    filename: file.filename,
    sha256: file.sha256 ?? '',
    size: file.size ?? sizes[index] ?? 0,
    ...(file.requiresPython ? { requiresPython: file.requiresPython } : {}),
  }));
}

async function validateWheel(wheel: WheelToPublish): Promise<{ normalized: string; sha256: string }> {
  const parts = parseWheelFilename(wheel.filename);
  const normalized = normalizeProject(wheel.project);
  if (normalizeName(parts.name) !== normalized) {
    throw new UserInputError('project-mismatch', `${wheel.filename} is a wheel of \`${parts.name}\`, not of \`${wheel.project}\``, {
      hint: 'Publish each wheel under the project named in its filename.',
    });
  }
  const sha256 = String(wheel.sha256).toLowerCase();
  if (!SHA256.test(sha256)) {
    throw new UserInputError('bad-sha256', `the sha256 given for ${wheel.filename} is not 64 hex digits: \`${wheel.sha256}\``, {
      hint: 'Pass the hex digest of the wheel file.',
    });
  }
  const info = await stat(wheel.path).catch(() => undefined);
  if (!info?.isFile()) {
    throw new UserInputError('wheel-not-found', `there is no wheel file at ${wheel.path}`, {
      hint: 'Check the path; the build may not have produced the wheel.',
    });
  }
  return { normalized, sha256 };
}

export function normalizeProject(project: string): string {
  if (!isValidProjectName(project)) {
    throw new UserInputError('bad-project-name', `\`${project}\` is not a valid project name`, {
      hint: 'Project names are ASCII letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.',
    });
  }
  return normalizeName(project);
}
