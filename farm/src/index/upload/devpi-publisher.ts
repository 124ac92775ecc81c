import { UserInputError, WheelfarmError } from '../../errors.ts';
import { discardBody } from '../../upstream/http-request.ts';
import { redactUrl } from '../../upstream/redact-url.ts';
import { splitUrlCredentials } from '../../upstream/split-url-credentials.ts';
import type { IndexPublisher, PublishedFile, PublishOutcome, WheelToPublish } from '../publisher.ts';
import { resolveIndexRetryPolicy } from '../retry-policy.ts';
import type { IndexRetryPolicy } from '../retry-policy.ts';
import { indexRequest, statusError } from './http.ts';
import type { IndexContext, IndexRequest } from './http.ts';
import { listIndexFiles, publishToIndex } from './publish-by-upload.ts';
import type { UploadIndex } from './publish-by-upload.ts';

export interface DevpiPublisherOptions {
  /** The server's root, e.g. `http://127.0.0.1:3141/`. Credentials in it are ignored: pass `user`/`password`. */
  url: string;
  user: string;
  password: string;
  /** The index name under the user: wheels go to `/<user>/<index>/`. */
  index: string;
  /** Create the user (with this password) and a non-volatile index when they do not exist. */
  create?: boolean | undefined;
  signal?: AbortSignal | undefined;
  /** Tries, back-off and timeout of each request (see DEFAULT_INDEX_RETRY_POLICY). */
  retry?: Partial<IndexRetryPolicy> | undefined;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const JSON_HEADERS = { Accept: 'application/json', 'Content-Type': 'application/json' };

/**
 * Publishes to a devpi-server index (https://devpi.net) through its JSON API and upload API: logs in
 * (`POST /+login` -> a token sent as `X-Devpi-Auth`), optionally creates the user and a non-volatile
 * index, and uploads to `/<user>/<index>/`. A non-volatile index refuses to overwrite by itself; this
 * publisher also checks the simple page first and never tries.
 */
export class DevpiPublisher implements IndexPublisher {
  readonly description: string;
  /** It serves pages of its own: yanking and repair are the server's business. */
  readonly maintenance = undefined;
  /** What to pass to pip's `--index-url`. */
  readonly indexUrl: string;
  readonly #root: URL;
  readonly #indexPath: URL;
  readonly #user: string;
  readonly #password: string;
  readonly #index: string;
  readonly #create: boolean;
  readonly #context: IndexContext;
  readonly #uploadIndex: UploadIndex;
  readonly #signal: AbortSignal | undefined;
  #session: Promise<Record<string, string>> | undefined;

  constructor(options: DevpiPublisherOptions) {
    if (typeof options?.url !== 'string' || options.url.trim() === '') {
      throw new UserInputError('bad-index-url', 'the devpi publisher needs the server URL (`url`), got none', {
        hint: 'Set it, e.g. `devpi+http://user:password@127.0.0.1:3141/user/index`.',
      });
    }
    for (const [key, value] of [
      ['user', options.user],
      ['index', options.index],
    ] as const) {
      if (typeof value !== 'string' || !NAME.test(value)) {
        throw new UserInputError('bad-devpi-setting', `the devpi publisher needs a ${key} name, got \`${String(value)}\``, {
          hint: 'Give the index as `/<user>/<index>` in the URL, e.g. `devpi+http://user:password@127.0.0.1:3141/user/index`.',
        });
      }
    }
    if (typeof options.password !== 'string') {
      throw new UserInputError('bad-devpi-setting', 'the devpi publisher needs a password', {
        hint: 'Put it in the URL (`devpi+http://user:password@host:3141/user/index`) or the publisher settings.',
      });
    }
    let root: URL;
    try {
      root = splitUrlCredentials(options.url).url;
    } catch (error) {
      throw new UserInputError('bad-index-url', `\`${redactUrl(options.url)}\` is not a URL`, {
        hint: 'Give an http(s) URL of the devpi server.',
        cause: error,
      });
    }
    root.search = '';
    root.hash = '';
    root.pathname = root.pathname.replace(/\/?$/, '/');
    this.#root = root;
    this.#user = options.user;
    this.#password = options.password;
    this.#index = options.index;
    this.#create = options.create === true;
    this.#signal = options.signal;
    this.#indexPath = new URL(`${encodeURIComponent(this.#user)}/${encodeURIComponent(this.#index)}/`, root);
    this.indexUrl = new URL('+simple/', this.#indexPath).href;
    this.description = `devpi index ${this.#indexPath.href} (pip install --index-url ${this.indexUrl})`;
    this.#context = {
      retry: resolveIndexRetryPolicy(options.retry),
      shown: `devpi index ${this.#indexPath.href}`,
      credentialsHint:
        `Check the devpi user \`${this.#user}\` and its password (in the URL \`devpi+http://user:password@host:port/user/index\` or the publisher settings), ` +
        'and that the user may upload to the index (its `acl_upload`).',
    };
    this.#uploadIndex = {
      simpleUrl: this.indexUrl,
      uploadUrl: this.#indexPath,
      readHeaders: {},
      context: this.#context,
      signal: this.#signal,
    };
  }

  async publish(wheel: WheelToPublish): Promise<PublishOutcome> {
    const headers = await this.#login();
    return publishToIndex(wheel, this.#uploadIndex, headers);
  }

  /** The server keeps its own metadata: a wheel there is resolved again when its dependencies are asked for. */
  async coreMetadata(): Promise<string | undefined> {
    return undefined;
  }

  listFiles(project: string): Promise<PublishedFile[]> {
    return listIndexFiles(this.#uploadIndex, project);
  }

  /** Logs in once per publisher (creating user and index first when asked) and returns the auth header. */
  #login(): Promise<Record<string, string>> {
    this.#session ??= this.#startSession().catch((error: unknown) => {
      this.#session = undefined;
      throw error;
    });
    return this.#session;
  }

  async #startSession(): Promise<Record<string, string>> {
    let token = await this.#requestToken(!this.#create);
    if (token === undefined) {
      await this.#createUser();
      token = await this.#requestToken(true);
    }
    const headers = { 'X-Devpi-Auth': Buffer.from(`${this.#user}:${token ?? ''}`, 'utf8').toString('base64') };
    await this.#ensureIndex(headers);
    return headers;
  }

  /** The login token, or undefined when the login was refused and `failHard` is false. */
  async #requestToken(failHard: boolean): Promise<string | undefined> {
    const request: IndexRequest = {
      method: 'POST',
      url: new URL('+login', this.#root),
      headers: JSON_HEADERS,
      body: JSON.stringify({ user: this.#user, password: this.#password }),
      signal: this.#signal,
    };
    const response = await indexRequest(request, this.#context);
    if ((response.status === 401 || response.status === 403) && !failHard) {
      await discardBody(response);
      return undefined;
    }
    if (!response.ok) throw await statusError(response, request, this.#context);
    const body = (await response.json().catch(() => undefined)) as { result?: { password?: unknown } } | undefined;
    const token = body?.result?.password;
    if (typeof token !== 'string') {
      throw new WheelfarmError('devpi-bad-login', `the devpi server at ${this.#root.href} answered the login without a token`, {
        hint: 'Check that the URL points at a devpi-server (its root, not an index).',
      });
    }
    return token;
  }

  async #createUser(): Promise<void> {
    const request: IndexRequest = {
      method: 'PUT',
      url: new URL(encodeURIComponent(this.#user), this.#root),
      headers: JSON_HEADERS,
      body: JSON.stringify({ password: this.#password }),
      signal: this.#signal,
    };
    const response = await indexRequest(request, this.#context);
    // 409: the user exists, so the login failed for its password: the retried login reports that.
    if (response.ok || response.status === 409) {
      await discardBody(response);
      return;
    }
    throw await statusError(response, request, this.#context);
  }

  async #ensureIndex(headers: Record<string, string>): Promise<void> {
    const get: IndexRequest = { url: this.#indexPath, headers: { ...headers, Accept: 'application/json' }, signal: this.#signal };
    const existing = await indexRequest(get, this.#context);
    if (existing.ok) {
      await discardBody(existing);
      return;
    }
    if (existing.status !== 404) throw await statusError(existing, get, this.#context);
    await discardBody(existing);
    if (!this.#create) {
      throw new UserInputError('devpi-index-missing', `the devpi index ${this.#indexPath.href} does not exist`, {
        hint: `Create it (\`devpi index -c ${this.#user}/${this.#index} volatile=False\`) or let the publisher create it (\`create: true\`).`,
      });
    }
    const put: IndexRequest = {
      method: 'PUT',
      url: this.#indexPath,
      headers: { ...headers, ...JSON_HEADERS },
      body: JSON.stringify({ type: 'stage', bases: [], volatile: false }),
      signal: this.#signal,
    };
    const created = await indexRequest(put, this.#context);
    if (created.ok || created.status === 409) {
      await discardBody(created);
      return;
    }
    throw await statusError(created, put, this.#context);
  }
}
