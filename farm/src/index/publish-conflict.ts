import { PublishConflictError } from '../errors.ts';

/**
 * The refusal to store other bytes under a filename the index has (installers cache wheels by
 * filename). `published` is the sha256 the index has, when known; `on` names the index in the
 * message, `object` where the stored bytes are, in the hint.
 */
export function publishConflict({
  filename,
  published,
  wanted,
  on,
  object,
}: {
  filename: string;
  published: string | undefined;
  wanted: string;
  on?: string;
  object?: string;
}): PublishConflictError {
  const has = published ? `sha256 ${published}` : 'unknown bytes (no sha256 recorded)';
  return new PublishConflictError(
    'publish-conflict',
    `${filename} is already published${on ? ` on the ${on}` : ''} with ${has}; refusing to replace it with different bytes (sha256 ${wanted})`,
    {
      hint: `Installers cache wheels by filename, so published bytes never change. Give the rebuild a new build tag (e.g. \`-1-\` after the version) so it gets a new filename.${object ? ` (The object is ${object}.)` : ''}`,
    },
  );
}
