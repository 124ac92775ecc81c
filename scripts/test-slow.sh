#!/usr/bin/env bash
# The slow suite: real builds of big shipped recipes and what they build from source: GCC 14 (about
# 50 minutes on 2 cores, once per base image), numpy on it, lxml, shapely and pygit2 on libraries
# built from source (test/slow/).
# Not part of CI's run (it does not fit its time limit); run it by hand:  scripts/test-slow.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WHEELFARM_SLOW=1
exec bash "$ROOT/scripts/test.sh" --project slow "$@"
