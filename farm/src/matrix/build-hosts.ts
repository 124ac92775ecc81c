import type { FarmContext } from '../farm-context.ts';
import type { BuildHost } from './run-matrix.ts';

/**
 * The hosts a matrix build runs on: the settings' `hosts`, or the local engine with `jobs` slots.
 */
export async function buildHosts(context: FarmContext): Promise<BuildHost[]> {
  return [{ name: 'local', slots: context.settings.jobs, context }];
}
