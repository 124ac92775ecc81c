import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { WheelfarmError } from '../errors.ts';
import { escapeNameForFilename } from '../wheels/names.ts';
import { redactUrl } from './redact-url.ts';

/**
 * A recipe's git source as an sdist-shaped tarball (`<name>-<version>/` inside), made once per
 * commit: `<root>/<commit>/<name>-<version>.tar.gz`. Only the pinned commit is fetched; the
 * archive appears by rename, so a failed fetch leaves nothing behind.
 */
export async function fetchGitSource({
  root,
  url,
  commit,
  name,
  version,
  signal,
}: {
  root: string;
  url: string;
  commit: string;
  name: string;
  version: string;
  signal?: AbortSignal;
}): Promise<{ path: string; filename: string; downloaded: boolean }> {
  const stem = `${escapeNameForFilename(name)}-${version}`;
  const filename = `${stem}.tar.gz`;
  const dir = join(root, commit);
  const path = join(dir, filename);
  if (existsSync(path)) return { path, filename, downloaded: false };
  await mkdir(dir, { recursive: true });
  const work = await mkdtemp(join(dir, '.clone-'));
  const git = (args: string[]) => execa('git', args, { cwd: work, ...(signal ? { cancelSignal: signal } : {}) });
  try {
    await git(['init', '-q']);
    await git(['fetch', '-q', '--depth', '1', url, commit]).catch((error: unknown) => {
      throw new WheelfarmError('git-fetch-failed', `cannot fetch commit ${commit} of ${redactUrl(url)}`, {
        cause: error,
        hint: `check the recipe's source.git and source.commit (the server must allow fetching a commit by its id): ${String(
          (error as { stderr?: string }).stderr ?? '',
        )
          .trim()
          .split('\n')
          .pop()}`,
      });
    });
    const fetched = (await git(['rev-parse', 'FETCH_HEAD'])).stdout.trim();
    if (fetched !== commit) {
      throw new WheelfarmError('git-commit-mismatch', `${redactUrl(url)} gave commit ${fetched} when asked for ${commit}`);
    }
    await git(['archive', '--format=tar.gz', `--prefix=${stem}/`, '-o', join(work, filename), commit]);
    await rename(join(work, filename), path);
    return { path, filename, downloaded: true };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
