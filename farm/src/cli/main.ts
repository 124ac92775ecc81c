#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import type { BuildCommandOptions } from './commands/build-command.ts';
import type { MatrixFilterOptions } from './commands/matrix-command.ts';
import { EXIT, EXIT_CODES_HELP } from './exit-codes.ts';
import type { CommonOptions } from './run-command.ts';
import { runCommand } from './run-command.ts';

/** A repeatable option's values, in the order given. */
function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const program = new Command('wheelfarm')
  .description('Build portable manylinux wheels of Python packages in containers and publish them to your own index.')
  .version(VERSION, '-V, --version')
  .option('--config <file>', 'settings file (default: wheelfarm.yaml at the repository root, or $WHEELFARM_CONFIG)')
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText('after', `\n${EXIT_CODES_HELP}`)
  .exitOverride((error) => process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage));

const jsonOption = new Option('--json', 'print one JSON object per event on stdout, for machines');

program
  .command('build')
  .summary("build, repair, test and publish wheels of a package, or of an application's whole closure")
  .description(
    'Resolve the sdist on the upstream index, build one wheel per Python in a fresh container, ' +
      'repair it with auditwheel, test it in the runtime image and publish it to the index. ' +
      'A wheel the index already has is not built again, unless its sdist, recipe or image changed since: ' +
      'then it is rebuilt and published with the next PEP 427 build tag, which pip and uv prefer.\n\n' +
      "A package's runtime dependencies follow it into the index (unless --no-deps). With -r or --lock, the " +
      "application's whole closure is resolved for each target Python: distributions with native code are " +
      'built, pure ones have their upstream py3-none-any wheel mirrored byte for byte (sha256 checked), so ' +
      '`pip install --index-url <farm>/simple/ -r requirements.txt` needs no other index.',
  )
  .argument('[package]', 'a project name, or name==version (default: the newest release)')
  .option(
    '-r, --requirement <file>',
    "an application's requirements (pip's format: pins, ranges, markers, extras, -c, --hash); repeatable",
    collect,
  )
  .option('--lock <file>', 'a PEP 751 pylock.toml: its packages are verified and taken as locked, never re-resolved; repeatable', collect)
  .option('--no-deps', 'build the package only, not its runtime dependencies')
  .option('--python <versions>', 'comma-separated CPython versions, e.g. 3.11,3.13 (default: all in the image)')
  .option(
    '--index <target>',
    'where to publish: a directory (default: .wheelfarm/index), s3://BUCKET/PREFIX[?endpoint=URL], devpi+https://USER:PASSWORD@HOST/USER/INDEX or pypiserver+https://HOST/',
  )
  .option(
    '--jobs <n>',
    "how many cells run at once on the local engine (default: 2, or `jobs` in the settings; with `hosts` in the settings, each host's slots)",
  )
  .option('--rebuild', 'build again even when the index has a wheel from the same inputs (it gets the next build tag)')
  .addOption(jsonOption)
  .addHelpText(
    'after',
    '\nExamples:\n  ./wheelfarm build markupsafe\n  ./wheelfarm build numpy==2.3.5 --python 3.13\n  ./wheelfarm build -r requirements.txt --python 3.11,3.13\n  ./wheelfarm build --lock pylock.toml\n  ./wheelfarm build lxml --json > build.jsonl',
  )
  .action((packageSpec: string | undefined, options: CommonOptions & BuildCommandOptions) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, {}, async (env) =>
      (await import('./commands/build-command.ts')).runBuildCommand(env, packageSpec, options),
    ),
  );

const images = program.command('images').summary('show or build the build and runtime images');
images
  .command('build')
  .description(
    'Build the base, build and runtime images that are missing for images/images.yaml.\n' +
      "With --refresh, also apply the distribution's pending (security) updates on top of the build and runtime\n" +
      'images; the farm then uses the refreshed images, and the next matrix build rebuilds every wheel built\n' +
      'before (the image changed), each with its next build tag.',
  )
  .option('--refresh', "apply the distribution's security updates to the images now (new tags; wheels built before become stale)")
  .addOption(jsonOption)
  .action((options: CommonOptions & { refresh?: boolean }) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, {}, async (env) =>
      (await import('./commands/images-command.ts')).runImagesBuild(env, { refresh: options.refresh === true }),
    ),
  );
images
  .command('list')
  .description('List the images the definitions call for (tagged by the hash of their inputs) and whether they exist.')
  .addOption(jsonOption)
  .action((options: CommonOptions) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, {}, async (env) =>
      (await import('./commands/images-command.ts')).runImagesList(env),
    ),
  );

const recipes = program.command('recipes').summary('check or show the build recipes in recipes/');
recipes
  .command('lint')
  .description('Validate every recipe (or those of the named packages); a package without a recipe builds with defaults.')
  .argument('[names...]', 'packages whose recipes to check (default: all)')
  .addOption(jsonOption)
  .action((names: string[], options: CommonOptions) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { needsDocker: false }, async (env) =>
      (await import('./commands/recipes-command.ts')).runRecipesLint(env, names),
    ),
  );
recipes
  .command('show')
  .description("Print a package's effective recipe (its file with defaults applied, or only the defaults) as YAML.")
  .argument('<name>', 'a project name')
  .addOption(jsonOption)
  .action((name: string, options: CommonOptions) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { needsDocker: false }, async (env) =>
      (await import('./commands/recipes-command.ts')).runRecipesShow(env, name),
    ),
  );

const index = program.command('index').summary('yank, unyank or repair an index wheelfarm writes (directory or S3)');
const indexOption = () =>
  new Option(
    '--index <target>',
    'the index: a directory (default: .wheelfarm/index, or index.url in the settings) or s3://BUCKET/PREFIX[?endpoint=URL]',
  );
index
  .command('yank')
  .description('Yank every file of one version (PEP 592): installers skip them unless the version is pinned.')
  .argument('<spec>', 'name==version')
  .option('--reason <text>', 'why it was yanked; shown by installers')
  .addOption(indexOption())
  .addOption(jsonOption)
  .action((spec: string, options: CommonOptions & { reason?: string }) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { needsDocker: false }, async (env) =>
      (await import('./commands/index-command.ts')).runIndexYank(env, spec, {
        yank: true,
        ...(options.reason ? { reason: options.reason } : {}),
      }),
    ),
  );
index
  .command('unyank')
  .description('Undo a yank: every file of that version is installable again.')
  .argument('<spec>', 'name==version')
  .addOption(indexOption())
  .addOption(jsonOption)
  .action((spec: string, options: CommonOptions) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { needsDocker: false }, async (env) =>
      (await import('./commands/index-command.ts')).runIndexYank(env, spec, { yank: false }),
    ),
  );
index
  .command('repair')
  .description('Rebuild every page from the stored files and write missing .metadata files.')
  .addOption(indexOption())
  .addOption(jsonOption)
  .action((options: CommonOptions) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { needsDocker: false }, async (env) =>
      (await import('./commands/index-command.ts')).runIndexRepair(env),
    ),
  );

const matrix = program.command('matrix').summary('plan or build the whole matrix: recipes x releases x Pythons');
const matrixFilters = (command: Command) =>
  command
    .argument('[packages...]', 'only these packages (default: every recipe in recipes/)')
    .option('--python <versions>', 'only these CPython versions, e.g. 3.13')
    .option('--state <states>', 'only cells in these states: built, missing, stale, failed, excluded')
    .option('--new-releases', 'only cells of releases the farm has never built or published')
    .option('--index <target>', 'the index the matrix is kept in (default: .wheelfarm/index, or index.url in the settings)')
    .addOption(jsonOption);
matrixFilters(
  matrix
    .command('plan')
    .summary('show every cell: built, missing, stale, failed or excluded')
    .description(
      'Work out, without building anything, the state of every cell: built, missing, stale (sdist, recipe or ' +
        'image changed: rebuilt with the next build tag), failed (waiting for its back-off) or excluded (with the reason). ' +
        'Releases per package: the newest `latest` (settings matrix.latest, or the recipe) that its `versions` admits.',
    ),
)
  .addHelpText(
    'after',
    '\nExamples:\n  ./wheelfarm matrix plan\n  ./wheelfarm matrix plan numpy --state missing,stale\n  ./wheelfarm matrix plan --json | jq .counts',
  )
  .action((packages: string[], options: CommonOptions & MatrixFilterOptions) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { needsDocker: false }, async (env) =>
      (await import('./commands/matrix-command.ts')).runMatrixPlan(env, packages, options),
    ),
  );
matrixFilters(
  matrix
    .command('build')
    .summary('build every missing and stale cell across the Docker hosts')
    .description(
      'Plan, then build every missing and stale cell (longest first, across the configured Docker hosts), ' +
        'keep going past failures, and end with a summary. Failed cells wait for their back-off; built ones are left alone.',
    ),
)
  .option('--rebuild', 'rebuild every selected cell, built ones too (each gets the next build tag)')
  .addHelpText(
    'after',
    '\nExamples:\n  ./wheelfarm matrix build\n  ./wheelfarm matrix build --new-releases\n  ./wheelfarm matrix build numpy lxml --python 3.13 --json > matrix.jsonl',
  )
  .action((packages: string[], options: CommonOptions & MatrixFilterOptions) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, {}, async (env) =>
      (await import('./commands/matrix-command.ts')).runMatrixBuild(env, packages, options),
    ),
  );

program
  .command('schedule')
  .summary("run the matrix on the settings' cron schedule (a long-lived service)")
  .description(
    'Run the `schedule` entries of wheelfarm.yaml until SIGINT or SIGTERM: each entry is a cron expression and ' +
      'what to run (`matrix`: every missing or stale cell; `new-releases`: only releases never built). Two matrix builds ' +
      'never run at once, in this process or any other sharing the build records. Every run is logged to ' +
      '<home>/logs/schedule.log. See the README for a systemd unit.',
  )
  .option('--once <name>', 'run that entry now, once, and exit with its result')
  .option('--index <target>', 'the index the matrix is kept in (default: .wheelfarm/index, or index.url in the settings)')
  .addOption(jsonOption)
  .addHelpText('after', '\nExamples:\n  ./wheelfarm schedule\n  ./wheelfarm schedule --once nightly --json')
  .action((options: CommonOptions & { once?: string }) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { signalStops: options.once === undefined }, async (env) =>
      (await import('./commands/schedule-command.ts')).runSchedule(env, options),
    ),
  );
program
  .command('status')
  .summary('the newest builds from the build records')
  .description(
    'List the newest builds (all, or of one package), newest first: record number, build identifier, state, build tag, start, time taken, and the wheel or the error.',
  )
  .argument('[package]', 'only builds of this package')
  .option('--state <state>', 'only builds in this state: running, published, unchanged, failed, interrupted, abandoned')
  .option('--limit <n>', 'how many builds to show (default: 30)')
  .addOption(jsonOption)
  .addHelpText('after', '\nExamples:\n  ./wheelfarm status\n  ./wheelfarm status numpy --state failed\n  ./wheelfarm logs 42')
  .action((project: string | undefined, options: CommonOptions & { state?: string; limit?: string }) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { needsDocker: false }, async (env) =>
      (await import('./commands/records-command.ts')).runStatus(env, project, options),
    ),
  );
program
  .command('logs')
  .summary("print a build's log")
  .description(
    "Print a build's log (stored compressed), by record number or build identifier (then the newest build of that cell). A running build's log shows what it has written so far.",
  )
  .argument('<build>', 'a record number from `wheelfarm status`, or a build identifier')
  .action((which: string) =>
    runCommand({ ...program.opts<CommonOptions>() }, { needsDocker: false }, async (env) =>
      (await import('./commands/records-command.ts')).runLogs(env, which),
    ),
  );

program
  .command('serve')
  .summary('serve the local index over HTTP, for pip and uv')
  .description(
    'Serve the local index read-only over HTTP (PEP 503 HTML pages, PEP 691 JSON pages by content ' +
      'negotiation, and PEP 658 metadata) until Ctrl-C. Point installers at http://HOST:PORT/simple/.',
  )
  .option('--host <host>', 'address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)')
  .option('--port <n>', 'port to listen on (default: 8080; 0 picks a free one)')
  .option('--index <dir>', 'the local index directory to serve (default: .wheelfarm/index)')
  .addOption(jsonOption)
  .addHelpText(
    'after',
    '\nExamples:\n  ./wheelfarm serve\n  ./wheelfarm serve --host 0.0.0.0 --port 8000\n  pip install --index-url http://127.0.0.1:8080/simple/ markupsafe',
  )
  .action((options: CommonOptions & { host?: string; port?: string }) =>
    runCommand({ ...program.opts<CommonOptions>(), ...options }, { needsDocker: false, signalStops: true }, async (env) =>
      (await import('./commands/serve-command.ts')).runServe(
        { settings: env.settings, reporter: env.reporter, signal: env.farm.signal },
        options,
      ),
    ),
  );

await program.parseAsync(process.argv);
