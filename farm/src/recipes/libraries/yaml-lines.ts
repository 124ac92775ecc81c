import { LineCounter, parseDocument } from 'yaml';

type Ranged = { range?: [number, number] | null };

/**
 * `file:line` of a field of a YAML text that already passed its schema (so it parses), for messages
 * about what the schema cannot see (a library that does not exist, a version that does not fit): the
 * field's own line, else its nearest parent's, else the file alone.
 */
export function yamlLocator(text: string, file: string): (path: (string | number)[]) => string {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  return (path) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = (depth === 0 ? document.contents : document.getIn(path.slice(0, depth), true)) as Ranged | null | undefined;
      if (node?.range) return `${file}:${lineCounter.linePos(node.range[0]).line}`;
    }
    return file;
  };
}

/** `['depends', 0, 'version']` -> `depends[0].version`, as the schema's messages name fields. */
export function fieldName(path: (string | number)[]): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}
