import { createHash } from 'node:crypto';
import { normalizeProject, validateWheel } from '../validate-wheel.ts';
import { createReadStream } from 'node:fs';
import type { ReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { PutObjectCommandInput } from '@aws-sdk/client-s3';
import { IndexUnavailableError, PublishConflictError, TransientError, UserInputError, WheelfarmError } from '../../errors.ts';
import { extractCoreMetadata } from '../../wheels/extract-core-metadata.ts';
import { applyYank, MANIFEST_FILE_NAME, NORMALIZED_PROJECT, parseProjectManifest, publishedFiles } from '../project-manifest.ts';
import type { ManifestFile, ProjectManifest } from '../project-manifest.ts';
import type { IndexPublisher, PublishedFile, PublishOutcome, WheelToPublish } from '../publisher.ts';
import { resolveIndexRetryPolicy, retryIndexRequest } from '../retry-policy.ts';
import type { IndexRetryPolicy } from '../retry-policy.ts';
import { renderProjectJson, renderRootJson, SIMPLE_JSON_TYPE } from '../render-simple-json.ts';
import { renderProjectPage, renderRootPage } from '../render-simple-page.ts';
import { assertSha256, sha256OfFile } from '../stage-verified-copy.ts';
import { convertS3Error, ObjectMissing, PreconditionFailed, WriteContention } from './s3-errors.ts';

export interface S3PublisherOptions {
  bucket: string;
  /** Key prefix the index lives under, e.g. `wheels` (no leading or trailing `/` needed); '' for the bucket root. */
  prefix?: string;
  /** An S3-compatible endpoint (MinIO, moto, Ceph...), e.g. `http://127.0.0.1:9000`; path-style addressing is used then. */
  endpoint?: string;
  region?: string;
  /**
   * A ready client (custom credentials); `endpoint` and `region` are then ignored for requests, and so
   * is `retry.timeoutMs`. Give it `maxAttempts: 1`: the publisher retries by itself.
   */
  client?: S3Client;
  /** Tries, back-off and timeout of each request (see DEFAULT_INDEX_RETRY_POLICY). */
  retry?: Partial<IndexRetryPolicy> | undefined;
}

const HTML_TYPE = 'text/html; charset=utf-8';
const JSON_TYPE = SIMPLE_JSON_TYPE;
const PAGE_CACHE = 'public, max-age=60';
const FILE_CACHE = 'public, max-age=31536000, immutable';
const MANIFEST_CACHE = 'no-cache';
/** Enough for dozens of farms hammering one project; each round at least one writer wins. */
const MAX_ATTEMPTS = 40;

interface Stored {
  etag: string;
  /** sha256 of the object's bytes as recorded in its `x-amz-meta-sha256` at upload. */
  sha256: string | undefined;
}

interface PageSpec {
  key: string;
  contentType: string;
  render: () => string;
}

/**
 * A PEP 503/691 index in an S3 bucket, served by plain HTTP (bucket website, CloudFront, MinIO...):
 *
 *   <prefix>/files/<project>/<file>                   the wheels, never overwritten
 *   <prefix>/files/<project>/<file>.metadata          PEP 658 core metadata
 *   <prefix>/simple/<project>/index.html and .../     project page (also at the "directory" key for plain HTTP)
 *   <prefix>/simple/<project>/index.json              PEP 691
 *   <prefix>/simple/index.html, simple/, index.json   root pages
 *   <prefix>/.wheelfarm/projects/<project>.json       per-project manifest, the source of truth
 *
 * No locks: wheel keys are created with `If-None-Match: *` (never replaced), the manifest is updated by
 * compare-and-swap on its ETag, and every page is rewritten by compare-and-swap from a manifest read after
 * the page's ETag, so concurrent publishers from any number of machines all end up on every page.
 * Order: wheel, metadata, manifest, pages; a page only links files that are complete.
 */
export class S3Publisher implements IndexPublisher {
  readonly description: string;
  /** What to pass to pip's `--index-url` when the bucket is readable over plain HTTP; undefined if unknown. */
  readonly indexUrl: string | undefined;
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #retry: IndexRetryPolicy;
  /** ` on http://host:port`, or ` on AWS S3`: for messages. */
  readonly #on: string;

  constructor(options: S3PublisherOptions) {
    if (typeof options?.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new UserInputError('bad-s3-bucket', `\`${String(options?.bucket)}\` is not a valid S3 bucket name`, {
        hint: 'Bucket names are 3-63 lower-case letters, digits, `.` and `-`, e.g. `s3://my-wheels/prefix`.',
      });
    }
    this.#bucket = options.bucket;
    this.#prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    this.#retry = resolveIndexRetryPolicy(options.retry);
    const endpoint = options.endpoint?.replace(/\/+$/, '');
    this.#on = endpoint ? ` on ${endpoint}` : ' on AWS S3';
    this.#client =
      options.client ??
      new S3Client({
        ...(endpoint ? { endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
        ...(options.region
          ? { region: options.region }
          : endpoint
            ? { region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1' }
            : {}),
        // Retries are ours (#send): the SDK never retries a streamed body such as the wheel's, and one
        // policy for every request keeps the tries countable and the final error clear.
        maxAttempts: 1,
        // Both are inactivity limits, so a slow but moving upload of a large wheel is never cut.
        requestHandler: { connectionTimeout: this.#retry.timeoutMs, socketTimeout: this.#retry.timeoutMs },
        // Its one message that reaches us ("non-retryable streaming request") is wrong here: we retry.
        logger: SILENT_SDK_LOGGER,
      });
    const where = `s3://${this.#bucket}/${this.#prefix}`;
    this.indexUrl = endpoint ? `${endpoint}/${this.#bucket}/${this.#key('simple/')}` : undefined;
    this.description = `S3 index at ${where}${endpoint ? ` on ${endpoint}` : ''}${this.indexUrl ? ` (pip install --index-url ${this.indexUrl})` : ''}`;
  }

  /** From `s3://bucket/prefix?endpoint=http://host:port&region=eu-west-1`. */
  static fromUrl(url: string, extra: { client?: S3Client } = {}): S3Publisher {
    return new S3Publisher({ ...parseS3IndexUrl(url), ...extra });
  }

  async publish(wheel: WheelToPublish): Promise<PublishOutcome> {
    const { normalized, sha256 } = await validateWheel(wheel);
    // Hash before uploading: a wheel key is never overwritten, so wrong bytes must never reach it.
    assertSha256(wheel.path, sha256, await sha256OfFile(wheel.path));
    const request = { ...wheel, sha256 };
    // Cheap answer for a repeat publish: no upload at all.
    const known = (await this.#readManifest(normalized))?.manifest.files.find((file) => file.filename === wheel.filename);
    if (known) return this.#settleExisting(normalized, request, known);

    const size = (await stat(wheel.path)).size;
    const wheelKey = this.#fileKey(normalized, wheel.filename);
    // A fresh stream for each try: a failed one has spent its predecessor.
    const created = await this.#putNew(wheelKey, sha256, () => ({
      Body: createReadStream(wheel.path),
      ContentLength: size,
      ContentType: 'application/octet-stream',
      CacheControl: FILE_CACHE,
      ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
    }));
    if (!created) {
      const existing = await this.#head(wheelKey);
      // Gone again between the PUT and the HEAD: only a hand edit does that.
      if (!existing || existing.sha256 !== sha256) throw conflict(wheel.filename, existing?.sha256, sha256, wheelKey);
      // Same bytes: a concurrent or crashed publish of this wheel; finish it.
    }

    const temp = await mkdtemp(join(tmpdir(), 'wheelfarm-s3-'));
    let metadataSha256: string;
    try {
      const metadataPath = join(temp, 'METADATA');
      metadataSha256 = (await extractCoreMetadata(wheel.path, metadataPath)).sha256;
      // Small (kilobytes): read whole, so the PUT can be retried.
      const metadata = await readFile(metadataPath);
      await this.#putNew(`${wheelKey}.metadata`, metadataSha256, () => ({
        Body: metadata,
        ContentLength: metadata.length,
        ContentType: 'text/plain; charset=utf-8',
        CacheControl: FILE_CACHE,
      }));
    } finally {
      await rm(temp, { recursive: true, force: true });
    }

    const entry: ManifestFile = {
      filename: wheel.filename,
      sha256,
      size,
      coreMetadataSha256: metadataSha256,
      uploadTime: new Date().toISOString(),
    };
    if (wheel.requiresPython) entry.requiresPython = wheel.requiresPython;
    // The note that pages are owed, before the manifest lists the wheel: whatever stops this publish
    // after that, settlePending() finds the note and writes the pages.
    await this.#send(`PUT ${this.#url(this.#pendingKey(normalized))}`, () =>
      this.#client.send(
        new PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#pendingKey(normalized),
          Body: `${wheel.filename}\n`,
          ContentType: 'text/plain',
        }),
      ),
    );
    const added = await this.#addToManifest(normalized, wheel.project, entry).catch(async (error: unknown) => {
      // Not listed after all: the note owes nothing (kept when that cannot be read: a spare note only rewrites pages).
      const listed = await this.#readManifest(normalized).then(
        (read) => read?.manifest.files.some((file) => file.filename === wheel.filename) ?? false,
        () => true,
      );
      if (!listed) await this.#deletePendingNote(normalized).catch(() => undefined);
      throw error;
    });
    await this.#refreshPagesOf(normalized, wheel.filename);
    // Published: a note left behind only makes the next settlePending() rewrite pages that are current.
    await this.#deletePendingNote(normalized).catch(() => undefined);
    return added ? 'published' : 'unchanged';
  }

  async listFiles(project: string): Promise<PublishedFile[]> {
    return publishedFiles((await this.#readManifest(normalizeProject(project)))?.manifest);
  }

  /** PEP 592 for every file of one version (see applyYank); the pages follow. Returns the filenames that changed. */
  async setYanked(project: string, version: string, yanked: { reason?: string } | false): Promise<string[]> {
    const normalized = normalizeProject(project);
    const changed = await this.#editManifest(normalized, (current) => {
      const { updated, changed } = applyYank(current, { project, version, yanked, where: this.#where() });
      return { ...(changed.length > 0 ? { manifest: updated } : {}), result: changed };
    });
    await this.#refreshPages(normalized);
    return changed;
  }

  /** Rewrites every page from the manifests (after a crash between manifest and pages, or a format change). */
  async repair(): Promise<{ projects: number }> {
    const projects = await this.#listProjects();
    for (const normalized of projects) await this.#refreshProjectPages(normalized);
    await this.#refreshRootPages();
    for (const normalized of await this.#listKeyNames(this.#key('.wheelfarm/pending/'), NORMALIZED_PROJECT))
      await this.#deletePendingNote(normalized);
    return { projects: projects.length };
  }

  async settlePending(): Promise<string[]> {
    const pending = await this.#listKeyNames(this.#key('.wheelfarm/pending/'), NORMALIZED_PROJECT);
    for (const normalized of pending) {
      await this.#refreshProjectPages(normalized);
      await this.#deletePendingNote(normalized);
    }
    if (pending.length > 0) await this.#refreshRootPages();
    return pending;
  }

  async #settleExisting(normalized: string, wheel: WheelToPublish, existing: ManifestFile): Promise<PublishOutcome> {
    if (existing.sha256 !== wheel.sha256)
      throw conflict(wheel.filename, existing.sha256, wheel.sha256, this.#fileKey(normalized, wheel.filename));
    // Finishes the page updates of a publish that stopped after writing the manifest; writes nothing otherwise.
    await this.#refreshPagesOf(normalized, wheel.filename);
    await this.#deletePendingNote(normalized).catch(() => undefined);
    return 'unchanged';
  }

  /**
   * The pages after the manifest lists `filename`. If the storage gives out now, the wheel is stored
   * and listed but not linked: the error says so, and how to finish.
   */
  async #refreshPagesOf(normalized: string, filename: string): Promise<void> {
    try {
      await this.#refreshPages(normalized);
    } catch (error) {
      if (!(error instanceof IndexUnavailableError)) throw error;
      throw new IndexUnavailableError(
        error.code,
        `${error.message}; ${filename} is stored and in the manifest, but the pages were not brought up to date`,
        {
          hint: 'Once the storage answers, the next wheelfarm run (or `wheelfarm index repair`) writes the pages first. Until then the pages serve what they served before.',
          cause: error,
          tries: error.tries,
          listedWheel: filename,
        },
      );
    }
  }

  /** Adds `entry` to the manifest. False if it was there already (same bytes) from another publish. */
  async #addToManifest(normalized: string, project: string, entry: ManifestFile): Promise<boolean> {
    const key = this.#manifestKey(normalized);
    return this.#editManifest(normalized, (current) => {
      const existing = current?.files.find((file) => file.filename === entry.filename);
      if (existing) {
        if (existing.sha256 !== entry.sha256) throw conflict(entry.filename, existing.sha256, entry.sha256, key);
        // Our own entry when a try's answer was lost after the write landed (the retry met 412).
        return { result: existing.uploadTime === entry.uploadTime };
      }
      const files = [...(current?.files ?? []), entry];
      return { manifest: { schemaVersion: 1, name: current?.name ?? project, normalized, files }, result: true };
    });
  }

  /**
   * Read-edit-write of a manifest by compare-and-swap on its ETag, retried with jitter when another
   * publisher wrote in between. `edit` returns no manifest to leave it as it is.
   */
  async #editManifest<T>(
    normalized: string,
    edit: (current: ProjectManifest | undefined) => { manifest?: ProjectManifest; result: T },
  ): Promise<T> {
    const key = this.#manifestKey(normalized);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const current = await this.#readManifest(normalized);
      const { manifest, result } = edit(current?.manifest);
      if (!manifest) return result;
      const files = [...manifest.files].sort((a, b) => compareStrings(a.filename, b.filename));
      const written = await this.#putConditional(key, current?.etag, {
        Body: `${JSON.stringify({ ...manifest, files }, null, 2)}\n`,
        ContentType: 'application/json',
        CacheControl: MANIFEST_CACHE,
      });
      if (written) return result;
      await backoff(attempt);
    }
    throw contention(key);
  }

  async #refreshPages(normalized: string): Promise<void> {
    await this.#refreshProjectPages(normalized);
    await this.#refreshRootPages();
  }

  async #refreshProjectPages(normalized: string): Promise<void> {
    let manifest: ProjectManifest | undefined;
    const project = () => {
      if (!manifest) throw new WheelfarmError('corrupt-index', `the manifest of ${normalized} vanished from ${this.#where()}`);
      const files = manifest.files.map((file) => ({ ...file, url: `../../files/${normalized}/${file.filename}` }));
      return { name: manifest.name, files };
    };
    const html = () => renderProjectPage(project());
    const dir = this.#key(`simple/${normalized}/`);
    await this.#casPages(
      [
        { key: `${dir}index.html`, contentType: HTML_TYPE, render: html },
        { key: dir, contentType: HTML_TYPE, render: html },
        { key: `${dir}index.json`, contentType: JSON_TYPE, render: () => renderProjectJson(project()) },
      ],
      async () => {
        manifest = (await this.#readManifest(normalized))?.manifest;
      },
    );
  }

  async #refreshRootPages(): Promise<void> {
    let projects: { name: string; normalized: string }[] = [];
    const html = () => renderRootPage(projects);
    const dir = this.#key('simple/');
    await this.#casPages(
      [
        { key: `${dir}index.html`, contentType: HTML_TYPE, render: html },
        { key: dir, contentType: HTML_TYPE, render: html },
        { key: `${dir}index.json`, contentType: JSON_TYPE, render: () => renderRootJson(projects) },
      ],
      async () => {
        projects = (await this.#listProjects()).map((normalized) => ({ name: normalized, normalized }));
      },
    );
  }

  /**
   * Rewrites pages by compare-and-swap: read each page's ETag, then the source (`load`), render, and
   * write only if the page still has that ETag. Because the source is read after the ETag, whichever
   * write lands last was rendered from a source at least as new as every writer's own manifest update.
   * Unchanged pages (same sha256 in their metadata) are not written at all.
   */
  async #casPages(pages: PageSpec[], load: () => Promise<void>): Promise<void> {
    let pending = pages;
    for (let attempt = 0; attempt < MAX_ATTEMPTS && pending.length > 0; attempt += 1) {
      if (attempt > 0) await backoff(attempt - 1);
      const heads = await settleAll(pending.map((page) => this.#head(page.key)));
      await load();
      // One after another, in the order given (HTML, then its directory key, JSON last): if the
      // storage gives out midway, HTML readers are never behind JSON ones.
      const written: boolean[] = [];
      for (const [index, page] of pending.entries()) {
        const body = page.render();
        const sha256 = sha256Of(body);
        const head = heads[index];
        written.push(
          head?.sha256 === sha256 ||
            (await this.#putConditional(page.key, head?.etag, {
              Body: body,
              ContentType: page.contentType,
              CacheControl: PAGE_CACHE,
              Metadata: { sha256 },
            })),
        );
      }
      pending = pending.filter((_, index) => !written[index]);
    }
    if (pending.length > 0) throw contention(pending[0]!.key);
  }

  /** Creates `key` only if absent (`If-None-Match: *`). False if it exists already. */
  async #putNew(key: string, sha256: string, body: () => Omit<PutObjectCommandInput, 'Bucket' | 'Key'>): Promise<boolean> {
    try {
      await this.#send(`PUT ${this.#url(key)}`, async () => {
        const input = body();
        try {
          return await this.#client.send(
            new PutObjectCommand({ ...input, Bucket: this.#bucket, Key: key, IfNoneMatch: '*', Metadata: { sha256 } }),
          );
        } finally {
          // A cut upload leaves its file stream open otherwise.
          (input.Body as ReadStream | undefined)?.destroy?.();
        }
      });
      return true;
    } catch (error) {
      if (error instanceof PreconditionFailed) return false;
      if (error instanceof WriteContention) {
        // Another writer is creating it right now: whoever wins, the caller compares bytes.
        await backoff(0);
        return (await this.#head(key)) === undefined ? this.#putNew(key, sha256, body) : false;
      }
      throw error;
    }
  }

  /** Writes `key` if its ETag is still `etag` (absent: if it still does not exist). False if someone else wrote meanwhile. */
  async #putConditional(key: string, etag: string | undefined, input: Omit<PutObjectCommandInput, 'Bucket' | 'Key'>): Promise<boolean> {
    try {
      await this.#send(`PUT ${this.#url(key)}`, () =>
        this.#client.send(
          new PutObjectCommand({ ...input, Bucket: this.#bucket, Key: key, ...(etag ? { IfMatch: etag } : { IfNoneMatch: '*' }) }),
        ),
      );
      return true;
    } catch (error) {
      // ObjectMissing: `If-Match` on a key deleted meanwhile.
      if (error instanceof PreconditionFailed || error instanceof WriteContention || error instanceof ObjectMissing) return false;
      throw error;
    }
  }

  async #head(key: string): Promise<Stored | undefined> {
    try {
      const head = await this.#send(`HEAD ${this.#url(key)}`, () =>
        this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: key })),
      );
      return { etag: head.ETag ?? '', sha256: head.Metadata?.sha256 };
    } catch (error) {
      if (error instanceof ObjectMissing) return undefined;
      throw error;
    }
  }

  async #readManifest(normalized: string): Promise<{ manifest: ProjectManifest; etag: string } | undefined> {
    const key = this.#manifestKey(normalized);
    let text: string;
    let etag: string;
    try {
      const result = await this.#send(`GET ${this.#url(key)}`, async () => {
        const object = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
        return { text: (await object.Body?.transformToString('utf8')) ?? '', etag: object.ETag ?? '' };
      });
      ({ text, etag } = result);
    } catch (error) {
      if (error instanceof ObjectMissing) return undefined;
      throw error;
    }
    try {
      return { manifest: parseProjectManifest(text), etag };
    } catch (error) {
      throw new WheelfarmError('corrupt-index', `the index manifest ${this.#url(key)} is not valid`, {
        hint: 'It is only ever replaced whole, so it was edited by hand; restore it from a backup or bucket versioning.',
        cause: error,
      });
    }
  }

  /** Project names from the manifest keys alone: reading every manifest would make each publish cost the whole index. */
  #listProjects(): Promise<string[]> {
    return this.#listKeyNames(this.#key('.wheelfarm/projects/'), MANIFEST_FILE_NAME);
  }

  /** The names under `prefix` that `pattern` matches, as its first group (or whole). */
  async #listKeyNames(prefix: string, pattern: RegExp): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#send(`LIST ${this.#url(prefix)}`, () =>
        this.#client.send(
          new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
        ),
      );
      for (const object of page.Contents ?? []) {
        const match = pattern.exec((object.Key ?? '').slice(prefix.length));
        if (match) names.push(match[1] ?? match[0]);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return names;
  }

  async #deletePendingNote(normalized: string): Promise<void> {
    const key = this.#pendingKey(normalized);
    await this.#send(`DELETE ${this.#url(key)}`, () => this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: key })));
  }

  /**
   * One request, tried as the retry policy says: `call` runs afresh for each try, so it must build
   * its command (and body) inside. `what` is e.g. `PUT s3://bucket/key`; messages add the endpoint.
   */
  #send<T>(what: string, call: () => Promise<T>): Promise<T> {
    return retryIndexRequest(
      async () => {
        try {
          return await call();
        } catch (error) {
          throw convertS3Error(error, `${what}${this.#on}`);
        }
      },
      { policy: this.#retry },
    );
  }

  #key(rest: string): string {
    return this.#prefix ? `${this.#prefix}/${rest}` : rest;
  }

  #fileKey(normalized: string, filename: string): string {
    return this.#key(`files/${normalized}/${filename}`);
  }

  /** The note of a publish of `normalized` that owes its pages (see settlePending). */
  #pendingKey(normalized: string): string {
    return this.#key(`.wheelfarm/pending/${normalized}`);
  }

  #manifestKey(normalized: string): string {
    return this.#key(`.wheelfarm/projects/${normalized}.json`);
  }

  #url(key: string): string {
    return `s3://${this.#bucket}/${key}`;
  }

  #where(): string {
    return this.#url(this.#prefix);
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

function conflict(filename: string, existing: string | undefined, wanted: string, key: string): PublishConflictError {
  return new PublishConflictError(
    'publish-conflict',
    `${filename} is already published with ${existing ? `sha256 ${existing}` : 'unknown bytes (no sha256 recorded)'}; refusing to replace it with different bytes (sha256 ${wanted})`,
    {
      hint: `Installers cache wheels by filename, so published bytes never change. Give the rebuild a new build tag (e.g. \`-1-\` after the version) so it gets a new filename. (The object is ${key}.)`,
    },
  );
}

function contention(key: string): TransientError {
  return new TransientError(
    's3-contention',
    `gave up updating s3 key ${key} after ${MAX_ATTEMPTS} attempts: other publishers kept changing it`,
    {
      hint: 'Many publishers are writing to the same project at once; publish again.',
    },
  );
}

/** The SDK's middleware logs (we report through errors). */
const SILENT_SDK_LOGGER = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Exponential backoff with full jitter, capped, so racing publishers spread out. */
function backoff(attempt: number): Promise<void> {
  const cap = Math.min(1000, 20 * 2 ** attempt);
  return sleep(5 + Math.random() * cap);
}

/**
 * Promise.all that waits for every promise before it rejects (with the first failure), so a failed
 * publish returns with none of its requests still in flight.
 */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<T>).value);
}

function sha256Of(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
