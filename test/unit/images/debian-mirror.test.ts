import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../../farm/src/errors.ts';
import { extractUris, findDebianMirror, resolveSourceUrl } from '../../../farm/src/images/debian-mirror.ts';

describe('extractUris', () => {
  it('reads one-line `deb` entries', () => {
    const text = [
      'deb http://deb.debian.org/debian bookworm main',
      'deb https://mirror.example/debian/ bookworm-updates main contrib',
    ].join('\n');
    expect(extractUris(text)).toEqual(['http://deb.debian.org/debian', 'https://mirror.example/debian/']);
  });

  it('reads one-line entries with [options]', () => {
    const text = 'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://ftp.example/debian bookworm main';
    expect(extractUris(text)).toEqual(['http://ftp.example/debian']);
  });

  it('ignores comments, commented-out entries, deb-src lines and blank lines', () => {
    const text = [
      '# deb http://commented.example/debian bookworm main',
      '',
      '   ',
      'deb-src http://src.example/debian bookworm main',
      'deb http://live.example/debian bookworm main # trailing comment http://not.example/',
    ].join('\n');
    expect(extractUris(text)).toEqual(['http://live.example/debian']);
  });

  it('accepts leading whitespace', () => {
    expect(extractUris('   deb http://indented.example/debian bookworm main')).toEqual(['http://indented.example/debian']);
  });

  it('reads deb822 stanzas, with several URIs on one line', () => {
    const text = [
      'Types: deb',
      'URIs: http://deb.debian.org/debian https://mirror2.example/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      '# URIs: http://commented.example/debian',
      'Types: deb',
      'URIs: http://security.debian.org/debian-security',
      'Suites: bookworm-security',
    ].join('\n');
    expect(extractUris(text)).toEqual([
      'http://deb.debian.org/debian',
      'https://mirror2.example/debian',
      'http://security.debian.org/debian-security',
    ]);
  });

  it('reads the URIs field case-insensitively', () => {
    expect(extractUris('uris: http://lower.example/debian')).toEqual(['http://lower.example/debian']);
  });

  it('keeps only http(s) URIs', () => {
    const text = [
      'deb file:/srv/local-repo ./',
      'deb cdrom:[Debian 12]/ bookworm main',
      'URIs: mirror+file:/etc/apt/mirrors.txt ftp://ftp.example/debian',
    ].join('\n');
    expect(extractUris(text)).toEqual([]);
  });

  it('keeps file order across both formats', () => {
    const text = 'deb http://one.example/debian a main\nURIs: http://two.example/debian\ndeb http://three.example/debian c main\n';
    expect(extractUris(text)).toEqual(['http://one.example/debian', 'http://two.example/debian', 'http://three.example/debian']);
  });

  it('is empty for empty text', () => {
    expect(extractUris('')).toEqual([]);
  });
});

describe('findDebianMirror', () => {
  let aptDir: string;

  beforeEach(async () => {
    aptDir = await mkdtemp(join(tmpdir(), 'wheelfarm-apt-'));
  });
  afterEach(async () => {
    await rm(aptDir, { recursive: true, force: true });
  });

  async function write(relative: string, text: string): Promise<void> {
    await mkdir(join(aptDir, relative, '..'), { recursive: true });
    await writeFile(join(aptDir, relative), text);
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
  }

  it('a configured mirror wins, with a trailing slash added', async () => {
    await write('sources.list', 'deb http://host.example/debian bookworm main\n');
    expect(await findDebianMirror({ configured: 'http://configured.example/debian', aptDir })).toBe('http://configured.example/debian/');
    expect(await findDebianMirror({ configured: 'http://configured.example/debian/', aptDir })).toBe('http://configured.example/debian/');
  });

  it('a configured mirror is used even when the host has no apt sources at all', async () => {
    expect(await findDebianMirror({ configured: 'https://c.example/debian', aptDir: join(aptDir, 'missing') })).toBe(
      'https://c.example/debian/',
    );
  });

  it('reads sources.list, skipping the security archive', async () => {
    await write(
      'sources.list',
      'deb http://security.debian.org/debian-security bullseye-security main\ndeb http://deb.debian.org/debian bullseye main\n',
    );
    expect(await findDebianMirror({ aptDir })).toBe('http://deb.debian.org/debian/');
  });

  it('skips a security archive on an ordinary mirror host too', async () => {
    await write(
      'sources.list',
      'deb http://deb.debian.org/debian-security bookworm-security main\ndeb http://deb.debian.org/debian/ bookworm main\n',
    );
    expect(await findDebianMirror({ aptDir })).toBe('http://deb.debian.org/debian/');
  });

  it('reads deb822 .sources files in sources.list.d', async () => {
    await write(
      'sources.list.d/debian.sources',
      'Types: deb\nURIs: http://security.debian.org/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: https://mirror.example/debian\nSuites: bookworm\n',
    );
    expect(await findDebianMirror({ aptDir })).toBe('https://mirror.example/debian/');
  });

  it('reads .list files in sources.list.d and ignores other files there', async () => {
    await write('sources.list.d/a.list.disabled', 'deb http://disabled.example/debian bookworm main\n');
    await write('sources.list.d/b.save', 'deb http://saved.example/debian bookworm main\n');
    await write('sources.list.d/c.list', 'deb http://enabled.example/debian bookworm main\n');
    expect(await findDebianMirror({ aptDir })).toBe('http://enabled.example/debian/');
  });

  it('prefers sources.list to sources.list.d, and sources.list.d files in name order', async () => {
    await write('sources.list.d/z.list', 'deb http://z.example/debian bookworm main\n');
    await write('sources.list.d/a.list', 'deb http://a.example/debian bookworm main\n');
    expect(await findDebianMirror({ aptDir })).toBe('http://a.example/debian/');
    await write('sources.list', 'deb http://main.example/debian bookworm main\n');
    expect(await findDebianMirror({ aptDir })).toBe('http://main.example/debian/');
  });

  it('falls through a sources.list with only comments', async () => {
    await write('sources.list', '# see sources.list.d\n');
    await write('sources.list.d/debian.sources', 'Types: deb\nURIs: http://d.example/debian\nSuites: bookworm\n');
    expect(await findDebianMirror({ aptDir })).toBe('http://d.example/debian/');
  });

  it('without any mirror: EnvironmentError no-debian-mirror with a hint', async () => {
    await write('sources.list', 'deb http://security.debian.org/debian-security bookworm-security main\n');
    const error = await rejection(findDebianMirror({ aptDir }));
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).code).toBe('no-debian-mirror');
    expect((error as EnvironmentError).message).toContain(aptDir);
    expect((error as EnvironmentError).hint).toContain('images.debian-mirror');
  });

  it('without an apt directory at all: EnvironmentError no-debian-mirror', async () => {
    const error = await rejection(findDebianMirror({ aptDir: join(aptDir, 'does-not-exist') }));
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).code).toBe('no-debian-mirror');
  });
});

describe('resolveSourceUrl', () => {
  it('turns a debian: path into a URL on the mirror', () => {
    expect(resolveSourceUrl('debian:pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz', 'http://deb.debian.org/debian/')).toBe(
      'http://deb.debian.org/debian/pool/main/p/python3.11/python3.11_3.11.2.orig.tar.gz',
    );
  });

  it('leaves http(s) URLs as they are, mirror or not', () => {
    const url = 'https://www.python.org/ftp/python/3.13.5/Python-3.13.5.tar.xz';
    expect(resolveSourceUrl(url, 'http://deb.debian.org/debian/')).toBe(url);
    expect(resolveSourceUrl(url, undefined)).toBe(url);
    expect(resolveSourceUrl('http://example.org/x.tgz', undefined)).toBe('http://example.org/x.tgz');
  });

  it('is undefined for a debian: path without a mirror', () => {
    expect(resolveSourceUrl('debian:pool/main/p/python3.13/python3.13_3.13.5.orig.tar.xz', undefined)).toBeUndefined();
  });

  it('round-trips with findDebianMirror (whose result ends with a slash)', async () => {
    const mirror = await findDebianMirror({ configured: 'https://m.example/debian' });
    expect(resolveSourceUrl('debian:pool/x.tar.gz', mirror)).toBe('https://m.example/debian/pool/x.tar.gz');
  });
});
