import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvironmentError } from '../errors.ts';

/**
 * The Debian mirror the host's apt uses (for debootstrap and `debian:` source URLs), read from
 * `sources.list` and deb822 `*.sources` files. The security archive is skipped: it has no pool of
 * release tarballs.
 */
export async function findDebianMirror({ configured, aptDir = '/etc/apt' }: { configured?: string; aptDir?: string }): Promise<string> {
  if (configured) return withSlash(configured);
  const texts = await readAptSources(aptDir);
  const mirror = texts.flatMap(extractUris).find((uri) => !/security/.test(uri));
  if (!mirror) {
    throw new EnvironmentError('no-debian-mirror', `no Debian mirror found in ${aptDir}/sources.list(.d)`, {
      hint: 'set images.debian-mirror in wheelfarm.yaml to a Debian archive URL',
    });
  }
  return withSlash(mirror);
}

async function readAptSources(aptDir: string): Promise<string[]> {
  const files = [join(aptDir, 'sources.list')];
  try {
    const entries = await readdir(join(aptDir, 'sources.list.d'));
    files.push(...entries.filter((e) => /\.(list|sources)$/.test(e)).map((e) => join(aptDir, 'sources.list.d', e)));
  } catch {
    // no sources.list.d: fine
  }
  const texts: string[] = [];
  for (const file of files) {
    try {
      texts.push(await readFile(file, 'utf8'));
    } catch {
      // unreadable or missing: skip
    }
  }
  return texts;
}

/** URIs from one-line (`deb URI suite ...`) and deb822 (`URIs: ...`) formats, in file order. */
export function extractUris(text: string): string[] {
  const uris: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    const oneLine = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
    if (oneLine) uris.push(oneLine[1]!);
    const deb822 = /^URIs:\s*(.+)$/i.exec(line);
    if (deb822) uris.push(...deb822[1]!.split(/\s+/));
  }
  return uris.filter((uri) => /^https?:\/\//.test(uri));
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** `debian:pool/main/...` -> `<mirror>pool/main/...`; other URLs unchanged. */
export function resolveSourceUrl(url: string, mirror: string | undefined): string | undefined {
  if (!url.startsWith('debian:')) return url;
  return mirror ? mirror + url.slice('debian:'.length) : undefined;
}
