import { stat } from 'node:fs/promises';
import { checkWheel } from '../archives/check-wheel.ts';
import { UserInputError } from '../errors.ts';
import { isValidProjectName, normalizeName } from '../wheels/names.ts';
import { parseWheelFilename } from '../wheels/wheel-filename.ts';
import type { WheelToPublish } from './publisher.ts';
import { assertSha256, sha256OfFile } from './stage-verified-copy.ts';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * What every backend checks before publishing: the filename is a wheel of the named project, the
 * sha256 is a hex digest, the file exists, and it is safe to install (archives/check-wheel.ts: no
 * member that lands outside, no zip bomb). Returns the normalized project and lower-case sha256.
 */
export async function validateWheel(wheel: WheelToPublish): Promise<{ normalized: string; sha256: string }> {
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
  const info = await stat(wheel.path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
  if (!info?.isFile()) {
    throw new UserInputError('wheel-not-found', `there is no wheel file at ${wheel.path}`, {
      hint: 'Check the path; the build may not have produced the wheel.',
    });
  }
  await checkWheel({ path: wheel.path, displayName: wheel.filename });
  return { normalized, sha256 };
}

/**
 * validateWheel, and the file's bytes hashed against its sha256 (IntegrityError when they differ):
 * before anything is stored, since published bytes are never replaced.
 */
export async function verifyWheel(wheel: WheelToPublish): Promise<{ normalized: string; sha256: string }> {
  const valid = await validateWheel(wheel);
  assertSha256(wheel.path, valid.sha256, await sha256OfFile(wheel.path));
  return valid;
}

/** A project name, checked and PEP 503 normalized. */
export function normalizeProject(project: string): string {
  if (!isValidProjectName(project)) {
    throw new UserInputError('bad-project-name', `\`${project}\` is not a valid project name`, {
      hint: 'Project names are ASCII letters, digits, `-`, `_` and `.`, starting and ending with a letter or digit.',
    });
  }
  return normalizeName(project);
}
