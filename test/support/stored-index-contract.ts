import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { IndexUnavailableError, PublishConflictError } from '../../farm/src/errors.ts';
import type { WheelToPublish } from '../../farm/src/index/publisher.ts';
import type { IndexStorage, PutBody, Serving } from '../../farm/src/index/storage/index-storage.ts';
import { StoredIndex } from '../../farm/src/index/stored-index.ts';
import { makePureWheel } from '../fixtures/wheels/make-zip.ts';
import type { PureWheelOptions } from '../fixtures/wheels/make-zip.ts';
import { links, rejection } from './html.ts';

export interface StoredIndexContext {
  /** A directory for this test's wheels. */
  work: () => string;
  /** A fresh, empty index on the storage under test. */
  storage: () => IndexStorage;
}

/**
 * The publish protocol (StoredIndex) as every storage adapter must carry it, checked through the
 * storage itself: run against a directory always, against S3 where a server runs.
 */
export function storedIndexContract(context: StoredIndexContext): void {
  const wheel = (options: PureWheelOptions): WheelToPublish => {
    const built = makePureWheel(mkdtempSync(join(context.work(), 'build-')), options);
    const sha256 = createHash('sha256').update(readFileSync(built.path)).digest('hex');
    return { path: built.path, filename: built.filename, sha256, project: options.name };
  };

  it('publishes the wheel, its .metadata, the manifest and the pages; the same bytes again write nothing', async () => {
    const storage = context.storage();
    const tiny = wheel({ name: 'tiny', version: '1.0' });

    expect(await index(storage).publish(tiny)).toBe('published');

    const keys = [`files/tiny/${tiny.filename}`, `files/tiny/${tiny.filename}.metadata`, '.wheelfarm/projects/tiny.json'];
    const pages = ['simple/tiny/index.html', 'simple/tiny/index.json', 'simple/index.html', 'simple/index.json'];
    const before = await Promise.all([...keys, ...pages].map((key) => storage.head(key)));
    expect(before.every((version) => version !== undefined)).toBe(true);
    expect(before[0]!.sha256).toBe(tiny.sha256);
    expect(await projectLinks(storage, 'tiny')).toEqual([`../../files/tiny/${tiny.filename}#sha256=${tiny.sha256}`]);
    expect(await storage.list('.wheelfarm/pending/')).toEqual([]);

    expect(await index(storage).publish({ ...tiny })).toBe('unchanged');
    expect(await Promise.all([...keys, ...pages].map((key) => storage.head(key)))).toEqual(before);
  });

  it("reads back a served wheel's core metadata (what it depends on); none for a wheel it does not serve", async () => {
    const storage = context.storage();
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await index(storage).publish(tiny);
    expect(await index(storage).coreMetadata('Tiny', tiny.filename)).toMatch(/^Metadata-Version: .*\nName: tiny\nVersion: 1\.0\n/s);
    expect(await index(storage).coreMetadata('tiny', 'tiny-9.9-py3-none-any.whl')).toBeUndefined();
  });

  it('replaces the debris of a publish that stopped before listing its wheel, and refuses bytes a publish under way claims', async () => {
    const storage = context.storage();
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await storage.putIfAbsent(`files/tiny/${tiny.filename}`, { bytes: Buffer.from('debris') }, TEXT);

    expect(await index(storage).publish(tiny)).toBe('published');
    expect((await storage.head(`files/tiny/${tiny.filename}`))?.sha256).toBe(tiny.sha256);

    const two = wheel({ name: 'tiny', version: '2.0' });
    const rival = Buffer.from('the bytes of a publish under way');
    const rivalSha = createHash('sha256').update(rival).digest('hex');
    await storage.putIfAbsent('.wheelfarm/pending/tiny', { bytes: Buffer.from(`${two.filename} ${rivalSha}\n`) }, TEXT);
    await storage.putIfAbsent(`files/tiny/${two.filename}`, { bytes: rival }, TEXT);

    const error = await rejection(index(storage).publish(two));

    expect(error).toBeInstanceOf(PublishConflictError);
    expect((error as Error).message).toContain(rivalSha);
    expect((await storage.head(`files/tiny/${two.filename}`))?.sha256).toBe(rivalSha);
    expect((await storage.get('.wheelfarm/pending/tiny'))?.body.toString()).toBe(`${two.filename} ${rivalSha}\n`);
  });

  it('takes its files back when it fails before the manifest lists them, unless another publish of them claims them', async () => {
    const storage = context.storage();
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    const failing = new FailingWrites(storage, /^\.wheelfarm\/projects\//);

    await expect(index(failing).publish(tiny)).rejects.toBeInstanceOf(IndexUnavailableError);

    expect(await storage.head(`files/tiny/${tiny.filename}`)).toBeUndefined();
    expect(await storage.head(`files/tiny/${tiny.filename}.metadata`)).toBeUndefined();
    expect(await storage.list('.wheelfarm/pending/')).toEqual([]);

    // Another publish of the same bytes is under way: it may list what this one stored.
    const other = `${tiny.filename} ${tiny.sha256}\n`;
    await storage.putIfAbsent('.wheelfarm/pending/tiny', { bytes: Buffer.from(other) }, TEXT);
    await expect(index(failing).publish(tiny)).rejects.toBeInstanceOf(IndexUnavailableError);
    expect((await storage.head(`files/tiny/${tiny.filename}`))?.sha256).toBe(tiny.sha256);
    expect((await storage.get('.wheelfarm/pending/tiny'))?.body.toString()).toBe(other);
    expect(await index(storage).publish(tiny)).toBe('published');
  });

  it('leaves its claim when the pages fail after the manifest; settlePending writes them', async () => {
    const storage = context.storage();
    const first = wheel({ name: 'tiny', version: '1.0' });
    const second = wheel({ name: 'tiny', version: '1.1' });
    await index(storage).publish(first);

    const error = await rejection(index(new FailingWrites(storage, /^simple\//)).publish(second));

    expect(error).toBeInstanceOf(IndexUnavailableError);
    expect((error as IndexUnavailableError).listedWheel).toBe(second.filename);
    expect(await projectLinks(storage, 'tiny')).toHaveLength(1);
    expect(await index(storage).listFiles('tiny')).toHaveLength(2);
    expect(await index(storage).settlePending()).toEqual(['tiny']);
    expect(await projectLinks(storage, 'tiny')).toHaveLength(2);
    expect(await index(storage).settlePending()).toEqual([]);
  });

  it('settles the note of a new project whose publish stopped before its manifest', async () => {
    const storage = context.storage();
    await storage.putIfAbsent('.wheelfarm/pending/ghost', { bytes: Buffer.from(`ghost-1.0-py3-none-any.whl ${'a'.repeat(64)}\n`) }, TEXT);

    expect(await index(storage).settlePending()).toEqual(['ghost']);
    expect(await storage.list('.wheelfarm/pending/')).toEqual([]);
    expect(await storage.head('simple/ghost/index.html')).toBeUndefined();
  });

  it('repair writes a missing .metadata and the lost pages', async () => {
    const storage = context.storage();
    const tiny = wheel({ name: 'tiny', version: '1.0' });
    await index(storage).publish(tiny);
    const metadata = (await storage.get(`files/tiny/${tiny.filename}.metadata`))!.body;
    for (const key of [`files/tiny/${tiny.filename}.metadata`, 'simple/tiny/index.html', 'simple/index.html']) await storage.delete(key);

    expect(await index(storage).repair()).toEqual({ projects: 1, metadataWritten: 1, tempFilesRemoved: 0 });

    expect((await storage.get(`files/tiny/${tiny.filename}.metadata`))?.body).toEqual(metadata);
    expect(await projectLinks(storage, 'tiny')).toHaveLength(1);
    expect(links((await storage.get('simple/index.html'))!.body.toString())).toEqual(['tiny/']);
  });

  it('keeps every wheel and every project of concurrent publishes from several publishers', async () => {
    const storage = context.storage();
    const wheels = [
      ...Array.from({ length: 6 }, (_, n) => wheel({ name: 'busy', version: `1.${n}` })),
      wheel({ name: 'alpha', version: '1.0' }),
      wheel({ name: 'bravo', version: '1.0' }),
    ];
    const publishers = [index(storage), index(storage)];

    expect(await Promise.all(wheels.map((each, n) => publishers[n % 2]!.publish(each)))).toEqual(Array(8).fill('published'));

    expect(await projectLinks(storage, 'busy')).toHaveLength(6);
    expect(links((await storage.get('simple/index.html'))!.body.toString())).toEqual(['alpha/', 'bravo/', 'busy/']);
    expect(await storage.list('.wheelfarm/pending/')).toEqual([]);
  }, 60_000);
}

const TEXT = { contentType: 'text/plain' };

function index(storage: IndexStorage): StoredIndex {
  return new StoredIndex({ storage, description: `test index at ${storage.where}` });
}

async function projectLinks(storage: IndexStorage, project: string): Promise<string[]> {
  return links((await storage.get(`simple/${project}/index.html`))?.body.toString() ?? '');
}

/** A storage whose writes to the keys `failing` matches give out, as a storage that stays down does. */
class FailingWrites implements IndexStorage {
  readonly #storage: IndexStorage;
  readonly #failing: RegExp;

  constructor(storage: IndexStorage, failing: RegExp) {
    this.#storage = storage;
    this.#failing = failing;
  }

  get where(): string {
    return this.#storage.where;
  }

  get servesDirectoryIndex(): boolean {
    return this.#storage.servesDirectoryIndex;
  }

  locate = (key: string) => this.#storage.locate(key);
  head = (key: string) => this.#storage.head(key);
  get = (key: string) => this.#storage.get(key);
  download = (key: string, path: string) => this.#storage.download(key, path);
  delete = (key: string, ifMatch?: string) => this.#storage.delete(key, ifMatch);
  list = (prefix: string) => this.#storage.list(prefix);
  removeAbandonedWrites = (prefixes: string[]) => this.#storage.removeAbandonedWrites(prefixes);

  async putIfAbsent(key: string, body: PutBody, serving: Serving): Promise<'written' | 'exists'> {
    this.#check(key);
    return this.#storage.putIfAbsent(key, body, serving);
  }

  async putIfMatch(key: string, etag: string, body: PutBody, serving: Serving): Promise<'written' | 'changed'> {
    this.#check(key);
    return this.#storage.putIfMatch(key, etag, body, serving);
  }

  #check(key: string): void {
    if (this.#failing.test(key))
      throw new IndexUnavailableError('s3-unavailable', `PUT ${this.locate(key)} failed (injected)`, { tries: 1 });
  }
}
