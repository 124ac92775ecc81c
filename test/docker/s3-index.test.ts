import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIndexBucket, makeS3Client } from '../../farm/src/index/s3/s3-bucket-admin.ts';
import { REPO_ROOT, installWithPipAndUv, makeTempDir, runWheelfarm } from './helpers.ts';
import { freePort } from '../support/free-port.ts';

/**
 * `wheelfarm build --index s3://...` against a real S3-compatible server (moto's server mode,
 * started here by scripts/start-moto.sh), then pip in a clean runtime container installs from the
 * bucket over plain HTTP. Set WHEELFARM_TEST_S3_ENDPOINT to run it against MinIO or real S3 instead.
 */
describe('publishing to an S3 index', () => {
  let endpoint: string;
  let stateDir: string;
  const env = { AWS_ACCESS_KEY_ID: 'wheelfarm-test', AWS_SECRET_ACCESS_KEY: 'wheelfarm-test', AWS_REGION: 'us-east-1' };

  beforeAll(async () => {
    stateDir = await makeTempDir('moto');
    if (process.env.WHEELFARM_TEST_S3_ENDPOINT) {
      endpoint = process.env.WHEELFARM_TEST_S3_ENDPOINT;
    } else {
      const port = await freePort();
      const started = await execa('bash', [`${REPO_ROOT}/scripts/start-moto.sh`], {
        env: { MOTO_PORT: String(port), MOTO_STATE_DIR: stateDir },
      });
      endpoint = started.stdout.trim().split('\n').pop()!;
    }
    Object.assign(process.env, env);
    await createIndexBucket(makeS3Client({ endpoint, region: 'us-east-1' }), 'wheels', { publicRead: true });
  });

  afterAll(async () => {
    if (!process.env.WHEELFARM_TEST_S3_ENDPOINT)
      await execa('bash', [`${REPO_ROOT}/scripts/start-moto.sh`, 'stop'], { env: { MOTO_STATE_DIR: stateDir }, reject: false });
  });

  it('build publishes to the bucket, and pip installs from it in the runtime image', async () => {
    const target = `s3://wheels/farm?endpoint=${endpoint}&region=us-east-1`;
    const run = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', target, '--json'], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'published' });
    // The same build again finds the wheel in the bucket and builds nothing.
    const again = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', target, '--json'], { env });
    expect(again.events.find((e) => e.type === 'cell')).toMatchObject({ outcome: 'skipped' });
    const rebuilt = await runWheelfarm(['build', 'pyyaml', '--python', '3.13', '--index', target, '--rebuild', '--json'], { env });
    expect(rebuilt.events.find((e) => e.type === 'cell')).toMatchObject({
      outcome: 'published',
      wheel: expect.stringMatching(/^pyyaml-[\d.]+-1-cp313-/),
    });

    const result = await installWithPipAndUv(
      `${endpoint}/wheels/farm/simple/`,
      'pyyaml',
      "import yaml; assert yaml.__with_libyaml__; print(yaml.load('s3: 1', Loader=yaml.CSafeLoader))",
    );
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain("pip check: {'s3': 1}");
    expect(result.output).toContain("uv check: {'s3': 1}");
    expect(result.pip.usedMetadata, result.output).toBe(true);
    expect([result.pip.build, result.uv.build], result.output).toEqual(['1', '1']);
  });

  it("build -r mirrors an application's pure closure into the bucket: pip and uv install it from there alone", async () => {
    const target = `s3://wheels/closure?endpoint=${endpoint}&region=us-east-1`;
    const file = join(await makeTempDir('app'), 'requirements.txt');
    await writeFile(file, 'requests==2.32.5\n');
    const run = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', target, '--json'], { env });
    expect(run.exitCode, run.stderr).toBe(0);
    const mirrored = run.events.filter((e) => e.type === 'mirror');
    expect(mirrored.map((e) => String(e.filename).split('-')[0]).sort()).toEqual([
      'certifi',
      'charset_normalizer',
      'idna',
      'requests',
      'urllib3',
    ]);
    const again = await runWheelfarm(['build', '-r', file, '--python', '3.13', '--index', target, '--json'], { env });
    expect(again.events.filter((e) => e.type === 'mirror')).toEqual([]);
    const result = await installWithPipAndUv(
      `${endpoint}/wheels/closure/simple/`,
      'requests',
      "import requests, urllib3, idna, certifi, charset_normalizer; print('closure', requests.__version__)",
    );
    expect(result.exitCode, result.output).toBe(0);
    expect(result.output).toContain('pip check: closure 2.32.5');
    expect(result.output).toContain('uv check: closure 2.32.5');
    expect(result.pip.usedMetadata, result.output).toBe(true);
  });
});
