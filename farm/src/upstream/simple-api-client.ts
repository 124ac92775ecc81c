import { z } from 'zod';
import { TransientError, UserInputError, WheelfarmError } from '../errors.ts';
import { isValidProjectName, normalizeName } from '../wheels/names.ts';
import { discardBody, httpRequest, networkError } from './http-request.ts';
import { redactUrl } from './redact-url.ts';
import { normalizeIndexUrl } from './upstream-index.ts';
import {
  expectIntegerAtLeast,
  expectFiniteNumberAtLeast,
  expectNonEmptyString,
  expectObject,
  expectOptionalSignal,
} from './validate-options.ts';
import { DEFAULT_RETRIES, DEFAULT_RETRY_DELAY_MS, withRetry } from './with-retry.ts';

/** One file of a project as the upstream index lists it. */
export interface UpstreamFile {
  filename: string;
  /** Absolute. Carries the index's credentials when it is on the index's own origin: redact before showing. */
  url: string;
  /** Lower-case hex; absent when the index gives none (or a malformed one). */
  sha256?: string;
  requiresPython?: string;
  /** `false`, `true`, or the reason the file was yanked (PEP 592). */
  yanked: boolean | string;
  size?: number;
}

export interface ProjectFiles {
  /** The project name as the index spells it. */
  name: string;
  files: UpstreamFile[];
}

export interface FetchProjectFilesOptions {
  /** Simple API base URL, e.g. from discoverUpstreamIndex(). May carry credentials. */
  indexUrl: string;
  project: string;
  signal?: AbortSignal | undefined;
  /** Retries after the first try for 429/5xx/network faults. Default 2. */
  retries?: number | undefined;
  /** Delay before the first retry, doubled for each further one. Default 500 ms. */
  retryDelayMs?: number | undefined;
}

export const SIMPLE_JSON_V1 = 'application/vnd.pypi.simple.v1+json';

const simpleProjectPage = z.object({
  meta: z.object({ 'api-version': z.string() }),
  name: z.string().min(1),
  files: z.array(
    z.object({
      filename: z.string().min(1),
      url: z.string().min(1),
      hashes: z.record(z.string(), z.string()),
      'requires-python': z.string().nullish(),
      yanked: z.union([z.boolean(), z.string()]).nullish(),
      size: z.number().int().nonnegative().nullish(),
    }),
  ),
});

type SimpleProjectPage = z.infer<typeof simpleProjectPage>;

/**
 * Lists a project's files through the PEP 691 JSON simple API (`GET <index>/<normalized>/`).
 * 404 -> UserInputError `package-not-found`; 401/403 -> UserInputError `upstream-auth`;
 * 429/5xx/network faults are retried, then TransientError `upstream-unavailable`;
 * anything but PEP 691 JSON -> WheelfarmError `upstream-not-json`.
 */
export async function fetchProjectFiles(options: FetchProjectFilesOptions): Promise<ProjectFiles> {
  expectObject('options', options);
  const indexUrl = normalizeIndexUrl(expectNonEmptyString('indexUrl', options.indexUrl));
  const project = expectNonEmptyString('project', options.project);
  const signal = expectOptionalSignal('signal', options.signal);
  const retries = expectIntegerAtLeast('retries', options.retries ?? DEFAULT_RETRIES, 0);
  const retryDelayMs = expectFiniteNumberAtLeast('retryDelayMs', options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS, 0);
  if (!isValidProjectName(project)) {
    throw new UserInputError('bad-package-name', `\`${project}\` is not a valid Python package name`, {
      hint: 'Package names use ASCII letters, digits, and `-`, `_`, `.` inside, e.g. `markupsafe`.',
    });
  }

  const pageUrl = new URL(`${normalizeName(project)}/`, indexUrl);
  const shownIndex = redactUrl(indexUrl);
  try {
    return await withRetry(() => fetchOnce({ pageUrl, indexUrl, project, shownIndex, signal }), { retries, retryDelayMs, signal });
  } catch (error) {
    if (!(error instanceof TransientError)) throw error;
    throw new TransientError(
      'upstream-unavailable',
      `the upstream index ${shownIndex} is unavailable after ${retries + 1} tries: ${error.message}`,
      { hint: 'Try again later. If it persists, check the network, the proxy and the index URL.', cause: error },
    );
  }
}

interface FetchOnceInput {
  pageUrl: URL;
  indexUrl: string;
  project: string;
  shownIndex: string;
  signal: AbortSignal | undefined;
}

async function fetchOnce(input: FetchOnceInput): Promise<ProjectFiles> {
  const response = await httpRequest({ url: input.pageUrl, accept: SIMPLE_JSON_V1, signal: input.signal });
  if (!response.ok) {
    await discardBody(response);
    throw statusError(response.status, input);
  }
  const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType !== SIMPLE_JSON_V1 && mediaType !== 'application/json') {
    await discardBody(response);
    throw new UserInputError(
      'upstream-not-json',
      `the upstream index ${input.shownIndex} answered with \`${mediaType || 'no content type'}\` instead of PEP 691 JSON`,
      {
        hint: `The index must serve the PEP 691 JSON simple API (\`${SIMPLE_JSON_V1}\`); point \`upstream.index-url\` in the settings file at one that does.`,
      },
    );
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    if (input.signal?.aborted) throw input.signal.reason;
    throw networkError(input.pageUrl, error);
  }
  const page = parsePage(text, input.shownIndex);
  const base = new URL(response.url || input.pageUrl.href);
  return { name: page.name, files: page.files.map((file) => toUpstreamFile(file, base, input.indexUrl, input.shownIndex)) };
}

function statusError(status: number, input: FetchOnceInput): WheelfarmError {
  if (status === 404) {
    return new UserInputError('package-not-found', `package \`${input.project}\` was not found on the upstream index ${input.shownIndex}`, {
      hint: 'Check the spelling of the package name.',
    });
  }
  if (status === 401 || status === 403) {
    return new UserInputError('upstream-auth', `the upstream index ${input.shownIndex} refused access (HTTP ${status})`, {
      hint:
        'Check the credentials of the index URL in the pip configuration (`pip config list`, PIP_INDEX_URL; ' +
        'e.g. `https://user:token@host/simple/`) or in `upstream.index-url` of the settings file.',
    });
  }
  return new WheelfarmError(
    'upstream-error',
    `the upstream index ${input.shownIndex} answered HTTP ${status} for package \`${input.project}\``,
    {
      hint: 'Check the index URL; the index may not support this request.',
    },
  );
}

function parsePage(text: string, shownIndex: string): SimpleProjectPage {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw badResponse(shownIndex, 'the body is not valid JSON', error);
  }
  const result = simpleProjectPage.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw badResponse(shownIndex, `unexpected JSON at \`${issue?.path.join('.') ?? ''}\`: ${issue?.message ?? 'invalid'}`, result.error);
  }
  const major = result.data.meta['api-version'].split('.')[0];
  if (major !== '1') {
    throw new UserInputError(
      'upstream-api-version',
      `the upstream index ${shownIndex} speaks simple API version ${result.data.meta['api-version']}, not 1.x`,
      {
        hint: 'Use an index that serves version 1 of the PEP 691 JSON simple API.',
      },
    );
  }
  return result.data;
}

function badResponse(shownIndex: string, reason: string, cause: unknown): WheelfarmError {
  // A page that is not the JSON simple API: \`upstream.index-url\` points at something else (exit 2).
  return new UserInputError('upstream-not-json', `the upstream index ${shownIndex} sent a malformed PEP 691 page: ${reason}`, {
    hint: 'The index must serve the PEP 691 JSON simple API; check `upstream.index-url` in the settings file.',
    cause,
  });
}

function toUpstreamFile(file: SimpleProjectPage['files'][number], base: URL, indexUrl: string, shownIndex: string): UpstreamFile {
  const result: UpstreamFile = {
    filename: file.filename,
    url: resolveFileUrl(file.url, base, indexUrl, shownIndex),
    yanked: file.yanked === '' ? true : (file.yanked ?? false),
  };
  const sha256 = file.hashes.sha256?.toLowerCase();
  if (sha256 !== undefined && /^[0-9a-f]{64}$/.test(sha256)) result.sha256 = sha256;
  if (typeof file['requires-python'] === 'string' && file['requires-python'].trim() !== '') result.requiresPython = file['requires-python'];
  if (typeof file.size === 'number') result.size = file.size;
  return result;
}

/**
 * Resolves a file URL against the page URL. Like pip, a file on the index's own origin gets the
 * index's credentials, so that downloading it authenticates the same way.
 */
function resolveFileUrl(url: string, base: URL, indexUrl: string, shownIndex: string): string {
  let resolved: URL;
  try {
    resolved = new URL(url, base);
  } catch (error) {
    throw badResponse(shownIndex, `file URL \`${redactUrl(url)}\` is not a URL`, error);
  }
  const index = new URL(indexUrl);
  if (resolved.origin === index.origin && resolved.username === '' && resolved.password === '') {
    resolved.username = index.username;
    resolved.password = index.password;
  }
  return resolved.href;
}
