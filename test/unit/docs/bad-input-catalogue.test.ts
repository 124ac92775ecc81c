// docs/bad-input.md: every row of the bad-input catalogue cites a test that exists and asserts the
// row's code or exit status, with a code and a message the code still has, so the catalogue cannot
// drift from the tests.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../../farm/src/cli/exit-codes.ts';
import { assertsClaim } from '../../support/asserts-claim.ts';
import type { Claim } from '../../support/asserts-claim.ts';
import { findCaseRows, findTest, parseTestFile } from '../../support/find-test.ts';
import type { TableRow } from '../../support/find-test.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const CATALOGUE = join(ROOT, 'docs', 'bad-input.md');
const COLUMNS = ['Input', 'Example', 'Message', 'Code', 'Exit', 'Test'] as const;
/** A message's literal stretches shorter than this are too common to prove anything. */
const MIN_FRAGMENT = 9;

interface Row {
  section: string;
  cells: Record<(typeof COLUMNS)[number], string>;
}

interface Citation {
  file: string;
  name: string;
  testCase: string | undefined;
}

/** The rows of every table whose header has the catalogue's columns, with the section each is in. */
function readRows(markdown: string): Row[] {
  const rows: Row[] = [];
  let section = '';
  let header: string[] | undefined;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('## ')) section = line.slice(3);
    if (!line.startsWith('|')) {
      header = undefined;
      continue;
    }
    const cells = splitCells(line);
    if (header === undefined) header = cells;
    else if (header.join('|') === COLUMNS.join('|') && !cells.every((cell) => /^-+$/.test(cell))) {
      rows.push({ section, cells: Object.fromEntries(COLUMNS.map((column, i) => [column, cells[i] ?? ''])) as Row['cells'] });
    }
  }
  return rows;
}

/** A table line's cells, split at pipes that are not escaped, with `\|` turned back into `|`. */
function splitCells(line: string): string[] {
  return line
    .slice(1, line.endsWith('|') ? -1 : undefined)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replaceAll('\\|', '|'));
}

/** `` `file` › "name" `` or `` `file` › "name", case `x` ``, several joined by `<br>`. */
function readCitations(cell: string): (Citation | string)[] {
  return cell.split('<br>').map((part) => {
    const match = /^`([^`]+)` › "([^"]+)"(?:, case `([^`]+)`)?$/.exec(part.trim());
    return match ? { file: match[1]!, name: match[2]!, testCase: match[3] } : part;
  });
}

/** The code spans of a cell (what the farm prints); a cell without any is taken whole. */
function codeSpans(cell: string): string[] {
  const spans = [...cell.matchAll(/``\s?(.+?)\s?``|`([^`]+)`/g)].map((m) => m[1] ?? m[2]!);
  return spans.length > 0 ? spans : [cell];
}

/**
 * The literal stretches of a message: its clauses (split at `: `, `; `, `, ` and parentheses) without the
 * values in backticks or double quotes and without placeholders (`<file>`), long enough to prove
 * something.
 */
function fragments(message: string): string[] {
  return message
    .split('`')
    .filter((_part, i) => i % 2 === 0)
    .flatMap((part) => part.split(/<[^<>]+>|"[^"]*"|: |; |, |\(|\)/))
    .map((part) => part.replace(/^[\s:;,.]+|[\s:;,.]+$/g, ''))
    .filter((part) => part.length >= MIN_FRAGMENT);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** What a row says its tests assert: its codes (none for `—`) or its exit status, with the names `EXIT` gives it. */
function claimOf(row: Row): Claim {
  const exit = Number(row.cells.Exit);
  return {
    codes: row.cells.Code === '—' ? [] : codeSpans(row.cells.Code),
    exit,
    exitNames: Object.entries(EXIT).flatMap(([name, value]) => (value === exit ? [name] : [])),
  };
}

/** The test a citation names, with the table rows of the case it names; or why it cannot be found. */
function locate(citation: Citation): { body: ts.Node; cases: TableRow[] | undefined } | string {
  if (!existsSync(join(ROOT, citation.file))) return `${citation.file} does not exist`;
  const test = findTest(parseTestFile(join(ROOT, citation.file)), citation.name);
  if (!test?.body) return `${citation.file} has no it(…), test(…) or describe(…) titled "${citation.name}", with a callback`;
  const cases = citation.testCase === undefined ? undefined : findCaseRows(test, citation.testCase);
  if (cases?.length === 0) return `${citation.file} › "${citation.name}" runs over no table row with case ${citation.testCase}`;
  return { body: test.body, cases };
}

/** Why the test `citation` names does not prove `row` (its code or exit asserted, in its body or its case's row); none if it does. */
function whyUnproven(row: Row, citation: Citation): string[] {
  const located = locate(citation);
  // A test that cannot be found is the previous check's problem.
  if (typeof located === 'string') return [];
  const claim = claimOf(row);
  const claimed = claim.codes.length > 0 ? `neither code ${claim.codes.join(' or ')} nor exit ${claim.exit}` : `not exit ${claim.exit}`;
  const cited = `${citation.file} › "${citation.name}"${citation.testCase === undefined ? '' : `, case ${citation.testCase}`}`;
  return assertsClaim(located, claim) ? [] : [`${label(row)}: ${cited} asserts ${claimed}`];
}

const rows = readRows(readFileSync(CATALOGUE, 'utf8'));
const source = sourceFiles(join(ROOT, 'farm', 'src'))
  .map((file) => readFileSync(file, 'utf8'))
  .join('\n');
const testText = (citation: Citation) => readFileSync(join(ROOT, citation.file), 'utf8');
const citationsOf = (row: Row) => readCitations(row.cells.Test).filter((c): c is Citation => typeof c !== 'string');
const label = (row: Row) => `${row.section} › ${row.cells.Input}`;

/** Each check lists every row it finds wrong, so one run shows all the drift at once. */
describe('docs/bad-input.md', () => {
  it('has at least 30 rows, each a kind of bad input of its own with every column filled', () => {
    expect(rows.length).toBeGreaterThanOrEqual(30);
    const inputs = rows.map(label);
    expect(inputs.filter((input, i) => inputs.indexOf(input) !== i)).toEqual([]);
    expect(
      rows.flatMap((row) => COLUMNS.filter((column) => row.cells[column] === '').map((column) => `${label(row)}: no ${column}`)),
    ).toEqual([]);
  });

  it('every test a row cites exists: an it, test or describe call under the name it is cited by, and the case it names in its table', () => {
    const problems = rows.flatMap((row) =>
      readCitations(row.cells.Test).flatMap((citation) => {
        if (typeof citation === 'string') return [`${label(row)}: cite a test as \`path\` › "name" (, case \`x\`), not ${citation}`];
        const located = locate(citation);
        return typeof located === 'string' ? [`${label(row)}: ${located}`] : [];
      }),
    );
    expect(problems).toEqual([]);
  });

  it('every test a row cites asserts its code or exit status: in the test`s body, or in the row of the case cited', () => {
    const problems = rows.flatMap((row) => citationsOf(row).flatMap((citation) => whyUnproven(row, citation)));
    expect(problems).toEqual([]);
  });

  it('every exit status is one the farm has, and every code is in the code or the tests cited', () => {
    const exits = Object.values(EXIT).map(String);
    const problems = rows.flatMap((row) => {
      const exit = exits.includes(row.cells.Exit) ? [] : [`${label(row)}: exit ${row.cells.Exit} is none of ${exits.join(', ')}`];
      if (row.cells.Code === '—') return exit;
      const tests = citationsOf(row).map(testText);
      const codes = codeSpans(row.cells.Code).filter((code) => {
        // A failed build step's code is made of the step's name (farm/src/errors.ts: `${step}-failed`).
        if (/^[a-z]+-failed$/.test(code)) return false;
        const inSource = [`'${code}'`, `"${code}"`, `\`${code}\``].some((q) => source.includes(q));
        return !inSource && !tests.some((t) => t.includes(code));
      });
      return [...exit, ...codes.map((code) => `${label(row)}: code ${code} is neither in farm/src nor in the tests cited`)];
    });
    expect(problems).toEqual([]);
  });

  it('every message still has words the code prints or the tests cited assert', () => {
    const problems = rows.flatMap((row) => {
      const tests = citationsOf(row).map(testText);
      const literal = codeSpans(row.cells.Message).flatMap(fragments);
      if (literal.length === 0) return [`${label(row)}: the message has no literal text of ${MIN_FRAGMENT} characters or more`];
      const found = literal.some((fragment) => source.includes(fragment) || tests.some((t) => t.includes(fragment)));
      return found ? [] : [`${label(row)}: none of ${JSON.stringify(literal)} is in farm/src or the tests cited`];
    });
    expect(problems).toEqual([]);
  });
});
