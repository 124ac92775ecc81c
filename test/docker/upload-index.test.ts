import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installServers, removeDir, startDevpi, startPypiserver, workDir } from '../servers/upload/index-servers.ts';
import type { RunningServer } from '../servers/upload/index-servers.ts';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { installWithPipAndUv, makeTempDir, runWheelfarm } from './helpers.ts';

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

  it('publishes there, builds nothing the second time, a rebuild gets build tag 1, and pip and uv install that one', async () => {
    const run = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', target(server.url), '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'published' });
    expect(run.stdout + run.stderr).not.toContain('s3cret');
    const again = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', target(server.url), '--json']);
    expect(again.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'skipped' });
    // A rebuild is uploaded beside the first wheel with build tag 1, and both installers take it.
    const rebuilt = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', target(server.url), '--rebuild', '--json']);
    expect(rebuilt.exitCode, rebuilt.stderr).toBe(0);
    expect(rebuilt.events.find((e) => e.type === 'cell')).toMatchObject({
      outcome: 'published',
      wheel: expect.stringMatching(/^pyyaml-[\d.]+-1-cp313-/),
    });

    const result = await installWithPipAndUv(
      simple(server.url),
      'pyyaml',
      "import yaml; assert yaml.__with_libyaml__; print(yaml.load('a: 1', Loader=yaml.CSafeLoader))",
    );
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain("pip check: {'a': 1}");
    expect(result.output).toContain("uv check: {'a': 1}");
    expect([result.pip.build, result.uv.build], result.output).toEqual(['1', '1']);
  });

  it("build -r mirrors an application's pure closure there too: pip and uv install it from that server alone", async () => {
    const file = join(await makeTempDir('app'), 'requirements.txt');
    await writeFile(file, 'requests==2.32.5\n');
    const run = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', target(server.url), '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    const mirrored = run.events.filter((e) => e.type === 'mirror').map((e) => [e.filename, e.outcome]);
    expect(mirrored.map(([f]) => String(f).split('-')[0]).sort()).toEqual(['certifi', 'charset_normalizer', 'idna', 'requests', 'urllib3']);
    expect(mirrored.every(([, outcome]) => outcome === 'published')).toBe(true);
    const check = "import requests, urllib3, idna, certifi, charset_normalizer; print('closure', requests.__version__)";
    const result = await installWithPipAndUv(simple(server.url), 'requests', check);
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain('pip check: closure 2.32.5');
    expect(result.output).toContain('uv check: closure 2.32.5');
  });
});
