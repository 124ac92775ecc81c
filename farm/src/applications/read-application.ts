import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { ApplicationSettings } from '../config/application-settings.ts';
import { UserInputError } from '../errors.ts';
import { httpRequest } from '../upstream/http-request.ts';
import { redactUrl } from '../upstream/redact-url.ts';
import type { ApplicationInput } from './application-input.ts';
import { applicationSlug } from './closure-record.ts';
import { readPylockFile } from './pylock-file.ts';
import { readRequirementsFile } from './requirements-file.ts';

/**
 * An application of the settings, read and checked: its requirements or lock file from its path, or
 * downloaded from its URL first (to `<home>/applications/<name>.<kind>`, replaced whole; `-r`/`-c`
 * lines in a downloaded file are read next to that copy).
 */
export async function readApplication(
  app: ApplicationSettings,
  { home, signal }: { home: string; signal: AbortSignal },
): Promise<ApplicationInput> {
  const path = /^https?:\/\//.test(app.source) ? await download(app, home, signal) : app.source;
  return app.kind === 'requirements' ? readRequirementsFile(path) : readPylockFile(path);
}

async function download(app: ApplicationSettings, home: string, signal: AbortSignal): Promise<string> {
  const dir = join(home, 'applications');
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${applicationSlug(app.name)}.${app.kind === 'lock' ? 'pylock.toml' : 'requirements.txt'}`);
  const response = await httpRequest({ url: app.source, signal });
  if (!response.ok || !response.body) {
    throw new UserInputError(
      'application-not-found',
      `application ${app.name}: ${redactUrl(app.source)} answered HTTP ${response.status}`,
      {
        hint: 'check the URL in `applications:` of the settings file (credentials go in the URL: https://USER:TOKEN@host/...)',
      },
    );
  }
  // Written aside and renamed: a download cut short leaves no half file where the last good one was.
  const temp = `${path}.${process.pid}.part`;
  try {
    await pipeline(Readable.fromWeb(response.body as WebReadableStream), createWriteStream(temp));
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  return path;
}
