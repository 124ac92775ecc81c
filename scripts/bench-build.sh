#!/usr/bin/env bash
# The farm's own overhead: a warm `wheelfarm build` of one cell against the same build done by hand
# (docker run + python -m build + auditwheel repair) on the same build image and the same cached sdist.
#
#   scripts/bench-build.sh [--cold] [--runs N] [PACKAGE==VERSION] [PYTHON]
#
# --cold first removes the farm's images and times `wheelfarm images build` from nothing (about 10 min).
# Defaults: markupsafe==3.0.3, Python 3.13, 3 runs. Prints one line per run and the medians.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cold=0 runs=3
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --cold) cold=1; shift ;;
    --runs) runs=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
spec=${1:-markupsafe==3.0.3}
python=${2:-3.13}
tag="cp${python/./}"
bash "$ROOT/scripts/setup.sh" --quiet
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
cd "$ROOT"
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.1f", m}'; }

if [[ $cold == 1 ]]; then
  docker images --filter label=wheelfarm=1 -q | sort -u | xargs -r docker rmi -f >/dev/null
  start=$(now); ./wheelfarm images build >/dev/null; end=$(now)
  printf 'cold image build (base + build + runtime): %.0f s\n' "$(awk "BEGIN{print $end - $start}")"
fi

./wheelfarm images build >/dev/null
build_image=$(./wheelfarm images list --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s.trim().split("\n").pop()).images.find(i=>i.kind==="build"&&i.current);console.log(r.tag)})')
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
index_url=$(python3 -c "from pip._internal.models.index import PyPI; print(PyPI.simple_url)")
if pip config list 2>/dev/null | grep -q 'index-url'; then index_url=$(pip config list | sed -n "s/.*index-url='\(.*\)'/\1/p" | head -1); fi

farm_times=() hand_times=()
for i in $(seq 1 "$runs"); do
  index=$(mktemp -d)
  start=$(now)
  ./wheelfarm build "$spec" --python "$python" --index "$index" --json >"$index.jsonl"
  end=$(now)
  farm=$(awk "BEGIN{print $end - $start}")
  steps=$(node -e 'const l=require("fs").readFileSync(process.argv[1],"utf8").trim().split("\n").map(JSON.parse);console.log(l.filter(e=>e.type==="step"&&e.status==="done").map(e=>`${e.step} ${e.seconds}s`).join(", "))' "$index.jsonl")
  sdist=$(find .wheelfarm/cache/sdists -name "$(echo "${spec%%==*}" | tr _ -)-${spec##*==}.tar.gz" -o -name "$(echo "${spec%%==*}" | tr - _)-${spec##*==}.tar.gz" | head -1)
  start=$(now)
  docker run --rm -v "$ROOT/$sdist:/in/sdist.tar.gz:ro" -v "$ca:/tmp/ca.crt:ro" \
    -e PIP_CERT=/tmp/ca.crt -e SSL_CERT_FILE=/tmp/ca.crt -e PIP_INDEX_URL="$index_url" "$build_image" bash -ec "
      mkdir /work/src && tar -xzf /in/sdist.tar.gz -C /work/src --strip-components=1 && cd /work/src
      /opt/python/$tag-$tag/bin/python -m build --wheel --outdir /work/dist . >/dev/null
      auditwheel repair --plat \$AUDITWHEEL_PLAT -w /work/wheelhouse /work/dist/*.whl >/dev/null
      ls /work/wheelhouse" >/dev/null 2>&1
  end=$(now)
  hand=$(awk "BEGIN{print $end - $start}")
  printf 'run %d: farm %.1f s (%s; includes the runtime-image test and publish) | by hand %.1f s (build + repair only)\n' "$i" "$farm" "$steps" "$hand"
  farm_times+=("$farm") hand_times+=("$hand")
  rm -rf "$index" "$index.jsonl"
done
printf 'median: farm %s s, by hand %s s\n' "$(printf '%s\n' "${farm_times[@]}" | median)" "$(printf '%s\n' "${hand_times[@]}" | median)"
