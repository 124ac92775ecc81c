import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { WheelfarmError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import type { BuildLog } from '../records/build-log.ts';
import type { BuildRequirement } from '../records/build-records.ts';
import type { CopiedFile, RunningContainer } from '../runtime/container-runtime.ts';
import { containerLabels } from '../runtime/labels.ts';
import type { CellPlan } from './cell-plan.ts';
import { runStep, stepTimeoutSeconds } from './run-step.ts';
import { WORK, withContainer } from './with-container.ts';

export interface BuiltWheel {
  wheel: CopiedFile;
  /** The files the build phase installed; undefined when the recipe gives the build the network. */
  requires: BuildRequirement[] | undefined;
}

/**
 * build + repair, as the non-root build user in contained containers of the build image that share
 * the cell's work volume (see with-container.ts):
 *
 * - requires (network on): unpack the sdist, apply the recipe's patches and `build.before`, then
 *   download every PEP 517 build requirement, static (`build-system.requires`) and dynamic (what
 *   the backend's `get_requires_for_build_wheel` asks for), with their dependencies, as wheels
 *   into /work/wheels (pip checks the index's hashes; one that exists only as an sdist is built
 *   into a wheel here), checking that they install with no index; Rust crates with `cargo fetch`.
 *   Their names and sha256 go to the build record.
 * - build (NetworkMode none): the wheels' hashes checked again, then `python -m build --wheel`,
 *   installing only from /work/wheels; cargo offline. A build that reaches for the network fails
 *   with a message that says so.
 * - repair: `auditwheel repair` to the image's policy. No `auditwheel show` after it: it parses every
 *   grafted library again (2.5 s of CPU for lxml or psycopg2, half the repair), and the test step,
 *   in an image without those libraries, is the check that counts.
 *
 * A recipe with `build.network: <reason>` builds in one container with the network on instead.
 * The repaired wheel is streamed out to `stagingDir`.
 */
export async function buildAndRepairWheel(
  context: FarmContext,
  { plan, log, stagingDir, work }: { plan: CellPlan; log: BuildLog; stagingDir: string; work: string },
): Promise<BuiltWheel> {
  const { buildId } = plan;
  const offline = plan.recipe.build.network === undefined;
  const timeoutSeconds = stepTimeoutSeconds(context, plan.recipe);
  const contained = { image: plan.images.build, user: plan.user, work, limits: plan.recipe.limits, volumes: cacheVolumes(plan.user.name) };
  const online = { ...plan.upstreamEnv, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
  let requires: BuildRequirement[] | undefined;
  if (offline) {
    requires = await withContainer(
      context,
      { ...contained, labels: containerLabels({ buildId, step: 'requires' }), env: online },
      async (container) => {
        await putSources(container, plan);
        await runStep(context, {
          container,
          buildId,
          step: 'requires',
          log,
          script: requiresScript(plan),
          env: plan.recipe.build.env,
          timeoutSeconds,
        });
        const [list] = await container.copyOut(`${WORK}/requires.json`, stagingDir, (name) => name.endsWith('requires.json'));
        if (!list)
          throw new WheelfarmError('internal-error', `${buildId}: the requires step wrote no requires.json`, {
            hint: `read the log: ${log.path}`,
          });
        return JSON.parse(await readFile(list.path, 'utf8')) as BuildRequirement[];
      },
    );
  } else {
    log.note(`build.network: the build runs with the network on (${plan.recipe.build.network})`);
  }
  const offlineEnv = {
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: `${WORK}/wheels`,
    PIP_DISABLE_PIP_VERSION_CHECK: '1',
    PIP_NO_INPUT: '1',
    CARGO_NET_OFFLINE: 'true',
  };
  return withContainer(
    context,
    {
      ...contained,
      labels: containerLabels({ buildId, step: 'build' }),
      env: offline ? offlineEnv : online,
      network: offline ? 'none' : 'default',
    },
    async (container) => {
      if (!offline) await putSources(container, plan);
      const script = offline ? offlineBuildScript(plan) : `${prepareSourceScript(plan)}${wheelBuildCommands(plan)}`;
      await runStep(context, { container, buildId, step: 'build', log, script, env: plan.recipe.build.env, timeoutSeconds, offline });
      await runStep(context, { container, buildId, step: 'repair', log, script: repairScript(plan), timeoutSeconds });
      const wheels = await container.copyOut(`${WORK}/wheelhouse`, stagingDir, (name) => name.endsWith('.whl'));
      if (wheels.length !== 1) {
        throw new WheelfarmError('unexpected-wheels', `${buildId}: expected one repaired wheel, found ${wheels.length}`, {
          hint: `read the log: ${log.path}`,
        });
      }
      return { wheel: wheels[0]!, requires };
    },
  );
}

/** The sdist and the recipe's patches, into the work volume. */
async function putSources(container: RunningContainer, plan: CellPlan): Promise<void> {
  const owned = { uid: plan.user.uid, gid: plan.user.gid };
  await container.putFiles(WORK, [
    { name: `in/${plan.sdist.filename}`, source: { path: plan.sdist.path }, ...owned },
    ...plan.recipe.patches.map((path, i) => ({ name: `patches/${patchName(path, i)}`, source: { path }, ...owned })),
  ]);
}

/**
 * The caches every build on an engine shares, one named volume each: ccache (C/C++ objects), pip's
 * cache (build requirements are downloaded once) and cargo's registry (crates). The build image puts
 * ccache first on PATH and points CCACHE_DIR, PIP_CACHE_DIR and CARGO_HOME at these directories.
 */
export function cacheVolumes(user: string): { name: string; target: string }[] {
  const home = `/home/${user}`;
  return [
    { name: 'wheelfarm-cache-ccache', target: `${home}/.cache/ccache` },
    { name: 'wheelfarm-cache-pip', target: `${home}/.cache/pip` },
    { name: 'wheelfarm-cache-cargo-registry', target: `${home}/.cargo/registry` },
  ];
}

/** Unpack the sdist (Python's `data` filter: no links out, no devices), patch, run `build.before`. */
function prepareSourceScript(plan: CellPlan): string {
  return `
mkdir -p ${WORK}/src ${WORK}/dist ${WORK}/wheelhouse
echo "unpacking ${plan.sdist.filename}"
/opt/_internal/tools/bin/python -c 'import shutil, sys; shutil.unpack_archive(sys.argv[1], sys.argv[2], filter="data")' \\
  ${WORK}/in/${shellQuote(plan.sdist.filename)} ${WORK}/src
${enterSourceCommands()}${patchCommands(plan.recipe.patches)}${plan.recipe.build.before ? `echo "running the recipe's build.before"\n${plan.recipe.build.before}\n` : ''}`;
}

function enterSourceCommands(): string {
  return `shopt -s nullglob
dirs=(${WORK}/src/*/)
if [ "\${#dirs[@]}" -ne 1 ]; then echo "the sdist should hold exactly one top-level folder, found \${#dirs[@]}" >&2; exit 1; fi
cd "\${dirs[0]}"
`;
}

/**
 * The requires step: see buildAndRepairWheel. The discovery runs the target Python's \`build\`
 * package in an isolated environment, like \`python -m build\` will; pip installs the static
 * requirements into it only from what was downloaded (the backend must run to name the dynamic ones),
 * so a wheel that does not install offline fails here, with a clear pip message. The dynamic ones are
 * resolved by \`pip download\` with their dependencies, and installed for the first time by the build.
 */
function requiresScript(plan: CellPlan): string {
  const python = `/opt/python/${plan.pythonDir}/bin/python`;
  const settings = shellQuote(JSON.stringify(plan.recipe.build.configSettings));
  return `${prepareSourceScript(plan)}${python} - ${WORK}/wheels ${WORK}/requires.json ${settings} <<'PY'
${FETCH_REQUIREMENTS_PY}PY
if command -v cargo >/dev/null; then
  while IFS= read -r manifest; do
    echo "fetching the crates of $manifest"
    cargo fetch --manifest-path "$manifest"
  done < <(find . -name Cargo.toml -not -path '*/target/*' | sort)
fi
${CPU_TIME_LINE}`;
}

const FETCH_REQUIREMENTS_PY = `import hashlib, json, os, pathlib, subprocess, sys
from build import BuildBackendException, ProjectBuilder
from build.env import DefaultIsolatedEnv

dest, listing, settings = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), json.loads(sys.argv[3]) or None
dest.mkdir(parents=True, exist_ok=True)
pip = [sys.executable, "-m", "pip"]
offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(dest)}

def fetch(requirements, why):
    if not requirements:
        return
    print(f"{why}: {', '.join(sorted(requirements))}", flush=True)
    subprocess.run([*pip, "download", "--quiet", "--dest", str(dest), *sorted(requirements)], check=True)
    for sdist in sorted(p for p in dest.iterdir() if not p.name.endswith(".whl")):
        print(f"{sdist.name} has no wheel: building one while there is a network", flush=True)
        subprocess.run([*pip, "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(sdist)], check=True)
        sdist.unlink()

def install(env, requirements):
    saved = {k: os.environ.get(k) for k in offline}
    os.environ.update(offline)
    try:
        env.install(requirements)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

try:
    with DefaultIsolatedEnv() as env:
        builder = ProjectBuilder.from_isolated_env(env, ".")
        static = set(builder.build_system_requires)
        fetch(static, "build-system.requires")
        install(env, static)
        dynamic = set(builder.get_requires_for_build("wheel", settings)) - static
        fetch(dynamic, "asked for by the build backend")
except BuildBackendException as error:
    sys.exit(f"the build backend failed when asked for its build requirements (its output is above): {error}")
except subprocess.CalledProcessError as error:
    sys.exit(f"pip failed ({' '.join(error.cmd[3:5])}): its output is above")

files = sorted(p for p in dest.iterdir() if p.name.endswith(".whl"))
found = [{"file": p.name, "sha256": hashlib.sha256(p.read_bytes()).hexdigest()} for p in files]
(dest / "SHA256SUMS").write_text("".join(f"{f['sha256']}  {f['file']}\\n" for f in found))
listing.write_text(json.dumps(found))
for f in found:
    print(f"build requirement: {f['file']} sha256={f['sha256']}")
`;

/** The build phase with no network: the fetched wheels' hashes, then the build, from them only. */
function offlineBuildScript(plan: CellPlan): string {
  return `${enterSourceCommands()}echo "build phase: no network; build requirements only from ${WORK}/wheels"
(cd ${WORK}/wheels && sha256sum --check --quiet SHA256SUMS)
${wheelBuildCommands(plan)}`;
}

function wheelBuildCommands(plan: CellPlan): string {
  const python = `/opt/python/${plan.pythonDir}/bin/python`;
  return `${stripDebugLine(plan.recipe.build.debugInfo)}${python} --version
${python} -m build --wheel --outdir ${WORK}/dist${configSettingArgs(plan.recipe.build.configSettings)} .
if command -v ccache >/dev/null; then echo "ccache: $(ccache --show-stats 2>/dev/null | grep -E '^cache hit|^cache miss' | tr -s ' ' | paste -sd ';')"; fi
${CPU_TIME_LINE}`;
}

/**
 * \`debug-info: strip\`: the linker drops the debug sections Python's \`-g\` puts in every object,
 * whatever the build system (setuptools, meson, cmake and autotools all take LDFLAGS); the recipe's
 * own LDFLAGS come first. Objects keep them, so the compiler cache serves both settings.
 */
function stripDebugLine(debugInfo: 'strip' | 'keep'): string {
  return debugInfo === 'strip' ? 'export LDFLAGS="${LDFLAGS:+$LDFLAGS }-Wl,--strip-debug"\n' : '';
}

/**
 * The CPU time of the build's processes (compilers, pip, the build backend), from bash's \`times\`
 * (its second line: children's user and sys, e.g. \`0m12.340s 0m1.230s\`), on a marked line that
 * scripts/bench-matrix.sh reads: \`wheelfarm-cpu: user=12.340 sys=1.230\`. \`times\` must run in this
 * shell (a subshell starts with no children's time), hence the file.
 */
const CPU_TIME_LINE = `times > /tmp/wheelfarm-times
{ read -r _ _; read -r cpu_user cpu_sys; } < /tmp/wheelfarm-times
cpu_seconds() { local t=\${1%s}; local m=\${t%%m*} s=\${t#*m}; echo "$((10#$m * 60 + 10#\${s%%.*})).\${s#*.}"; }
echo "wheelfarm-cpu: user=$(cpu_seconds "$cpu_user") sys=$(cpu_seconds "$cpu_sys")"
`;

/** Patches apply in the recipe's order (whatever their names); `patch -p1` fails loudly on a hunk that does not apply. */
function patchCommands(patches: string[]): string {
  return patches
    .map((path, i) => {
      const file = shellQuote(`${WORK}/patches/${patchName(path, i)}`);
      return `echo ${shellQuote(`applying ${basename(path)}`)}\npatch -p1 --forward --batch < ${file}\n`;
    })
    .join('');
}

/** Inside the container: numbered, so the order is visible in `ls` too. */
function patchName(path: string, index: number): string {
  return `${String(index).padStart(2, '0')}-${basename(path)}`;
}

/** PEP 517 config settings as `-C key=value`, a list value repeated once per item. */
export function configSettingArgs(settings: Record<string, string[]>): string {
  return Object.entries(settings)
    .flatMap(([key, values]) => values.map((value) => ` -C${shellQuote(`${key}=${value}`)}`))
    .join('');
}

/**
 * auditwheel repair (a pure wheel needs none), then for a rebuild the PEP 427 build tag, set with
 * `wheel tags --build` so the WHEEL file, RECORD and filename agree.
 */
function repairScript(plan: CellPlan): string {
  const excludes = plan.recipe.repair.exclude.map((soname) => ` --exclude ${shellQuote(soname)}`).join('');
  const tag = plan.buildTag
    ? `
repaired=(${WORK}/wheelhouse/*.whl)
echo "rebuild: giving \${repaired[0]##*/} build tag ${plan.buildTag}"
/opt/python/${plan.pythonDir}/bin/python -m wheel tags --remove --build ${shellQuote(plan.buildTag)} "\${repaired[0]}"
`
    : '';
  return `
shopt -s nullglob
built=(${WORK}/dist/*.whl)
if [ "\${#built[@]}" -ne 1 ]; then echo "expected one wheel in dist/, found \${#built[@]}" >&2; exit 1; fi
case "\${built[0]}" in
  *-none-any.whl)
    echo "\${built[0]##*/} is a pure-Python wheel: nothing to repair"
    cp "\${built[0]}" ${WORK}/wheelhouse/ ;;
  *)
    auditwheel repair --plat "$AUDITWHEEL_PLAT"${excludes} --wheel-dir ${WORK}/wheelhouse "\${built[0]}"
    ls -l ${WORK}/wheelhouse ;;
esac${tag}`;
}

export function shellQuote(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

export function stagingDirFor(home: string, buildId: string): string {
  return join(home, 'staging', `${buildId}-${process.pid}`);
}
