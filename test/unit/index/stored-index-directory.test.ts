import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe } from 'vitest';
import { DirectoryStorage } from '../../../farm/src/index/storage/directory-storage.ts';
import { storedIndexContract } from '../../support/stored-index-contract.ts';

let work: string;

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'wheelfarm-stored-index-'));
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

describe('the publish protocol on a directory', () => {
  storedIndexContract({ work: () => work, storage: () => new DirectoryStorage(mkdtempSync(join(work, 'index-'))) });
});
