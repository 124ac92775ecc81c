#!/usr/bin/env bash
# Time of `wheelfarm matrix plan` when nothing is to be done: 50 recipes x 5 versions x the build
# image's 2 Pythons (500 cells), every wheel in a directory index and a build record for each,
# against a local PEP 691 upstream. The target is under 2 s for the whole command.
#   scripts/bench-plan.sh [RECIPES] [VERSIONS] [RUNS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" --quiet --no-docker
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
cd "$ROOT"
exec node --disable-warning=ExperimentalWarning farm/bench/plan-matrix.ts "${1:-50}" "${2:-5}" "${3:-5}"
