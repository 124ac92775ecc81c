import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { mkdir, open, readdir, rename, rm, rmdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { EnvironmentError, IntegrityError, TransientError, WheelfarmError } from '../errors.ts';
import { discardBody, httpRequest, networkError } from './http-request.ts';
import { redactUrl } from './redact-url.ts';
import {
  expectFiniteNumberAtLeast,
  expectIntegerAtLeast,
  expectNonEmptyString,
  expectObject,
  expectOptionalFunction,
  expectOptionalSignal,
} from './validate-options.ts';
import { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS, withRetry } from './with-retry.ts';

export interface ContentCacheOptions {
  /** Cache directory; entries live at `<root>/<sha256>/<filename>`. */
  root: string;
  /** Retries per URL after the first try for 429/5xx/network faults. Default 2. */
  retries?: number | undefined;
  /** Delay before the first retry, doubled for each further one. Default 500 ms. */
  retryDelayMs?: number | undefined;
  /**
   * A `.part` file of an entry untouched this long is a leftover of a crash and is deleted on the next
   * fetch of that entry. Younger ones may belong to another process downloading right now. Default 30 min.
   */
  stalePartMs?: number | undefined;
}

export interface DownloadProgress {
  /** Redacted. */
  url: string;
  receivedBytes: number;
  /** From Content-Length, when the server sent one. */
  totalBytes: number | undefined;
}

export interface FetchVerifiedOptions {
  /** Sources in order of preference ("first matching download wins"); may carry credentials. */
  urls: readonly string[];
  sha256: string;
  filename: string;
  signal?: AbortSignal | undefined;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
}

export interface FetchVerifiedResult {
  path: string;
  /** False on a cache hit (no network used). */
  downloaded: boolean;
  /** The URL the bytes came from (redacted), when downloaded. */
  url?: string;
}

const SHA256 = /^[0-9a-f]{64}$/;
const DEFAULT_STALE_PART_MS = 30 * 60_000;
/** Keeps `.<filename>.<random>.part` within the usual 255-byte file name limit. */
const TEMP_NAME_STEM_MAX = 200;

interface UrlFailure {
  url: string;
  reason: string;
  error: unknown;
}

/**
 * A content-addressed store of downloaded files, verified by sha256. An entry appears only by an atomic
 * rename of fully downloaded, hash-checked, fsynced bytes: a crash leaves at most a `.part` file,
 * which lookups ignore.
 */
export class ContentCache {
  readonly root: string;
  readonly #retries: number;
  readonly #retryDelayMs: number;
  readonly #stalePartMs: number;

  constructor(options: ContentCacheOptions) {
    expectObject('options', options);
    this.root = resolve(expectNonEmptyString('root', options.root));
    this.#retries = expectIntegerAtLeast('retries', options.retries ?? DEFAULT_RETRIES, 0);
    this.#retryDelayMs = expectFiniteNumberAtLeast('retryDelayMs', options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, 0);
    this.#stalePartMs = expectFiniteNumberAtLeast('stalePartMs', options.stalePartMs ?? DEFAULT_STALE_PART_MS, 0);
  }

  pathFor(sha256: string, filename: string): string {
    return join(this.root, checkSha256(sha256), checkFilename(filename));
  }

  async has(sha256: string, filename: string): Promise<boolean> {
    return isFile(this.pathFor(sha256, filename));
  }

  /** The cached file, downloading it from the first URL that serves the right bytes when missing. */
  async fetchVerified(options: FetchVerifiedOptions): Promise<FetchVerifiedResult> {
    expectObject('options', options);
    const sha256 = checkSha256(options.sha256);
    const filename = checkFilename(options.filename);
    const urls = checkUrls(options.urls);
    const signal = expectOptionalSignal('signal', options.signal);
    const onProgress = expectOptionalFunction<(progress: DownloadProgress) => void>('onProgress', options.onProgress);

    signal?.throwIfAborted();
    const dir = join(this.root, sha256);
    const path = join(dir, filename);
    if (await isFile(path)) {
      await this.#removeStaleParts(dir, filename);
      return { path, downloaded: false };
    }
    await mkdir(dir, { recursive: true });
    await this.#removeStaleParts(dir, filename);

    const failures: UrlFailure[] = [];
    for (const url of urls) {
      try {
        signal?.throwIfAborted();
        await withRetry(() => downloadOnce({ url, dir, filename, sha256, signal, onProgress }), {
          retries: this.#retries,
          retryDelayMs: this.#retryDelayMs,
          signal,
        });
        return { path, downloaded: true, url: redactUrl(url) };
      } catch (error) {
        if (signal?.aborted || !isPerUrlFailure(error)) {
          await removeDirIfEmpty(dir);
          throw error;
        }
        failures.push({ url: redactUrl(url), reason: error.message, error });
      }
    }
    await removeDirIfEmpty(dir);
    throw allFailed(filename, sha256, failures);
  }

  /** Deletes this entry's `.part` files that nobody has written to for `stalePartMs`. */
  async #removeStaleParts(dir: string, filename: string): Promise<void> {
    const prefix = tempPrefix(filename);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return;
    }
    const now = Date.now();
    for (const name of names) {
      if (!name.startsWith(prefix) || !name.endsWith('.part')) continue;
      const partPath = join(dir, name);
      try {
        if (now - (await stat(partPath)).mtimeMs >= this.#stalePartMs) await rm(partPath, { force: true });
      } catch {
        // Gone already (another process finished or cleaned it).
      }
    }
  }
}

interface DownloadInput {
  url: string;
  dir: string;
  filename: string;
  sha256: string;
  signal: AbortSignal | undefined;
  onProgress: ((progress: DownloadProgress) => void) | undefined;
}

/**
 * One try at one URL: stream into a fresh `.part` file while hashing, then fsync and rename into place.
 * Throws TransientError (retryable), IntegrityError `hash-mismatch`, or WheelfarmError `http-error`.
 */
async function downloadOnce(input: DownloadInput): Promise<void> {
  const shownUrl = redactUrl(input.url);
  const response = input.url.startsWith('file:')
    ? await fileResponse(input.url)
    : await httpRequest({ url: input.url, identity: true, signal: input.signal });
  if (!response.ok) {
    await discardBody(response);
    throw httpStatusError(response.status, shownUrl);
  }
  const temp = join(input.dir, `${tempPrefix(input.filename)}${randomBytes(6).toString('hex')}.part`);
  let handle: FileHandle | undefined;
  let renamed = false;
  try {
    handle = await mkdir(input.dir, { recursive: true })
      .then(() => open(temp, 'wx'))
      .catch((error: unknown) => {
        throw cacheWriteError(temp, error);
      });
    const actual = await streamToFile(response, handle, input);
    if (actual !== input.sha256) {
      throw new IntegrityError(
        'hash-mismatch',
        `${shownUrl} served bytes for \`${input.filename}\` that do not match: expected sha256 ${input.sha256}, got ${actual}`,
        { hint: 'The source or a proxy serves different bytes than the index promised; try another mirror.' },
      );
    }
    try {
      await handle.sync();
      await handle.close();
      handle = undefined;
      await rename(temp, join(input.dir, input.filename));
      renamed = true;
    } catch (error) {
      throw cacheWriteError(temp, error);
    }
    await syncDirectory(input.dir);
  } finally {
    await handle?.close().catch(() => undefined);
    if (!renamed) await rm(temp, { force: true }).catch(() => undefined);
  }
}

/** Writes the body to `handle` and returns its sha256. Body faults are TransientError; disk faults EnvironmentError. */
async function streamToFile(response: Response, handle: FileHandle, input: DownloadInput): Promise<string> {
  const hash = createHash('sha256');
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  const totalBytes = Number.isFinite(length) && length >= 0 ? length : undefined;
  const shownUrl = redactUrl(input.url);
  let receivedBytes = 0;
  const body = response.body;
  if (body === null) return hash.digest('hex');
  const reader = body.getReader();
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (error) {
        if (input.signal?.aborted) throw input.signal.reason;
        throw networkError(input.url, error);
      }
      if (next.done) break;
      hash.update(next.value);
      try {
        await writeAll(handle, next.value);
      } catch (error) {
        throw cacheWriteError(input.filename, error);
      }
      receivedBytes += next.value.byteLength;
      input.onProgress?.({ url: shownUrl, receivedBytes, totalBytes });
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return hash.digest('hex');
}

function httpStatusError(status: number, shownUrl: string): WheelfarmError {
  const hint =
    status === 401 || status === 403
      ? 'Check the credentials for this host in the pip configuration (`pip config list`) or `upstream.index-url` in the settings file.'
      : 'The file may have been removed from this source; another source may still have it.';
  return new WheelfarmError('http-error', `${shownUrl} answered HTTP ${status}`, { hint });
}

function cacheWriteError(path: string, error: unknown): EnvironmentError {
  const detail = error instanceof Error ? error.message : String(error);
  return new EnvironmentError('cache-write-failed', `could not write \`${path}\` into the download cache: ${detail}`, {
    hint: 'Check free disk space and the permissions of the cache directory.',
    cause: error,
  });
}

/** Failures after which the next URL is tried; anything else (disk full, abort, bugs) ends the fetch. */
function isPerUrlFailure(error: unknown): error is WheelfarmError {
  return (
    error instanceof TransientError || error instanceof IntegrityError || (error instanceof WheelfarmError && error.code === 'http-error')
  );
}

function allFailed(filename: string, sha256: string, failures: UrlFailure[]): WheelfarmError {
  const details = failures.map((failure) => `${failure.url}: ${failure.reason}`).join('; ');
  const mismatches = failures.filter((failure) => failure.error instanceof IntegrityError);
  if (mismatches.length > 0) {
    return new IntegrityError(
      'hash-mismatch',
      `no source served \`${filename}\` with the expected sha256 ${sha256} (${mismatches.length} of ${failures.length} served other bytes): ${details}`,
      {
        hint: 'The bytes on offer differ from what the index promised; nothing was cached. Check mirrors and proxies, or report it to the index.',
        cause: mismatches[0]?.error,
      },
    );
  }
  const message = `could not download \`${filename}\` from any of ${failures.length} source(s): ${details}`;
  const cause = failures.at(-1)?.error;
  if (failures.every((failure) => failure.error instanceof TransientError)) {
    return new TransientError('download-failed', message, { hint: 'Try again later; check the network and the proxy settings.', cause });
  }
  return new WheelfarmError('download-failed', message, { hint: 'Check the URLs and credentials listed above.', cause });
}

function tempPrefix(filename: string): string {
  return `.${filename.slice(0, TEMP_NAME_STEM_MAX)}.`;
}

function checkSha256(sha256: unknown): string {
  const value = typeof sha256 === 'string' ? sha256.toLowerCase() : sha256;
  if (typeof value !== 'string' || !SHA256.test(value)) {
    throw new TypeError(`Expected \`sha256\` to be 64 hex digits, got ${typeof sha256 === 'string' ? `\`${sha256}\`` : typeof sha256}`);
  }
  return value;
}

function checkFilename(filename: unknown): string {
  const value = expectNonEmptyString('filename', filename);
  if (value.includes('/') || value.includes('\\') || value.includes('\0') || value.startsWith('.') || value.length > 255) {
    throw new TypeError(`Expected \`filename\` to be a plain file name (no path, not starting with \`.\`), got \`${value}\``);
  }
  return value;
}

function checkUrls(urls: unknown): string[] {
  if (!Array.isArray(urls) || urls.length === 0) {
    throw new TypeError(`Expected \`urls\` to be a non-empty array of URLs, got ${Array.isArray(urls) ? 'an empty array' : typeof urls}`);
  }
  return urls.map((url, index) => {
    const value = expectNonEmptyString(`urls[${index}]`, url);
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw new TypeError(`Expected \`urls[${index}]\` to be an absolute URL, got \`${redactUrl(value)}\``);
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:' && parsed.protocol !== 'file:') {
      throw new TypeError(`Expected \`urls[${index}]\` to be an http(s) or file: URL, got \`${redactUrl(value)}\``);
    }
    return value;
  });
}

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.byteLength; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Makes the rename durable. Some file systems refuse fsync on directories; that is not an error. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

async function removeDirIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined);
}

/**
 * A local file as if served over HTTP (404 when missing), so `file:` sources (a recipe's local
 * tarball, an sdist on a shared disk) go through the same verified, streamed path as downloads.
 */
async function fileResponse(url: string): Promise<Response> {
  const path = fileURLToPath(url);
  try {
    const info = await stat(path);
    if (!info.isFile()) return new Response(null, { status: 404 });
    const body = Readable.toWeb(createReadStream(path)) as ReadableStream<Uint8Array>;
    return new Response(body, { status: 200, headers: { 'content-length': String(info.size) } });
  } catch {
    return new Response(null, { status: 404 });
  }
}
