import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { UserInputError } from '../errors.ts';
import type { ApplicationSettings } from './application-settings.ts';
import { applicationsSchema, closureSchema, resolveApplications } from './application-settings.ts';
import { parseDuration } from './parse-duration.ts';
import { loadYamlFile } from './yaml-file.ts';

/** The farm's settings file (`wheelfarm.yaml` at the repository root, or --config / WHEELFARM_CONFIG). */
export const settingsSchema = z.strictObject({
  /** Where the farm keeps its state: caches, logs, staging. */
  home: z.string().optional(),
  upstream: z
    .strictObject({
      /** PEP 691 simple index to take sdists from; default: the user's pip configuration. */
      'index-url': z.url().optional(),
    })
    .default({}),
  index: z
    .strictObject({
      /** The embedded static index directory (also what `wheelfarm serve` serves). */
      dir: z.string().optional(),
      /**
       * Publish somewhere else by default: `s3://BUCKET/PREFIX[?endpoint=URL]`,
       * `devpi+https://USER:PASSWORD@HOST/USER/INDEX`, `pypiserver+https://HOST/` (see README).
       */
      url: z
        .string()
        .regex(/^[a-z][a-z0-9+.-]*:\/\//, 'expected an index URL like `s3://bucket/prefix`')
        .optional(),
    })
    .default({}),
  images: z
    .strictObject({
      /** Folder with images.yaml and the Dockerfile template. */
      definitions: z.string().optional(),
      /** Debian mirror for debootstrap and `debian:` source URLs; default: the host's apt sources. */
      'debian-mirror': z.url().optional(),
    })
    .default({}),
  recipes: z
    .strictObject({
      /** Folder with `<normalized-name>.yaml` recipes. */
      dir: z.string().optional(),
    })
    .default({}),
  toolchains: z
    .strictObject({
      rust: z
        .strictObject({
          /**
           * Where recipe images get Rust: `rustup` installs it in the image (production); `host`
           * copies a rustup toolchain from this machine (where rustup cannot download); `auto`:
           * the host's toolchain when there is one, else rustup.
           */
          source: z.enum(['auto', 'host', 'rustup']).default('auto'),
          /** The host toolchain folder; default: `$RUSTUP_HOME/toolchains/stable-<arch>` (or ~/.rustup). */
          'host-toolchain': z.string().optional(),
          /** The rustup-init URL the image downloads (your mirror, or rustup's documented one). */
          'rustup-init-url': z.url().optional(),
        })
        .default({ source: 'auto' }),
    })
    .default({ rust: { source: 'auto' } }),
  containers: z
    .strictObject({
      /** Memory limit of each build or test container, e.g. `8g`. */
      memory: z
        .string()
        .regex(/^\d+(\.\d+)?[kmg]?$/i, 'expected a size like `8g` or `512m`')
        .default('8g'),
      /**
       * `auto`: mount the host's CA bundle into containers when the host has one (needed behind
       * TLS-intercepting proxies); `false`: never; or a path to a PEM bundle.
       */
      'trust-host-ca': z.union([z.literal('auto'), z.literal(false), z.string()]).default('auto'),
      /** CPU limit of each container in cores, e.g. `2` or `1.5`; default: none. */
      cpus: z.number('expected a number of cores like `2`').positive('expected more than 0 cores').max(1024).optional(),
      /** Most processes and threads in one container. */
      pids: z.int('expected a whole number like `4096`').min(64, 'expected at least 64').max(1_000_000).default(4096),
      /** Each step of a cell (requires, build, repair, test) is stopped after this long. */
      timeout: z
        .string()
        .regex(/^\d+[smhd]$/, 'expected a duration like `3h` or `90m`')
        .default('3h'),
      /**
       * How long a cell whose engine went away (restarted, crashed) waits for it to answer again
       * before the run gives up on that engine; the cell then runs again from the start.
       */
      'engine-wait': z
        .string()
        .regex(/^\d+[smh]$/, 'expected a duration like `2m` or `90s`')
        .default('2m'),
    })
    .default({ memory: '8g', 'trust-host-ca': 'auto', pids: 4096, timeout: '3h', 'engine-wait': '2m' }),
  /** How many cells build at once (one local engine; with `hosts`, each host's `slots`). */
  jobs: z.int().min(1).max(64).default(2),
  records: z
    .strictObject({
      /**
       * Where build records live: default the SQLite file `<home>/records.db`; a
       * `postgres://USER:PASSWORD@HOST/DB` URL lets several farm processes share them.
       */
      url: z
        .string()
        .regex(/^postgres(ql)?:\/\//, 'expected a PostgreSQL URL like `postgres://farm:secret@db/wheelfarm`')
        .optional(),
    })
    .default({}),
  /** The Docker engines cells run on; default: the local engine (DOCKER_HOST or the socket) with `jobs` slots. */
  hosts: z
    .array(
      z.strictObject({
        /** A short name for logs and progress, e.g. `builder-1`. */
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a short name of letters, digits, `.`, `_`, `-`'),
        /** `unix:///var/run/docker.sock`, `tcp://HOST:2376` (with `tls`) or `ssh://USER@HOST`. */
        docker: z.string().regex(/^(unix|tcp|ssh):\/\//, 'expected unix:///path, tcp://HOST:PORT or ssh://USER@HOST'),
        /** Client certificates for `tcp://` engines that require TLS (paths to PEM files). */
        tls: z.strictObject({ ca: z.string(), cert: z.string(), key: z.string() }).optional(),
        /** Cells that run on the host at once. */
        slots: z.int().min(1).max(64).default(2),
        /** Memory the host's cells may use together, e.g. `16g`; each cell gets its share. */
        memory: z
          .string()
          .regex(/^\d+(\.\d+)?[kmg]?$/i, 'expected a size like `16g`')
          .optional(),
      }),
    )
    .min(1, 'list at least one host, or leave `hosts` out to use the local engine')
    .optional(),
  matrix: z
    .strictObject({
      /** CPython versions every package is built for (`3.11`); default: every CPython in the build image. */
      pythons: z
        .array(z.string().regex(/^3\.\d{1,2}$/, 'expected a CPython version like `3.13`'))
        .min(1)
        .optional(),
      /** How many of each package's newest releases (after the recipe's `versions`) the matrix keeps built. */
      latest: z.int().min(1).max(100).default(1),
      /** Pre-releases count as releases (default: only when no final release matches). */
      prereleases: z.boolean().default(false),
      /** A failed cell waits before it is tried again with the same inputs: `after`, doubling up to `max`. */
      retry: z
        .strictObject({
          after: z
            .string()
            .regex(/^\d+[smhd]$/, 'expected a duration like `6h`')
            .default('6h'),
          max: z
            .string()
            .regex(/^\d+[smhd]$/, 'expected a duration like `7d`')
            .default('7d'),
        })
        .default({ after: '6h', max: '7d' }),
    })
    .default({ latest: 1, prereleases: false, retry: { after: '6h', max: '7d' } }),
  closure: closureSchema,
  applications: applicationsSchema,
  /** `wheelfarm schedule`: what runs when (cron expressions, the host's time zone unless `timezone`). */
  schedule: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a short name like `nightly`'),
        cron: z.string().min(1),
        /** `matrix`: every missing or stale cell; `new-releases`: only cells of releases not seen before. */
        run: z.enum(['matrix', 'new-releases']),
        timezone: z.string().optional(),
      }),
    )
    .default([]),
});

export type Settings = z.infer<typeof settingsSchema>;

/** Settings with every path resolved and every default applied. */
export interface ResolvedSettings {
  root: string;
  settingsFile: string | undefined;
  home: string;
  indexDir: string;
  /** The default publish target when it is not the directory index. */
  indexUrl: string | undefined;
  imagesDir: string;
  recipesDir: string;
  rust: { source: 'auto' | 'host' | 'rustup'; hostToolchain: string | undefined; rustupInitUrl: string | undefined };
  upstreamIndexUrl: string | undefined;
  debianMirror: string | undefined;
  containerMemory: string;
  containerCpus: number | undefined;
  containerPids: number;
  stepTimeoutSeconds: number;
  /** How long to wait for an engine that went away to answer again (`containers.engine-wait`). */
  engineWaitSeconds: number;
  trustHostCa: 'auto' | false | string;
  jobs: number;
  /** Undefined: the SQLite file `<home>/records.db`. */
  recordsUrl: string | undefined;
  hosts: HostSettings[] | undefined;
  matrix: MatrixSettings;
  schedule: Settings['schedule'];
  /** `closure.pure`: mirror pure distributions' upstream wheels, or build them too. */
  closurePure: 'mirror' | 'build';
  applications: ApplicationSettings[];
}

export type HostSettings = NonNullable<Settings['hosts']>[number];

export interface MatrixSettings {
  pythons: string[] | undefined;
  latest: number;
  prereleases: boolean;
  retry: { afterSeconds: number; maxSeconds: number };
}

export async function loadSettings({
  root,
  file,
  env = process.env,
}: {
  root: string;
  file?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<ResolvedSettings> {
  const explicit = file ?? env.WHEELFARM_CONFIG;
  const settingsFile = explicit ? resolve(explicit) : resolve(root, 'wheelfarm.yaml');
  const settings =
    (await loadYamlFile(settingsFile, settingsSchema, { kind: 'settings file', missingOk: !explicit })) ?? settingsSchema.parse({});
  const base = existsSync(settingsFile) ? resolve(settingsFile, '..') : root;
  // A variable set to nothing (`WHEELFARM_HOME= ./wheelfarm ...`) is unset: never "the current folder".
  env = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const home = resolve(base, env.WHEELFARM_HOME ?? settings.home ?? '.wheelfarm');
  return {
    root,
    settingsFile: existsSync(settingsFile) ? settingsFile : undefined,
    home,
    indexDir: resolve(base, settings.index.dir ?? resolve(home, 'index')),
    indexUrl: env.WHEELFARM_INDEX_URL ?? settings.index.url,
    imagesDir: resolve(base, settings.images.definitions ?? resolve(root, 'images')),
    recipesDir: resolve(base, env.WHEELFARM_RECIPES_DIR ?? settings.recipes.dir ?? resolve(root, 'recipes')),
    rust: {
      source: rustSourceFromEnv(env.WHEELFARM_RUST_SOURCE) ?? settings.toolchains.rust.source,
      hostToolchain: settings.toolchains.rust['host-toolchain'] ? resolve(base, settings.toolchains.rust['host-toolchain']) : undefined,
      rustupInitUrl: env.RUSTUP_INIT_URL ?? settings.toolchains.rust['rustup-init-url'],
    },
    upstreamIndexUrl: env.WHEELFARM_UPSTREAM_INDEX_URL ?? settings.upstream['index-url'],
    debianMirror: settings.images['debian-mirror'],
    containerMemory: settings.containers.memory,
    containerCpus: settings.containers.cpus,
    containerPids: settings.containers.pids,
    stepTimeoutSeconds: parseDuration(settings.containers.timeout),
    engineWaitSeconds: parseDuration(settings.containers['engine-wait']),
    trustHostCa: settings.containers['trust-host-ca'],
    jobs: settings.jobs,
    // An empty variable means "not set": the settings file (or SQLite) decides.
    recordsUrl: env.WHEELFARM_RECORDS_URL || settings.records.url,
    hosts: settings.hosts?.map((host) => ({
      ...host,
      ...(host.tls
        ? { tls: { ca: resolve(base, host.tls.ca), cert: resolve(base, host.tls.cert), key: resolve(base, host.tls.key) } }
        : {}),
    })),
    matrix: {
      pythons: settings.matrix.pythons,
      latest: settings.matrix.latest,
      prereleases: settings.matrix.prereleases,
      retry: { afterSeconds: parseDuration(settings.matrix.retry.after), maxSeconds: parseDuration(settings.matrix.retry.max) },
    },
    schedule: settings.schedule,
    closurePure: settings.closure.pure,
    applications: resolveApplications(settings.applications, base),
  };
}

function rustSourceFromEnv(value: string | undefined): 'auto' | 'host' | 'rustup' | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'auto' || value === 'host' || value === 'rustup') return value;
  throw new UserInputError('bad-environment', `WHEELFARM_RUST_SOURCE is \`${value}\`; expected auto, host or rustup`, {
    hint: 'unset it, or set it to one of auto, host, rustup',
  });
}
