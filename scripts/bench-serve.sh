#!/usr/bin/env bash
# Throughput and latency of `wheelfarm serve` for one project page, measured with wrk:
# 50 connections, 2 threads, 20 s each, once asking for HTML and once for PEP 691 JSON.
#
#   scripts/bench-serve.sh [--duration SECONDS] [--connections N] [--threads N]
#
# It publishes a few real wheels (one project, several versions) into a temporary index with
# LocalDirPublisher, starts `./wheelfarm serve --index <tmp> --port <free>` in the background, waits
# until it answers, runs wrk --latency for each Accept header, prints requests/s and p50/p99, and
# stops the server. wrk comes from Debian's `wrk` package (installed here when running as root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration=20 connections=50 threads=2 versions=8
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "bench-serve: installing wrk (apt-get install wrk)" >&2
    apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >&2
  else
    echo "bench-serve: wrk is not installed; install it (Debian/Ubuntu: sudo apt-get install wrk) and run this again" >&2
    exit 3
  fi
fi

bash "$ROOT/scripts/setup.sh" --quiet --no-docker
# shellcheck disable=SC1091
source "$ROOT/.tools/env"
cd "$ROOT"

work=$(mktemp -d "${TMPDIR:-/tmp}/wheelfarm-bench-serve-XXXXXX")
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# ---- an index with one project of several versions --------------------------------------------
index="$work/index" project=benchpkg
node --disable-warning=ExperimentalWarning --input-type=module -e "
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalDirPublisher } from '$ROOT/farm/src/index/local-dir-publisher.ts';
import { makePureWheel } from '$ROOT/test/fixtures/wheels/make-zip.ts';
const [work, root, name, count] = process.argv.slice(1);
const publisher = new LocalDirPublisher({ root });
for (let i = 0; i < Number(count); i++) {
  const built = makePureWheel(mkdtempSync(join(work, 'build-')), { name, version: '1.' + i, requiresPython: '>=3.9' });
  const sha256 = createHash('sha256').update(readFileSync(built.path)).digest('hex');
  await publisher.publish({ path: built.path, filename: built.filename, sha256, project: name });
}
" "$work" "$index" "$project" "$versions"

# ---- the server ---------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
if ./wheelfarm --help 2>/dev/null | grep -Eq "^  serve( |$)"; then
  how="./wheelfarm serve --index $index --port $port"
  ./wheelfarm serve --index "$index" --port "$port" >"$work/serve.log" 2>&1 &
else
  # `serve` not registered in main.ts yet: the same server, started directly.
  how="createIndexServer (serve command not registered in this checkout)"
  node --disable-warning=ExperimentalWarning --input-type=module -e "
import { createIndexServer } from '$ROOT/farm/src/index/serve/create-index-server.ts';
const server = createIndexServer({ root: process.argv[1] });
server.listen(Number(process.argv[2]), '127.0.0.1');
process.on('SIGTERM', () => { server.close(() => process.exit(0)); server.closeAllConnections(); });
" "$index" "$port" >"$work/serve.log" 2>&1 &
fi
server_pid=$!
for _ in $(seq 1 150); do
  curl -fsS -o /dev/null "$base/simple/" 2>/dev/null && break
  kill -0 "$server_pid" 2>/dev/null || { echo "bench-serve: the server exited:" >&2; cat "$work/serve.log" >&2; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null "$base/simple/" || { echo "bench-serve: the server does not answer at $base" >&2; cat "$work/serve.log" >&2; exit 1; }

page="$base/simple/$project/"
html_bytes=$(curl -fsS -H 'Accept: text/html' "$page" | wc -c)
echo "server:  $how"
echo "machine: $(nproc) CPU(s), $(node --version), wrk $(wrk --version 2>&1 | head -1 | awk '{print $2}')"
echo "page:    $page ($versions wheels, HTML $html_bytes bytes)"
echo "load:    wrk -t$threads -c$connections -d${duration}s --latency"
echo

bench() {
  local label=$1 accept=$2 out
  out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -H "Accept: $accept" "$page")
  local rps p50 p99 non2xx errors
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' <<<"$out")
  errors=$(awk '/Socket errors:/ {sub(/^ *Socket errors: */, ""); print}' <<<"$out")
  printf '%-5s %-40s %10s req/s   p50 %8s   p99 %8s%s%s\n' "$label" "($accept)" "$rps" "$p50" "$p99" \
    "${non2xx:+   non-2xx $non2xx}" "${errors:+   socket errors: $errors}"
}

bench HTML 'text/html'
if [[ $(curl -s -o /dev/null -w '%{http_code}' -H 'Accept: application/vnd.pypi.simple.v1+json' "$page") == 200 ]]; then
  bench JSON 'application/vnd.pypi.simple.v1+json'
else
  echo "JSON  skipped: the index has no simple/$project/index.json (the publisher does not write PEP 691 pages yet)"
fi
