#!/usr/bin/env bash
# Starts a local S3-compatible server (moto) for the S3 index tests, installing it first if needed.
#
#   scripts/start-moto.sh          install if missing, start (or reuse) the server, print its endpoint URL
#   scripts/start-moto.sh stop     stop the server this script started
#   scripts/start-moto.sh install  only install moto into .tools/moto
#
# Environment:
#   MOTO_PORT       port to listen on (default 5055), on 127.0.0.1 only
#   MOTO_STATE_DIR  where the pid, port and log files live (default .tools/moto/run); give each
#                   concurrent server its own directory
#
# Idempotent: a second start with the same state directory prints the running server's endpoint.
# pip is run with the machine's own pip configuration (index, certificates, find-links).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/moto"
STATE_DIR="${MOTO_STATE_DIR:-$VENV/run}"
PORT="${MOTO_PORT:-5055}"
PID_FILE="$STATE_DIR/moto.pid"
PORT_FILE="$STATE_DIR/moto.port"
LOG_FILE="$STATE_DIR/moto.log"

install() {
  if [ -x "$VENV/bin/moto_server" ]; then return 0; fi
  echo "installing moto[server] into $VENV" >&2
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet 'moto[server]' >&2
  [ -x "$VENV/bin/moto_server" ] || { echo "moto_server was not installed" >&2; exit 1; }
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

responds() {
  python3 - "$1" <<'EOF'
import sys, urllib.request
try:
    urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/moto-api/", timeout=1)
except Exception as error:
    # Any HTTP answer means the server is up.
    sys.exit(0 if hasattr(error, "code") else 1)
EOF
}

start() {
  install
  mkdir -p "$STATE_DIR"
  if pid="$(running_pid)"; then
    echo "http://127.0.0.1:$(cat "$PORT_FILE")"
    return 0
  fi
  # setsid: its own process group, so stopping it never touches the caller's.
  setsid "$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG_FILE" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PID_FILE"
  echo "$PORT" >"$PORT_FILE"
  for _ in $(seq 1 100); do
    if responds "$PORT"; then
      echo "http://127.0.0.1:$PORT"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "moto_server exited; its log ($LOG_FILE):" >&2
      cat "$LOG_FILE" >&2
      rm -f "$PID_FILE" "$PORT_FILE"
      exit 1
    fi
    sleep 0.1
  done
  echo "moto_server did not answer on port $PORT within 10s; log: $LOG_FILE" >&2
  kill "$pid" 2>/dev/null || true
  rm -f "$PID_FILE" "$PORT_FILE"
  exit 1
}

stop() {
  if pid="$(running_pid)"; then
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE" "$PORT_FILE"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  install) install ;;
  *) echo "usage: $0 [start|stop|install]" >&2; exit 2 ;;
esac
