import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { UserInputError } from '../../../farm/src/errors.ts';
import { DevpiPublisher } from '../../../farm/src/index/upload/devpi-publisher.ts';
import { publisherFromUrl } from '../../../farm/src/index/upload/publisher-from-url.ts';
import { installServers, pipEnv, rejection, removeDir, run, startDevpi, wheel, workDir } from './index-servers.ts';
import { describeNeeding } from '../../support/needs.ts';
import type { RunningServer } from './index-servers.ts';
import { publisherContract } from './publisher-contract.ts';

const USER = 'builder';
const PASSWORD = 'p@ss word/2';
const missing = await installServers();

describeNeeding(missing, 'DevpiPublisher against a real devpi-server', () => {
  let server: RunningServer;
  let serverDir: string;
  let work: string;

  beforeAll(async () => {
    if (missing) return;
    serverDir = workDir();
    server = await startDevpi(serverDir);
    console.info(`devpi-server answered ${server.startupMs} ms after spawn`);
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    removeDir(serverDir);
  });
  beforeEach(() => {
    work = workDir();
  });
  afterEach(() => removeDir(work));

  publisherContract({
    work: () => work,
    publisher: () => new DevpiPublisher({ url: server.url, user: USER, password: PASSWORD, index: 'wheels', create: true }),
    download: async (filename, project, into) => {
      await run(
        'python3',
        [
          '-m',
          'pip',
          'download',
          '--no-deps',
          '--only-binary',
          ':all:',
          '--index-url',
          `${server.url}${USER}/wheels/+simple/`,
          '-d',
          into,
          project,
        ],
        {
          env: pipEnv(),
        },
      );
      return join(into, filename);
    },
  });

  it('creates a non-volatile index', async () => {
    await new DevpiPublisher({ url: server.url, user: USER, password: PASSWORD, index: 'made', create: true }).publish(
      wheel(work, { name: 'made', version: '1.0' }),
    );
    const response = await fetch(`${server.url}${USER}/made`, { headers: { Accept: 'application/json' } });
    expect((await response.json()).result).toMatchObject({ type: 'stage', volatile: false, bases: [] });
  });

  it('is built from a devpi+http URL', async () => {
    const url = new URL(server.url);
    url.username = USER;
    url.password = encodeURIComponent(PASSWORD);
    const publisher = publisherFromUrl(`devpi+${url.href}${USER}/from-url?create=1`);
    expect(publisher).toBeInstanceOf(DevpiPublisher);
    expect(publisher?.description).not.toContain('ss word');
    expect(await publisher?.publish(wheel(work, { name: 'from-url', version: '1.0' }))).toBe('published');
    expect((publisher as DevpiPublisher).indexUrl).toBe(`${server.url}${USER}/from-url/+simple/`);
    expect(() => publisherFromUrl(`devpi+${server.url}`)).toThrow(/names no devpi index/);
  });

  it('reports a bad password, and a missing index without create, clearly', async () => {
    await new DevpiPublisher({ url: server.url, user: USER, password: PASSWORD, index: 'wheels', create: true }).publish(
      wheel(work, { name: 'first', version: '1.0' }),
    );
    const error = await rejection(
      new DevpiPublisher({ url: server.url, user: USER, password: 'wrong-secret', index: 'wheels', create: true }).publish(
        wheel(work, { name: 'refused', version: '1.0' }),
      ),
    );
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).code).toBe('index-auth');
    expect((error as UserInputError).message).not.toContain('wrong-secret');
    expect((error as UserInputError).hint).toContain(`devpi user \`${USER}\``);
    const missing = await rejection(
      new DevpiPublisher({ url: server.url, user: USER, password: PASSWORD, index: 'absent' }).publish(
        wheel(work, { name: 'refused', version: '1.0' }),
      ),
    );
    expect(missing).toMatchObject({ code: 'devpi-index-missing' });
    const stranger = await rejection(
      new DevpiPublisher({ url: server.url, user: 'nobody', password: 'x', index: 'absent' }).publish(
        wheel(work, { name: 'refused', version: '1.0' }),
      ),
    );
    expect(stranger).toBeInstanceOf(UserInputError);
  });
});
