import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { asFileYamlError, loadYamlFile } from '../config/yaml-file.ts';
import { defaultRecipe } from './recipe.ts';
import type { Recipe } from './recipe.ts';
import { recipeSchema } from './recipe-schema.ts';
import type { RecipeFile } from './recipe-schema.ts';
import { displayPath } from './display-path.ts';
import { checkRecipeLibraries } from './libraries/recipe-libraries.ts';

/**
 * Read, validate and complete one recipe file; patches must exist, and so must the native libraries
 * it asks for, in versions that satisfy its constraints. Throws UserInputError `bad-recipe`, or the
 * library's code (`unknown-library`, `library-version-unsatisfied`, ...).
 */
export async function readRecipeFile({ file, name, recipesDir }: { file: string; name: string; recipesDir: string }): Promise<Recipe> {
  const schema = recipeSchema.superRefine((recipe, ctx) => {
    for (const [i, patch] of (recipe.source?.patches ?? []).entries()) {
      if (!isFile(resolve(recipesDir, patch))) {
        ctx.addIssue({
          code: 'custom',
          path: ['source', 'patches', i],
          message: `patch not found: ${resolve(recipesDir, patch)} (patch paths are relative to the recipes folder ${recipesDir})`,
          input: patch,
        });
      }
    }
  });
  let parsed: RecipeFile;
  try {
    // The display path (relative to the working directory when inside it) reads the same file.
    parsed = (await loadYamlFile(displayPath(file), schema, { kind: 'recipe' }))!;
  } catch (error) {
    throw asFileYamlError(error, 'bad-recipe', 'python: ">=3.11"');
  }
  const recipe = effectiveRecipe({ name, file, recipesDir, parsed });
  await checkRecipeLibraries({ file, recipesDir, build: recipe.build });
  return recipe;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function effectiveRecipe({
  name,
  file,
  recipesDir,
  parsed,
}: {
  name: string;
  file: string;
  recipesDir: string;
  parsed: RecipeFile;
}): Recipe {
  const recipe = defaultRecipe(name);
  const { source, build, repair, test } = parsed;
  recipe.file = file;
  if (source?.url !== undefined) recipe.source = { kind: 'url', url: source.url, sha256: source.sha256! };
  if (source?.git !== undefined) recipe.source = { kind: 'git', url: source.git, commit: source.commit!, version: source.version! };
  recipe.patches = (source?.patches ?? []).map((patch) => resolve(recipesDir, patch));
  recipe.build = {
    system: { apt: build?.system?.apt ?? [], dnf: build?.system?.dnf ?? [] },
    toolchains: toolchainsOf(build?.toolchains),
    env: { ...build?.env },
    configSettings: { ...build?.['config-settings'] },
    before: build?.before,
    debugInfo: build?.['debug-info'] ?? 'strip',
    network: build?.network,
    libraries: (build?.libraries ?? []).map(({ name, version }) => ({ name, version })),
  };
  recipe.limits = { memory: parsed.limits?.memory, cpus: parsed.limits?.cpus, timeout: parsed.limits?.timeout };
  recipe.repair = { exclude: repair?.exclude ?? [] };
  recipe.test = { imports: test?.imports, requires: test?.requires ?? [], command: test?.command };
  recipe.python = parsed.python;
  recipe.versions = parsed.versions;
  recipe.latest = parsed.latest;
  recipe.detectToolchains = build?.toolchains === undefined;
  return recipe;
}

function toolchainsOf(toolchains: NonNullable<RecipeFile['build']>['toolchains']): Recipe['build']['toolchains'] {
  const result: Recipe['build']['toolchains'] = {};
  if (toolchains?.fortran) result.fortran = {};
  if (toolchains?.gcc) result.gcc = toolchains.gcc.version === undefined ? {} : { version: toolchains.gcc.version };
  if (toolchains?.rust) result.rust = toolchains.rust.version === undefined ? {} : { version: toolchains.rust.version };
  if (toolchains?.java) {
    result.java = { ...(toolchains.java.version === undefined ? {} : { version: toolchains.java.version }), tools: toolchains.java.tools };
  }
  return result;
}
