import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readApplication } from '../../../farm/src/applications/read-application.ts';
import type { FixtureServer } from '../../fixtures/upstream/fixture-server.ts';
import { sendBytes, sendStatus, startFixtureServer } from '../../fixtures/upstream/fixture-server.ts';
import { rejection, useTempDir } from './helpers.ts';

// An application of the settings whose file is at a URL: downloaded (real HTTP on loopback) next to
// the farm's records of applications, replaced whole, and read like a local file.

const temp = useTempDir();
let server: FixtureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const signal = new AbortController().signal;

describe('readApplication', () => {
  it('downloads a requirements file from its URL and reads it; a second download replaces it whole', async () => {
    let body = 'six==1.17.0\n';
    server = await startFixtureServer({ '/apps/api.txt': (req, res, seen) => sendBytes(body)(req, res, seen) });
    const app = { name: 'api', kind: 'requirements' as const, source: `${server.origin}/apps/api.txt`, pythons: undefined };
    const input = await readApplication(app, { home: temp.dir(), signal });
    expect(input.kind === 'requirements' && input.lines.map((l) => l.requirement)).toEqual(['six==1.17.0']);
    body = 'idna==3.10\n';
    await readApplication(app, { home: temp.dir(), signal });
    expect(await readFile(join(temp.dir(), 'applications', 'api.requirements.txt'), 'utf8')).toBe('idna==3.10\n');
    expect(await readdir(join(temp.dir(), 'applications'))).toEqual(['api.requirements.txt']);
  });

  it('a URL that does not answer with the file: application-not-found, naming the application and the URL; nothing written', async () => {
    server = await startFixtureServer({ '/apps/gone.txt': sendStatus(404) });
    const app = { name: 'api', kind: 'lock' as const, source: `${server.origin}/apps/gone.txt`, pythons: undefined };
    const error = await rejection(readApplication(app, { home: temp.dir(), signal }));
    expect(error.code).toBe('application-not-found');
    expect(error.message).toBe(`application api: ${server.origin}/apps/gone.txt answered HTTP 404`);
    expect(await readdir(join(temp.dir(), 'applications'))).toEqual([]);
  });

  it('a download cut short leaves neither a half file nor its temporary one', async () => {
    server = await startFixtureServer({
      '/apps/cut.txt': (_req, res) => {
        res.writeHead(200, { 'content-length': '1000' });
        res.write('six==1.17.0\n');
        setTimeout(() => res.destroy(), 20);
      },
    });
    const app = { name: 'api', kind: 'requirements' as const, source: `${server.origin}/apps/cut.txt`, pythons: undefined };
    await expect(readApplication(app, { home: temp.dir(), signal })).rejects.toThrow();
    expect(await readdir(join(temp.dir(), 'applications'))).toEqual([]);
  });
});
