import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { EXIT, exitCodeFor } from '../../../farm/src/cli/exit-codes.ts';
import { EnvironmentError } from '../../../farm/src/errors.ts';
import { LocalDirPublisher } from '../../../farm/src/index/local-dir-publisher.ts';
import { parseProjectManifest } from '../../../farm/src/index/project-manifest.ts';
import type { WheelToPublish } from '../../../farm/src/index/publisher.ts';
import { makePureWheel } from '../../fixtures/wheels/make-zip.ts';
import type { PureWheelOptions } from '../../fixtures/wheels/make-zip.ts';
import { links, rejection } from '../../support/html.ts';
import { describeNeeding } from '../../support/needs.ts';
import { FILLER, fill, mountTmpfs, unmountAll, whyNotMount } from '../../support/tmpfs.ts';

/**
 * The directory index on a disk that fills up, for real: files/, the manifests and simple/ each on a
 * tmpfs of 256 KiB, one of them filled to the brim before a publish. Mounting needs root (and the
 * right to mount); without it they fail under CI and skip elsewhere, saying why. Every mount is undone in afterAll.
 */
const cannotMount = await whyNotMount();

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every file of the index with its sha256, temp files included, locks and fillers left out. */
function snapshot(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name);
    const name = relative(root, path);
    if (!entry.isFile() || entry.name === FILLER || name.startsWith(join('.wheelfarm', 'locks'))) continue;
    files.set(name, sha256(readFileSync(path)));
  }
  return files;
}

/** What must hold whatever failed: no temp file, each manifest valid, each link to a whole file. */
function assertConsistent(root: string): void {
  const files = snapshot(root);
  expect([...files.keys()].filter((name) => /(^|\/)\.[^/]*\.tmp$/.test(name))).toEqual([]);
  for (const name of files.keys()) {
    if (name.startsWith(join('.wheelfarm', 'projects'))) {
      const manifest = parseProjectManifest(readFileSync(join(root, name), 'utf8'));
      for (const file of manifest.files)
        expect(files.get(join('files', manifest.normalized, file.filename)), `${name}: ${file.filename}`).toBe(file.sha256);
    }
    if (/^simple\/[^/]+\/index\.html$/.test(name)) {
      for (const href of links(readFileSync(join(root, name), 'utf8'))) {
        const [path, fragment] = href.split('#sha256=');
        expect(files.get(join(dirname(name), path!)), `${name} links ${path}`).toBe(fragment);
      }
    }
  }
}

function projectLinks(root: string): string[] {
  return links(readFileSync(join(root, 'simple', 'tiny', 'index.html'), 'utf8'));
}

describeNeeding(cannotMount, 'LocalDirPublisher on a full disk', () => {
  let work: string;
  let root: string;
  let publisher: LocalDirPublisher;
  let first: WheelToPublish;
  let second: WheelToPublish;

  function wheel(options: PureWheelOptions): WheelToPublish {
    const built = makePureWheel(mkdtempSync(join(work, 'build-')), options);
    return { path: built.path, filename: built.filename, sha256: sha256(readFileSync(built.path)), project: options.name };
  }

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'wheelfarm-disk-full-'));
  });
  afterAll(async () => {
    // Always, whatever failed: no mount may outlive the tests.
    await unmountAll();
    rmSync(work, { recursive: true, force: true });
  });

  beforeEach(async () => {
    root = mkdtempSync(join(work, 'index-'));
    for (const part of ['files', join('.wheelfarm', 'projects'), 'simple']) await mountTmpfs(join(root, part), '256k');
    publisher = new LocalDirPublisher({ root });
    first = wheel({ name: 'tiny', version: '1.0' });
    // About 150 KiB: more than is left free below, less than the 256 KiB disk.
    second = wheel({ name: 'tiny', version: '1.1', marker: randomBytes(150 * 1024).toString('base64') });
    expect(await publisher.publish(first)).toBe('published');
  });

  it('the wheel write: a disk-full error naming the directory and the sizes, nothing left behind', async () => {
    const before = snapshot(root);
    const filler = fill(join(root, 'files'), 64 * 1024);

    const error = await rejection(publisher.publish(second));

    expect(error).toBeInstanceOf(EnvironmentError);
    expect(exitCodeFor(error)).toBe(EXIT.environment);
    expect(error).toMatchObject({ code: 'disk-full' });
    expect((error as EnvironmentError).message).toMatch(
      new RegExp(
        `^no space left in ${join(root, 'files', 'tiny')} for ${second.filename.replace(/\./g, '\\.')}: it needs \\d+(\\.\\d)? KiB, \\d+(\\.\\d)? KiB free$`,
      ),
    );
    expect((error as EnvironmentError).hint).toContain('Free space on the file system');
    expect(snapshot(root)).toEqual(before);
    assertConsistent(root);

    rmSync(filler);
    expect(await publisher.publish(second)).toBe('published');
    expect(projectLinks(root)).toHaveLength(2);
    assertConsistent(root);
  });

  it('the manifest write: the index is as it was, the wheel taken back out; the next publish goes through', async () => {
    const before = snapshot(root);
    const filler = fill(join(root, '.wheelfarm', 'projects'));

    const error = await rejection(publisher.publish(second));

    expect(error).toMatchObject({ code: 'disk-full' });
    expect((error as EnvironmentError).message).toMatch(
      new RegExp(
        `^no space left in ${join(root, '.wheelfarm', 'projects')} for tiny\\.json: it needs \\d+(\\.\\d)? (bytes|KiB), 0 bytes free$`,
      ),
    );
    // The wheel and its metadata, already in place, are taken away again: their space is free for the next try.
    expect(snapshot(root)).toEqual(before);
    assertConsistent(root);

    rmSync(filler);
    expect(await publisher.publish(second)).toBe('published');
    expect(projectLinks(root)).toHaveLength(2);
    assertConsistent(root);
  });

  it('the page write: pages stay as they were, the error says how to finish, and the next publish does', async () => {
    const pagesBefore = new Map([...snapshot(root)].filter(([name]) => name.startsWith('simple')));
    const filler = fill(join(root, 'simple'));

    const error = await rejection(publisher.publish(second));

    expect(error).toMatchObject({ code: 'disk-full' });
    expect((error as EnvironmentError).message).toContain(`no space left in ${join(root, 'simple', 'tiny')} for index.html`);
    expect((error as EnvironmentError).message).toContain(
      `${second.filename} is stored and in the manifest, but the pages were not brought up to date`,
    );
    expect((error as EnvironmentError).hint).toContain('wheelfarm index repair');
    expect((error as EnvironmentError).listedWheel).toBe(second.filename);
    expect(new Map([...snapshot(root)].filter(([name]) => name.startsWith('simple')))).toEqual(pagesBefore);
    assertConsistent(root);

    // What the next run does first: the note the publish left names the project that is owed its
    // pages; while the disk is full, that fails as clearly, and the note stays.
    await expect(publisher.settlePending()).rejects.toMatchObject({ code: 'disk-full' });
    rmSync(filler);
    expect(await publisher.settlePending()).toEqual(['tiny']);
    expect(projectLinks(root)).toEqual([first, second].map((each) => `../../files/tiny/${each.filename}#sha256=${each.sha256}`));
    expect(await publisher.settlePending()).toEqual([]);
    assertConsistent(root);

    const third = wheel({ name: 'tiny', version: '1.2' });
    expect(await publisher.publish(third)).toBe('published');
    expect(projectLinks(root)).toEqual([first, second, third].map((each) => `../../files/tiny/${each.filename}#sha256=${each.sha256}`));
    assertConsistent(root);
  });
});
