#!/usr/bin/env bash
# What building native libraries and toolchains from source costs, and that a second build reuses them
# (farm/bench/from-source.ts says what it prints). The one command:
#
#   scripts/bench-from-source.sh [NAME...] [--python 3.13] [--cold] [--cold-toolchains]
#
# Default recipes: lxml shapely pygit2 numpy. --cold removes their library images first (their build
# times are then measured); --cold-toolchains GCC's too (about 50 minutes on 2 cores).
# Exit status: 0; 1 a build failed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" --quiet
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
cd "$ROOT"
exec node --disable-warning=ExperimentalWarning farm/bench/from-source.ts "$@"
