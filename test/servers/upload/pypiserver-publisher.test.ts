import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { TransientError, UserInputError } from '../../../farm/src/errors.ts';
import { PypiserverPublisher } from '../../../farm/src/index/upload/pypiserver-publisher.ts';
import { publisherFromUrl } from '../../../farm/src/index/upload/publisher-from-url.ts';
import { installServers, pipEnv, rejection, removeDir, run, startPypiserver, wheel, workDir } from './index-servers.ts';
import { describeNeeding } from '../../support/needs.ts';
import type { RunningServer } from './index-servers.ts';
import { publisherContract } from './publisher-contract.ts';

const USER = 'uploader';
const PASSWORD = 'p@ss word/1';
const missing = await installServers();

describeNeeding(missing, 'PypiserverPublisher against a real pypiserver', () => {
  let server: RunningServer;
  let serverDir: string;
  let work: string;
  const auth = () => {
    const url = new URL(server.url);
    url.username = encodeURIComponent(USER);
    url.password = encodeURIComponent(PASSWORD);
    return url.href;
  };

  beforeAll(async () => {
    if (missing) return;
    serverDir = workDir();
    server = await startPypiserver(serverDir, USER, PASSWORD);
    console.info(`pypiserver answered ${server.startupMs} ms after spawn`);
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
    publisher: () => new PypiserverPublisher({ url: auth() }),
    download: async (filename, project, into) => {
      await run(
        'python3',
        ['-m', 'pip', 'download', '--no-deps', '--only-binary', ':all:', '--index-url', `${server.url}simple/`, '-d', into, project],
        { env: pipEnv() },
      );
      return join(into, filename);
    },
  });

  it('takes the credentials from options or the URL, and drops a trailing simple/', async () => {
    const publisher = new PypiserverPublisher({ url: `${server.url}simple/`, user: USER, password: PASSWORD });
    expect(publisher.indexUrl).toBe(`${server.url}simple/`);
    expect(publisher.description).not.toContain(PASSWORD);
    expect(await publisher.publish(wheel(work, { name: 'by-options', version: '1.0' }))).toBe('published');
    const fromUrl = publisherFromUrl(`pypiserver+${auth()}`);
    expect(fromUrl).toBeInstanceOf(PypiserverPublisher);
    expect(await fromUrl?.publish(wheel(work, { name: 'by-url', version: '1.0' }))).toBe('published');
    expect(publisherFromUrl('https://example.invalid/simple/')).toBeUndefined();
  });

  it('reports a bad password as a credentials problem, without the password', async () => {
    const url = new URL(server.url);
    url.username = USER;
    url.password = 'wrong-secret';
    const error = await rejection(new PypiserverPublisher({ url: url.href }).publish(wheel(work, { name: 'refused', version: '1.0' })));
    expect(error).toBeInstanceOf(UserInputError);
    expect((error as UserInputError).code).toBe('index-auth');
    expect((error as UserInputError).message).toMatch(/HTTP 40[13]/);
    expect((error as UserInputError).message).not.toContain('wrong-secret');
    expect((error as UserInputError).hint).toContain('htpasswd');
    const anonymous = await rejection(
      new PypiserverPublisher({ url: server.url }).publish(wheel(work, { name: 'refused', version: '1.0' })),
    );
    expect(anonymous).toBeInstanceOf(UserInputError);
    expect(await new PypiserverPublisher({ url: server.url }).listFiles('refused')).toEqual([]);
  });

  it('reports a server that is not there as transient', async () => {
    const deadDir = workDir();
    const dead = await startPypiserver(deadDir, USER, PASSWORD);
    await dead.stop();
    removeDir(deadDir);
    const error = await rejection(new PypiserverPublisher({ url: dead.url, retry: { tries: 2, retryDelayMs: 50 } }).listFiles('anything'));
    expect(error).toBeInstanceOf(TransientError);
    expect(error).toMatchObject({ code: 'index-connection-failed', tries: 2 });
  }, 60_000);
});
