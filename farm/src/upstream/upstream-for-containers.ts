import { UserInputError } from '../errors.ts';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { startCredentialProxy } from './credential-proxy.ts';
import type { CredentialProxy } from './credential-proxy.ts';
import { hasUrlCredentials } from './split-url-credentials.ts';

export interface UpstreamForContainersOptions {
  /** Discovers the upstream index (pip's configuration or the settings): asked on first use only. */
  upstream: () => Promise<{ url: string; source: string }>;
  /** The host's proxy settings as containers get them: the proxy's address joins their NO_PROXY. */
  proxyEnv: Record<string, string>;
}

/** What tells a container's pip where the upstream index is. */
export type UpstreamEnv = Record<string, string> & { PIP_INDEX_URL: string };

const NO_PROXY_VARIABLES = ['NO_PROXY', 'no_proxy'];

/**
 * How containers reach the upstream index without its credentials ever entering one. An upstream
 * URL without credentials goes in as it is. One with credentials does not: the containers get the
 * URL of a credential proxy (credential-proxy.ts) on the gateway of their engine's bridge network,
 * started on first use (once per gateway) and closed by close(). An engine on another machine is
 * refused: its containers cannot reach that proxy.
 */
export class UpstreamForContainers {
  readonly #upstream: () => Promise<{ url: string; source: string }>;
  readonly #proxyEnv: Record<string, string>;
  readonly #proxies = new Map<string, Promise<CredentialProxy>>();
  readonly #watchers = new Set<(problem: string) => void>();

  constructor({ upstream, proxyEnv }: UpstreamForContainersOptions) {
    this.#upstream = upstream;
    this.#proxyEnv = proxyEnv;
  }

  /** The upstream index itself (its URL may carry credentials: for this machine only), discovered on first use. */
  index(): Promise<{ url: string; source: string }> {
    return this.#upstream();
  }

  /** Throws the UserInputError env() would for this engine, without asking the engine anything. */
  async check(runtime: ContainerRuntime): Promise<void> {
    const upstream = await this.#upstream();
    if (hasUrlCredentials(upstream.url) && !runtime.local) throw remoteEngineRefused(runtime, upstream.source);
  }

  /** PIP_INDEX_URL, and through the proxy PIP_TRUSTED_HOST and NO_PROXY, for containers on `runtime`'s default network. */
  async env(runtime: ContainerRuntime): Promise<UpstreamEnv> {
    const upstream = await this.#upstream();
    if (!hasUrlCredentials(upstream.url)) return { PIP_INDEX_URL: upstream.url };
    if (!runtime.local) throw remoteEngineRefused(runtime, upstream.source);
    const gateway = await runtime.bridgeGateway();
    let proxy = this.#proxies.get(gateway);
    if (proxy === undefined) {
      proxy = startCredentialProxy({
        upstreamUrl: upstream.url,
        host: gateway,
        onProblem: (problem) => {
          for (const watch of this.#watchers) watch(problem);
        },
      });
      this.#proxies.set(gateway, proxy);
      // A proxy that could not start is tried again by the next caller, not remembered as failed.
      proxy.catch(() => this.#proxies.delete(gateway));
    }
    const { indexUrl, trustedHost, host } = await proxy;
    return { PIP_INDEX_URL: indexUrl, PIP_TRUSTED_HOST: trustedHost, ...this.#noProxy(host) };
  }

  /**
   * Calls `watch` with each problem a proxy meets (the upstream refusing the credentials, or not
   * answering) until the returned function is called: how a running step's log learns of them.
   */
  watch(watch: (problem: string) => void): () => void {
    this.#watchers.add(watch);
    return () => this.#watchers.delete(watch);
  }

  /** Stops the proxies; safe to call more than once. */
  async close(): Promise<void> {
    const proxies = [...this.#proxies.values()];
    this.#proxies.clear();
    await Promise.all(
      proxies.map((p) =>
        p.then(
          (proxy) => proxy.close(),
          () => undefined,
        ),
      ),
    );
  }

  /** With an HTTP proxy configured, pip would send the proxy's requests there: the address is exempted. */
  #noProxy(host: string): Record<string, string> {
    const proxied = Object.keys(this.#proxyEnv).some((k) => !NO_PROXY_VARIABLES.includes(k));
    if (!proxied) return {};
    return Object.fromEntries(NO_PROXY_VARIABLES.map((k) => [k, [this.#proxyEnv[k], host].filter(Boolean).join(',')]));
  }
}

function remoteEngineRefused(runtime: ContainerRuntime, source: string): UserInputError {
  const where =
    source === 'settings'
      ? '`upstream.index-url` in the settings file (or WHEELFARM_UPSTREAM_INDEX_URL)'
      : 'the pip configuration (`pip config list`, PIP_INDEX_URL)';
  return new UserInputError(
    'upstream-credentials-remote-engine',
    `the upstream index URL from ${where} carries credentials, and the engine ${runtime.description} runs on another machine: ` +
      "credentials never enter a container, and its containers cannot reach this machine's credential proxy",
    {
      hint:
        'give the farm an upstream index that needs no credentials (a mirror those hosts can read), or build on engines on this machine ' +
        '(`hosts` in the settings file, DOCKER_HOST); see "Where the sdists come from" in README.md',
    },
  );
}
