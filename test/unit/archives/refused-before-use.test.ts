// Where the checks sit: the fetch step (no container sees a refused sdist) and every index backend
// (validate-wheel.ts: no index serves a refused wheel).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalDirPublisher } from '../../../farm/src/index/local-dir-publisher.ts';
import type { FarmEvent } from '../../../farm/src/pipeline/events.ts';
import { fetchSource } from '../../../farm/src/pipeline/resolve-source.ts';
import type { FetchDeps, ResolvedSource } from '../../../farm/src/pipeline/resolve-source.ts';
import { ContentCache } from '../../../farm/src/upstream/content-cache.ts';
import { expectRefusal, fixture, tempDir } from './archive-fixtures.ts';

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

let dir: string;
let remove: () => Promise<void>;
beforeEach(async () => ({ dir, remove } = await tempDir()));
afterEach(() => remove());

describe('the fetch step', () => {
  /** What fetchSource uses: the home, the sdist cache, events and the abort signal. */
  function fetchContext(events: FarmEvent[]): FetchDeps {
    return {
      home: dir,
      sdists: new ContentCache({ root: join(dir, 'cache', 'sdists') }),
      emit: (event: FarmEvent) => events.push(event),
      signal: new AbortController().signal,
    };
  }

  function urlSource(name: string, filename: string): ResolvedSource {
    const path = fixture(filename);
    return {
      name,
      version: '1.0',
      filename,
      origin: { kind: 'download', url: pathToFileURL(path).href, sha256: sha256(path) },
      from: path,
    };
  }

  it('refuses a hostile sdist right after fetching it, before announcing it', async () => {
    const events: FarmEvent[] = [];
    await expectRefusal(fetchSource(fetchContext(events), urlSource('traversal', 'traversal-1.0.tar.gz')), {
      code: 'archive-path-traversal',
      archive: 'traversal-1.0.tar.gz',
      member: 'traversal-1.0/../../escaped.txt',
    });
    expect(events.filter((event) => event.type === 'fetched')).toEqual([]);
    // And again from the cache: a cached sdist is checked every time.
    await expectRefusal(fetchSource(fetchContext(events), urlSource('traversal', 'traversal-1.0.tar.gz')), {
      code: 'archive-path-traversal',
      archive: 'traversal-1.0.tar.gz',
      member: 'traversal-1.0/../../escaped.txt',
    });
  });

  it('hands on a good sdist', async () => {
    const events: FarmEvent[] = [];
    const fetched = await fetchSource(fetchContext(events), urlSource('good', 'good-1.0.tar.gz'));
    expect(fetched.filename).toBe('good-1.0.tar.gz');
    expect(events).toMatchObject([{ type: 'fetched', sdist: 'good-1.0.tar.gz', cached: false }]);
  });
});

describe('publishing', () => {
  it('an index refuses a hostile wheel and is left without a file of it', async () => {
    const root = join(dir, 'index');
    const filename = 'zip_symlink-1.0-py3-none-any.whl';
    const path = fixture(filename);
    await expectRefusal(new LocalDirPublisher({ root }).publish({ path, filename, sha256: sha256(path), project: 'zip_symlink' }), {
      code: 'archive-symlink-outside',
      archive: filename,
      member: 'zip_symlink/passwd',
    });
    const files = existsSync(root) ? readdirSync(root, { recursive: true }).map(String) : [];
    expect(files.filter((file) => file.includes('zip_symlink') || file.endsWith('.html'))).toEqual([]);
  });

  it('and publishes a good one', async () => {
    const filename = 'good-1.0-py3-none-any.whl';
    const path = fixture(filename);
    expect(
      await new LocalDirPublisher({ root: join(dir, 'index') }).publish({ path, filename, sha256: sha256(path), project: 'good' }),
    ).toBe('published');
  });
});
