#!/usr/bin/env bash
# The slow suite: real builds of big shipped recipes (numpy: about 10 minutes per Python on 2 cores).
# Not part of CI's run (it does not fit its time limit); run it by hand:  scripts/test-slow.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WHEELFARM_SLOW=1
exec bash "$ROOT/scripts/test.sh" --project slow "$@"
