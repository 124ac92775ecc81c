// Finds a test in a test file by its title, with the TypeScript compiler's parser (not regexes, so
// nested braces, template strings and titles split over lines are read as the compiler reads them):
// the `it`/`test`/`describe` call, its callback's body, and the rows of the tables it runs over.
import { readFileSync } from 'node:fs';
import ts from 'typescript';

/** The call of a test (or of its describe block) whose title is the one looked for. */
export interface FoundTest {
  source: ts.SourceFile;
  call: ts.CallExpression;
  /** The callback's body: what the test does and asserts. */
  body: ts.Node | undefined;
}

/** A row of a table a test runs over, and the body that runs it. */
export interface TableRow {
  row: ts.Expression;
  /** The body run for each row: an `it.each` callback's, or a `for … of` loop's. */
  body: ts.Node;
  /** How the body names the row's part `key` (an index or a property): `code`, `c.code`, `row[1]`; undefined if it cannot tell. */
  nameOf(key: number | string): string | undefined;
}

const TEST_FUNCTIONS = new Set(['it', 'test', 'describe']);
const sources = new Map<string, ts.SourceFile>();

/** `path` parsed (once per run). */
export function parseTestFile(path: string): ts.SourceFile {
  let source = sources.get(path);
  if (!source) {
    source = parseTestSource(path, readFileSync(path, 'utf8'));
    sources.set(path, source);
  }
  return source;
}

/** `text`, a test file's source, parsed with parent links (what the finders below walk up). */
export function parseTestSource(name: string, text: string): ts.SourceFile {
  return ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
}

/** The first test or describe call in `source` titled `title` (as written, `%s` and all). */
export function findTest(source: ts.SourceFile, title: string): FoundTest | undefined {
  let found: FoundTest | undefined;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isCallExpression(node) && isTestCall(node) && titleOf(node) === title) {
      found = { source, call: node, body: callbackOf(node)?.body };
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/**
 * The rows whose text holds `caseText`, in the tables the test (or the tests of a describe block)
 * runs over: `it.each(table)` and `for (const row of table)`, a table written in place or a
 * `const` of the file.
 */
export function findCaseRows(test: FoundTest, caseText: string): TableRow[] {
  const rows: TableRow[] = [];
  const visit = (node: ts.Node): void => {
    const table = tableOf(test.source, node);
    const at = table ? table.array.getText(test.source).indexOf(caseText) : -1;
    if (table && at >= 0) {
      // The rows the case's text spans: one row, or several (`[401, 403]`).
      const [from, to] = [table.array.getStart(test.source) + at, table.array.getStart(test.source) + at + caseText.length];
      for (const row of table.array.elements) if (row.getStart(test.source) < to && row.end > from) rows.push({ row, ...table.runner });
    }
    ts.forEachChild(node, visit);
  };
  visit(test.call);
  return rows;
}

type Runner = Pick<TableRow, 'body' | 'nameOf'>;

/** The table `node` runs a body over, if it is an `….each(table)(title, callback)` call or a `for … of` loop. */
function tableOf(source: ts.SourceFile, node: ts.Node): { array: ts.ArrayLiteralExpression; runner: Runner } | undefined {
  if (ts.isForOfStatement(node)) {
    const array = arrayOf(source, node.expression);
    const declaration = ts.isVariableDeclarationList(node.initializer) ? node.initializer.declarations[0] : undefined;
    if (!array || !declaration) return undefined;
    return { array, runner: { body: node.statement, nameOf: (key) => nameIn(declaration.name, key, source) } };
  }
  if (!ts.isCallExpression(node) || !isTestCall(node) || !ts.isCallExpression(node.expression)) return undefined;
  const each = node.expression;
  if (!ts.isPropertyAccessExpression(each.expression) || !['each', 'for'].includes(each.expression.name.text)) return undefined;
  const array = each.arguments[0] && arrayOf(source, each.arguments[0]);
  const callback = callbackOf(node);
  if (!array || !callback) return undefined;
  const parameters = callback.parameters;
  // `it.each` spreads an array row over the parameters, and passes any other row whole.
  const nameOf = (key: number | string) =>
    typeof key === 'number'
      ? parameters[key] && nameIn(parameters[key].name, undefined, source)
      : parameters[0] && nameIn(parameters[0].name, key, source);
  return { array, runner: { body: callback.body, nameOf } };
}

/** How a binding names `key` of what it binds: the binding itself (key undefined), a destructured name, or an access. */
function nameIn(binding: ts.BindingName, key: number | string | undefined, source: ts.SourceFile): string | undefined {
  if (ts.isIdentifier(binding)) {
    if (key === undefined) return binding.text;
    return typeof key === 'number' ? `${binding.text}[${key}]` : `${binding.text}.${key}`;
  }
  if (key === undefined) return undefined;
  if (ts.isArrayBindingPattern(binding)) {
    const element = typeof key === 'number' ? binding.elements[key] : undefined;
    return element && ts.isBindingElement(element) ? nameIn(element.name, undefined, source) : undefined;
  }
  const element = binding.elements.find((e) => (e.propertyName ?? e.name).getText(source) === key);
  return element ? nameIn(element.name, undefined, source) : undefined;
}

/** An array literal, or the array literal a variable of the file is set to. */
function arrayOf(source: ts.SourceFile, expression: ts.Expression): ts.ArrayLiteralExpression | undefined {
  const value = unwrap(expression);
  if (ts.isArrayLiteralExpression(value)) return value;
  if (!ts.isIdentifier(value)) return undefined;
  let array: ts.ArrayLiteralExpression | undefined;
  const visit = (node: ts.Node): void => {
    if (array) return;
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === value.text && node.initializer) {
      const initial = unwrap(node.initializer);
      if (ts.isArrayLiteralExpression(initial)) array = initial;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return array;
}

/** An expression without `as const`, `satisfies …` and parentheses. */
function unwrap(expression: ts.Expression): ts.Expression {
  let value = expression;
  while (ts.isAsExpression(value) || ts.isSatisfiesExpression(value) || ts.isParenthesizedExpression(value)) value = value.expression;
  return value;
}

/** `it(…)`, `test.skip(…)`, `it.each(table)(…)`, `describe.skipIf(x)(…)`: a call made on `it`, `test` or `describe`. */
function isTestCall(call: ts.CallExpression): boolean {
  let callee: ts.Expression = call.expression;
  for (;;) {
    if (ts.isCallExpression(callee) || ts.isPropertyAccessExpression(callee)) callee = callee.expression;
    else if (ts.isTaggedTemplateExpression(callee)) callee = callee.tag;
    else break;
  }
  return ts.isIdentifier(callee) && TEST_FUNCTIONS.has(callee.text) && call.arguments.length >= 2;
}

/** A test call's title, when it is written as one string. */
function titleOf(call: ts.CallExpression): string | undefined {
  const title = call.arguments[0];
  return title && (ts.isStringLiteral(title) || ts.isNoSubstitutionTemplateLiteral(title)) ? title.text : undefined;
}

/** The function a test call runs: its last function argument. */
function callbackOf(call: ts.CallExpression): ts.ArrowFunction | ts.FunctionExpression | undefined {
  return call.arguments
    .filter((a): a is ts.ArrowFunction | ts.FunctionExpression => ts.isArrowFunction(a) || ts.isFunctionExpression(a))
    .at(-1);
}
