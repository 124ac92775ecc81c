import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readSdistFiles } from '../archives/read-sdist-files.ts';
import { writeFileAtomic } from '../index/atomic-write.ts';
import { sourceIdentity } from './build-inputs.ts';
import { Memo } from './memo.ts';
import type { FetchDeps, ResolvedSource } from './resolve-source.ts';
import { fetchSource } from './resolve-source.ts';
import type { SdistNeeds } from './sdist-needs.ts';
import { NO_NEEDS, NEEDS_VERSION, isNeedsText, sdistNeeds } from './sdist-needs.ts';

/**
 * Each release's sdist fetched (and checked) once per run, however many of its cells ask, on whichever
 * host; and what it needs (sdist-needs.ts), read from it once ever: kept by its identity (sha256, or
 * git commit) in `<home>/cache/sdist-needs/`, so planning a matrix whose sdists were read before
 * neither downloads nor reads them again.
 */
export class SdistFetcher {
  readonly #deps: FetchDeps;
  readonly #fetched = new Memo<{ path: string; filename: string }>();
  readonly #needs = new Memo<SdistNeeds>();

  constructor(deps: FetchDeps) {
    this.#deps = deps;
  }

  fetch(source: ResolvedSource): Promise<{ path: string; filename: string }> {
    return this.#fetched.get(`${source.name}==${source.version}`, () => fetchSource(this.#deps, source));
  }

  needs(source: ResolvedSource): Promise<SdistNeeds> {
    return this.#needs.get(`${source.name}==${source.version}`, async () => {
      const key = createHash('sha256')
        .update(`${NEEDS_VERSION}\0${sourceIdentity(source)}`)
        .digest('hex');
      const dir = join(this.#deps.home, 'cache', 'sdist-needs');
      const kept = await readFile(join(dir, `${key}.json`), 'utf8').then(
        (text) => JSON.parse(text) as SdistNeeds,
        () => undefined,
      );
      if (kept) return kept;
      const { path } = await this.fetch(source);
      const files = await readSdistFiles(path, isNeedsText, this.#deps.signal);
      const needs = files ? sdistNeeds(files) : NO_NEEDS;
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, `${key}.json`), `${JSON.stringify(needs)}\n`);
      return needs;
    });
  }
}
