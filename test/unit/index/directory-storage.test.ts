import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IntegrityError, type WheelfarmError } from '../../../farm/src/errors.ts';
import { tempPathFor } from '../../../farm/src/index/atomic-write.ts';
import { DirectoryStorage } from '../../../farm/src/index/storage/directory-storage.ts';
import type { IndexStorage } from '../../../farm/src/index/storage/index-storage.ts';
import { rejection } from '../../support/html.ts';

const run = promisify(execFile);
const STORAGE_MODULE = pathToFileURL(join(import.meta.dirname, '../../../farm/src/index/storage/directory-storage.ts')).href;
const TEXT = { contentType: 'text/plain' };

let root: string;
/** Through the port: what the protocol sees. */
let storage: IndexStorage;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'wheelfarm-dir-storage-'));
  storage = new DirectoryStorage(root);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function sha256(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

function bytes(text: string): { bytes: Buffer } {
  return { bytes: Buffer.from(text) };
}

/** Every name under `dir` that is a temp file (`.NAME...tmp`). */
function tempFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((name) => /(^|\/)\.[^/]+\.tmp$/.test(name));
}

describe('DirectoryStorage', () => {
  it('puts if absent: the first write wins, a second leaves it as it was', async () => {
    expect(await storage.putIfAbsent('files/tiny/a.whl', bytes('first'), TEXT)).toBe('written');
    expect(await storage.putIfAbsent('files/tiny/a.whl', bytes('second'), TEXT)).toBe('exists');

    expect(readFileSync(join(root, 'files', 'tiny', 'a.whl'), 'utf8')).toBe('first');
    expect(await storage.head('files/tiny/a.whl')).toEqual({ etag: sha256('first'), sha256: sha256('first') });
    expect(tempFiles(root)).toEqual([]);
  });

  it('lets exactly one of many concurrent put-if-absent writers win, across processes too', async () => {
    const inProcess = await Promise.all(
      Array.from({ length: 8 }, (_, index) => storage.putIfAbsent('race/key', bytes(`writer ${index}`), TEXT)),
    );
    expect(inProcess.filter((outcome) => outcome === 'written')).toHaveLength(1);
    const winner = inProcess.indexOf('written');
    expect(readFileSync(join(root, 'race', 'key'), 'utf8')).toBe(`writer ${winner}`);

    const script = `
      const { DirectoryStorage } = await import(${JSON.stringify(STORAGE_MODULE)});
      const [root, name] = JSON.parse(process.argv[1]);
      const storage = new DirectoryStorage(root);
      process.stdout.write(await storage.putIfAbsent('race/other', { bytes: Buffer.from(name) }, { contentType: 'text/plain' }));
    `;
    const outcomes = await Promise.all(
      ['a', 'b', 'c'].map(async (name) => {
        const { stdout } = await run(process.execPath, [
          '--no-warnings',
          '--input-type=module',
          '-e',
          script,
          JSON.stringify([root, name]),
        ]);
        return [name, stdout] as const;
      }),
    );
    const written = outcomes.filter(([, outcome]) => outcome === 'written');
    expect(written).toHaveLength(1);
    expect(readFileSync(join(root, 'race', 'other'), 'utf8')).toBe(written[0]![0]);
    expect(tempFiles(root)).toEqual([]);
  });

  it('puts if match: a stale version is refused and changes nothing, the current one replaces', async () => {
    await storage.putIfAbsent('page', bytes('one'), TEXT);
    const one = (await storage.get('page'))!;
    expect(await storage.putIfMatch('page', one.etag, bytes('two'), TEXT)).toBe('written');

    // `one` is stale now: another writer's change must not be lost.
    expect(await storage.putIfMatch('page', one.etag, bytes('three'), TEXT)).toBe('changed');
    expect(readFileSync(join(root, 'page'), 'utf8')).toBe('two');
    expect(await storage.putIfMatch('gone', one.etag, bytes('x'), TEXT)).toBe('changed');
    expect(existsSync(join(root, 'gone'))).toBe(false);
    expect(tempFiles(root)).toEqual([]);
  });

  it('lets exactly one of several writers holding the same version replace it', async () => {
    await storage.putIfAbsent('manifest', bytes('base'), TEXT);
    const base = (await storage.head('manifest'))!;

    const outcomes = await Promise.all(
      Array.from({ length: 6 }, (_, index) => storage.putIfMatch('manifest', base.etag, bytes(`edit ${index}`), TEXT)),
    );

    expect(outcomes.filter((outcome) => outcome === 'written')).toHaveLength(1);
    expect(readFileSync(join(root, 'manifest'), 'utf8')).toBe(`edit ${outcomes.indexOf('written')}`);
  });

  it('deletes if match, and anything without a version', async () => {
    await storage.putIfAbsent('note', bytes('claim'), TEXT);
    expect(await storage.delete('note', sha256('another claim'))).toBe('changed');
    expect(existsSync(join(root, 'note'))).toBe(true);
    expect(await storage.delete('note', sha256('claim'))).toBe('deleted');
    expect(existsSync(join(root, 'note'))).toBe(false);
    expect(await storage.delete('note', sha256('claim'))).toBe('deleted');
    expect(await storage.delete('never-there')).toBe('deleted');
  });

  it('streams a file in, checking its sha256: other bytes store nothing', async () => {
    const source = join(root, 'source.whl');
    writeFileSync(source, 'wheel bytes');

    const error = await rejection(storage.putIfAbsent('files/x/x.whl', { file: source, sha256: sha256('other bytes') }, TEXT));

    expect(error).toBeInstanceOf(IntegrityError);
    expect(existsSync(join(root, 'files', 'x', 'x.whl'))).toBe(false);
    expect(tempFiles(root)).toEqual([]);
    expect(await storage.putIfAbsent('files/x/x.whl', { file: source, sha256: sha256('wheel bytes') }, TEXT)).toBe('written');
    const copy = join(root, 'copy');
    expect(await storage.download('files/x/x.whl', copy)).toBe(true);
    expect(readFileSync(copy, 'utf8')).toBe('wheel bytes');
    expect(await storage.download('files/x/missing.whl', join(root, 'nothing'))).toBe(false);
  });

  it('lists the objects under a prefix, never temp files; answers nothing for what is not there', async () => {
    await storage.putIfAbsent('.wheelfarm/pending/tiny', bytes('a'), TEXT);
    await storage.putIfAbsent('.wheelfarm/pending/other', bytes('b'), TEXT);
    writeFileSync(tempPathFor(join(root, '.wheelfarm', 'pending', 'half')), 'partial');

    expect((await storage.list('.wheelfarm/pending/')).sort()).toEqual(['other', 'tiny']);
    expect(await storage.list('simple/')).toEqual([]);
    expect(await storage.get('simple/index.html')).toBeUndefined();
    expect(await storage.head('simple/index.html')).toBeUndefined();
    expect(storage.locate('simple/index.html')).toBe(join(root, 'simple', 'index.html'));
  });

  it('refuses keys that leave the index', async () => {
    const error = (await rejection(storage.get('../outside'))) as WheelfarmError;
    expect(error.code).toBe('bad-index-key');
    await expect(storage.putIfAbsent('/etc/passwd', bytes('x'), TEXT)).rejects.toMatchObject({ code: 'bad-index-key' });
  });
});
