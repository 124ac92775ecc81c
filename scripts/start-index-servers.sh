#!/usr/bin/env bash
# Real package index servers on loopback, for trying and testing the upload publishers.
#
#   scripts/start-index-servers.sh [start]   install if missing, start both if not running, print their URLs
#   scripts/start-index-servers.sh install   only install the venvs (what the unit tests call)
#   scripts/start-index-servers.sh status    print the URLs of the running servers
#   scripts/start-index-servers.sh stop      stop both
#
# pypiserver and devpi-server go into venvs under .tools/ (pip uses this machine's pip configuration).
# pypiserver runs with an htpasswd file for the user `wheelfarm` (password in .tools/index-servers/password),
# uploads need it, downloads do not, and it never overwrites a file. devpi-server runs from a fresh
# server directory under .tools/index-servers/devpi; its root user has no password.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
STATE="$TOOLS/index-servers"
PYPISERVER_VENV="$TOOLS/venv-pypiserver"
DEVPI_VENV="$TOOLS/venv-devpi"
USER_NAME=wheelfarm

log() { printf '%s\n' "$*" >&2; }

install_venv() { # venv, marker executable, packages...
  local venv="$1" marker="$2"
  shift 2
  if [[ -x "$venv/bin/$marker" ]]; then return 0; fi
  log "installing $* into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" >&2
}

install() {
  # Two callers at once (parallel test files) must not build one venv twice.
  exec 9>"$STATE/install.lock"
  flock 9
  install_venv "$PYPISERVER_VENV" pypi-server 'pypiserver' 'passlib'
  install_venv "$DEVPI_VENV" devpi-server 'devpi-server'
  "$PYPISERVER_VENV/bin/python" -c 'import passlib' 2>/dev/null || "$PYPISERVER_VENV/bin/python" -m pip install --quiet passlib >&2
  exec 9>&- # servers started after this must not hold the lock
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

running() { # name
  local pid_file="$STATE/$1.pid"
  [[ -f "$pid_file" ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

wait_http() { # url, name
  for _ in $(seq 1 600); do
    if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "$2 did not answer at $1 within 60 s; see $STATE/$2.log"
  return 1
}

start_pypiserver() {
  if running pypiserver; then return 0; fi
  mkdir -p "$STATE/pypiserver/packages"
  if [[ ! -f "$STATE/password" ]]; then
    python3 -c 'import secrets; print(secrets.token_hex(12))' >"$STATE/password"
  fi
  "$PYPISERVER_VENV/bin/python" - "$STATE/pypiserver/htpasswd" "$USER_NAME" "$(cat "$STATE/password")" <<'EOF'
import sys
from passlib.apache import HtpasswdFile
path, user, password = sys.argv[1:]
htpasswd = HtpasswdFile(path, new=True)
htpasswd.set_password(user, password)
htpasswd.save()
EOF
  local port
  port="$(free_port)"
  setsid "$PYPISERVER_VENV/bin/pypi-server" run --host 127.0.0.1 -p "$port" -a update -P "$STATE/pypiserver/htpasswd" --disable-fallback \
    "$STATE/pypiserver/packages" >"$STATE/pypiserver.log" 2>&1 </dev/null &
  echo $! >"$STATE/pypiserver.pid"
  echo "$port" >"$STATE/pypiserver.port"
  wait_http "http://127.0.0.1:$port/simple/" pypiserver
}

start_devpi() {
  if running devpi; then return 0; fi
  local serverdir="$STATE/devpi"
  if [[ ! -f "$serverdir/.serverversion" ]]; then
    rm -rf "$serverdir"
    "$DEVPI_VENV/bin/devpi-init" --serverdir "$serverdir" --no-root-pypi >&2
  fi
  local port
  port="$(free_port)"
  setsid "$DEVPI_VENV/bin/devpi-server" --serverdir "$serverdir" --host 127.0.0.1 --port "$port" \
    >"$STATE/devpi.log" 2>&1 </dev/null &
  echo $! >"$STATE/devpi.pid"
  echo "$port" >"$STATE/devpi.port"
  wait_http "http://127.0.0.1:$port/+api" devpi
}

status() {
  if running pypiserver; then
    echo "pypiserver: http://127.0.0.1:$(cat "$STATE/pypiserver.port")/  (upload as $USER_NAME:$(cat "$STATE/password"); pip --index-url http://127.0.0.1:$(cat "$STATE/pypiserver.port")/simple/)"
  else
    echo "pypiserver: not running"
  fi
  if running devpi; then
    echo "devpi:      http://127.0.0.1:$(cat "$STATE/devpi.port")/  (root user, empty password; indexes at /<user>/<index>/+simple/)"
  else
    echo "devpi:      not running"
  fi
}

stop_one() { # name
  local pid_file="$STATE/$1.pid"
  if running "$1"; then
    local pid
    pid="$(cat "$pid_file")"
    kill -- "-$pid" 2>/dev/null || kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "stopped $1"
  fi
  rm -f "$pid_file" "$STATE/$1.port"
}

mkdir -p "$STATE"
case "${1:-start}" in
  install) install ;;
  start) install; start_pypiserver; start_devpi; status ;;
  status) status ;;
  stop) stop_one pypiserver; stop_one devpi ;;
  *) log "usage: $0 [start|install|status|stop]"; exit 2 ;;
esac
