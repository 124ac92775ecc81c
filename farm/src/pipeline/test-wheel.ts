import type { BuildLog } from '../records/build-log.ts';
import type { CopiedFile } from '../runtime/container-runtime.ts';
import { containerLabels } from '../runtime/labels.ts';
import { shellQuote } from './cell-scripts.ts';
import type { ContainerDeps, StepDeps } from './cell-deps.ts';
import type { CellPlan } from './cell-plan.ts';
import { runStep, stepTimeoutSeconds } from './run-step.ts';
import { withContainer } from './with-container.ts';

/**
 * test: in a fresh container of the runtime image (no compiler, no -dev package), install the
 * wheel with pip (dependencies as binaries from the upstream index) into a new venv and import
 * its top-level modules. An import that needs a library the wheel does not carry fails here.
 */
export async function testWheel(
  deps: ContainerDeps & StepDeps,
  { plan, wheel, imports, log, work }: { plan: CellPlan; wheel: CopiedFile; imports: string[]; log: BuildLog; work: string },
): Promise<void> {
  await withContainer(
    deps,
    {
      image: plan.images.runtime,
      labels: containerLabels({ buildId: plan.buildId, step: 'test' }),
      env: { ...plan.upstreamEnv, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' },
      user: plan.user,
      // The repaired wheel is already in the work volume, where the build container left it.
      work,
      limits: plan.recipe.limits,
    },
    async (container) => {
      const script = testScript(plan, wheel.name, imports);
      await runStep(deps, {
        container,
        buildId: plan.buildId,
        step: 'test',
        log,
        script,
        timeoutSeconds: stepTimeoutSeconds(deps.host.limits, plan.recipe),
      });
    },
  );
}

function testScript(plan: CellPlan, wheelName: string, imports: string[]): string {
  const python = `/opt/python/${plan.pythonDir}/bin/python`;
  const modules = imports.map(shellQuote).join(' ');
  const { requires, command } = plan.recipe.test;
  const extra = requires.map(shellQuote).join(' ');
  return `
${python} -m venv --without-pip /tmp/venv
${python} -m pip --python /tmp/venv/bin/python install --only-binary :all: /work/wheelhouse/${shellQuote(wheelName)} ${extra}
cd /tmp
/tmp/venv/bin/python - ${modules} <<'PY'
import importlib, sys
for name in sys.argv[1:]:
    module = importlib.import_module(name)
    print(f"import {name}: ok ({getattr(module, '__file__', 'namespace')})")
PY
${command ? `echo "running the recipe's test.command"\n(export PATH=/tmp/venv/bin:$PATH VIRTUAL_ENV=/tmp/venv; ${command}\n)\n` : ''}`;
}
