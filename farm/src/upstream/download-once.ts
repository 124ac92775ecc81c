import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { EnvironmentError, IntegrityError, WheelfarmError } from '../errors.ts';
import type { DownloadProgress } from './content-cache.ts';
import { discardBody, httpRequest, networkError } from './http-request.ts';
import { redactUrl } from './redact-url.ts';

// One try at one URL into the content cache's folder; content-cache.ts chooses the URLs and retries.

/** Keeps `.<filename>.<random>.part` within the usual 255-byte file name limit. */
const TEMP_NAME_STEM_MAX = 200;

export interface DownloadInput {
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
export async function downloadOnce(input: DownloadInput): Promise<void> {
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

async function writeAll(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  for (let offset = 0; offset < chunk.byteLength; ) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
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

export function tempPrefix(filename: string): string {
  return `.${filename.slice(0, TEMP_NAME_STEM_MAX)}.`;
}
