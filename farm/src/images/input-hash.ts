import { createHash } from 'node:crypto';

/**
 * The hash that tags an image: a digest of everything that decides its contents, and nothing
 * else (not the host's CA bundle, not proxy settings, not mirror URLs). Inputs are sorted by name
 * so the order they were collected in does not matter.
 */
export interface ImageInputs {
  kind: string;
  /** Named text inputs: rendered Dockerfile, scripts, the parent image's hash... */
  texts: Record<string, string>;
  /** Named content digests of large inputs (source tarballs), hashed by value, not read again. */
  digests?: Record<string, string>;
}

export function hashImageInputs(inputs: ImageInputs): string {
  const hash = createHash('sha256');
  hash.update(`wheelfarm-image-v1\0${inputs.kind}\0`);
  for (const [name, text] of Object.entries(inputs.texts).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`text\0${name}\0${text.length}\0${text}\0`);
  }
  for (const [name, digest] of Object.entries(inputs.digests ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    hash.update(`digest\0${name}\0${digest}\0`);
  }
  return hash.digest('hex');
}

/** Image tags use the first 16 hex digits: short enough to read, long enough never to collide here. */
export function shortHash(hash: string): string {
  return hash.slice(0, 16);
}
