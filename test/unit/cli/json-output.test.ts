import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { SqliteBuildRecords } from '../../../farm/src/records/sqlite-build-records.ts';

const MAIN = resolve(import.meta.dirname, '../../../farm/src/cli/main.ts');

describe('--json output', () => {
  it('is complete when it is long and stdout is a pipe (the process waits for it before exiting)', async () => {
    const home = await mkdtemp(join(tmpdir(), 'wheelfarm-json-'));
    const records = new SqliteBuildRecords({ path: join(home, 'records.db') });
    for (let i = 0; i < 3000; i += 1) {
      const cell = { name: `pkg${i}`, version: '1.0', python: 'cp313', platform: 'manylinux_2_31_x86_64' };
      await records.begin({
        buildId: `pkg${i}-1.0-cp313-manylinux_2_31_x86_64`,
        cell,
        index: 'dir:/x',
        inputs: { source: 's', recipe: 'r', image: 'i' },
        buildTag: undefined,
        log: `/logs/${'x'.repeat(200)}`,
      });
    }
    await records.close();
    const result = await execa('node', [MAIN, 'status', '--json', '--limit', '5000'], {
      env: { WHEELFARM_HOME: home },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(result.stdout.length).toBeGreaterThan(1_000_000);
    const payload = JSON.parse(result.stdout.trim().split('\n').pop()!) as { type: string; records: unknown[] };
    expect(payload.type).toBe('status');
    expect(payload.records).toHaveLength(3000);
  });
});
