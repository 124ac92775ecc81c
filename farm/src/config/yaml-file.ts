import { readFile } from 'node:fs/promises';
import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import type * as zCore from 'zod/v4/core';
import { UserInputError } from '../errors.ts';

/**
 * Read a YAML file and validate it against a zod schema. Errors name the file, the line and the
 * field, and say what was expected, e.g.
 *   images/images.yaml:12: `pythons[1].sha256`: expected 64 hex digits
 */
export async function loadYamlFile<Schema extends z.ZodType>(
  path: string,
  schema: Schema,
  { kind, missingOk = false }: { kind: string; missingOk?: boolean },
): Promise<z.infer<Schema> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if (missingOk && (error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserInputError('file-unreadable', `cannot read the ${kind} ${path}: ${(error as Error).message}`, {
      cause: error,
      hint: `check that ${path} exists and is readable`,
    });
  }
  return parseYamlText(text, schema, { kind, path });
}

export function parseYamlText<Schema extends z.ZodType>(
  text: string,
  schema: Schema,
  { kind, path }: { kind: string; path: string },
): z.infer<Schema> {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  if (document.errors.length > 0) {
    const first = document.errors[0]!;
    const line = lineCounter.linePos(first.pos[0]).line;
    throw new UserInputError('bad-yaml', `${path}:${line}: the ${kind} is not valid YAML: ${first.message.split('\n')[0]}`, {
      hint: 'fix the YAML syntax at that line',
    });
  }
  const result = schema.safeParse(document.toJS() ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.slice(0, 5).map((issue) => {
    const offset = offsetOf(document, issue);
    const where = offset === undefined ? path : `${path}:${lineCounter.linePos(offset).line}`;
    const field = issue.path.length > 0 ? formatPath(issue.path as (string | number)[]) : '(top level)';
    return `${where}: \`${field}\`: ${issue.message}`;
  });
  throw new UserInputError(`bad-${kind.replace(/\s+/g, '-')}`, `invalid ${kind}:\n  ${issues.join('\n  ')}`, {
    hint: `fix the field(s) named above in ${path}`,
  });
}

type Ranged = { range?: [number, number] | null };

/** Where an issue points in the text: the field itself, an unknown key's own line, else the parent. */
function offsetOf(document: Document, issue: zCore.$ZodIssue): number | undefined {
  const path = issue.path as (string | number)[];
  if (issue.code === 'unrecognized_keys') {
    const map = path.length === 0 ? document.contents : document.getIn(path, true);
    if (isMap(map)) {
      const pair = map.items.find((item) => isScalar(item.key) && issue.keys.includes(String(item.key.value)));
      const offset = (pair?.key as Ranged | undefined)?.range?.[0];
      if (offset !== undefined) return offset;
    }
  }
  return nearestOffset(document, path);
}

/** Where the node at `path` starts in the text: its own offset, else its nearest parent's. */
function nearestOffset(document: Document, path: (string | number)[]): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = (depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true)) as Ranged | null | undefined;
    if (node?.range) return node.range[0];
  }
  return undefined;
}

/** `['depends', 0, 'version']` -> `depends[0].version`, as the schema's messages name fields. */
export function formatPath(path: (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

/**
 * `file:line` of a field of a YAML text that already passed its schema (so it parses), for messages
 * about what the schema cannot see (a library that does not exist, a version that does not fit): the
 * field's own line, else its nearest parent's, else the file alone.
 */
export function yamlLocator(text: string, file: string): (path: (string | number)[]) => string {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  return (path) => {
    const offset = nearestOffset(document, path);
    return offset === undefined ? file : `${file}:${lineCounter.linePos(offset).line}`;
  };
}

/**
 * A file's YAML syntax error (`bad-yaml`) as that file's own error code; an unquoted value starting
 * with `>` (a constraint like `>=3.11`, which YAML reads as a folded block) gets a hint of its own,
 * shown with `example`. Other errors pass through as they are.
 */
export function asFileYamlError(error: unknown, code: string, example: string): unknown {
  if (!(error instanceof UserInputError) || error.code !== 'bad-yaml') return error;
  const hint = /block scalar header/i.test(error.message)
    ? `quote values that start with \`>\` or \`|\`, like \`${example}\` (YAML reads a bare \`>\` as a folded block)`
    : error.hint;
  return new UserInputError(code, error.message, { hint, cause: error });
}
