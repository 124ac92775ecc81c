#!/usr/bin/env bash
# Starts a throw-away PostgreSQL server for the build-records tests (PostgresBuildRecords).
#
#   scripts/start-postgres.sh [start]        initdb if needed, start (or reuse) the server, create the user
#                                           and database `wheelfarm`, print its URL as the last line
#   scripts/start-postgres.sh createdb NAME  create an empty database NAME owned by `wheelfarm`, print its URL
#   scripts/start-postgres.sh psql ARGS...   psql as the superuser, through the unix socket (e.g. `psql -d NAME -c SQL`)
#   scripts/start-postgres.sh stop           stop the server this script started (the data stays)
#
# Environment:
#   PGPORT_TEST          port to listen on (default 55432), on 127.0.0.1 only
#   PG_TEST_STATE_DIR    data directory, unix socket, log and password live here (default
#                        .tools/postgres/run); give each concurrent server its own directory
#   PG_TEST_USER         the system user the server runs as when started by root (default `postgres`
#                        when it exists, else `nobody`): postgres refuses to run as root
#
# Built for speed, not durability (fsync off): never point it at data you want to keep.
# The superuser `postgres` may connect only through the unix socket in the state directory;
# TCP connections need a password (scram-sha-256), so a wrong one is refused as on a real server.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE_DIR="${PG_TEST_STATE_DIR:-$ROOT/.tools/postgres/run}"
PORT="${PGPORT_TEST:-55432}"
DATA="$STATE_DIR/data"
LOG_FILE="$STATE_DIR/postgres.log"
PORT_FILE="$STATE_DIR/postgres.port"
PASSWORD_FILE="$STATE_DIR/password"
DB_USER=wheelfarm

log() { printf '%s\n' "$*" >&2; }

# The directory holding initdb, pg_ctl and postgres: PATH first (often symlinks into the versioned
# directory, which initdb needs to find its siblings), else the newest /usr/lib/postgresql/N/bin.
find_bin() {
  local found
  if found="$(command -v initdb 2>/dev/null)"; then
    found="$(dirname "$(readlink -f "$found")")"
    if [[ -x "$found/pg_ctl" && -x "$found/postgres" ]]; then echo "$found"; return 0; fi
  fi
  found="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$found" && -x "$found/initdb" ]]; then echo "$found"; return 0; fi
  return 1
}

install() {
  if BIN="$(find_bin)"; then return 0; fi
  if [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null; then
    log "no PostgreSQL binaries found; installing the postgresql package"
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql >&2
    BIN="$(find_bin)" && return 0
  fi
  log "no PostgreSQL binaries (initdb, pg_ctl, postgres) found on PATH or under /usr/lib/postgresql/*/bin; install PostgreSQL"
  exit 1
}

# Runs a command as the server's user: itself, or an unprivileged user when we are root.
as_server_user() {
  if [[ "$(id -u)" != 0 ]]; then "$@"; return; fi
  setpriv --reuid="$RUN_USER" --regid="$(id -g "$RUN_USER")" --clear-groups -- env HOME="$STATE_DIR" "$@"
}

pick_user() {
  if [[ "$(id -u)" != 0 ]]; then RUN_USER="$(id -un)"; return; fi
  RUN_USER="${PG_TEST_USER:-}"
  if [[ -z "$RUN_USER" ]]; then
    if id postgres >/dev/null 2>&1; then RUN_USER=postgres; else RUN_USER=nobody; fi
  fi
  id "$RUN_USER" >/dev/null 2>&1 || { log "PG_TEST_USER: no such user \`$RUN_USER\`"; exit 1; }
}

psql_admin() { # database, psql arguments...
  local database="$1"
  shift
  "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$STATE_DIR" -p "$(cat "$PORT_FILE")" -U postgres -d "$database" "$@"
}

# A process that exists and is not a zombie (an init that reaps slowly leaves those behind a while).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  [[ "$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]]
}

# The postmaster's pid when it runs (first line of postmaster.pid).
running_pid() {
  [[ -f "$DATA/postmaster.pid" ]] || return 1
  local pid
  pid="$(head -n 1 "$DATA/postmaster.pid")"
  [[ -n "$pid" ]] && alive "$pid" || return 1
  echo "$pid"
}

url() { # database
  echo "postgres://$DB_USER:$(cat "$PASSWORD_FILE")@127.0.0.1:$(cat "$PORT_FILE")/$1"
}

start() {
  install
  pick_user
  mkdir -p "$STATE_DIR"
  # The unix socket path (sun_path) holds at most 107 bytes.
  if (( ${#STATE_DIR} > 80 )); then
    log "the state directory path is too long for a unix socket ($STATE_DIR); set PG_TEST_STATE_DIR to a shorter one"
    exit 1
  fi
  if [[ "$(id -u)" == 0 ]]; then
    chown "$RUN_USER:" "$STATE_DIR"
    chmod 700 "$STATE_DIR"
    if ! as_server_user test -w "$STATE_DIR"; then
      log "user \`$RUN_USER\` cannot reach $STATE_DIR (a parent directory is closed to it); set PG_TEST_STATE_DIR to a directory under /tmp"
      exit 1
    fi
  fi
  if running_pid >/dev/null; then
    url "$DB_USER"
    return 0
  fi
  if [[ ! -f "$DATA/PG_VERSION" ]]; then
    rm -rf "$DATA"
    if [[ ! -f "$PASSWORD_FILE" ]]; then
      (umask 077; od -An -N12 -tx1 /dev/urandom | tr -d ' \n' >"$PASSWORD_FILE")
    fi
    as_server_user "$BIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 \
      --no-sync --no-instructions >"$STATE_DIR/initdb.log" 2>&1 || { log "initdb failed; its log ($STATE_DIR/initdb.log):"; cat "$STATE_DIR/initdb.log" >&2; exit 1; }
  fi
  echo "$PORT" >"$PORT_FILE"
  # pg_ctl -w returns once the server accepts connections; setsid keeps it out of the caller's process group.
  if ! as_server_user setsid "$BIN/pg_ctl" -D "$DATA" -l "$LOG_FILE" -w -t 30 -s \
    -o "-h 127.0.0.1 -p $PORT -k $STATE_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >&2 </dev/null; then
    log "postgres did not start on port $PORT; its log ($LOG_FILE):"
    cat "$LOG_FILE" >&2 || true
    exit 1
  fi
  psql_admin postgres >/dev/null <<EOF
SELECT 'CREATE ROLE $DB_USER LOGIN CREATEDB' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_USER') \gexec
ALTER ROLE $DB_USER PASSWORD '$(cat "$PASSWORD_FILE")';
SELECT 'CREATE DATABASE $DB_USER OWNER $DB_USER' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_USER') \gexec
EOF
  url "$DB_USER"
}

createdb() { # name
  local name="${1:-}"
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "createdb: expected a database name of lower-case letters, digits and _"; exit 2; }
  BIN="$(find_bin)" || { log "no PostgreSQL binaries found"; exit 1; }
  running_pid >/dev/null || { log "no server runs from $STATE_DIR; start it first"; exit 1; }
  psql_admin postgres -c "CREATE DATABASE $name OWNER $DB_USER TEMPLATE template0" >/dev/null
  url "$name"
}

admin_psql() { # psql arguments...
  BIN="$(find_bin)" || { log "no PostgreSQL binaries found"; exit 1; }
  running_pid >/dev/null || { log "no server runs from $STATE_DIR; start it first"; exit 1; }
  psql_admin postgres "$@"
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    kill -INT "$pid" # fast shutdown: disconnect clients, roll back, stop
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.05; done
    if alive "$pid"; then
      kill -QUIT "$pid" 2>/dev/null || true # immediate shutdown
      for _ in $(seq 1 40); do alive "$pid" || break; sleep 0.05; done
    fi
  fi
  rm -f "$PORT_FILE"
}

case "${1:-start}" in
  start) start ;;
  createdb) createdb "${2:-}" ;;
  psql) shift; admin_psql "$@" ;;
  stop) stop ;;
  *) log "usage: $0 [start|createdb NAME|psql ARGS...|stop]"; exit 2 ;;
esac
