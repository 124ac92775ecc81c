import { openAsBlob } from 'node:fs';
import { TransientError } from '../../errors.ts';
import { discardBody } from '../../upstream/http-request.ts';
import { parseWheelFilename } from '../../wheels/wheel-filename.ts';
import { retryIndexRequest } from '../retry-policy.ts';
import { bodySnippet, errorForStatus, sendIndexRequest, statusError, wasRefused } from './http.ts';
import type { IndexContext, IndexRequest } from './http.ts';

export interface LegacyUploadInput {
  /** Where to POST, e.g. `http://host/` (pypiserver) or `http://host/user/index/` (devpi). No credentials. */
  uploadUrl: URL;
  /** Authorization and the like. */
  headers: Record<string, string>;
  path: string;
  filename: string;
  sha256: string;
  /** The project name as the metadata gives it. */
  name: string;
  requiresPython?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** `exists`: the server refused because a file of that name is already there (409, or 400 saying so). */
export type LegacyUploadResult = 'uploaded' | 'exists';

/**
 * Uploads one wheel through the legacy upload API (the one twine speaks, `:action=file_upload`), which
 * pypiserver, devpi and warehouse accept: a multipart POST of the core metadata fields and the wheel
 * as `content`, streamed from disk. 401/403 -> UserInputError `index-auth`; 408/429/5xx and network
 * faults are tried again as `context.retry` says, then -> IndexUnavailableError; any other refusal
 * -> WheelfarmError `index-error`.
 */
export async function legacyUpload(input: LegacyUploadInput, context: IndexContext): Promise<LegacyUploadResult> {
  const parts = parseWheelFilename(input.filename);
  const form = new FormData();
  const fields: [string, string][] = [
    [':action', 'file_upload'],
    ['protocol_version', '1'],
    ['metadata_version', '2.1'],
    ['name', input.name],
    ['version', parts.version],
    ['filetype', 'bdist_wheel'],
    ['pyversion', parts.pythonTags.join('.')],
    ['sha256_digest', input.sha256],
  ];
  if (input.requiresPython) fields.push(['requires_python', input.requiresPython]);
  for (const [key, value] of fields) form.append(key, value);
  // Lazily read: the wheel streams from disk instead of being held in memory.
  const blob = await openAsBlob(input.path, { type: 'application/octet-stream' });
  form.append('content', blob, input.filename);

  // No timeout of ours: the upload's length grows with the wheel (see IndexRequest.timed).
  const request: IndexRequest = {
    method: 'POST',
    url: input.uploadUrl,
    headers: input.headers,
    body: form,
    signal: input.signal,
    timed: false,
  };
  // A try that failed once the server may have had the wheel (its answer lost): a later `exists`
  // is then most likely that very upload, not someone else's.
  let mayHaveLanded = false;
  const result = await retryIndexRequest(
    async () => {
      try {
        return await uploadOnce(request, input, context);
      } catch (error) {
        if (error instanceof TransientError && !wasRefused(error)) mayHaveLanded = true;
        throw error;
      }
    },
    { policy: context.retry, signal: input.signal },
  );
  return result === 'exists' && mayHaveLanded ? 'uploaded' : result;
}

/** One try; the FormData is encoded afresh by each fetch, the wheel read again from disk. */
async function uploadOnce(request: IndexRequest, input: LegacyUploadInput, context: IndexContext): Promise<LegacyUploadResult> {
  let response: Response;
  try {
    response = await sendIndexRequest(request, context);
  } catch (error) {
    throw await explainCutUpload(error, input, context);
  }
  if (response.ok) {
    await discardBody(response);
    return 'uploaded';
  }
  if (response.status === 409) {
    await discardBody(response);
    return 'exists';
  }
  if (response.status === 400) {
    const detail = await bodySnippet(response);
    if (/already exist|file exists|duplicate|overwrite/i.test(detail)) return 'exists';
    throw errorForStatus(400, detail, request, context);
  }
  throw await statusError(response, request, context);
}

/**
 * A server that refuses the credentials may answer (and close) before reading the body, so the upload
 * fails as a cut connection. A small upload without the wheel then tells a refusal from a real fault.
 */
async function explainCutUpload(error: unknown, input: LegacyUploadInput, context: IndexContext): Promise<unknown> {
  if (!(error instanceof TransientError) || error.code !== 'index-connection-failed' || wasRefused(error)) return error;
  const probe = new FormData();
  probe.append(':action', 'file_upload');
  probe.append('protocol_version', '1');
  const request = { method: 'POST', url: input.uploadUrl, headers: input.headers, body: probe, signal: input.signal };
  // The probe itself may be cut the same way (a server closing with unread bytes resets the connection).
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const response = await sendIndexRequest(request, context);
      if (response.status === 401 || response.status === 403) return await statusError(response, request, context);
      await discardBody(response);
      return error;
    } catch {
      // Try again; after the last try the first error says what happened.
    }
  }
  return error;
}
