import { Memo } from '../pipeline/memo.ts';
import type { ProjectFiles } from '../upstream/simple-api-client.ts';
import { redactUrl } from '../upstream/redact-url.ts';
import { fetchProjectFiles } from '../upstream/simple-api-client.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';

/** Each project's upstream page fetched once per run, on this machine (with the upstream's credentials). */
export class UpstreamProjects {
  readonly #upstream: Pick<UpstreamForContainers, 'index'>;
  readonly #signal: AbortSignal;
  readonly #pages = new Memo<ProjectFiles>();

  constructor({ upstream, signal }: { upstream: Pick<UpstreamForContainers, 'index'>; signal: AbortSignal }) {
    this.#upstream = upstream;
    this.#signal = signal;
  }

  files(project: string): Promise<ProjectFiles> {
    return this.#pages.get(project, async () => {
      const { url } = await this.#upstream.index();
      return fetchProjectFiles({ indexUrl: url, project, signal: this.#signal });
    });
  }

  /** The upstream index (its URL may carry credentials: redact before showing). */
  upstream(): Promise<{ url: string }> {
    return this.#upstream.index();
  }

  /** The upstream index's URL, redacted, for messages. */
  async where(): Promise<string> {
    return redactUrl((await this.#upstream.index()).url);
  }
}
