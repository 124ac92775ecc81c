import type { S3Client } from '@aws-sdk/client-s3';
import { UserInputError } from '../../errors.ts';
import { S3Storage } from '../storage/s3-storage.ts';
import type { S3StorageOptions } from '../storage/s3-storage.ts';
import { StoredIndex } from '../stored-index.ts';

export type S3PublisherOptions = S3StorageOptions;

/**
 * A PEP 503/691 index in an S3 bucket (index-layout.ts), served by plain HTTP (bucket website,
 * CloudFront, MinIO...): pages are also stored at their directory keys (`simple/<project>/`). No locks:
 * see S3Storage for the conditional requests the publish protocol rests on.
 */
export class S3Publisher extends StoredIndex {
  /** What to pass to pip's `--index-url` when the bucket is readable over plain HTTP; undefined if unknown. */
  readonly indexUrl: string | undefined;

  constructor(options: S3PublisherOptions) {
    const storage = new S3Storage(options);
    const indexUrl = storage.httpUrl('simple/');
    const on = storage.endpoint ? ` on ${storage.endpoint}` : '';
    super({ storage, description: `S3 index at ${storage.where}${on}${indexUrl ? ` (pip install --index-url ${indexUrl})` : ''}` });
    this.indexUrl = indexUrl;
  }

  /** From `s3://bucket/prefix?endpoint=http://host:port&region=eu-west-1`. */
  static fromUrl(url: string, extra: { client?: S3Client } = {}): S3Publisher {
    return new S3Publisher({ ...parseS3IndexUrl(url), ...extra });
  }
}

/** `s3://bucket/some/prefix?endpoint=http://127.0.0.1:9000&region=us-east-1` as constructor options. */
export function parseS3IndexUrl(url: string): S3PublisherOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    parsed = new URL('invalid:');
  }
  if (parsed.protocol !== 's3:' || !parsed.hostname) {
    throw new UserInputError('bad-s3-url', `\`${url}\` is not an S3 index URL`, {
      hint: 'Write it as s3://bucket/prefix, optionally with ?endpoint=http://host:port for MinIO and the like, and &region=...',
    });
  }
  const options: S3PublisherOptions = { bucket: parsed.hostname, prefix: decodeURIComponent(parsed.pathname).replace(/^\/+|\/+$/g, '') };
  const endpoint = parsed.searchParams.get('endpoint');
  const region = parsed.searchParams.get('region');
  if (endpoint) options.endpoint = endpoint;
  if (region) options.region = region;
  return options;
}
