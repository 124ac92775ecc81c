import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { FIXTURES, buildWithRecipes, docker, runWheelfarm, wheelfarmContainers } from './helpers.ts';

/** The container events (create, start, ...) of builds of `project` between two times, in seconds. */
async function containerEvents(project: string, since: number, until: number): Promise<string[]> {
  const stream = await docker.getEvents({ since, until, filters: { type: ['container'], label: ['wheelfarm=1'] } });
  let text = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) text += chunk.toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { Action: string; Actor: { Attributes: Record<string, string> } })
    .filter((event) => (event.Actor.Attributes['wheelfarm.build-id'] ?? '').startsWith(`${project}-`))
    .map((event) => event.Action);
}

describe('a hostile sdist is refused on the host, before any container sees it', () => {
  it('path traversal: exit 5, the message names the member and the problem, nothing published, no container', async () => {
    const sdist = join(FIXTURES, 'archives', 'traversal-1.0.tar.gz');
    const sha256 = createHash('sha256')
      .update(await readFile(sdist))
      .digest('hex');
    const recipe = `source:\n  url: ${pathToFileURL(sdist).href}\n  sha256: ${sha256}\n`;
    const since = Math.floor(Date.now() / 1000) - 1;

    const json = await buildWithRecipes({ traversal: recipe }, ['traversal']);
    expect(json.exitCode, json.stderr + json.stdout).toBe(5);
    expect(json.events.find((e) => e.type === 'error')).toMatchObject({
      code: 'archive-path-traversal',
      message:
        'traversal-1.0.tar.gz: member `traversal-1.0/../../escaped.txt` has a `..` path segment, which climbs out of the folder it is unpacked into',
    });
    expect(json.events.map((e) => e.type)).not.toContain('fetched');
    expect(json.events.filter((e) => e.type === 'step' || e.type === 'cell')).toEqual([]);
    expect(existsSync(join(json.index, 'files', 'traversal'))).toBe(false);

    // As a person sees it on the terminal.
    const run = await runWheelfarm(['build', 'traversal', '--python', '3.13', '--index', json.index], {
      env: { WHEELFARM_RECIPES_DIR: json.recipesDir },
    });
    expect(run.exitCode, run.stderr).toBe(5);
    expect(run.stderr).toContain('error: traversal-1.0.tar.gz: member `traversal-1.0/../../escaped.txt` has a `..` path segment');
    expect(run.stderr).toMatch(/hint: Do not build it: unpacking it could write or link outside its folder/);
    expect(existsSync(join(json.index, 'files', 'traversal'))).toBe(false);

    expect(await wheelfarmContainers('traversal')).toEqual([]);
    expect(await containerEvents('traversal', since, Math.ceil(Date.now() / 1000) + 1)).toEqual([]);
  });
});
