import { CreateBucketCommand, DeleteObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { convertS3Error } from './s3-errors.ts';

/**
 * Bucket set-up for an S3 index (and for the tests): create the bucket and let anyone GET its objects,
 * which is what an index pip reads over plain HTTP needs; and the client every S3 user makes.
 */
export interface S3AdminOptions {
  endpoint?: string;
  region?: string;
}

/** A client for `endpoint` (path-style addressing) or AWS; `config` adds to or overrides what it sets. */
export function makeS3Client(options: S3AdminOptions, config: S3ClientConfig = {}): S3Client {
  const endpoint = options.endpoint?.replace(/\/+$/, '');
  return new S3Client({
    ...(endpoint ? { endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
    ...(options.region
      ? { region: options.region }
      : endpoint
        ? { region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1' }
        : {}),
    ...config,
  });
}

/** Creates `bucket` (if it is not ours already) and, with `publicRead`, allows anonymous `s3:GetObject`. */
export async function createIndexBucket(client: S3Client, bucket: string, options: { publicRead?: boolean } = {}): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    if ((error as { name?: string }).name !== 'BucketAlreadyOwnedByYou') throw convertS3Error(error, `CREATE BUCKET ${bucket}`);
  }
  if (!options.publicRead) return;
  const policy = {
    Version: '2012-10-17',
    Statement: [{ Sid: 'PublicReadForPip', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
  };
  try {
    await client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) }));
  } catch (error) {
    throw convertS3Error(error, `PUT POLICY ${bucket}`);
  }
}

/** Every key under `prefix` with its ETag. */
export async function listKeys(client: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await client
      .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }))
      .catch((error: unknown) => {
        throw convertS3Error(error, `LIST s3://${bucket}/${prefix}`);
      });
    for (const object of page.Contents ?? []) found.set(object.Key ?? '', object.ETag ?? '');
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** Deletes keys one by one (test set-up and clean-up). */
export async function deleteKeys(client: S3Client, bucket: string, keys: string[]): Promise<void> {
  for (const key of keys) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
