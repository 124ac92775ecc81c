import { execa } from 'execa';
import { EnvironmentError, UserInputError } from '../errors.ts';
import { redactUrl } from './redact-url.ts';
import { expectObject, expectOptionalNonEmptyString } from './validate-options.ts';

export { redactUrl } from './redact-url.ts';

export type UpstreamIndexSource = 'settings' | 'pip-config' | 'pip-default';

export interface UpstreamIndex {
  /** Base URL of the simple API, always ending with `/`. May carry credentials: show it only through redactUrl. */
  url: string;
  source: UpstreamIndexSource;
}

export interface DiscoverUpstreamIndexOptions {
  /** `upstream.index-url` from the settings file. Wins over everything else. */
  configured?: string | undefined;
  /** Python interpreter whose pip is asked. Default `python3`. */
  python?: string | undefined;
  /** Extra environment for the pip calls (merged over process.env; `undefined` removes a variable). */
  env?: Record<string, string | undefined> | undefined;
}

/** `pip config list` keys that name the index, most specific first (as pip install resolves them). */
const PIP_INDEX_KEYS = [':env:.index-url', 'install.index-url', 'download.index-url', 'global.index-url'] as const;

const PIP_DEFAULT_SNIPPET = 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)';

const PIP_TIMEOUT_MS = 60_000;

const SETTINGS_HINT = 'Set `upstream.index-url` in the settings file to the simple API URL of your package index.';

/**
 * Which package index to take sources from: the farm's settings, else the user's pip configuration
 * (`pip config list`, which includes PIP_INDEX_URL), else pip's own built-in default, asked from pip
 * at run time so that no index host is ever written into the farm.
 */
export async function discoverUpstreamIndex(options: DiscoverUpstreamIndexOptions = {}): Promise<UpstreamIndex> {
  expectObject('options', options);
  const configured = expectOptionalNonEmptyString('configured', options.configured);
  const python = expectOptionalNonEmptyString('python', options.python) ?? 'python3';
  const env = options.env === undefined ? undefined : expectObject('env', options.env);

  if (configured !== undefined) {
    return { url: normalizeIndexUrl(configured, 'settings'), source: 'settings' };
  }
  const fromPipConfig = pickIndexUrl(await runPip(python, ['-m', 'pip', 'config', 'list'], env));
  if (fromPipConfig !== undefined) {
    return { url: normalizeIndexUrl(fromPipConfig, 'pip-config'), source: 'pip-config' };
  }
  const fromPipDefault = (await runPip(python, ['-c', PIP_DEFAULT_SNIPPET], env)).trim();
  return { url: normalizeIndexUrl(fromPipDefault, 'pip-default'), source: 'pip-default' };
}

/** The index URL from `pip config list` output, by PIP_INDEX_KEYS preference; undefined when none is set. */
export function pickIndexUrl(pipConfigList: string): string | undefined {
  const values = parsePipConfigList(pipConfigList);
  for (const key of PIP_INDEX_KEYS) {
    const value = values.get(key)?.trim();
    if (value !== undefined && value !== '') return value;
  }
  return undefined;
}

/** `pip config list` prints `section.key=<python repr of the value>`, one per line. */
export function parsePipConfigList(output: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of output.split(/\r?\n/)) {
    const match = /^([^=\s]+)=(.*)$/.exec(line.trim());
    if (match?.[1] === undefined || match[2] === undefined) continue;
    values.set(match[1], unquotePythonRepr(match[2]));
  }
  return values;
}

function unquotePythonRepr(text: string): string {
  const quote = text[0];
  if ((quote !== "'" && quote !== '"') || text.length < 2 || text.at(-1) !== quote) return text;
  return text.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_match, sequence: string) => {
    switch (sequence[0]) {
      case 'n':
        return '\n';
      case 't':
        return '\t';
      case 'r':
        return '\r';
      case 'x':
      case 'u':
      case 'U':
        return String.fromCodePoint(Number.parseInt(sequence.slice(1), 16));
      default:
        return sequence;
    }
  });
}

async function runPip(python: string, args: string[], env: Record<string, unknown> | undefined): Promise<string> {
  try {
    const result = await execa(python, args, {
      env: { PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', ...(env as Record<string, string | undefined>) },
      timeout: PIP_TIMEOUT_MS,
      stdin: 'ignore',
    });
    return result.stdout;
  } catch (error) {
    const detail = error instanceof Error ? ((error as { shortMessage?: string }).shortMessage ?? error.message) : String(error);
    const stderr = (error as { stderr?: unknown }).stderr;
    const lastLine = typeof stderr === 'string' ? stderr.trim().split('\n').at(-1) : undefined;
    throw new EnvironmentError(
      'pip-unavailable',
      `could not ask pip for the package index (\`${python} ${args.join(' ')}\`): ${redactUrl(lastLine ? `${detail}: ${lastLine}` : detail)}`,
      {
        hint: `${SETTINGS_HINT} Or make \`${python} -m pip\` work (install Python 3 with pip).`,
        cause: error,
      },
    );
  }
}

/** Checks an index URL and makes it end with `/` so that `<url><project>/` is the project page. */
export function normalizeIndexUrl(url: string, source?: UpstreamIndexSource): string {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch (error) {
    throw badIndexUrl(url, source, 'it is not a URL', error);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw badIndexUrl(url, source, `only http and https are supported, not ${parsed.protocol}`);
  }
  parsed.search = '';
  parsed.hash = '';
  if (!parsed.pathname.endsWith('/')) parsed.pathname += '/';
  return parsed.href;
}

function badIndexUrl(url: string, source: UpstreamIndexSource | undefined, reason: string, cause?: unknown): UserInputError {
  const where =
    source === undefined
      ? ''
      : {
          settings: 'the settings file (`upstream.index-url`)',
          'pip-config': 'the pip configuration (see `pip config list`)',
          'pip-default': "pip's built-in default",
        }[source];
  const from = source === undefined ? '' : ` from ${where}`;
  return new UserInputError('bad-index-url', `the package index URL \`${redactUrl(url)}\`${from} is unusable: ${reason}`, {
    hint:
      source === 'settings' || source === undefined
        ? 'Fix `upstream.index-url` in the settings file, e.g. `https://host/simple/`.'
        : SETTINGS_HINT,
    cause,
  });
}
