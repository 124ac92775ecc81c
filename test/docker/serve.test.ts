import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installWithPipAndUv, makeTempDir, runWheelfarm, startServe } from './helpers.ts';

/**
 * `wheelfarm serve` in front of an index wheelfarm wrote, used by real installers (pip and uv) in a
 * clean runtime container that reaches the server over loopback.
 */
describe('wheelfarm serve, with pip and uv installing from it', () => {
  let index: string;
  let server: Awaited<ReturnType<typeof startServe>>;
  let url: string;

  beforeAll(async () => {
    index = await makeTempDir('index');
    const build = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', index]);
    expect(build.exitCode, build.stderr).toBe(0);
    server = await startServe(index);
    url = server.url;
  });

  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('serves PEP 691 JSON or HTML by Accept, and 404 for an unknown project', async () => {
    const json = await fetch(`${url}pyyaml/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } });
    expect(json.headers.get('content-type')).toContain('application/vnd.pypi.simple.v1+json');
    const page = (await json.json()) as { files: { filename: string; 'core-metadata': unknown }[] };
    expect(page.files[0]!['core-metadata']).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const html = await fetch(`${url}pyyaml/`);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${url}no-such-project/`)).status).toBe(404);
  });

  it('pip and uv install from it in the runtime image (pip through the .metadata file)', async () => {
    const result = await installWithPipAndUv(
      url,
      'pyyaml',
      "import yaml; assert yaml.__with_libyaml__; print(yaml.load('served: 1', Loader=yaml.CSafeLoader))",
    );
    expect(result.exitCode, result.output).toBe(0);
    expect(result.pip.usedMetadata, result.output).toBe(true);
    expect(result.output).toContain("pip check: {'served': 1}");
    expect(result.output).toContain("uv check: {'served': 1}");
  });
});
