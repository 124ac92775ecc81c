import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import { UserInputError } from '../../errors.ts';
import { resolveIndexRetryPolicy, retryIndexRequest } from '../retry-policy.ts';
import type { IndexRetryPolicy } from '../retry-policy.ts';
import { makeS3Client } from '../s3/s3-bucket-admin.ts';
import { convertS3Error, ObjectMissing, PreconditionFailed, WriteContention } from '../s3/s3-errors.ts';
import { backoff, contentionError, MAX_ROUNDS } from './contention.ts';
import type { IndexStorage, ObjectVersion, PutBody, Serving, StoredBytes } from './index-storage.ts';

export interface S3StorageOptions {
  bucket: string;
  /** Key prefix the index lives under, e.g. `wheels` (no leading or trailing `/` needed); '' for the bucket root. */
  prefix?: string;
  /** An S3-compatible endpoint (MinIO, moto, Ceph...), e.g. `http://127.0.0.1:9000`; path-style addressing is used then. */
  endpoint?: string;
  region?: string;
  /**
   * A ready client (custom credentials); `endpoint` and `region` are then ignored for requests, and so
   * is `retry.timeoutMs`. Give it `maxAttempts: 1`: the storage retries by itself.
   */
  client?: S3Client;
  /** Tries, back-off and timeout of each request (see DEFAULT_INDEX_RETRY_POLICY). */
  retry?: Partial<IndexRetryPolicy> | undefined;
}

type PutInput = Omit<PutObjectCommandInput, 'Bucket' | 'Key'>;

/** The SDK's middleware logs (we report through errors). */
const SILENT_SDK_LOGGER = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/**
 * An index in an S3 bucket (under a prefix): put-if-absent is `If-None-Match: *`, put-if-match and a
 * conditional delete are `If-Match` on the ETag, and each object's sha256 is recorded in its metadata
 * (`x-amz-meta-sha256`) so an unchanged page is known without reading it. Every request is tried as
 * the retry policy says, and every SDK error is converted here (s3-errors.ts): nothing vendor-specific
 * leaves this file.
 */
export class S3Storage implements IndexStorage {
  readonly where: string;
  readonly servesDirectoryIndex = false;
  /** The endpoint given, if any (undefined: AWS S3). */
  readonly endpoint: string | undefined;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #retry: IndexRetryPolicy;

  constructor(options: S3StorageOptions) {
    if (typeof options?.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new UserInputError('bad-s3-bucket', `\`${String(options?.bucket)}\` is not a valid S3 bucket name`, {
        hint: 'Bucket names are 3-63 lower-case letters, digits, `.` and `-`, e.g. `s3://my-wheels/prefix`.',
      });
    }
    this.#bucket = options.bucket;
    this.#prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.#retry = resolveIndexRetryPolicy(options.retry);
    this.endpoint = options.endpoint?.replace(/\/+$/, '');
    this.where = `s3://${this.#bucket}/${this.#prefix}`;
    this.#client =
      options.client ??
      makeS3Client(
        { ...(this.endpoint ? { endpoint: this.endpoint } : {}), ...(options.region ? { region: options.region } : {}) },
        {
          // Retries are ours (#send): the SDK never retries a streamed body such as a wheel's, and one
          // policy for every request keeps the tries countable and the final error clear.
          maxAttempts: 1,
          // Both are inactivity limits, so a slow but moving upload of a large wheel is never cut.
          requestHandler: { connectionTimeout: this.#retry.timeoutMs, socketTimeout: this.#retry.timeoutMs },
          // Its one message that reaches us ("non-retryable streaming request") is wrong here: we retry.
          logger: SILENT_SDK_LOGGER,
        },
      );
  }

  /** Where plain HTTP reads `key` (bucket over its endpoint, path-style); undefined on AWS, where it depends on the bucket's setup. */
  httpUrl(key: string): string | undefined {
    return this.endpoint ? `${this.endpoint}/${this.#bucket}/${this.#key(key)}` : undefined;
  }

  locate(key: string): string {
    return `s3://${this.#bucket}/${this.#key(key)}`;
  }

  async head(key: string): Promise<ObjectVersion | undefined> {
    const head = await this.#send('HEAD', key, () =>
      this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) })),
    ).catch(ifMissing(undefined));
    return head && { etag: head.ETag ?? '', sha256: head.Metadata?.sha256 };
  }

  get(key: string): Promise<StoredBytes | undefined> {
    return this.#send('GET', key, async () => {
      const object = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
      // Read within the try: a body cut in the middle is read again.
      const body = Buffer.from((await object.Body?.transformToByteArray()) ?? []);
      return { body, etag: object.ETag ?? '', sha256: object.Metadata?.sha256 };
    }).catch(ifMissing(undefined));
  }

  download(key: string, path: string): Promise<boolean> {
    return this.#send('GET', key, async () => {
      const object = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }));
      // Each try writes the file afresh.
      await pipeline(object.Body as Readable, createWriteStream(path));
      return true;
    }).catch(ifMissing(false));
  }

  async putIfAbsent(key: string, body: PutBody, serving: Serving): Promise<'written' | 'exists'> {
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      try {
        await this.#put(key, body, serving, { IfNoneMatch: '*' });
        return 'written';
      } catch (error) {
        if (error instanceof PreconditionFailed) return 'exists';
        if (!(error instanceof WriteContention)) throw error;
        // Another writer is creating it right now (real S3 answers 409): whoever wins, the caller compares.
        await backoff(round);
        if ((await this.head(key)) !== undefined) return 'exists';
      }
    }
    throw contentionError(this.locate(key));
  }

  async putIfMatch(key: string, etag: string, body: PutBody, serving: Serving): Promise<'written' | 'changed'> {
    try {
      await this.#put(key, body, serving, { IfMatch: etag });
      return 'written';
    } catch (error) {
      // ObjectMissing: `If-Match` on a key deleted meanwhile.
      if (error instanceof PreconditionFailed || error instanceof WriteContention || error instanceof ObjectMissing) return 'changed';
      throw error;
    }
  }

  async delete(key: string, ifMatch?: string): Promise<'deleted' | 'changed'> {
    try {
      await this.#send('DELETE', key, () =>
        this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.#key(key), ...(ifMatch ? { IfMatch: ifMatch } : {}) })),
      );
      return 'deleted';
    } catch (error) {
      if (error instanceof ObjectMissing) return 'deleted';
      if (error instanceof PreconditionFailed || error instanceof WriteContention) return 'changed';
      throw error;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const names: string[] = [];
    const full = this.#key(prefix);
    let token: string | undefined;
    do {
      const page = await this.#send('LIST', prefix, () =>
        this.#client.send(new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: full, ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const object of page.Contents ?? []) {
        const name = (object.Key ?? '').slice(full.length);
        if (name !== '' && !name.includes('/')) names.push(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names;
  }

  /** A PUT is stored whole or not at all: nothing is ever left behind. */
  async removeAbandonedWrites(): Promise<number> {
    return 0;
  }

  /** One conditional PUT, with a fresh body for each try (a failed try has spent a file stream). */
  async #put(key: string, body: PutBody, serving: Serving, condition: Pick<PutInput, 'IfMatch' | 'IfNoneMatch'>): Promise<void> {
    const size = 'file' in body ? (await stat(body.file)).size : body.bytes.byteLength;
    const sha256 = 'file' in body ? body.sha256 : createHash('sha256').update(body.bytes).digest('hex');
    await this.#send('PUT', key, async () => {
      const input: PutInput = {
        Body: 'file' in body ? createReadStream(body.file) : body.bytes,
        ContentLength: size,
        ContentType: serving.contentType,
        ...(serving.cacheControl ? { CacheControl: serving.cacheControl } : {}),
        // The storage checks the bytes it receives against it (BadDigest: an IntegrityError).
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
        Metadata: { sha256 },
        ...condition,
      };
      try {
        return await this.#client.send(new PutObjectCommand({ ...input, Bucket: this.#bucket, Key: this.#key(key) }));
      } finally {
        // A cut upload leaves its file stream open otherwise.
        (input.Body as Partial<Readable>).destroy?.();
      }
    });
  }

  /**
   * One request, tried as the retry policy says: `call` runs afresh for each try, so it must build
   * its command (and body) inside. Messages name it as e.g. `PUT s3://bucket/key on http://host:9000`.
   */
  #send<T>(method: string, key: string, call: () => Promise<T>): Promise<T> {
    const what = `${method} ${this.locate(key)}${this.endpoint ? ` on ${this.endpoint}` : ' on AWS S3'}`;
    return retryIndexRequest(
      async () => {
        try {
          return await call();
        } catch (error) {
          throw convertS3Error(error, what);
        }
      },
      { policy: this.#retry },
    );
  }

  #key(rest: string): string {
    return this.#prefix ? `${this.#prefix}/${rest}` : rest;
  }
}

function ifMissing<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    if (error instanceof ObjectMissing) return fallback;
    throw error;
  };
}
