// Is an S3 index consistent, as an installer sees it? Its key layout is the directory index's, so it
// is mirrored into directories and given the same checks (checkIndex), read straight from the
// server over plain HTTP as pip reads it, past any fault proxy.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { listKeys } from '../../src/index/s3/s3-bucket-admin.ts';
import { checkIndex } from './check-index.ts';
import type { IndexCheck } from './check-index.ts';

/** Where an S3 index is: the bucket's server (`endpoint`, read anonymously), the bucket and the key prefix. */
export interface S3Location {
  client: S3Client;
  endpoint: string;
  bucket: string;
  prefix: string;
}

/**
 * Every object under the prefix, checked as a directory index. S3 stores each page twice: at
 * `simple/<project>/index.html`, and at `simple/<project>/`, which is what pip asks a bucket for over
 * plain HTTP (a bucket website serves the first for the second instead). Each copy is checked as
 * the page, in a mirror of its own in `dir` (emptied first); what only the second copy gets wrong is
 * reported as such. The first copy says what is served.
 */
export async function checkS3Index(location: S3Location, dir: string): Promise<IndexCheck> {
  const pages = join(dir, 'index-html');
  const directoryKeys = join(dir, 'directory-keys');
  await mirror(location, { pages, directoryKeys });
  const [byPages, byDirectoryKeys] = await Promise.all([checkIndex(pages), checkIndex(directoryKeys)]);
  const also = (mine: string[], theirs: string[]) => [
    ...mine,
    ...theirs.filter((line) => !mine.includes(line)).map((line) => `at the pages' directory keys (what pip reads over HTTP): ${line}`),
  ];
  return {
    ...byPages,
    problems: also(byPages.problems, byDirectoryKeys.problems),
    unlinked: also(byPages.unlinked, byDirectoryKeys.unlinked),
  };
}

/** Writes every object into both mirrors, the pages' two copies each as `index.html` of its own mirror. */
async function mirror(location: S3Location, { pages, directoryKeys }: { pages: string; directoryKeys: string }): Promise<void> {
  await Promise.all([pages, directoryKeys].map((each) => rm(each, { recursive: true, force: true })));
  const prefix = `${location.prefix}/`;
  for (const key of (await listKeys(location.client, location.bucket, prefix)).keys()) {
    const path = key.slice(prefix.length);
    const body = await fetchObject(location, key);
    if (path.endsWith('/')) await put(join(directoryKeys, path, 'index.html'), body);
    else if (/(^|\/)index\.html$/.test(path)) await put(join(pages, path), body);
    else await Promise.all([put(join(pages, path), body), put(join(directoryKeys, path), body)]);
  }
}

/** An object's bytes as pip gets them: an anonymous GET straight from the server. */
async function fetchObject({ endpoint, bucket }: S3Location, key: string): Promise<Buffer> {
  const response = await fetch(`${endpoint}/${bucket}/${key}`);
  if (!response.ok) throw new Error(`GET ${endpoint}/${bucket}/${key} answered ${response.status}, though the bucket lists it`);
  return Buffer.from(await response.arrayBuffer());
}

async function put(path: string, body: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, body);
}
