// A real S3 index that fails on cue, for the index-down trials: a bucket anyone may read on a real
// S3 server (moto, started with test/servers/s3/s3-test-server.ts), behind the fault proxy of the
// tests (test/support/fault-proxy.ts). Farm runs publish through the proxy; the checks and the
// seeding go straight to the server.
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { createIndexBucket, makeS3Client } from '../../src/index/s3/s3-bucket-admin.ts';
import { S3Publisher } from '../../src/index/s3/s3-publisher.ts';
import { FaultProxy } from '../../../test/support/fault-proxy.ts';
import type { TrialIndex } from './check-index.ts';
import { checkS3Index } from './check-s3-index.ts';

const REGION = 'us-east-1';
/**
 * How hard the farm tries each request, through the index URL (the only knobs it has; the back-off,
 * 0.5 s doubling, is fixed): enough tries to ride out the transient faults the trials play (two in a
 * row at most), and a timeout short enough that a hang costs seconds, not the default 30.
 */
const RETRY = 'tries=4&timeout=3s';

export class FaultyS3 {
  readonly proxy: FaultProxy;
  readonly bucket: string;
  readonly #client: S3Client;
  readonly #endpoint: string;

  private constructor(endpoint: string, client: S3Client, bucket: string, proxy: FaultProxy) {
    this.#endpoint = endpoint;
    this.#client = client;
    this.bucket = bucket;
    this.proxy = proxy;
  }

  /**
   * On the S3 server at `endpoint` (credentials from the AWS environment): a bucket of its own
   * (public-read; a random name, as the server may be a shared one) and a proxy in front.
   */
  static async open(endpoint: string): Promise<FaultyS3> {
    const client = makeS3Client({ endpoint, region: REGION });
    const bucket = `wheelfarm-faults-${randomBytes(4).toString('hex')}`;
    await createIndexBucket(client, bucket, { publicRead: true });
    return new FaultyS3(endpoint, client, bucket, await FaultProxy.start(endpoint));
  }

  /** The index under `prefix`: published to through the proxy, checked in mirrors under `dir`. */
  index(prefix: string, dir: string): TrialIndex {
    const location = { client: this.#client, endpoint: this.#endpoint, bucket: this.bucket, prefix };
    return {
      target: `s3://${this.bucket}/${prefix}?endpoint=${this.proxy.url}&region=${REGION}&${RETRY}`,
      url: `${this.#endpoint}/${this.bucket}/${prefix}/simple/`,
      publisher: new S3Publisher({ bucket: this.bucket, prefix, endpoint: this.#endpoint, region: REGION }),
      check: () => checkS3Index(location, dir),
    };
  }

  /** Forwards everything again, accepting connections: the end of every trial's faults. */
  async heal(): Promise<void> {
    this.proxy.clear();
    await this.proxy.acceptConnections();
  }

  async close(): Promise<void> {
    await this.proxy.close();
  }
}
