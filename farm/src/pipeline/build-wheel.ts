import { basename, join } from 'node:path';
import { WheelfarmError } from '../errors.ts';
import type { FarmContext } from '../farm-context.ts';
import type { BuildLog } from '../records/build-log.ts';
import type { CopiedFile } from '../runtime/container-runtime.ts';
import { containerLabels } from '../runtime/labels.ts';
import type { CellPlan } from './cell-plan.ts';
import { runStep } from './run-step.ts';
import { withContainer } from './with-container.ts';

const WORK = '/work';

/**
 * build + repair, in one fresh container of the build image, as the non-root build user:
 * `python -m build --wheel` from the unpacked sdist, then `auditwheel repair` to the image's
 * policy. No `auditwheel show` after it: it parses every grafted library again (2.5 s of CPU for
 * lxml or psycopg2, half the repair), and the test step, in an image without those libraries, is
 * the check that counts. The repaired wheel is streamed out to `stagingDir`.
 */
export async function buildAndRepairWheel(
  context: FarmContext,
  { plan, log, stagingDir }: { plan: CellPlan; log: BuildLog; stagingDir: string },
): Promise<CopiedFile> {
  const { buildId } = plan;
  return withContainer(
    context,
    {
      image: plan.images.build,
      labels: containerLabels({ buildId, step: 'build' }),
      env: { PIP_INDEX_URL: plan.upstreamIndexUrl, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' },
      volumes: cacheVolumes(plan.user.name),
    },
    async (container) => {
      await container.putFiles(WORK, [
        { name: `in/${plan.sdist.filename}`, source: { path: plan.sdist.path }, uid: plan.user.uid, gid: plan.user.uid },
        ...plan.recipe.patches.map((path, i) => ({
          name: `patches/${patchName(path, i)}`,
          source: { path },
          uid: plan.user.uid,
          gid: plan.user.uid,
        })),
      ]);
      await runStep(context, { container, buildId, step: 'build', log, script: buildScript(plan), env: plan.recipe.build.env });
      await runStep(context, { container, buildId, step: 'repair', log, script: repairScript(plan) });
      const wheels = await container.copyOut(`${WORK}/wheelhouse`, stagingDir, (name) => name.endsWith('.whl'));
      if (wheels.length !== 1) {
        throw new WheelfarmError('unexpected-wheels', `${buildId}: expected one repaired wheel, found ${wheels.length}`, {
          hint: `read the log: ${log.path}`,
        });
      }
      return wheels[0]!;
    },
  );
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

function buildScript(plan: CellPlan): string {
  const python = `/opt/python/${plan.pythonDir}/bin/python`;
  return `
mkdir -p ${WORK}/src ${WORK}/dist ${WORK}/wheelhouse
echo "unpacking ${plan.sdist.filename}"
/opt/_internal/tools/bin/python -c 'import shutil, sys; shutil.unpack_archive(sys.argv[1], sys.argv[2], filter="data")' \\
  ${WORK}/in/${shellQuote(plan.sdist.filename)} ${WORK}/src
shopt -s nullglob
dirs=(${WORK}/src/*/)
if [ "\${#dirs[@]}" -ne 1 ]; then echo "the sdist should hold exactly one top-level folder, found \${#dirs[@]}" >&2; exit 1; fi
cd "\${dirs[0]}"
${patchCommands(plan.recipe.patches)}${stripDebugLine(plan.recipe.build.debugInfo)}${plan.recipe.build.before ? `echo "running the recipe's build.before"\n${plan.recipe.build.before}\n` : ''}${python} --version
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
