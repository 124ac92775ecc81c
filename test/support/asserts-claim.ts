// Whether a test asserts what a row of docs/bad-input.md says of it: the row's error code or its
// exit status, in the test's body, or (for a table-driven test) in the row of the case cited and
// the body that runs it. test/unit/docs/bad-input-catalogue.test.ts asks this of every row.
import ts from 'typescript';
import { assertsCode, assertsExit, assertsName, findAssertions } from './find-assertions.ts';
import type { TableRow } from './find-test.ts';

/** What a row says its test asserts: one of `codes` (none for an error without a code), or exit status `exit` (`EXIT.<name>` for each of `exitNames`). */
export interface Claim {
  codes: string[];
  exit: number;
  exitNames: string[];
}

/**
 * Whether the test (its `body`) asserts the claim, written out (`toBe('bad-x')`, `exitCode).toBe(2)`,
 * `EXIT.usage`, also in a helper of its file it calls); for a case citation, whether each of the
 * case's table rows does, in the body that runs it or through the row itself.
 */
export function assertsClaim({ body, cases }: { body: ts.Node; cases?: TableRow[] | undefined }, claim: Claim): boolean {
  if (cases === undefined) return bodyAssertsClaim(body, claim);
  return cases.length > 0 && cases.every((c) => bodyAssertsClaim(c.body, claim) || rowAssertsClaim(c, claim));
}

function bodyAssertsClaim(body: ts.Node, claim: Claim): boolean {
  const assertions = findAssertions(body, { helpers: true });
  return claim.codes.some((code) => assertsCode(assertions, code)) || assertsExit(assertions, claim.exit, claim.exitNames);
}

/**
 * Whether a table row carries the code or the exit status (a part of it that is the code's string,
 * the exit's number or `EXIT.<name>`) and its body asserts that part under the name it gives it
 * (`expectRefusal(p, { code })`, `expect(result.exitCode).toBe(exit)`).
 */
function rowAssertsClaim({ row, body, nameOf }: TableRow, claim: Claim): boolean {
  const claimed = partsOf(row).filter(([, value]) => {
    if (ts.isStringLiteralLike(value)) return claim.codes.includes(value.text);
    if (ts.isNumericLiteral(value)) return Number(value.text) === claim.exit;
    return ts.isPropertyAccessExpression(value) && value.expression.getText() === 'EXIT' && claim.exitNames.includes(value.name.text);
  });
  const assertions = findAssertions(body);
  return claimed.some(([key]) => {
    const name = nameOf(key);
    return name !== undefined && assertsName(assertions, name);
  });
}

/** A row's parts by index (an array row) or by property (an object row). */
function partsOf(row: ts.Expression): [number | string, ts.Expression][] {
  if (ts.isArrayLiteralExpression(row)) return row.elements.map((element, i) => [i, element]);
  if (!ts.isObjectLiteralExpression(row)) return [];
  return row.properties.flatMap((p): [string, ts.Expression][] => (ts.isPropertyAssignment(p) ? [[p.name.getText(), p.initializer]] : []));
}
