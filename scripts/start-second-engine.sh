#!/usr/bin/env bash
# A second Docker engine on this machine, for the tests of several hosts (test/docker/docker-hosts.test.ts).
#
#   scripts/start-second-engine.sh [start] [--dir DIR]   start it (a no-op when it runs); the last
#                                                        line of stdout is its unix:// socket URL
#   scripts/start-second-engine.sh stop [--dir DIR]      stop it and remove its bridge (idempotent)
#   scripts/start-second-engine.sh status [--dir DIR]    exit 0 and print the URL when it answers
#
# Everything it owns is its own, so that the main engine is never disturbed: the socket, data root,
# exec root (and so its own containerd), pid file, config file (an empty one, not /etc/docker's) and
# its own bridge interface with a private /24 of its own. It keeps --iptables=true, so containers on
# its bridge get NAT to the outside like the main engine's do; its rules name only its bridge and
# subnet, and `stop` deletes them. Its start flushes the main engine's rules in the shared DOCKER*
# chains: they are put back right after (see restore_main_rules).
#
# Environment: WHEELFARM_ENGINE2_DIR (state dir, default /tmp/wheelfarm-engine2; --dir wins),
# WHEELFARM_ENGINE2_BRIDGE (interface name, default wfengine2), WHEELFARM_ENGINE2_ADDRESS (the
# bridge's address and prefix, default 172.31.250.1/24). Needs root, dockerd and iproute2.
set -euo pipefail

ACTION=start
DIR="${WHEELFARM_ENGINE2_DIR:-/tmp/wheelfarm-engine2}"
while (($# > 0)); do
  case "$1" in
    start | stop | status) ACTION="$1" ;;
    --dir) DIR="${2:?--dir needs a folder}"; shift ;;
    --dir=*) DIR="${1#--dir=}" ;;
    -h | --help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) printf 'start-second-engine: unknown argument %s (expected start, stop, status, --dir DIR)\n' "$1" >&2; exit 2 ;;
  esac
  shift
done
BRIDGE="${WHEELFARM_ENGINE2_BRIDGE:-wfengine2}"
ADDRESS="${WHEELFARM_ENGINE2_ADDRESS:-172.31.250.1/24}"
# Absolute paths, short enough for unix socket names (108 bytes) under the exec root.
DIR="$(realpath -m "$DIR")"
SOCK="$DIR/docker.sock"
URL="unix://$SOCK"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
EXEC_ROOT="$DIR/exec"
DATA_ROOT="$DIR/data"

say() { printf 'start-second-engine: %s\n' "$*" >&2; }
die() { printf 'start-second-engine: error: %s\n' "$1" >&2; [[ -n "${2:-}" ]] && printf '  hint: %s\n' "$2" >&2; exit 1; }

daemon_pid() {
  local pid
  [[ -s "$PIDFILE" ]] || return 1
  pid="$(cat "$PIDFILE")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dockerd ]] || return 1
  echo "$pid"
}
# Another state dir's engine on the same bridge (prints its pid and command line).
other_engine_on_bridge() {
  local pid args
  for pid in $(pgrep -x dockerd || true); do
    args="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    if [[ " $args " == *" --bridge $BRIDGE "* && " $args " != *" --pidfile $PIDFILE "* ]]; then
      echo "$pid: $args"
      return 0
    fi
  done
  return 1
}
answers() { [[ -S "$SOCK" ]] && docker -H "$URL" info --format '{{.ID}}' >/dev/null 2>&1; }

# The rules dockerd made for our bridge (FORWARD, isolation, DOCKER RETURN, MASQUERADE of our subnet):
# dockerd leaves them when it stops, and they would point at an interface that no longer exists.
delete_bridge_rules() {
  local table line subnet
  subnet="$(subnet_of "$ADDRESS")"
  for table in nat filter; do
    { iptables-save -t "$table" 2>/dev/null || true; } | { grep -E -- "^-A .*(-[io] $BRIDGE( |\$)|-s $subnet )" || true; } | while read -r line; do
      read -ra rule <<<"$line"
      rule[0]=-D
      iptables -t "$table" "${rule[@]}" 2>/dev/null || true
    done
  done
}

# dockerd, starting with --iptables=true, flushes the shared DOCKER and DOCKER-ISOLATION-STAGE-1/2
# chains and refills them with its own bridge's rules only: the main engine's rules there (its
# published ports, the isolation of docker0) would be gone. So they are saved before the start and
# the missing ones put back once the second engine answers. (Its FORWARD and MASQUERADE rules live
# in the built-in chains, which are not flushed.)
docker_chain_rules() {
  local table
  for table in nat filter; do
    { iptables-save -t "$table" 2>/dev/null || true; } \
      | { grep -E -- '^-A (DOCKER|DOCKER-ISOLATION-STAGE-1|DOCKER-ISOLATION-STAGE-2|DOCKER-USER) ' || true; } \
      | sed "s/^/$table /"
  done
}
restore_main_rules() {
  local now table line restored=0
  now="$(docker_chain_rules)"
  # Each goes in first in its chain (before the chain's final RETURN); in reverse, so they keep their order.
  while read -r table line; do
    [[ -n "$line" ]] || continue
    grep -qxF -- "$table $line" <<<"$now" && continue
    read -ra rule <<<"$line"
    iptables -t "$table" -I "${rule[1]}" 1 "${rule[@]:2}" && restored=$((restored + 1))
  done < <(tac "$DIR/main-engine-rules")
  ((restored == 0)) || say "put back $restored rule(s) of the main engine that the second one's start flushed"
}

# 172.31.250.1/24 -> 172.31.250.0/24 (only the /8, /16 and /24 cases the default and sane choices need).
subnet_of() {
  local ip="${1%/*}" bits="${1#*/}" a b c d
  IFS=. read -r a b c d <<<"$ip"
  case "$bits" in
    8) echo "$a.0.0.0/8" ;;
    16) echo "$a.$b.0.0/16" ;;
    24) echo "$a.$b.$c.0/24" ;;
    *) die "WHEELFARM_ENGINE2_ADDRESS must be ADDRESS/24 (or /16, /8), got $1" ;;
  esac
}

stop_engine() {
  local pid containerd_pid
  containerd_pid="$(cat "$EXEC_ROOT/containerd/containerd.pid" 2>/dev/null || true)"
  if pid="$(daemon_pid)"; then
    # Containers first, so that none outlives its engine's network.
    if answers; then
      ids="$(docker -H "$URL" ps -aq 2>/dev/null || true)"
      [[ -z "$ids" ]] || docker -H "$URL" rm -f $ids >/dev/null 2>&1 || true
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    if kill -0 "$pid" 2>/dev/null; then
      say "dockerd ($pid) did not stop in 30 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
    fi
  fi
  # Its containerd stops with it; only a killed dockerd leaves it behind.
  if [[ "$containerd_pid" =~ ^[0-9]+$ ]] && kill -0 "$containerd_pid" 2>/dev/null \
    && [[ "$(cat "/proc/$containerd_pid/comm" 2>/dev/null)" == containerd ]]; then
    kill -TERM "$containerd_pid" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$containerd_pid" 2>/dev/null || break; sleep 0.5; done
  fi
  # Containers a killed engine left running: their shims speak to its containerd's socket. Killing a
  # container's first process (the shim's child) ends the container.
  local shim child
  for shim in $(pgrep -f -- "-address $EXEC_ROOT/containerd/containerd\.sock( |\$)" || true); do
    for child in $(pgrep -P "$shim" || true); do kill -KILL "$child" 2>/dev/null || true; done
    kill -TERM "$shim" 2>/dev/null || true
  done
  # Mounts a killed engine may leave (overlays, netns), deepest first.
  { grep -F " $DIR/" /proc/self/mounts || true; } | awk '{print $2}' | sort -r | while read -r mount; do umount -l "$mount" 2>/dev/null || true; done
  local other
  if other="$(other_engine_on_bridge)"; then
    say "the bridge $BRIDGE stays: another engine uses it ($other)"
  else
    delete_bridge_rules
    if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE" type bridge; fi
  fi
  rm -f "$PIDFILE" "$SOCK"
}

case "$ACTION" in
  stop)
    stop_engine
    if [[ -d "$DIR" ]]; then say "stopped (state kept in $DIR)"; else say "not running"; fi
    exit 0
    ;;
  status)
    daemon_pid >/dev/null && answers || exit 1
    echo "$URL"
    exit 0
    ;;
esac

# ---- start ----------------------------------------------------------------------------------------
[[ $(id -u) == 0 ]] || die "starting a second dockerd needs root." "run it as root (the tests do, on the CI machine)"
command -v dockerd >/dev/null || die "dockerd is not installed." "run scripts/setup.sh, which installs Debian's Docker engine package"
command -v ip >/dev/null || die "the ip command (iproute2) is missing." "apt-get install iproute2"
command -v iptables >/dev/null || die "iptables is missing; the engine needs it for NAT." "apt-get install iptables"
command -v docker >/dev/null || die "the docker CLI is missing (used to see that the engine answers)." "source .tools/env"

if daemon_pid >/dev/null && answers; then
  echo "$URL"
  exit 0
fi
# Another state dir's engine on the same bridge: starting would take the bridge from under it.
if other="$(other_engine_on_bridge)"; then
  die "another dockerd already uses the bridge $BRIDGE (pid $other)" \
    "stop it (this script's stop, with that engine's --dir), or give this one WHEELFARM_ENGINE2_BRIDGE and WHEELFARM_ENGINE2_ADDRESS of its own"
fi
# A dead or half-started engine from before: clean up after it.
stop_engine

SUBNET="$(subnet_of "$ADDRESS")"
# The subnet must be free: no other interface's route inside or around it (the default route aside).
taken="$( { ip -4 route show root "$SUBNET"; ip -4 route show match "$SUBNET"; } | grep -v '^default' | grep -v " dev $BRIDGE " || true)"
[[ -z "$taken" ]] || die "the subnet $SUBNET of the second engine's bridge is in use on this machine: $taken" \
  "set WHEELFARM_ENGINE2_ADDRESS to a free private /24, e.g. 172.31.251.1/24"

ip link add name "$BRIDGE" type bridge
ip addr add "$ADDRESS" dev "$BRIDGE"
ip link set "$BRIDGE" up

mkdir -p "$DIR" "$DATA_ROOT" "$EXEC_ROOT"
echo '{}' >"$DIR/daemon.json"
docker_chain_rules >"$DIR/main-engine-rules"
say "starting dockerd on $URL (bridge $BRIDGE $ADDRESS, log: $LOG)"
# setsid: the engine outlives the shell (and the test process group) that started it; `stop` ends it.
setsid dockerd \
  --host "$URL" \
  --data-root "$DATA_ROOT" \
  --exec-root "$EXEC_ROOT" \
  --pidfile "$PIDFILE" \
  --config-file "$DIR/daemon.json" \
  --bridge "$BRIDGE" \
  --iptables=true \
  --ip-masq=true \
  >"$LOG" 2>&1 </dev/null &
started=$!

for _ in $(seq 1 120); do
  answers && break
  kill -0 "$started" 2>/dev/null || break
  sleep 0.5
done
if ! answers; then
  tail -n 20 "$LOG" >&2 || true
  kill -TERM "$started" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$started" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$started" 2>/dev/null || true
  stop_engine
  restore_main_rules
  die "the second dockerd did not answer on $URL within 60 s (its log's end is above)." "read $LOG"
fi
restore_main_rules
echo "$URL"
