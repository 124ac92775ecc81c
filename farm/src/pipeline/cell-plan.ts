import type { ImagePython } from '../images/image-definitions.ts';
import type { BuildInputs, NativeComponent } from '../records/build-records.ts';
import type { Recipe } from '../recipes/recipe.ts';
import type { UpstreamEnv } from '../upstream/upstream-for-containers.ts';
import type { Cell } from '../wheels/build-id.ts';
import { formatBuildId } from '../wheels/build-id.ts';
import type { CargoManifest, DetectedToolchain, SdistNeeds } from './sdist-needs.ts';
import type { BuildUser } from './with-container.ts';

/** Everything one cell's build needs to know, decided before any container starts. */
export interface CellPlan {
  cell: Cell;
  buildId: string;
  /** `/opt/python/<dir>` in both images, e.g. `cp313-cp313`. */
  pythonDir: string;
  sdist: { filename: string; path: string; requiresPython?: string };
  /** `build` is the recipe image when the recipe needs packages or toolchains. */
  images: { build: string; runtime: string };
  user: BuildUser;
  /**
   * What points pip at the upstream index in the cell's networked containers (requires, a networked
   * build, test): PIP_INDEX_URL, never with credentials in it (see UpstreamForContainers.env).
   */
  upstreamEnv: UpstreamEnv;
  /** The package's recipe, or the defaults for a package without one. */
  recipe: Recipe;
  /** What the wheel is built from, recorded and compared with the last build of the cell. */
  inputs: BuildInputs;
  /** Build even when the index has a wheel from the same inputs (it gets the next build tag). */
  rebuild: boolean;
  /** PEP 427 build tag of this build, set once the cell is found stale. */
  buildTag?: string;
  /** The Cargo manifests the requires step fetches crates for (pipeline/sdist-needs.ts); none: no Rust. */
  cargo?: CargoManifest[];
  /** The toolchains the build has because its sdist calls for them (the recipe writes none), for its log. */
  detected?: DetectedToolchain[];
  /** The libraries and toolchains built from source in `images.build`, as the build record names them. */
  native: NativeComponent[];
}

/**
 * The one place a CellPlan is made: a planned cell (its identity, inputs, Python), with what its
 * host prepared for it (the fetched sdist, the images there, the upstream as its containers reach it).
 */
export function planCell({
  python,
  requiresPython,
  sdist,
  needs,
  ...given
}: Pick<CellPlan, 'cell' | 'images' | 'user' | 'upstreamEnv' | 'recipe' | 'inputs' | 'rebuild' | 'native'> & {
  python: ImagePython;
  requiresPython: string | undefined;
  sdist: { filename: string; path: string };
  needs: SdistNeeds;
}): CellPlan {
  return {
    ...given,
    buildId: formatBuildId(given.cell),
    pythonDir: python.dir,
    sdist: { filename: sdist.filename, path: sdist.path, ...(requiresPython ? { requiresPython } : {}) },
    cargo: needs.cargo,
    detected: given.recipe.detectToolchains ? needs.toolchains : [],
  };
}
