import { readApplication } from '../applications/read-application.ts';
import type { ApplicationSettings } from '../config/application-settings.ts';
import { InterruptedError, WheelfarmError } from '../errors.ts';
import type { ApplicationDeps, GatheredApplication } from './gather-application.ts';
import { gatherApplication } from './gather-application.ts';
import type { MatrixProblem } from './gather-parts.ts';

/**
 * The settings' applications, each gathered in turn (one resolver container at a time): an
 * application whose file cannot be read or whose requirements do not resolve becomes a problem of
 * its own (named after the application); the others are planned.
 */
export async function gatherApplications(
  deps: ApplicationDeps,
  applications: ApplicationSettings[],
  { rebuild = false, now = new Date() }: { rebuild?: boolean; now?: Date } = {},
): Promise<{ gathered: GatheredApplication[]; problems: MatrixProblem[] }> {
  const gathered: GatheredApplication[] = [];
  const problems: MatrixProblem[] = [];
  for (const app of applications) {
    try {
      const input = await readApplication(app, { home: deps.settings.home, signal: deps.signal });
      const pythons = app.pythons ?? deps.settings.matrix.pythons;
      gathered.push(
        await gatherApplication(deps, { inputs: [input], application: app.name, ...(pythons ? { pythons } : {}), rebuild, now }),
      );
    } catch (error) {
      if (error instanceof InterruptedError || deps.signal.aborted || !(error instanceof WheelfarmError)) throw error;
      problems.push({
        name: `application ${app.name}`,
        code: error.code,
        message: error.message,
        ...(error.hint ? { hint: error.hint } : {}),
      });
    }
  }
  return { gathered, problems };
}
