import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, caMount, currentImages, makeTempDir, runInImage, runWheelfarm } from './helpers.ts';

/**
 * `wheelfarm serve` in front of an index wheelfarm wrote, used by real installers (pip and uv) in a
 * clean runtime container that reaches the server over loopback.
 */
describe('wheelfarm serve, with pip and uv installing from it', () => {
  let index: string;
  let server: ReturnType<typeof execa>;
  let url: string;

  beforeAll(async () => {
    index = await makeTempDir('index');
    const build = await runWheelfarm(['build', 'markupsafe', '--python', '3.13', '--index', index]);
    expect(build.exitCode, build.stderr).toBe(0);
    server = execa(`${REPO_ROOT}/wheelfarm`, ['serve', '--index', index, '--port', '0', '--json'], { cwd: REPO_ROOT, reject: false });
    url = await new Promise<string>((resolve, reject) => {
      server.stdout!.on('data', (chunk: Buffer) => {
        const match = /"url":"([^"]+)"/.exec(chunk.toString());
        if (match) resolve(match[1]!);
      });
      void server.then(() => reject(new Error('wheelfarm serve ended before it was serving')));
    });
  });

  afterAll(async () => {
    server.kill('SIGINT');
    const result = await server;
    expect(result.exitCode).toBe(0);
  });

  it('serves PEP 691 JSON or HTML by Accept, and 404 for an unknown project', async () => {
    const json = await fetch(`${url}markupsafe/`, { headers: { Accept: 'application/vnd.pypi.simple.v1+json' } });
    expect(json.headers.get('content-type')).toContain('application/vnd.pypi.simple.v1+json');
    const page = (await json.json()) as { files: { filename: string; 'core-metadata': unknown }[] };
    expect(page.files[0]!['core-metadata']).toMatchObject({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const html = await fetch(`${url}markupsafe/`);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect((await fetch(`${url}no-such-project/`)).status).toBe(404);
  });

  it('pip and uv install from it in the runtime image (pip through the .metadata file)', async () => {
    const ca = caMount();
    const { exitCode, output } = await runInImage(
      (await currentImages()).runtime,
      [
        'bash',
        '-c',
        'set -e; py=/opt/python/cp313-cp313/bin/python; ' +
          `$py -m venv /tmp/p && /tmp/p/bin/pip install -v --no-cache-dir --index-url ${url} --only-binary :all: markupsafe | grep -E "metadata|Successfully installed"; ` +
          'cd /tmp && /tmp/p/bin/python -c "import markupsafe; print(\'pip:\', markupsafe.escape(\'<a>\'))"; ' +
          // uv itself comes from the upstream index (pip's default), then installs from the farm only.
          '$py -m venv /tmp/tools && /tmp/tools/bin/pip install -q --no-cache-dir uv && $py -m venv /tmp/u && ' +
          `/tmp/tools/bin/uv pip install --no-cache --python /tmp/u/bin/python --index-url ${url} --only-binary :all: markupsafe && ` +
          '/tmp/u/bin/python -c "import markupsafe; print(\'uv:\', markupsafe.escape(\'<a>\'))"',
      ],
      { binds: ca.binds, env: ca.env, hostNetwork: true },
    );
    expect(exitCode, output).toBe(0);
    expect(output).toMatch(/markupsafe-[^\s]+\.whl\.metadata/);
    expect(output).toContain('pip: &lt;a&gt;');
    expect(output).toContain('uv: &lt;a&gt;');
  });
});
