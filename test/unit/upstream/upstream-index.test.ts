import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { devNull, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError, UserInputError, WheelfarmError } from '../../../farm/src/errors.ts';
import { discoverUpstreamIndex, parsePipConfigList, pickIndexUrl, redactUrl } from '../../../farm/src/upstream/upstream-index.ts';

/** Keeps the user's own pip configuration and PIP_INDEX_URL out of the pip calls. */
const HERMETIC = { PIP_CONFIG_FILE: devNull, PIP_INDEX_URL: undefined } as const;

async function rejection(promise: Promise<unknown>): Promise<WheelfarmError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(WheelfarmError);
  return error as WheelfarmError;
}

describe('discoverUpstreamIndex', () => {
  it('takes the configured URL first, adding the trailing slash, without asking pip', async () => {
    const index = await discoverUpstreamIndex({ configured: 'https://packages.internal.test/simple', python: '/nonexistent/python3' });
    expect(index).toEqual({ url: 'https://packages.internal.test/simple/', source: 'settings' });
  });

  it('rejects a configured URL that is not http(s), naming the settings key', async () => {
    const error = await rejection(discoverUpstreamIndex({ configured: 'ftp://user:pw@mirror.internal.test/simple/' }));
    expect(error).toBeInstanceOf(UserInputError);
    expect(error.code).toBe('bad-index-url');
    expect(error.message).toContain('upstream.index-url');
    expect(error.message).not.toContain(':pw@');
  });

  it('takes PIP_INDEX_URL through `pip config list`', async () => {
    const index = await discoverUpstreamIndex({
      env: { ...HERMETIC, PIP_INDEX_URL: 'http://me:tok@127.0.0.1:9/custom/simple' },
    });
    expect(index).toEqual({ url: 'http://me:tok@127.0.0.1:9/custom/simple/', source: 'pip-config' });
  });

  it('prefers install.index-url over global.index-url in a pip configuration file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wheelfarm-pipconf-'));
    try {
      const file = join(dir, 'pip.conf');
      await writeFile(
        file,
        "[global]\nindex-url = http://127.0.0.1:9/global/simple/\n[install]\nindex-url = http://127.0.0.1:9/install/it's/\n",
      );
      const index = await discoverUpstreamIndex({ env: { ...HERMETIC, PIP_CONFIG_FILE: file } });
      expect(index).toEqual({ url: "http://127.0.0.1:9/install/it's/", source: 'pip-config' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("falls back to pip's built-in default: an https URL ending with /", async () => {
    const index = await discoverUpstreamIndex({ env: HERMETIC });
    expect(index.source).toBe('pip-default');
    expect(new URL(index.url).protocol).toBe('https:');
    expect(index.url.endsWith('/')).toBe(true);
  });

  it('reports a missing Python as EnvironmentError with a hint to configure the index', async () => {
    const error = await rejection(discoverUpstreamIndex({ python: '/nonexistent/python3', env: HERMETIC }));
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error.code).toBe('pip-unavailable');
    expect(error.hint).toContain('upstream.index-url');
  });

  it('validates its options up front', async () => {
    await expect(discoverUpstreamIndex({ python: '' })).rejects.toThrow('Expected `python` to be a non-empty string, got `` (string)');
  });
});

describe('pip config list parsing', () => {
  const output = [
    "global.index-url='http://127.0.0.1:9/global/'",
    ":env:.index-url='http://127.0.0.1:9/env/'",
    'download.index-url="http://127.0.0.1:9/it\'s/"',
    "global.cert='/etc/ssl/certs/ca-certificates.crt'",
    "install.index-url='http://127.0.0.1:9/back\\\\slash/'",
  ].join('\n');

  it('unquotes Python repr values', () => {
    const values = parsePipConfigList(output);
    expect(values.get('download.index-url')).toBe("http://127.0.0.1:9/it's/");
    expect(values.get('install.index-url')).toBe('http://127.0.0.1:9/back\\slash/');
    expect(values.get('global.cert')).toBe('/etc/ssl/certs/ca-certificates.crt');
  });

  it('picks :env: over install over download over global', () => {
    expect(pickIndexUrl(output)).toBe('http://127.0.0.1:9/env/');
    expect(pickIndexUrl(output.replace(':env:.index-url', ':env:.other'))).toBe('http://127.0.0.1:9/back\\slash/');
    expect(pickIndexUrl("global.index-url='http://127.0.0.1:9/global/'\ndownload.index-url='http://127.0.0.1:9/dl/'")).toBe(
      'http://127.0.0.1:9/dl/',
    );
    expect(pickIndexUrl("global.cert='/x'")).toBeUndefined();
  });
});

describe('redactUrl', () => {
  it('hides passwords and lone tokens', () => {
    expect(redactUrl('https://user:secret@packages.internal.test/simple/')).toBe('https://user:***@packages.internal.test/simple/');
    expect(redactUrl('https://token123@packages.internal.test/simple/')).toBe('https://***@packages.internal.test/simple/');
    expect(redactUrl('https://packages.internal.test/simple/')).toBe('https://packages.internal.test/simple/');
    expect(redactUrl('see //user:secret@host here')).toBe('see //***@host here');
  });
});
