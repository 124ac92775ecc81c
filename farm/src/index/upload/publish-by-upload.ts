import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { normalizeProject, verifyWheel } from '../validate-wheel.ts';
import { IntegrityError, WheelfarmError } from '../../errors.ts';
import { publishConflict } from '../publish-conflict.ts';
import type { PublishedFile, PublishOutcome, WheelToPublish } from '../publisher.ts';
import type { IndexContext } from './http.ts';
import { legacyUpload } from './legacy-upload.ts';
import type { LegacyUploadResult } from './legacy-upload.ts';
import { headSize, readSimpleProject } from './read-simple-index.ts';
import type { IndexFile } from './read-simple-index.ts';

/** One index that takes uploads (devpi, pypiserver): where pip reads it, where uploads go. */
export interface UploadIndex {
  /** The simple index root pip reads (`…/simple/`, `…/+simple/`); a project's page is `<root><name>/`. */
  simpleUrl: string;
  uploadUrl: URL;
  /** Headers for reading pages; uploads may need more (devpi logs in). */
  readHeaders: Record<string, string>;
  context: IndexContext;
  signal: AbortSignal | undefined;
}

/** Publish to an upload index under the shared rule of publishByUpload. */
export function publishToIndex(wheel: WheelToPublish, index: UploadIndex, uploadHeaders: Record<string, string>): Promise<PublishOutcome> {
  return publishByUpload(wheel, {
    shown: index.context.shown,
    list: (normalized) => readProjectPage(index, normalized),
    sizeOf: async (file) => file.size ?? headSize(file.url, index.readHeaders, index.context, index.signal),
    upload: (request) =>
      legacyUpload(
        {
          uploadUrl: index.uploadUrl,
          headers: uploadHeaders,
          path: request.path,
          filename: request.filename,
          sha256: request.sha256,
          name: request.project,
          requiresPython: request.requiresPython,
          signal: index.signal,
        },
        index.context,
      ),
  });
}

/** The files an upload index lists for a project, sizes from HEAD where the page gives none. */
export async function listIndexFiles(index: UploadIndex, project: string): Promise<PublishedFile[]> {
  const files = await readProjectPage(index, normalizeProject(project));
  const sizes = await Promise.all(files.map((file) => file.size ?? headSize(file.url, index.readHeaders, index.context, index.signal)));
  return toPublishedFiles(files, sizes);
}

function readProjectPage(index: UploadIndex, normalized: string): Promise<IndexFile[]> {
  return readSimpleProject(new URL(`${normalized}/`, index.simpleUrl), index.readHeaders, index.context, index.signal);
}

export interface UploadBackend {
  /** For messages, e.g. `pypiserver at http://127.0.0.1:8080/`. */
  shown: string;
  /** The files the index lists for a (normalized) project. */
  list(normalized: string): Promise<IndexFile[]>;
  /** The size of a listed file, undefined when the server does not say. */
  sizeOf(file: IndexFile): Promise<number | undefined>;
  upload(wheel: WheelToPublish & { sha256: string }): Promise<LegacyUploadResult>;
}

/**
 * The publish rule shared by the uploading publishers: a filename the index already lists is settled
 * by its sha256 (same -> `unchanged`, other -> PublishConflictError; never overwritten), anything
 * else is uploaded, and the index is read back to check it now serves these bytes.
 */
async function publishByUpload(wheel: WheelToPublish, backend: UploadBackend): Promise<PublishOutcome> {
  const { normalized, sha256 } = await verifyWheel(wheel);
  const request = { ...wheel, sha256 };
  const existing = (await backend.list(normalized)).find((file) => file.filename === wheel.filename);
  if (existing) return settleExisting(existing, request, backend);
  const result = await backend.upload(request);
  const listed = (await backend.list(normalized)).find((file) => file.filename === wheel.filename);
  if (!listed) {
    throw new WheelfarmError(
      'index-not-listing',
      `the ${backend.shown} accepted ${wheel.filename} but does not list it on its simple page`,
      {
        hint: 'Check that the index URL points at the index pip installs from (for devpi: /<user>/<index>).',
      },
    );
  }
  // Someone else's upload of the same filename won the race: settle as if it had been there before.
  const outcome = await settleExisting(listed, request, backend);
  return result === 'exists' ? outcome : 'published';
}

async function settleExisting(
  existing: IndexFile,
  wheel: WheelToPublish & { sha256: string },
  backend: UploadBackend,
): Promise<PublishOutcome> {
  if (existing.sha256 === undefined) {
    throw new WheelfarmError(
      'index-no-hash',
      `the ${backend.shown} lists ${wheel.filename} without a sha256, so it cannot tell whether it holds these bytes`,
      {
        hint: 'Configure the index to publish sha256 hashes in its simple pages (pypiserver: `--hash-algo sha256`).',
      },
    );
  }
  if (existing.sha256 !== wheel.sha256) {
    await assertNotTruncatedCopy({ ...existing, sha256: existing.sha256 }, wheel, backend);
    throw publishConflict({ filename: wheel.filename, published: existing.sha256, wanted: wheel.sha256, on: backend.shown });
  }
  return 'unchanged';
}

function toPublishedFiles(files: IndexFile[], sizes: (number | undefined)[]): PublishedFile[] {
  return files.map((file, index) => ({
    filename: file.filename,
    sha256: file.sha256 ?? '',
    size: file.size ?? sizes[index] ?? 0,
    ...(file.requiresPython ? { requiresPython: file.requiresPython } : {}),
  }));
}

/**
 * pypiserver stores whatever arrived of an upload that broke off, under the wheel's name. Such a file
 * is the start of our wheel: if the listed file is a proper prefix of it, say so rather than call it
 * a conflict, since the way out is to delete it on the server, not to give the wheel a new name.
 */
async function assertNotTruncatedCopy(
  existing: IndexFile & { sha256: string },
  wheel: WheelToPublish,
  backend: UploadBackend,
): Promise<void> {
  const size = await backend.sizeOf(existing);
  const full = (await stat(wheel.path)).size;
  if (size === undefined || size <= 0 || size >= full || (await sha256OfPrefix(wheel.path, size)) !== existing.sha256) return;
  throw new IntegrityError(
    'index-partial-upload',
    `the ${backend.shown} serves a truncated ${wheel.filename}: the first ${size} of its ${full} bytes, left by an upload that broke off`,
    {
      hint: `The server kept what arrived of a cut upload, and installing it fails. Delete that file on the server (pypiserver: from its package directory, ${existing.url}), then publish again.`,
    },
  );
}

async function sha256OfPrefix(path: string, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1 }) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest('hex');
}
