import semver from 'semver';
import { UserInputError } from '../errors.ts';

/** What a recipe asks of its image: distro packages per package manager, and toolchains. */
export interface RecipeImageNeeds {
  system: { apt: string[]; dnf: string[] };
  toolchains: {
    fortran?: object;
    rust?: { version?: string | undefined };
    java?: { version?: string | undefined; tools: string[] };
  };
}

export type PackageManager = 'apt' | 'dnf';

/** JDK majors each package manager's distribution offers, newest first. */
const JDKS: Record<PackageManager, { major: number; packages: string[]; home: string }[]> = {
  apt: [
    { major: 17, packages: ['openjdk-17-jdk-headless'], home: '/usr/lib/jvm/java-17-openjdk-amd64' },
    { major: 11, packages: ['openjdk-11-jdk-headless'], home: '/usr/lib/jvm/java-11-openjdk-amd64' },
  ],
  dnf: [
    { major: 21, packages: ['java-21-openjdk-devel'], home: '/usr/lib/jvm/java-21-openjdk' },
    { major: 17, packages: ['java-17-openjdk-devel'], home: '/usr/lib/jvm/java-17-openjdk' },
    { major: 11, packages: ['java-11-openjdk-devel'], home: '/usr/lib/jvm/java-11-openjdk' },
  ],
};

const FORTRAN: Record<PackageManager, string[]> = { apt: ['gfortran'], dnf: ['gcc-gfortran'] };
const JAVA_TOOLS: Record<string, Record<PackageManager, string>> = {
  maven: { apt: 'maven', dnf: 'maven' },
  ant: { apt: 'ant', dnf: 'ant' },
  gradle: { apt: 'gradle', dnf: 'gradle' },
};

export interface ResolvedToolchains {
  /** Distro packages to install, sorted and without duplicates. */
  packages: string[];
  java?: { major: number; home: string };
  rust?: { version?: string | undefined };
}

/**
 * Turn a recipe's needs into distro packages and toolchain stages for one package manager. Pure.
 * The JDK is the newest major the distribution has that satisfies the recipe's range.
 */
export function resolveToolchains(needs: RecipeImageNeeds, manager: PackageManager, recipeFile = 'the recipe'): ResolvedToolchains {
  const packages = new Set(needs.system[manager]);
  const resolved: ResolvedToolchains = { packages: [] };
  if (needs.toolchains.fortran) for (const p of FORTRAN[manager]) packages.add(p);
  if (needs.toolchains.java) {
    const range = needs.toolchains.java.version ?? '*';
    const jdk = JDKS[manager].find((candidate) => semver.satisfies(`${candidate.major}.0.0`, range));
    if (!jdk) {
      throw new UserInputError('no-matching-jdk', `${recipeFile}: no JDK satisfies \`build.toolchains.java.version: ${range}\``, {
        hint: `the ${manager} images offer JDK ${JDKS[manager].map((j) => j.major).join(', ')}; widen the range`,
      });
    }
    for (const p of jdk.packages) packages.add(p);
    for (const tool of needs.toolchains.java.tools) packages.add(JAVA_TOOLS[tool]![manager]);
    resolved.java = { major: jdk.major, home: jdk.home };
  }
  if (needs.toolchains.rust) resolved.rust = { version: needs.toolchains.rust.version };
  resolved.packages = [...packages].sort();
  return resolved;
}
