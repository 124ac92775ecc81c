import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installServers, removeDir, startDevpi, startPypiserver, workDir } from '../servers/upload/index-servers.ts';
import type { RunningServer } from '../servers/upload/index-servers.ts';
import { caMount, currentImages, runInImage, runWheelfarm } from './helpers.ts';

/**
 * The publishing acceptance for the upload backends: `wheelfarm build pyyaml --index <server>` against
 * a real devpi-server and a real pypiserver started here, then pip in a clean runtime container
 * installs pyyaml from that server and its C extension works.
 */
describe.each([
  {
    backend: 'devpi',
    start: (dir: string) => startDevpi(dir),
    target: (url: string) => `devpi+${url.replace('http://', 'http://farm:s3cret@')}farm/wheels?create=1`,
    simple: (url: string) => `${url}farm/wheels/+simple/`,
  },
  {
    backend: 'pypiserver',
    start: (dir: string) => startPypiserver(dir, 'wheelfarm', 's3cret'),
    target: (url: string) => `pypiserver+${url.replace('http://', 'http://wheelfarm:s3cret@')}`,
    simple: (url: string) => `${url}simple/`,
  },
])('wheelfarm build pyyaml --index $backend', ({ start, target, simple }) => {
  let server: RunningServer;
  let dir: string;

  beforeAll(async () => {
    const skipped = await installServers();
    if (skipped) throw new Error(skipped);
    dir = workDir();
    server = await start(dir);
  });
  afterAll(async () => {
    await server?.stop();
    removeDir(dir);
  });

  it('publishes there, builds nothing the second time, and pip installs it in the runtime image', async () => {
    const run = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', target(server.url), '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'published' });
    expect(run.stdout + run.stderr).not.toContain('s3cret');
    const again = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', target(server.url), '--json']);
    expect(again.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'skipped' });

    const ca = caMount();
    const { exitCode, output } = await runInImage(
      (await currentImages()).runtime,
      [
        'bash',
        '-c',
        `/opt/python/cp313-cp313/bin/python -m venv /tmp/v && /tmp/v/bin/pip install -q --no-cache-dir --index-url ${simple(server.url)} --only-binary :all: pyyaml && ` +
          'cd /tmp && /tmp/v/bin/python -c "import yaml; assert yaml.__with_libyaml__; print(yaml.load(\'a: 1\', Loader=yaml.CSafeLoader))"',
      ],
      { binds: ca.binds, env: ca.env, hostNetwork: true },
    );
    expect(exitCode, output).toBe(0);
    expect(output).toContain("{'a': 1}");
  });
});
