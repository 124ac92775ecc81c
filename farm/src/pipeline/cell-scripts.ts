import { basename } from 'node:path';
import type { CellPlan } from './cell-plan.ts';
import type { CargoManifest } from './sdist-needs.ts';
import { WORK } from './with-container.ts';

// The bash scripts a cell's steps run in its containers (see build-wheel.ts for what each step is).

/** Unpack the sdist (Python's `data` filter: no links out, no devices), patch, run `build.before`. */
export function prepareSourceScript(plan: CellPlan): string {
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
export function requiresScript(plan: CellPlan): string {
  const python = `/opt/python/${plan.pythonDir}/bin/python`;
  const settings = shellQuote(JSON.stringify(plan.recipe.build.configSettings));
  return `${prepareSourceScript(plan)}${python} - ${WORK}/wheels ${WORK}/requires.json ${settings} <<'PY'
${FETCH_REQUIREMENTS_PY}PY
${cargoFetchCommands(plan.cargo ?? [])}${CPU_TIME_LINE}`;
}

/**
 * Rust: the crates of what the build backend compiles (the manifests sdist-needs.ts chose), for every
 * target (maturin's \`cargo metadata\` reads them all, Windows-only ones too), run from the sdist's root so that its \`.cargo/config.toml\` applies (a vendored
 * source replacing the crates registry, as orjson's). With the workspace's Cargo.lock, \`--locked\`: exactly the
 * locked crates. A lock that no longer matches its Cargo.toml (cargo refuses: "because --locked was
 * passed") is brought up to date by the fetch, as the build would, and the build then uses it; with no
 * lock, cargo writes one. Crates go to the engine's shared cargo cache (cargo locks it); the build
 * step then runs cargo offline.
 */
export function cargoFetchCommands(manifests: CargoManifest[]): string {
  const fetches = manifests.map(({ manifest, lock }) => {
    const m = shellQuote(manifest);
    return lock
      ? `echo ${shellQuote(`cargo: fetching the crates of ${manifest}, locked by ${lock}`)}
if ! cargo fetch --locked --manifest-path ${m} 2>/tmp/cargo-fetch.err; then
  cat /tmp/cargo-fetch.err >&2
  grep -q -- '--locked was passed' /tmp/cargo-fetch.err || exit 1
  echo ${shellQuote(`cargo: ${lock} does not match the Cargo.toml files; fetching with the lock brought up to date, which the build uses`)}
  cargo fetch --manifest-path ${m}
fi
`
      : `echo ${shellQuote(`cargo: fetching the crates of ${manifest} (the sdist has no Cargo.lock: cargo writes one, which the build uses)`)}
cargo fetch --manifest-path ${m}
`;
  });
  const none = 'echo "cargo: the sdist has no Cargo manifest its build backend compiles: no crates fetched"\n';
  return `if command -v cargo >/dev/null; then
${fetches.length > 0 ? fetches.join('') : none}fi
`;
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
export function offlineBuildScript(plan: CellPlan): string {
  return `${enterSourceCommands()}echo "build phase: no network; build requirements only from ${WORK}/wheels"
(cd ${WORK}/wheels && sha256sum --check --quiet SHA256SUMS)
${wheelBuildCommands(plan)}`;
}

export function wheelBuildCommands(plan: CellPlan): string {
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
export function patchName(path: string, index: number): string {
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
export function repairScript(plan: CellPlan): string {
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
