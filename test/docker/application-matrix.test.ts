import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTempDir, runWheelfarm } from './helpers.ts';

// `applications:` in the settings: `matrix plan` shows each application's distributions and their
// states; `matrix build` keeps every closure complete, and a changed file brings only what is new.

describe('applications in the matrix', () => {
  it('matrix plan lists them, matrix build completes them, a changed requirements file brings only its new distributions', async () => {
    const dir = await makeTempDir('apps');
    const requirements = join(dir, 'requirements.txt');
    await writeFile(requirements, 'six==1.17.0\n');
    const recipes = await makeTempDir('recipes');
    const settings = join(dir, 'wheelfarm.yaml');
    await writeFile(
      settings,
      [
        `index: { dir: ${join(dir, 'index')} }`,
        `recipes: { dir: ${recipes} }`,
        'matrix: { pythons: ["3.13"] }',
        'applications:',
        '  - name: tiny',
        '    requirements: requirements.txt',
        '  - name: broken',
        '    requirements: missing.txt',
        '',
      ].join('\n'),
    );
    const env = { WHEELFARM_CONFIG: settings };
    const plan = await runWheelfarm(['matrix', 'plan', '--json'], { env });
    expect(plan.exitCode, plan.stderr).toBe(2);
    const planned = plan.events.find((e) => e.type === 'plan') as any;
    expect(planned.applications).toEqual([
      expect.objectContaining({
        name: 'tiny',
        pythons: ['3.13'],
        dists: [expect.objectContaining({ name: 'six', kind: 'mirror', state: 'missing' })],
      }),
    ]);
    expect(planned.problems).toEqual([expect.objectContaining({ name: 'application broken', code: 'requirements-file-not-found' })]);

    // The broken application is a problem of its own; without it, the build ends well.
    await writeFile(settings, (await readFile(settings, 'utf8')).replace(/ {2}- name: broken\n.*\n/, ''));
    const build = await runWheelfarm(['matrix', 'build', '--json'], { env });
    expect(build.exitCode, build.stderr).toBe(0);
    expect(build.events.filter((e) => e.type === 'mirror').map((e) => [e.filename, e.outcome])).toEqual([
      ['six-1.17.0-py2.py3-none-any.whl', 'published'],
    ]);

    await writeFile(requirements, 'six==1.17.0\nidna==3.10\n');
    const again = await runWheelfarm(['matrix', 'build', '--json'], { env });
    expect(again.events.filter((e) => e.type === 'mirror').map((e) => [e.filename, e.outcome])).toEqual([
      ['idna-3.10-py3-none-any.whl', 'published'],
    ]);
    const after = await runWheelfarm(['matrix', 'plan', '--json'], { env });
    const states = (after.events.find((e) => e.type === 'plan') as any).applications[0].dists.map((d: any) => [d.name, d.state]);
    expect(states).toEqual([
      ['idna', 'mirrored'],
      ['six', 'mirrored'],
    ]);
  });
});
