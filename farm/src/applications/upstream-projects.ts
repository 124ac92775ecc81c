import PQueue from 'p-queue';
import { Memo } from '../pipeline/memo.ts';
import type { ProjectFiles } from '../upstream/simple-api-client.ts';
import { redactUrl } from '../upstream/redact-url.ts';
import { fetchProjectFiles } from '../upstream/simple-api-client.ts';
import type { UpstreamForContainers } from '../upstream/upstream-for-containers.ts';

/**
 * How many upstream pages are fetched at once: a closure of fifty names fetched all together costs
 * seconds of retried DNS lookups on some networks; four at a time take a fraction of one.
 */
const PAGE_CONCURRENCY = 4;

/** Each project's upstream page fetched once per run, on this machine (with the upstream's credentials), a few at a time. */
export class UpstreamProjects {
  readonly #queue = new PQueue({ concurrency: PAGE_CONCURRENCY });
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
      return (await this.#queue.add(() => fetchProjectFiles({ indexUrl: url, project, signal: this.#signal }))) as ProjectFiles;
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
