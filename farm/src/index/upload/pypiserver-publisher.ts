import { UserInputError } from '../../errors.ts';
import { redactUrl } from '../../upstream/redact-url.ts';
import { splitUrlCredentials } from '../../upstream/split-url-credentials.ts';
import type { IndexPublisher, PublishedFile, PublishOutcome, WheelToPublish } from '../publisher.ts';
import { resolveIndexRetryPolicy } from '../retry-policy.ts';
import type { IndexRetryPolicy } from '../retry-policy.ts';
import { basicAuthorization } from './http.ts';
import type { IndexContext } from './http.ts';
import { listIndexFiles, publishToIndex } from './publish-by-upload.ts';
import type { UploadIndex } from './publish-by-upload.ts';

export interface PypiserverPublisherOptions {
  /** The server's root, e.g. `http://127.0.0.1:8080/` (a trailing `simple/` is dropped). May carry `user:password@`. */
  url: string;
  /** Overrides the URL's user name. */
  user?: string | undefined;
  password?: string | undefined;
  signal?: AbortSignal | undefined;
  /** Tries, back-off and timeout of each request (see DEFAULT_INDEX_RETRY_POLICY). */
  retry?: Partial<IndexRetryPolicy> | undefined;
}

/**
 * Publishes to a pypiserver (https://github.com/pypiserver/pypiserver) through its upload API. Needs a
 * server that does not overwrite (no `--overwrite`), serves sha256 hashes (the default), and, to keep
 * unknown projects from redirecting to PyPI, ideally runs with `--disable-fallback` (a redirect is
 * read as "no files" anyway).
 */
export class PypiserverPublisher implements IndexPublisher {
  readonly description: string;
  /** It serves pages of its own: yanking and repair are the server's business. */
  readonly maintenance = undefined;
  /** What to pass to pip's `--index-url` (without credentials). */
  readonly indexUrl: string;
  readonly #headers: Record<string, string>;
  readonly #context: IndexContext;
  readonly #uploadIndex: UploadIndex;
  readonly #signal: AbortSignal | undefined;

  constructor(options: PypiserverPublisherOptions) {
    if (typeof options?.url !== 'string' || options.url.trim() === '') {
      throw new UserInputError('bad-index-url', 'the pypiserver publisher needs the server URL (`url`), got none', {
        hint: 'Set it, e.g. `pypiserver+http://user:password@127.0.0.1:8080/`.',
      });
    }
    let split: ReturnType<typeof splitUrlCredentials>;
    try {
      split = splitUrlCredentials(options.url);
    } catch (error) {
      throw new UserInputError('bad-index-url', `\`${redactUrl(options.url)}\` is not a URL`, {
        hint: 'Give an http(s) URL of the pypiserver.',
        cause: error,
      });
    }
    const root = split.url;
    root.search = '';
    root.hash = '';
    root.pathname = root.pathname.replace(/\/simple\/?$/, '/').replace(/\/?$/, '/');
    const given = new URL(options.url);
    const user = options.user ?? decodeURIComponent(given.username);
    const password = options.password ?? decodeURIComponent(given.password);
    this.#headers = user !== '' || password !== '' ? { Authorization: basicAuthorization(user, password) } : {};
    this.indexUrl = new URL('simple/', root).href;
    this.description = `pypiserver at ${root.href} (pip install --index-url ${this.indexUrl})`;
    this.#context = {
      retry: resolveIndexRetryPolicy(options.retry),
      shown: `pypiserver at ${root.href}`,
      credentialsHint:
        'Check the upload user and password: in the index URL (`pypiserver+http://user:password@host:port/`) or the publisher settings; ' +
        'they must match an entry of the htpasswd file the server runs with (`pypi-server run -P FILE -a update`).',
    };
    this.#signal = options.signal;
    this.#uploadIndex = {
      simpleUrl: this.indexUrl,
      uploadUrl: root,
      readHeaders: this.#headers,
      context: this.#context,
      signal: this.#signal,
    };
  }

  publish(wheel: WheelToPublish): Promise<PublishOutcome> {
    return publishToIndex(wheel, this.#uploadIndex, this.#headers);
  }

  /** The server keeps its own metadata: a wheel there is resolved again when its dependencies are asked for. */
  async coreMetadata(): Promise<string | undefined> {
    return undefined;
  }

  listFiles(project: string): Promise<PublishedFile[]> {
    return listIndexFiles(this.#uploadIndex, project);
  }
}
