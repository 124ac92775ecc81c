import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EnvironmentError, WheelfarmError } from '../errors.ts';
import type { ImageEvent } from './ensure-images.ts';

export type ImageKind = 'base' | 'build' | 'runtime' | 'recipe' | 'library' | 'toolchain';

/**
 * Runs one image build with its output in `<home>/logs/images/<kind>-<hash>.log`: announced,
 * timed, the classic builder's `Step N/M` lines forwarded as progress. A failure becomes an
 * EnvironmentError that names the image, adds `hint`, and points at the log.
 */
export async function withImageBuildLog(
  { home, onEvent }: { home: string; onEvent: (event: ImageEvent) => void },
  { kind, tag, hint }: { kind: ImageKind; tag: string; hint?: string },
  build: (write: (text: string) => void) => Promise<void>,
): Promise<void> {
  const log = imageBuildLogPath(home, kind, tag);
  await mkdir(dirname(log), { recursive: true });
  const out = createWriteStream(log, { flags: 'a' });
  onEvent({ type: 'image', kind, tag, status: 'building', log });
  const started = performance.now();
  const write = (text: string) => {
    out.write(text);
    for (const line of text.split('\n')) if (/^Step \d+\/\d+ :/.test(line)) onEvent({ type: 'image-progress', kind, line });
  };
  try {
    await build(write);
  } catch (error) {
    if (!(error instanceof WheelfarmError)) throw error;
    throw new EnvironmentError('image-build-failed', `building the ${kind} image ${tag} failed: ${error.message}`, {
      cause: error,
      hint: [error.hint, hint, `full log: ${log}`].filter(Boolean).join('\n'),
    });
  } finally {
    await new Promise((resolve) => out.end(resolve));
  }
  onEvent({ type: 'image', kind, tag, status: 'built', seconds: (performance.now() - started) / 1000 });
}

/** `<home>/logs/images/recipe-<hash>.log`; `library-geos-3.13.1-<hash>.log` for a library (its tag's name and version). */
export function imageBuildLogPath(home: string, kind: ImageKind, tag: string): string {
  const [repository = '', version = ''] = tag.split(':');
  const name = repository.split('/').at(-1) ?? kind;
  return join(home, 'logs', 'images', `${name === kind ? kind : name}-${version}.log`);
}
