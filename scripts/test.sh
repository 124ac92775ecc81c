#!/usr/bin/env bash
# The README's test command, and what .ci/run runs: set-up (Node, pnpm, dependencies, Docker
# engine), type check, format and lint check, then every test: the pure unit tests and the real-Docker tests (which
# build the images first if they are missing). Extra arguments go to vitest, e.g.
#   scripts/test.sh --project unit
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh"
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
cd "$ROOT"
echo "== type check" >&2
pnpm exec tsc -p farm --noEmit
echo "== format and lint (biome; fix with: pnpm exec biome check --write)" >&2
pnpm exec biome ci --reporter=summary .
echo "== tests" >&2
exec pnpm exec vitest run "$@"
