/**
 * What an application hands the farm: requirement files (pip's format) or PEP 751 lock files, read
 * and checked on the host before anything runs (requirements-file.ts, pylock-file.ts). The closure is
 * found from them per target Python (resolve-closure.ts): requirements by a real resolver run with
 * that Python, a lock by evaluating its markers there (verified, never re-resolved).
 */

/** One requirement as a file wrote it, where it was written (for errors: `requirements.txt:3`). */
export interface RequirementLine {
  /** The file as the user named it (relative paths kept as given; included files as `-r` named them, resolved against the including file). */
  file: string;
  /** 1-based line where the requirement starts (a continued line counts from its first line). */
  line: number;
  /** The PEP 508 requirement, options stripped: `flask[async]>=3; python_version >= "3.10"`. */
  requirement: string;
  /** PEP 503 normalized project name. */
  name: string;
  /** Lower-case hex sha256 digests from `--hash=sha256:...` options (empty when none). */
  hashes: string[];
  /** From a `-c` constraints file: limits versions, never pulls a distribution in. */
  constraint: boolean;
}

export interface RequirementsInput {
  kind: 'requirements';
  /** The file given with `-r`, as given. */
  file: string;
  lines: RequirementLine[];
}

/** A file of a locked package: a wheel or the sdist, as the lock names it. */
export interface LockedFile {
  /** The filename (the lock's `name`, else the last path segment of its `url`). */
  filename: string;
  url?: string;
  /** Lower-case hex sha256 (PEP 751 requires hashes; only sha256 is used). */
  sha256: string;
  size?: number;
}

export interface LockedPackage {
  /** As spelled in the lock. */
  name: string;
  /** PEP 503 normalized. */
  normalized: string;
  version: string;
  /** PEP 508 marker: the package is installed only where it is true (absent: everywhere). */
  marker?: string;
  requiresPython?: string;
  wheels: LockedFile[];
  sdist?: LockedFile;
  /** The `[[packages]]` table's line in the lock file, for errors. */
  line: number;
}

export interface LockInput {
  kind: 'lock';
  file: string;
  requiresPython?: string;
  /** PEP 751 `environments`: markers of the environments the lock is for (absent: any). */
  environments?: string[];
  packages: LockedPackage[];
}

export type ApplicationInput = RequirementsInput | LockInput;
