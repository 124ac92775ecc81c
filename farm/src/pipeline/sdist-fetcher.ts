import { Memo } from './memo.ts';
import type { FetchDeps, ResolvedSource } from './resolve-source.ts';
import { fetchSource } from './resolve-source.ts';

/** Each release's sdist fetched (and checked) once per run, however many of its cells ask, on whichever host. */
export class SdistFetcher {
  readonly #deps: FetchDeps;
  readonly #fetched = new Memo<{ path: string; filename: string }>();

  constructor(deps: FetchDeps) {
    this.#deps = deps;
  }

  fetch(source: ResolvedSource): Promise<{ path: string; filename: string }> {
    return this.#fetched.get(`${source.name}==${source.version}`, () => fetchSource(this.#deps, source));
  }
}
