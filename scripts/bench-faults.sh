#!/usr/bin/env bash
# Fault injection: kill the farm in the middle of a build or of publishing, restart a cell's Docker
# engine under it, leave dead runs' containers behind, make its S3 index fail while it publishes, fill
# up its index's disk; after each trial, check that nothing was lost or corrupted (the index as
# installers see it, pip download, the records), that a run a lasting fault stopped failed as
# documented, and that no container or volume of a dead farm process is left. Prints one row per fault;
# a trial whose fault did not land where it was aimed (a kill after the run had ended or in another
# phase, an index fault no publish request met, a full disk no write met) is counted as missed, apart
# from lost and ok: it proves nothing about its fault.
#
#   scripts/bench-faults.sh [--trials N] [--faults kill-build,kill-publish,engine-restart,leftovers,index-down,disk-full] [--keep]
#
# Defaults: 50 kill-build + 50 kill-publish trials (a few seconds each: one warm home, a fresh index
# per trial), 3 engine-restart (a second dockerd of its own, state in /tmp/wheelfarm-bench-faults-engine,
# kept so its images are copied once; WHEELFARM_BENCH_ENGINE_DIR moves it), 3 leftovers, 6 index-down
# (a moto S3 server started for the bench on a free port, installed into .tools/moto on first use,
# stopped on exit; its variants in turn: 503, 500s, a hang, the endpoint down for good at three
# moments; 12-25 s each), 6 disk-full (tmpfs disks mounted in the bench's temp dir, always
# unmounted; files/, manifests, simple/ full in turn; 12-25 s each). --trials N runs N of each
# fault. Needs root for the second engine and the mounts. About 20 minutes on 2 cores.
# Exit status: 0 nothing lost, corrupted or orphaned (missed trials allowed); 1 otherwise; 2 bad option.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup.sh" --quiet
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
cd "$ROOT"
exec node --disable-warning=ExperimentalWarning farm/bench/faults.ts "$@"
