import { valid } from '@renovatebot/pep440';
import { UserInputError } from '../errors.ts';
import { isValidProjectName } from '../wheels/names.ts';

/** `name` or `name==version`, as a person types it on the command line. */
export interface PackageSpec {
  name: string;
  version?: string;
}

export function parsePackageSpec(text: string): PackageSpec {
  const match = /^\s*([^=<>!~\s[]+)\s*(?:==\s*(\S+))?\s*$/.exec(text);
  if (!match || !isValidProjectName(match[1]!)) {
    throw new UserInputError('bad-package-spec', `\`${text}\` is not a package name or \`name==version\``, {
      hint: 'write e.g. `markupsafe` or `markupsafe==3.0.3` (only exact pins are supported)',
    });
  }
  const version = match[2];
  if (version !== undefined && !valid(version)) {
    throw new UserInputError('bad-version', `\`${version}\` is not a valid PEP 440 version (in \`${text}\`)`, {
      hint: 'write a version as the package publishes it, e.g. `3.0.3`',
    });
  }
  return version === undefined ? { name: match[1]! } : { name: match[1]!, version };
}
