// test/support/asserts-claim.ts: what counts as a test asserting a catalogue row's code or exit
// status, on small test files written here, including the ones that must not count.
import { describe, expect, it } from 'vitest';
import { assertsClaim } from '../../support/asserts-claim.ts';
import type { Claim } from '../../support/asserts-claim.ts';
import { findCaseRows, findTest, parseTestSource } from '../../support/find-test.ts';

const BAD_X: Claim = { codes: ['bad-x'], exit: 2, exitNames: ['usage'] };

/** Whether the test titled `title` in `text` (or its case `testCase`) asserts `claim`; undefined when there is no such test or case. */
function proves(text: string, title: string, { testCase, claim = BAD_X }: { testCase?: string; claim?: Claim } = {}): boolean | undefined {
  const test = findTest(parseTestSource('demo.test.ts', text), title);
  if (!test?.body) return undefined;
  const cases = testCase === undefined ? undefined : findCaseRows(test, testCase);
  if (cases?.length === 0) return undefined;
  return assertsClaim({ body: test.body, cases }, claim);
}

describe('a test cited without a case', () => {
  it('is found by its title, whole, past nested braces, template strings and a title split over lines', () => {
    const text = `
      it('other', () => { expect(e.code).toBe('bad-x'); });
      it(
        'the one', async () => {
          const f = () => { if (a) { return \`}\${'{'}\`; } };
          expect(run(\`x \${ { a: '}' }.a }\`).message).toMatch(/bad-x? \\}/);
          expect(error).toMatchObject({ code: 'bad-x', message: \`}}\` });
        },
      );`;
    expect(proves(text, 'the one')).toBe(true);
    expect(proves(text, 'the', {})).toBeUndefined();
  });

  it('does not count the code in the message, another test, a comment or a line that is no assertion', () => {
    const text = `
      it('the one', () => {
        // bad-x
        const code = 'bad-x';
        expect(error.message).toMatch(/no space left/);
      });
      it('next', () => { expect(error.code).toBe('bad-x'); });`;
    expect(proves(text, 'the one')).toBe(false);
    expect(proves(text, 'next')).toBe(true);
  });

  it('counts an exit status compared as one, or named by EXIT, and no other number', () => {
    const test = (line: string) => proves(`test('t', async () => { ${line} });`, 't');
    expect(test('expect(result.exitCode).toBe(2);')).toBe(true);
    expect(test('expect(exitCodeFor(error)).toBe(EXIT.usage);')).toBe(true);
    expect(test('expect(run).toMatchObject({ exitCode: 2 });')).toBe(true);
    expect(test('expect(problems).toHaveLength(2);')).toBe(false);
    expect(test('expect(result.exitCode).toBe(3);')).toBe(false);
    expect(test('expect(exitCodeFor(error)).toBe(EXIT.environment);')).toBe(false);
  });

  it('follows the helpers of its file that it calls, not those of other files', () => {
    const helper = `async function expectRejected(text) { const error = await load(text); expect(error.code).toBe('bad-x'); }`;
    expect(proves(`${helper}\nit('t', async () => { await expectRejected('a: 1'); });`, 't')).toBe(true);
    expect(proves(`import { expectRejected } from './helpers.ts';\nit('t', async () => { await expectRejected('a: 1'); });`, 't')).toBe(
      false,
    );
  });
});

describe('a test cited with a case', () => {
  const table = `
    const ROWS = [
      { input: 'x: 1', code: 'bad-x' },
      { input: 'y: 1', code: 'bad-y' },
    ] as const;
    describe('tables', () => {
      it.each([
        ['x: 1', 'bad-x', /x/],
        ['y: 1', 'other', /y/],
      ])('%s spread', async (input, code, message) => {
        await expectRefusal(load(input), { code, message });
      });
      it.each(ROWS)('$input whole', async (row) => {
        expect((await rejection(load(row.input))).code).toBe(row.code);
      });
      it.each(['x: 1', 'y: 1'])('%s constant', async (input) => {
        expect((await rejection(load(input))).code).toBe('bad-x');
      });
      it('a loop', () => {
        for (const [input, code] of [['x: 1', 'bad-x'], ['y: 1', 'bad-x']]) expect(run(input).message).toContain(input);
      });
    });`;

  it('counts the row when the body asserts the part of it that is the code, under the name the body gives it', () => {
    expect(proves(table, '%s spread', { testCase: 'x: 1' })).toBe(true);
    expect(proves(table, '$input whole', { testCase: 'x: 1' })).toBe(true);
    expect(proves(table, 'tables', { testCase: "'x: 1', 'bad-x', /x/" })).toBe(true);
    // A case whose text is in rows of two tables must be proven in both.
    expect(proves(table, 'tables', { testCase: "'x: 1', 'bad-x'" })).toBe(false);
  });

  it('counts a code the body asserts for every row, across several rows the case spans', () => {
    expect(proves(table, '%s constant', { testCase: "'x: 1', 'y: 1'" })).toBe(true);
  });

  it('does not count a row of another code, a body that asserts no part of the row, or a case no row has', () => {
    expect(proves(table, '%s spread', { testCase: 'y: 1' })).toBe(false);
    expect(proves(table, '$input whole', { testCase: 'y: 1' })).toBe(false);
    expect(proves(table, 'a loop', { testCase: "['x: 1', 'bad-x']" })).toBe(false);
    expect(proves(table, '%s spread', { testCase: 'z: 1' })).toBeUndefined();
  });
});
