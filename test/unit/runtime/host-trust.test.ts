import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { CONTAINER_CA_PATH, findHostCaBundle, proxyEnv, trustEnv } from '../../../farm/src/runtime/host-trust.ts';

const WELL_KNOWN = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

let dir: string;
let bundle: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wheelfarm-trust-'));
  bundle = join(dir, 'corp-ca.pem');
  await writeFile(bundle, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('findHostCaBundle', () => {
  it('auto: the file SSL_CERT_FILE names comes first', () => {
    expect(findHostCaBundle('auto', { SSL_CERT_FILE: bundle })).toBe(bundle);
  });

  it('auto: an SSL_CERT_FILE that does not exist is passed over', () => {
    const found = findHostCaBundle('auto', { SSL_CERT_FILE: join(dir, 'missing.pem') });
    expect(found).not.toBe(join(dir, 'missing.pem'));
    if (found !== undefined) expect(WELL_KNOWN).toContain(found);
  });

  it('auto: an SSL_CERT_FILE that is a directory is passed over', async () => {
    const sub = join(dir, 'certs');
    await mkdir(sub);
    const found = findHostCaBundle('auto', { SSL_CERT_FILE: sub });
    expect(found).not.toBe(sub);
  });

  it('auto without SSL_CERT_FILE: a well-known bundle of the host, or none', () => {
    const found = findHostCaBundle('auto', {});
    if (found !== undefined) expect(WELL_KNOWN).toContain(found);
  });

  it('false: never a bundle, even with SSL_CERT_FILE set', () => {
    expect(findHostCaBundle(false, { SSL_CERT_FILE: bundle })).toBeUndefined();
  });

  it('a path: that path, whatever SSL_CERT_FILE says', () => {
    expect(findHostCaBundle(bundle, { SSL_CERT_FILE: '/somewhere/else.pem' })).toBe(bundle);
  });

  it('a path that does not exist: UserInputError bad-ca-bundle naming it', () => {
    const missing = join(dir, 'nope.pem');
    let error: unknown;
    try {
      findHostCaBundle(missing, {});
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).code).toBe('bad-ca-bundle');
    expect((error as UserInputError).message).toContain(missing);
    expect((error as UserInputError).hint).toMatch(/auto/);
  });

  it('a path that is a directory: bad-ca-bundle', () => {
    expect(() => findHostCaBundle(dir, {})).toThrow(expect.objectContaining({ code: 'bad-ca-bundle' }));
  });
});

describe('trustEnv', () => {
  it('points every TLS client at the bundle inside the container', () => {
    const env = trustEnv('/host/ca.pem');
    expect(Object.keys(env).sort()).toEqual(
      [
        'CARGO_HTTP_CAINFO',
        'CURL_CA_BUNDLE',
        'GIT_SSL_CAINFO',
        'NODE_EXTRA_CA_CERTS',
        'PIP_CERT',
        'REQUESTS_CA_BUNDLE',
        'SSL_CERT_FILE',
      ].sort(),
    );
    for (const value of Object.values(env)) expect(value).toBe(CONTAINER_CA_PATH);
  });

  it('uses the container path, never the host path', () => {
    expect(Object.values(trustEnv('/host/ca.pem'))).not.toContain('/host/ca.pem');
    expect(CONTAINER_CA_PATH).toBe('/work/.wheelfarm/host-ca.crt');
  });

  it('is empty without a bundle', () => {
    expect(trustEnv(undefined)).toEqual({});
    expect(trustEnv('')).toEqual({});
  });
});

describe('proxyEnv', () => {
  it('passes the proxy variables that are set, unchanged', () => {
    const env = {
      HTTP_PROXY: 'http://proxy.example:3128',
      https_proxy: 'http://user:pw@proxy.example:3128',
      NO_PROXY: 'localhost,.internal',
      PATH: '/usr/bin',
      HOME: '/root',
      SSL_CERT_FILE: '/x.pem',
      FTP_PROXY: 'http://ftp-proxy.example',
    };
    expect(proxyEnv(env)).toEqual({
      HTTP_PROXY: 'http://proxy.example:3128',
      https_proxy: 'http://user:pw@proxy.example:3128',
      NO_PROXY: 'localhost,.internal',
    });
  });

  it('passes all eight spellings', () => {
    const names = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy'];
    const env = Object.fromEntries(names.map((name) => [name, `value-of-${name}`]));
    expect(proxyEnv(env)).toEqual(env);
  });

  it('leaves out variables that are empty or unset', () => {
    expect(proxyEnv({ HTTP_PROXY: '', https_proxy: undefined })).toEqual({});
    expect(proxyEnv({})).toEqual({});
  });
});
