import { readSdistFiles } from '../archives/read-sdist-files.ts';
import { Memo } from './memo.ts';
import type { FetchDeps, ResolvedSource } from './resolve-source.ts';
import { fetchSource } from './resolve-source.ts';
import type { SdistNeeds } from './sdist-needs.ts';
import { NO_NEEDS, isNeedsText, sdistNeeds } from './sdist-needs.ts';

/** A fetched and checked sdist, with what it says it needs (toolchains, the Cargo manifests to fetch). */
export interface FetchedSdist {
  path: string;
  filename: string;
  needs: SdistNeeds;
}

/**
 * Each release's sdist fetched (and checked) once per run, however many of its cells ask, on whichever
 * host; then read once as a stream for its needs (sdist-needs.ts), which planning and cells share.
 */
export class SdistFetcher {
  readonly #deps: FetchDeps;
  readonly #fetched = new Memo<FetchedSdist>();

  constructor(deps: FetchDeps) {
    this.#deps = deps;
  }

  fetch(source: ResolvedSource): Promise<FetchedSdist> {
    return this.#fetched.get(`${source.name}==${source.version}`, async () => {
      const fetched = await fetchSource(this.#deps, source);
      const files = await readSdistFiles(fetched.path, isNeedsText, this.#deps.signal);
      return { ...fetched, needs: files ? sdistNeeds(files) : NO_NEEDS };
    });
  }
}
