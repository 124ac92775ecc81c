import { accessSync, constants, statSync } from 'node:fs';
import { UserInputError } from '../errors.ts';

/** Where the host's CA bundle is put inside containers. */
/** In the cell's work volume: the root filesystem of a build container is read-only. */
export const CONTAINER_CA_PATH = '/work/.wheelfarm/host-ca.crt';

const WELL_KNOWN_BUNDLES = ['/etc/ssl/certs/ca-certificates.crt', '/etc/pki/tls/certs/ca-bundle.crt', '/etc/ssl/cert.pem'];

/**
 * The host's CA bundle, for builds behind TLS-intercepting proxies: with `auto`, the bundle
 * SSL_CERT_FILE names, else the distribution's; `false` disables it; a path must exist.
 */
export function findHostCaBundle(setting: 'auto' | false | string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (setting === false) return undefined;
  if (setting !== 'auto') {
    if (!isReadableFile(setting)) {
      throw new UserInputError('bad-ca-bundle', `containers.trust-host-ca names ${setting}, which is not a readable file`, {
        hint: 'point it at a PEM bundle, or set it to `auto` or `false` in wheelfarm.yaml',
      });
    }
    return setting;
  }
  return [env.SSL_CERT_FILE, ...WELL_KNOWN_BUNDLES].find((path): path is string => !!path && isReadableFile(path));
}

/** Environment that makes pip, requests, curl, cargo, git and OpenSSL in a container trust it. */
export function trustEnv(caPath: string | undefined): Record<string, string> {
  if (!caPath) return {};
  return Object.fromEntries(
    ['SSL_CERT_FILE', 'PIP_CERT', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'CARGO_HTTP_CAINFO', 'GIT_SSL_CAINFO', 'NODE_EXTRA_CA_CERTS'].map(
      (k) => [k, CONTAINER_CA_PATH],
    ),
  );
}

/** What containers and image builds get of the host: its CA bundle (copied in) and its proxy settings. */
export interface HostTrust {
  caPath: string | undefined;
  proxyEnv: Record<string, string>;
}

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy'];

/** The host's proxy settings, passed through to containers and image builds unchanged. */
export function proxyEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  return Object.fromEntries(PROXY_VARIABLES.filter((k) => env[k]).map((k) => [k, env[k]!]));
}

function isReadableFile(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
