import { resolve } from 'node:path';
import { z } from 'zod';

/** `closure`: how an application's closure fills the index. */
export const closureSchema = z
  .strictObject({
    /** `mirror`: pure distributions' upstream `py3-none-any` wheels are copied byte for byte; `build`: built from their sdists too. */
    pure: z.enum(['mirror', 'build']).default('mirror'),
  })
  .default({ pure: 'mirror' });

/** `applications`: requirement or lock files (paths or URLs) whose closures the matrix keeps complete in the index. */
export const applicationsSchema = z
  .array(
    z
      .strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a short name like `billing-api`'),
        /** pip's requirements format (`-r`); a path (relative to the settings file) or an http(s) URL. */
        requirements: z.string().min(1).optional(),
        /** A PEP 751 `pylock.toml` (`--lock`); a path or an http(s) URL. */
        lock: z.string().min(1).optional(),
        /** The Pythons its closure is kept for; default: the matrix's. */
        pythons: z
          .array(z.string().regex(/^3\.\d{1,2}$/, 'expected a CPython version like `3.13`'))
          .min(1)
          .optional(),
      })
      .refine((a) => (a.requirements === undefined) !== (a.lock === undefined), 'give exactly one of `requirements` and `lock`'),
  )
  .default([]);

export interface ApplicationSettings {
  name: string;
  kind: 'requirements' | 'lock';
  /** An absolute path, or an http(s) URL. */
  source: string;
  pythons: string[] | undefined;
}

/** The applications with their paths resolved against the settings file's folder. */
export function resolveApplications(applications: z.infer<typeof applicationsSchema>, base: string): ApplicationSettings[] {
  return applications.map((a) => {
    const given = (a.requirements ?? a.lock)!;
    const source = /^https?:\/\//.test(given) ? given : resolve(base, given);
    return { name: a.name, kind: a.requirements !== undefined ? 'requirements' : 'lock', source, pythons: a.pythons };
  });
}
