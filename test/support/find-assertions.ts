// What a test body (test/support/find-test.ts finds it) asserts, read from its syntax tree: an
// assertion is an `expect(…)` chain (`expect(e.code).toBe('x')`, `await expect(p).rejects.toMatchObject(…)`)
// or a call of a helper named `expect…`/`assert…` (`expectRefusal(p, { code })`).
import ts from 'typescript';

/**
 * The outermost assertion calls in `body`; with `helpers`, also those of the functions of its file
 * that it calls (and that they call): `expectRejected(text, …)` asserting `error.code`.
 */
export function findAssertions(body: ts.Node, { helpers = false }: { helpers?: boolean } = {}): ts.CallExpression[] {
  const found: ts.CallExpression[] = [];
  const seen = new Set<ts.Node>([body]);
  const visit = (node: ts.Node): void => {
    const assertion = ts.isCallExpression(node) && /^(expect|assert)([A-Z]|$)/.test(rootOf(node.expression));
    if (assertion) found.push(node);
    const helper =
      helpers && ts.isCallExpression(node) && ts.isIdentifier(node.expression)
        ? functionsOf(node.getSourceFile()).get(node.expression.text)
        : undefined;
    if (helper && !seen.has(helper)) {
      seen.add(helper);
      visit(helper);
    }
    if (!assertion) ts.forEachChild(node, visit);
  };
  visit(body);
  return found;
}

const functions = new WeakMap<ts.SourceFile, Map<string, ts.Node>>();

/** The bodies of the functions a file declares by name (`function f`, `const f = () => …`), read once per file. */
function functionsOf(source: ts.SourceFile): Map<string, ts.Node> {
  let bodies = functions.get(source);
  if (bodies) return bodies;
  const found = new Map<string, ts.Node>();
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) && node.name && node.body) found.set(node.name.text, node.body);
    const value = ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) ? node.initializer : undefined;
    if (value && (ts.isArrowFunction(value) || ts.isFunctionExpression(value)))
      found.set((node as ts.VariableDeclaration).name.getText(), value.body);
    ts.forEachChild(node, visit);
  };
  visit(source);
  functions.set(source, (bodies = found));
  return bodies;
}

/** Some assertion holds `code` as a string: `toBe('x')`, `{ code: 'x' }`, `'"code":"x"'`, `/x/`. */
export function assertsCode(assertions: ts.CallExpression[], code: string): boolean {
  const word = new RegExp(`(^|[^a-z0-9-])${code.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9-])`);
  return assertions.some((assertion) =>
    some(
      assertion,
      (node) =>
        (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node) || ts.isRegularExpressionLiteral(node)) && word.test(node.text),
    ),
  );
}

/**
 * Some assertion checks the exit status `exit`: names it (`EXIT.usage`, one of `names`), or compares
 * a number equal to it with an exit status (`expect(result.exitCode).toBe(2)`, `{ exitCode: 2 }`).
 */
export function assertsExit(assertions: ts.CallExpression[], exit: number, names: string[]): boolean {
  return assertions.some((assertion) => {
    const aboutExit = /exit/i.test(subjectOf(assertion));
    return some(assertion, (node) => {
      if (ts.isPropertyAccessExpression(node))
        return ts.isIdentifier(node.expression) && node.expression.text === 'EXIT' && names.includes(node.name.text);
      if (!ts.isNumericLiteral(node) || Number(node.text) !== exit) return false;
      return aboutExit || (ts.isPropertyAssignment(node.parent) && /exit/i.test(node.parent.name.getText()));
    });
  });
}

/** Some assertion uses `name`: a variable (`code`, `{ code }`) or an access written as `c.code` or `row[1]`. */
export function assertsName(assertions: ts.CallExpression[], name: string): boolean {
  return assertions.some((assertion) =>
    some(assertion, (node) => {
      if (ts.isPropertyAccessExpression(node) || ts.isElementAccessExpression(node)) return node.getText().replace(/\s+/g, '') === name;
      if (!ts.isIdentifier(node) || node.text !== name) return false;
      // A property's name is not the variable: `{ code: 'x' }`, `error.code`.
      return !((ts.isPropertyAssignment(node.parent) || ts.isPropertyAccessExpression(node.parent)) && node.parent.name === node);
    }),
  );
}

/** What an `expect(…)` chain is about, as written (`result.exitCode`); the whole call for a helper. */
function subjectOf(assertion: ts.CallExpression): string {
  let node: ts.Expression = assertion;
  for (;;) {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'expect')
      return node.arguments[0]?.getText() ?? '';
    if (ts.isCallExpression(node) || ts.isPropertyAccessExpression(node)) node = node.expression;
    else return assertion.getText();
  }
}

/** The identifier a call chain starts from: `expect` for `expect(x).rejects.toThrow(y)`. */
function rootOf(callee: ts.Expression): string {
  let node = callee;
  while (ts.isCallExpression(node) || ts.isPropertyAccessExpression(node) || ts.isNonNullExpression(node)) node = node.expression;
  return ts.isIdentifier(node) ? node.text : '';
}

function some(node: ts.Node, test: (node: ts.Node) => boolean): boolean {
  return test(node) || (ts.forEachChild(node, (child) => some(child, test) || undefined) ?? false);
}
