/**
 * The small template language of the image definitions, pure so rendered text can be hashed:
 * - `{{name}}` is replaced by a value;
 * - lines between `# @each LIST` and `# @end` repeat once per item of LIST (item values in scope);
 * - lines between `# @if FLAG` and `# @end` are kept only when FLAG is set.
 * Unknown placeholders are left in place for findUnfilledPlaceholders to report.
 */
export interface TemplateData {
  values?: Record<string, string>;
  lists?: Record<string, Record<string, string>[]>;
  flags?: ReadonlySet<string>;
}

export function renderTemplate(template: string, { values = {}, lists = {}, flags = new Set() }: TemplateData): string {
  const expanded = template
    .replace(/^# @each ([\w.-]+)\n([\s\S]*?)^# @end\n/gm, (_, list: string, block: string) =>
      (lists[list] ?? []).map((item) => fill(block, item)).join(''),
    )
    .replace(/^# @if ([\w.-]+)\n([\s\S]*?)^# @end\n/gm, (_, flag: string, block: string) => (flags.has(flag) ? block : ''));
  return fill(expanded, values);
}

function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{([\w.-]+)\}\}/g, (placeholder, key: string) => values[key] ?? placeholder);
}

/** Placeholders left after rendering are mistakes in the template; name them. */
export function findUnfilledPlaceholders(rendered: string): string[] {
  return [...new Set([...rendered.matchAll(/\{\{([\w.-]+)\}\}/g)].map((m) => m[1]!))];
}
