#!/usr/bin/env bash
# What `wheelfarm build -r` costs for a real application's closure: farm/bench/fixtures/closure-requirements.txt
# (54 distributions for CPython 3.13: 52 pure wheels mirrored, markupsafe and pyyaml built), through the
# real CLI, real containers and the real upstream index. The one command:
#
#   scripts/bench-closure.sh [-r FILE] [--python 3.13] [--runs 3] [--keep]
#
# first   a fresh home and a fresh directory index: wall time, resolution (command start to the `closure`
#         event), mirroring (the `closure` event to the last `mirror` event, the sum of per-file seconds,
#         files and bytes copied), the native cells built beside it, peak RSS;
# second  the same command again, --runs times (default 3), everything already in the index: wall time,
#         resolution, planned and reported after resolution (the `closure` event to the `summary` line,
#         target < 2 s), peak RSS; and the medians.
# Peak RSS is the VmHWM of the farm's node process (./wheelfarm execs node), polled from /proc.
# Also where the resolution's time goes (start-up, upstream pages, the resolver's container, classification).
# Prints the tables with the command line used and the commit measured. About 2 minutes on 2 cores with the
# images built (the first run builds missing ones, up to about 8 minutes more). Its temporary home and index
# (and each run's events) are removed at exit unless --keep or a check failed; images, the ccache volume
# and the repository's .wheelfarm are left alone.
# Exit status: 0; 1 a run failed, the closure has fewer than 50 distributions, a second run published
# anything (a cell or a mirrored file) or resolved another closure, or the farm's code changed during the
# runs; 2 bad option. A missed target is a result, not an error.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" --quiet
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
cd "$ROOT"
exec node --disable-warning=ExperimentalWarning farm/bench/closure.ts "$@"
