import { normalizeName } from '../wheels/names.ts';

export type JavaTool = 'maven' | 'ant' | 'gradle';

/**
 * The effective recipe of one package: its recipe file with every default applied, or only the
 * defaults when the package has no recipe (a package without one still builds).
 */
export interface Recipe {
  /** Normalized project name (PEP 503). */
  name: string;
  /** Absolute path of the recipe file; undefined when these are the defaults. */
  file: string | undefined;
  source: { kind: 'index' } | { kind: 'url'; url: string; sha256: string } | { kind: 'git'; url: string; commit: string; version: string };
  /** Absolute paths, applied in order with `patch -p1`. */
  patches: string[];
  build: {
    /** Distro packages installed at build time, by package manager. */
    system: { apt: string[]; dnf: string[] };
    toolchains: {
      fortran?: Record<string, never>;
      /** `version`: a semver range of rustc. */
      rust?: { version?: string };
      /** GCC from `recipes/toolchains/gcc.yaml`; `version`: a series (`14`) or a constraint (`>=13`). */
      gcc?: { version?: string };
      /** `version`: a semver range of the JDK major. */
      java?: { version?: string; tools: JavaTool[] };
    };
    env: Record<string, string>;
    /** PEP 517 config settings; always lists (a single string becomes a list of one). */
    configSettings: Record<string, string[]>;
    /** Shell script run in the unpacked source before the build. */
    before: string | undefined;
    /**
     * `strip`: extensions are linked with \`-Wl,--strip-debug\` (appended to LDFLAGS), so wheels carry
     * no DWARF sections, as most published wheels do (lxml's etree: 20 MB with them, 4 MB without);
     * `keep`: as the compiler made them (Python's own CFLAGS have \`-g\`).
     */
    debugInfo: 'strip' | 'keep';
    /** Why the build needs the network; undefined (the default): it runs with none. */
    network: string | undefined;
    /**
     * Native libraries from `recipes/libraries/` (name, and a version constraint or undefined), in the
     * order written; reading the recipe checked that each is defined and satisfies its constraint.
     */
    libraries: { name: string; version: string | undefined }[];
  };
  /** Per-container limits; undefined: the settings' `containers` values. */
  limits: { memory: string | undefined; cpus: number | undefined; timeout: string | undefined };
  /** Sonames auditwheel must not graft into the wheel. */
  repair: { exclude: string[] };
  test: {
    /** Modules to import; undefined: the wheel's top-level modules. */
    imports: string[] | undefined;
    /** PEP 508 requirements installed into the test venv. */
    requires: string[];
    command: string | undefined;
  };
  /** PEP 440 specifier of the Pythons to build for; undefined: no restriction from the recipe. */
  python: string | undefined;
  /** PEP 440 specifier of the upstream versions the matrix keeps built; undefined: no restriction. */
  versions: string | undefined;
  /** How many newest admitted releases the matrix keeps built; undefined: the settings' `matrix.latest`. */
  latest: number | undefined;
  /**
   * Whether the farm gives the build the toolchains its sdist calls for (Rust for maturin, Fortran
   * sources with a Meson build... see pipeline/sdist-needs.ts): true unless the recipe file writes
   * `build.toolchains`, which then says all of it (`toolchains: {}`: none).
   */
  detectToolchains: boolean;
}

export function defaultRecipe(name: string): Recipe {
  return {
    name: normalizeName(name),
    file: undefined,
    source: { kind: 'index' },
    patches: [],
    build: {
      system: { apt: [], dnf: [] },
      toolchains: {},
      env: {},
      configSettings: {},
      before: undefined,
      debugInfo: 'strip',
      network: undefined,
      libraries: [],
    },
    limits: { memory: undefined, cpus: undefined, timeout: undefined },
    repair: { exclude: [] },
    test: { imports: undefined, requires: [], command: undefined },
    python: undefined,
    versions: undefined,
    latest: undefined,
    detectToolchains: true,
  };
}
