import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLiveReporter } from '../../../farm/src/cli/live-view.ts';

/** A fake terminal: collects what is written, ANSI codes stripped. */
function terminal(): { stream: NodeJS.WriteStream; text: () => string } {
  let written = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      written += chunk.toString();
      callback();
    },
  }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns: 120, rows: 30 });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: strips terminal escape sequences
  return { stream, text: () => written.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '') };
}

describe('the live view', () => {
  it('shows running cells with their step, the queue and the counts; finished cells scroll above', () => {
    const { stream, text } = terminal();
    const reporter = createLiveReporter(stream);
    reporter.event({ type: 'planned', buildIds: ['a-1-cp311-x', 'a-1-cp313-x', 'b-2-cp313-x'], skipped: [] });
    reporter.event({ type: 'step', buildId: 'a-1-cp311-x', step: 'build', status: 'started' });
    reporter.event({ type: 'step', buildId: 'a-1-cp313-x', step: 'build', status: 'started' });
    expect(text()).toContain('0/3 done · 2 running · 1 queued');
    expect(text()).toMatch(/▶ a-1-cp311-x {2}build/);
    reporter.event({ type: 'step', buildId: 'a-1-cp311-x', step: 'test', status: 'started' });
    expect(text()).toMatch(/▶ a-1-cp311-x {2}test/);
    reporter.event({ type: 'cell', buildId: 'a-1-cp311-x', outcome: 'published', seconds: 3, wheel: 'a-1-cp311-cp311-x.whl' });
    expect(text()).toContain('a-1-cp311-x: published a-1-cp311-cp311-x.whl');
    expect(text()).toContain('1/3 done: 1 published · 1 running · 1 queued');
    reporter.event({
      type: 'cell',
      buildId: 'a-1-cp313-x',
      outcome: 'failed',
      seconds: 3,
      log: '/logs/x.log.gz',
      error: { code: 'build-failed', message: 'a-1-cp313-x: the build step failed' },
    });
    expect(text()).toContain('2/3 done: 1 published, 1 failed · 0 running · 1 queued');
    reporter.result({ type: 'summary' }, ['summary line']);
    expect(text().trimEnd().endsWith('summary line')).toBe(true);
  });

  it('shows the newest line of an image build while images are built', () => {
    const { stream, text } = terminal();
    const reporter = createLiveReporter(stream);
    reporter.event({ type: 'image-progress', kind: 'build', line: 'Step 8/28 : RUN sh build-cpython.sh' });
    expect(text()).toContain('image build: Step 8/28 : RUN sh build-cpython.sh');
    reporter.result({ type: 'x' }, []);
  });
});
