import { mkdir, readdir, rm, rmdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IntegrityError, TransientError, WheelfarmError } from '../errors.ts';
import { redactUrl } from './redact-url.ts';
import {
  expectFiniteNumberAtLeast,
  expectIntegerAtLeast,
  expectNonEmptyString,
  expectObject,
  expectOptionalFunction,
  expectOptionalSignal,
} from './validate-options.ts';
import { downloadOnce, tempPrefix } from './download-once.ts';
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

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function removeDirIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch(() => undefined);
}
