import pc from 'picocolors';
import { stringify } from 'yaml';
import { UserInputError } from '../../errors.ts';
import { displayPath } from '../../recipes/display-path.ts';
import type { LibraryDefinition } from '../../recipes/libraries/library-definition.ts';
import type { DefinitionKind } from '../../recipes/libraries/load-libraries.ts';
import { checkRecipeLibraries } from '../../recipes/libraries/recipe-libraries.ts';
import { loadAllRecipes } from '../../recipes/load-all-recipes.ts';
import type { LoadedRecipes } from '../../recipes/load-all-recipes.ts';
import { loadRecipe } from '../../recipes/load-recipe.ts';
import type { Recipe } from '../../recipes/recipe.ts';
import { isValidProjectName, normalizeName } from '../../wheels/names.ts';
import { EXIT } from '../exit-codes.ts';
import type { CommandEnvironment } from '../run-command.ts';

export interface RecipeLintResult {
  /** The package (normalized name); the file name when it is no project name. */
  name: string;
  /** Absolute path of the recipe file; null for a named package that has none. */
  file: string | null;
  ok: boolean;
  note?: string;
  /** All of the file's problems: messages (and hints) one after the other, the first one's code. */
  error?: { code: string; message: string; hint?: string };
}

const NO_RECIPE = 'no recipe: builds with defaults';

/** `wheelfarm recipes lint [names...]`: validate every recipe (or those of the named packages). */
export async function runRecipesLint({ settings, reporter }: CommandEnvironment, names: string[]): Promise<number> {
  for (const name of names) assertProjectName(name);
  const wanted = names.length === 0 ? undefined : [...new Set(names.map(normalizeName))];
  const loaded = await loadAllRecipes(settings.recipesDir, wanted ? { names: wanted } : {});
  const results = lintResults(loaded, wanted);
  const ok = results.every((result) => result.ok);
  reporter.result({ type: 'recipes-lint', ok, results }, [
    ...results.flatMap(describeResult),
    summary(results, settings.recipesDir, wanted !== undefined),
  ]);
  return ok ? EXIT.ok : EXIT.usage;
}

/** `wheelfarm recipes show <name>`: the effective recipe, defaults applied, as YAML. */
export async function runRecipesShow({ settings, reporter }: CommandEnvironment, name: string): Promise<number> {
  const recipe = await loadRecipe({ recipesDir: settings.recipesDir, name });
  const shown = withNulls(recipe);
  const origin = recipe.file
    ? `# ${displayPath(recipe.file)}, with defaults for what it leaves out (null: not set)`
    : `# ${recipe.name} has no recipe in ${displayPath(settings.recipesDir)}: these are the defaults (null: not set)`;
  const wanted = await checkRecipeLibraries({ file: recipe.file, recipesDir: settings.recipesDir, build: recipe.build });
  const fromSource = [
    ...wanted.toolchains.map((definition) => fromSourceEntry('toolchain', definition)),
    ...wanted.libraries.map((definition) => fromSourceEntry('library', definition)),
  ];
  reporter.result({ type: 'recipe', recipe: shown, fromSource }, [
    origin,
    ...stringify(shown, { blockQuote: 'literal', lineWidth: 0 }).trimEnd().split('\n'),
    ...(fromSource.length === 0
      ? []
      : [
          '# built from pinned source (toolchains, then libraries, dependencies first), each into an image of its own:',
          ...fromSource.map(
            (entry) =>
              `#   ${entry.kind} ${entry.name} ${entry.version} (${entry.build}; ${entry.file}), source sha256 ${entry.sources.map((source) => source.sha256).join(' or ')}`,
          ),
        ]),
  ]);
  return EXIT.ok;
}

function fromSourceEntry(kind: DefinitionKind, definition: LibraryDefinition) {
  const { name, version, sources, build, depends } = definition;
  return {
    kind,
    name,
    version,
    file: displayPath(definition.file),
    sources,
    build: build.kind,
    depends: depends.map((dependency) => dependency.name),
  };
}

function assertProjectName(name: string): void {
  if (!isValidProjectName(name)) {
    throw new UserInputError('bad-package-name', `\`${name}\` is not a project name`, {
      hint: 'name packages as published, e.g. `numpy` or `PyYAML`',
    });
  }
}

/** One result per recipe file (sorted by file name), then the named packages that have none. */
function lintResults(loaded: LoadedRecipes, wanted: string[] | undefined): RecipeLintResult[] {
  const byFile = new Map<string, RecipeLintResult>();
  for (const recipe of loaded.recipes) byFile.set(recipe.file!, { name: recipe.name, file: recipe.file!, ok: true });
  for (const { file, name, error } of loaded.problems) {
    const result = byFile.get(file) ?? { name: name ?? file, file, ok: false };
    result.ok = false;
    result.error = mergeErrors(result.error, error);
    byFile.set(file, result);
  }
  const results = [...byFile.values()].sort((a, b) => (a.file! < b.file! ? -1 : a.file! > b.file! ? 1 : 0));
  if (!wanted) return results;
  return wanted.flatMap((name) => {
    const mine = results.filter((result) => result.name === name);
    return mine.length > 0 ? mine : [{ name, file: null, ok: true, note: NO_RECIPE }];
  });
}

function mergeErrors(previous: RecipeLintResult['error'], error: UserInputError): NonNullable<RecipeLintResult['error']> {
  if (!previous) return { code: error.code, message: error.message, ...(error.hint ? { hint: error.hint } : {}) };
  const hint = [previous.hint, error.hint].filter(Boolean).join('\n');
  return { code: previous.code, message: `${previous.message}\n${error.message}`, ...(hint ? { hint } : {}) };
}

function describeResult(result: RecipeLintResult): string[] {
  if (result.file === null) return [`${pc.green('ok  ')} ${result.name}: ${result.note}`];
  if (result.ok) return [`${pc.green('ok  ')} ${displayPath(result.file)}`];
  const lines = [
    ...result.error!.message.split('\n'),
    ...(result.error!.hint ?? '')
      .split('\n')
      .filter(Boolean)
      .map((h) => `${pc.yellow('hint:')} ${h}`),
  ];
  return [`${pc.red('FAIL')} ${displayPath(result.file)}`, ...lines.map((line) => `     ${line}`)];
}

function summary(results: RecipeLintResult[], recipesDir: string, named: boolean): string {
  const files = results.filter((result) => result.file !== null);
  const failed = files.filter((result) => !result.ok).length;
  if (files.length === 0) {
    return pc.dim(
      named
        ? `no recipes for these packages in ${displayPath(recipesDir)}`
        : `no recipes in ${displayPath(recipesDir)}: every package builds with defaults`,
    );
  }
  const text = `${files.length} recipe file(s) in ${displayPath(recipesDir)}: ${files.length - failed} ok, ${failed} failed`;
  return failed > 0 ? pc.red(text) : pc.green(text);
}

/** The recipe with every unset field shown as null, so YAML and JSON list every key. */
function withNulls(recipe: Recipe): unknown {
  return JSON.parse(JSON.stringify(recipe, (_key, value: unknown) => (value === undefined ? null : value)));
}
