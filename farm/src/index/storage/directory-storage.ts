import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UserInputError, WheelfarmError } from '../../errors.ts';
import { removeAbandonedTemps, renameDurably, syncDirectory, writeTempFile } from '../atomic-write.ts';
import { explainDiskFull } from '../explain-disk-full.ts';
import { sha256OfFile, stageVerifiedCopy } from '../stage-verified-copy.ts';
import { withFileLock } from '../with-file-lock.ts';
import type { IndexStorage, ObjectVersion, PutBody, StoredBytes } from './index-storage.ts';

/** Where the per-key locks of conditional writes live, relative to the root (left out of every listing). */
const LOCKS = join('.wheelfarm', 'locks');
/** What link() answers on file systems without hard links (FAT, some network and FUSE mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * An index in a local directory, each key a file under `root`. Every object is written to a temp file
 * beside its place (`.NAME.PID-HOST.RANDOM.tmp`, which no reader serves), fsynced, then put in place:
 * by link(), which fails when the name exists (put-if-absent, no lock), or by rename under a short lock
 * of that one key after comparing versions (put-if-match). A version (etag) is the sha256 of the
 * content, so it needs no record beside the file.
 */
export class DirectoryStorage implements IndexStorage {
  readonly root: string;
  readonly where: string;
  readonly servesDirectoryIndex = true;

  constructor(root: string) {
    if (typeof root !== 'string' || root.trim() === '') {
      throw new UserInputError('bad-index-root', 'the local index needs a directory (`root`), got none', {
        hint: 'Set the index directory, e.g. `root: ./wheelhouse`.',
      });
    }
    this.root = resolve(root);
    this.where = this.root;
  }

  locate(key: string): string {
    return this.#path(key);
  }

  async head(key: string): Promise<ObjectVersion | undefined> {
    const sha256 = await sha256OfFile(this.#path(key)).catch(ifMissing(undefined));
    return sha256 === undefined ? undefined : { etag: sha256, sha256 };
  }

  async get(key: string): Promise<StoredBytes | undefined> {
    const body = await readFile(this.#path(key)).catch(ifMissing(undefined));
    if (body === undefined) return undefined;
    const sha256 = createHash('sha256').update(body).digest('hex');
    return { body, etag: sha256, sha256 };
  }

  async download(key: string, path: string): Promise<boolean> {
    // A reflink where the file system can (a copy in no time), a copy where it cannot.
    return copyFile(this.#path(key), path, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE).then(() => true, ifMissing(false));
  }

  async putIfAbsent(key: string, body: PutBody): Promise<'written' | 'exists'> {
    const path = this.#path(key);
    return this.#withStaged(path, body, async (temp) => {
      try {
        await link(temp, path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? '';
        if (code === 'EEXIST') return 'exists';
        if (NO_HARD_LINKS.has(code)) return this.#renameIfAbsent(key, temp);
        throw await explainDiskFull(error, { path });
      }
      await syncDirectory(dirname(path));
      return 'written';
    });
  }

  async putIfMatch(key: string, etag: string, body: PutBody): Promise<'written' | 'changed'> {
    const path = this.#path(key);
    return this.#withStaged(path, body, (temp) =>
      this.#withKeyLock(key, async (assertHeld) => {
        if ((await this.#etagOf(path)) !== etag) return 'changed';
        assertHeld();
        await renameDurably(temp, path);
        return 'written';
      }),
    );
  }

  async delete(key: string, ifMatch?: string): Promise<'deleted' | 'changed'> {
    const path = this.#path(key);
    if (ifMatch === undefined) {
      await rm(path, { force: true });
      return 'deleted';
    }
    return this.#withKeyLock(key, async (assertHeld) => {
      const current = await this.#etagOf(path);
      if (current !== undefined && current !== ifMatch) return 'changed';
      assertHeld();
      await rm(path, { force: true });
      return 'deleted';
    });
  }

  async list(prefix: string): Promise<string[]> {
    const entries = await readdir(this.#path(prefix), { withFileTypes: true }).catch(ifMissing([]));
    // A leading dot: a temp file (see tempPathFor), never an object.
    return entries.filter((entry) => entry.isFile() && !entry.name.startsWith('.')).map((entry) => entry.name);
  }

  removeAbandonedWrites(prefixes: string[]): Promise<number> {
    return removeAbandonedTemps(prefixes.map((prefix) => this.#path(prefix)));
  }

  /** Where link() is not to be had: the same rule by rename, under the key's lock. */
  #renameIfAbsent(key: string, temp: string): Promise<'written' | 'exists'> {
    const path = this.#path(key);
    return this.#withKeyLock(key, async (assertHeld) => {
      if ((await this.#etagOf(path)) !== undefined) return 'exists';
      assertHeld();
      await renameDurably(temp, path);
      return 'written';
    });
  }

  /** Runs `use` with `body` in a temp file beside `path` (removed afterwards unless `use` moved it into place). */
  async #withStaged<T>(path: string, body: PutBody, use: (temp: string) => Promise<T>): Promise<T> {
    let temp: string;
    if ('bytes' in body) {
      temp = await writeTempFile(path, body.bytes);
    } else {
      await mkdir(dirname(path), { recursive: true });
      temp = (await stageVerifiedCopy(body.file, path, body.sha256)).tempPath;
    }
    try {
      return await use(temp);
    } finally {
      await rm(temp, { force: true });
    }
  }

  #withKeyLock<T>(key: string, section: (assertHeld: () => void) => Promise<T>): Promise<T> {
    const encoded = encodeURIComponent(key);
    // File names stop at 255 bytes; a long wheel filename's key is named by its hash instead.
    const name = encoded.length <= 200 ? encoded : createHash('sha256').update(key).digest('hex').slice(0, 32);
    return withFileLock(join(this.root, LOCKS, `${name}.lock`), section);
  }

  #etagOf(path: string): Promise<string | undefined> {
    return sha256OfFile(path).catch(ifMissing(undefined));
  }

  #path(key: string): string {
    if (key.startsWith('/') || key.split('/').some((segment) => segment === '..' || segment === '.')) {
      throw new WheelfarmError('bad-index-key', `\`${key}\` is not a key inside the index`);
    }
    return join(this.root, key);
  }
}

function ifMissing<T>(fallback: T): (error: unknown) => T {
  return (error) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return fallback;
    throw error;
  };
}
