import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createIndexBucket, makeS3Client } from '../../../farm/src/index/s3/s3-bucket-admin.ts';
import { S3Storage } from '../../../farm/src/index/storage/s3-storage.ts';
import { describeNeeding } from '../../support/needs.ts';
import { storedIndexContract } from '../../support/stored-index-contract.ts';
import { startS3TestServer } from './s3-test-server.ts';

/** The publish protocol's contract (test/support/stored-index-contract.ts) on S3: moto started here, or WHEELFARM_TEST_S3_ENDPOINT. */
const server = await startS3TestServer();
const { endpoint, external, missing } = server;

const bucket = process.env.WHEELFARM_TEST_S3_BUCKET ?? `wheelfarm-protocol-${randomBytes(4).toString('hex')}`;
let work: string;

beforeAll(async () => {
  if (missing) return;
  if (!process.env.WHEELFARM_TEST_S3_BUCKET) await createIndexBucket(makeS3Client({ endpoint }), bucket);
  work = mkdtempSync(join(tmpdir(), 'wheelfarm-stored-index-s3-'));
}, 60_000);

afterAll(async () => {
  if (work) rmSync(work, { recursive: true, force: true });
  await server.stop();
});

describeNeeding(missing, `the publish protocol on S3 (${external ? endpoint : 'moto'})`, () => {
  storedIndexContract({
    work: () => work,
    storage: () => new S3Storage({ bucket, prefix: `idx-${randomBytes(4).toString('hex')}`, endpoint }),
  });
});
