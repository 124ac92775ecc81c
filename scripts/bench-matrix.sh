#!/usr/bin/env bash
# What a matrix build of real C-extension packages costs on this machine (lxml, psycopg2, pyyaml,
# markupsafe x Pythons 3.11 and 3.13 = 8 cells, every compile cold), in three figures:
#   cpu           the PEP 517 build's CPU seconds (requires + build steps) / (wall x cores) of a cold
#                 matrix build with N slots (target >= 0.85; below it, once more with N+1 slots), and the
#                 machine's /proc/stat busy share;
#   cache         for each --cache-packages (default lxml, brotli): the build step cold against a rebuild
#                 after a no-op recipe change and against a new Python built after another (warm ccache
#                 volume; target >= 2x);
#   cibuildwheel  the same cells built by cibuildwheel in the same images from the same sdists, wall
#                 time against the farm's.
#
#   scripts/bench-matrix.sh [--part cpu|cache|cibuildwheel|all] [--slots N] [--packages a,b,c]
#                           [--cache-packages a,b] [--keep]
#
# Defaults: all parts, 3 slots. About 40 minutes on 2 idle cores. Empties the farm's ccache volume
# (wheelfarm-cache-ccache) before each cold build; at exit removes its temporary directory (--keep
# keeps it, with the cibuildwheel logs) and any container it left; never removes an image.
# Exit status: 0; 1 when a part could not run (a missed target is a result, not an error); 2 bad option.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" --quiet
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
cd "$ROOT"
exec node --disable-warning=ExperimentalWarning farm/bench/matrix-build.ts "$@"
