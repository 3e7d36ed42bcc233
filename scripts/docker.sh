#!/usr/bin/env bash
# Builds and checks redis-clone's container image (docker/Dockerfile).
#
#   scripts/docker.sh build   make the debian:bookworm and debian:bookworm-slim base images locally when they
#                             are not in the image store yet (mmdebstrap + import), then build redis-clone:latest
#   scripts/docker.sh test    build, then run the image on free loopback ports and check it end to end with
#                             redis-cli; prints PASS/FAIL lines and exits non-zero on any failure
#   scripts/docker.sh base    only the base images
#
# Engine: docker when a Docker engine answers `docker info`, else podman (CONTAINER_ENGINE=podman|docker
# chooses). podman always gets the project's docker/containers.conf through CONTAINERS_CONF.
# Base images come from Debian's packages, not from a registry: mmdebstrap builds bookworm from the Debian
# mirror that this machine's apt uses (DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR override it).
# Environment: IMAGE (redis-clone:latest), REBUILD_BASE=1 (make the base images again), READY_TIMEOUT
# (seconds for a container to answer PING, 60), STOP_LIMIT (seconds a stop on SIGTERM may take, 5),
# TEST_NETWORK (podman's network for the test containers, slirp4netns).
# Needs: podman runc mmdebstrap uidmap slirp4netns fuse-overlayfs redis-tools (scripts/install-deps.sh docker).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

IMAGE=${IMAGE:-redis-clone:latest}
SUITE=bookworm
BASE_IMAGES=("debian:$SUITE" "debian:$SUITE-slim")
READY_TIMEOUT=${READY_TIMEOUT:-60}
STOP_LIMIT=${STOP_LIMIT:-5}
STOP_TIMEOUT=10 # podman's and docker's default: SIGKILL after this many seconds without an exit
CMD_TIMEOUT=${CMD_TIMEOUT:-60} # bound on each engine call of the checks (run, exec, inspect, stop)
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800} # bound on each mmdebstrap and on the image build

log() { printf '[docker.sh %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() {
  printf 'docker.sh: error: %s\n' "$*" >&2
  # Under `test`, a failed preparation is a failed check too, with the same closing line.
  if [ "${TESTING:-0}" = 1 ]; then echo "FAIL: $*"; echo "docker-test: ${PASSED:-0} passed, $((${FAILED:-0} + 1)) failed"; fi
  exit 1
}
now_ms() { date +%s%3N; }
secs_since() { local ms=$(($(now_ms) - $1)); printf '%d.%01d' $((ms / 1000)) $((ms % 1000 / 100)); }

pick_engine() {
  if [ -n "${CONTAINER_ENGINE:-}" ]; then
    ENGINE=$CONTAINER_ENGINE
  elif command -v docker >/dev/null 2>&1 && timeout 20 docker info >/dev/null 2>&1; then
    ENGINE=docker
  elif command -v podman >/dev/null 2>&1; then
    ENGINE=podman
  else
    die "no Docker engine answers and podman is not installed: run scripts/install-deps.sh docker"
  fi
  command -v "$ENGINE" >/dev/null 2>&1 || die "$ENGINE is not installed"
  if [ "$ENGINE" = podman ]; then
    # podman's default ulimits and crun fail on these machines; never edit /etc for it.
    export CONTAINERS_CONF="$ROOT/docker/containers.conf"
  fi
  log "container engine: $ENGINE"
}

# ---------------------------------------------------------------------------------------------- base images

# Prints "URI SUITE" for every enabled deb entry of the machine's apt sources, one-line and deb822 style.
apt_source_entries() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" {
      i = 2; if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }   # skip [ options ]
      if (i < NF) print $i, $(i + 1)
    }' "$f"
  done
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk '
      function flush(  n, m, i, j, u, s) {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && enabled != "no") {
          n = split(uris, u, " "); m = split(suites, s, " ")
          for (i = 1; i <= n; i++) for (j = 1; j <= m; j++) print u[i], s[j]
        }
        types = uris = suites = enabled = last = ""
      }
      /^#/ { next }
      /^[ \t]*$/ { flush(); next }
      /^[ \t]/ { if (last == "uris") uris = uris " " $0; else if (last == "suites") suites = suites " " $0; next }
      {
        key = tolower($1); sub(/:.*$/, "", key); val = $0; sub(/^[^:]*:[ \t]*/, "", val); last = ""
        if (key == "types") types = val
        else if (key == "uris") { uris = val; last = "uris" }
        else if (key == "suites") { suites = val; last = "suites" }
        else if (key == "enabled") enabled = tolower(val)
      }
      END { flush() }' "$f"
  done
}

find_mirrors() {
  MIRROR=${DEBIAN_MIRROR:-}
  SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-}
  local uri suite
  while read -r uri suite; do
    case "$uri" in http://* | https://*) ;; *) continue ;; esac
    case "$suite" in
      *-security) [ -n "$SECURITY_MIRROR" ] || SECURITY_MIRROR=$uri ;;
      *-* | */*) ;;
      *) [ -n "$MIRROR" ] || MIRROR=$uri ;;
    esac
  done < <(apt_source_entries)
  [ -n "$MIRROR" ] || die "found no Debian mirror in /etc/apt/sources.list{,.d}: set DEBIAN_MIRROR"
}

# mmdebstrap's tarball -> an image in the engine's store; the name has no registry part.
debootstrap_image() { # name, then mmdebstrap options
  local name=$1 tar t0
  shift
  tar="$WORKDIR/${name//[:\/]/_}.tar"
  t0=$(now_ms)
  local sources=("deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main")
  [ -n "$SECURITY_MIRROR" ] && sources+=("deb $SECURITY_MIRROR $SUITE-security main")
  local hooks=()
  # Merged /usr without the usrmerge package (which would pull perl into the image).
  [ -d /usr/share/mmdebstrap/hooks/merged-usr ] && hooks=(--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr)
  log "mmdebstrap --variant=minbase $SUITE for $name"
  if ! timeout "$BUILD_TIMEOUT" mmdebstrap --variant=minbase --quiet "${hooks[@]}" "$@" \
    "$SUITE" "$tar" "${sources[@]}" >"$tar.log" 2>&1; then
    tail -n 40 "$tar.log" >&2
    die "mmdebstrap failed for $name"
  fi
  if ! "$ENGINE" import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' "$tar" "$name" >"$tar.log" 2>&1; then
    cat "$tar.log" >&2
    die "$ENGINE import failed for $name"
  fi
  rm -f "$tar" "$tar.log"
  log "base image $name ready in $(secs_since "$t0") s"
}

cmd_base() {
  local missing=() name
  for name in "${BASE_IMAGES[@]}"; do
    if [ "${REBUILD_BASE:-0}" = 1 ] || ! "$ENGINE" image inspect "$name" >/dev/null 2>&1; then
      missing+=("$name")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "base images ${BASE_IMAGES[*]} already in the $ENGINE store (REBUILD_BASE=1 makes them again)"
    return
  fi
  command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is not installed: run scripts/install-deps.sh docker"
  find_mirrors
  log "Debian mirror: $MIRROR, security: ${SECURITY_MIRROR:-none found, left out}"
  WORKDIR=$(mktemp -d "${TMPDIR:-/tmp}/redis-clone-base.XXXXXX")
  trap 'rm -rf "$WORKDIR"' EXIT
  for name in "${missing[@]}"; do
    case "$name" in
      *-slim)
        # As Debian's own slim images: dpkg leaves out documentation, manuals and translations, also for
        # whatever the Dockerfile installs later (the options stay in /etc/dpkg/dpkg.cfg.d).
        debootstrap_image "$name" \
          --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
          --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
          --dpkgopt='path-exclude=/usr/share/groff/*' --dpkgopt='path-exclude=/usr/share/lintian/*' \
          --dpkgopt='path-exclude=/usr/share/linda/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
          --dpkgopt='path-include=/usr/share/locale/locale.alias' ;;
      *) debootstrap_image "$name" ;;
    esac
  done
  rm -rf "$WORKDIR"
  trap - EXIT
}

# -------------------------------------------------------------------------------------------------- build

cmd_build() {
  local t0
  t0=$(now_ms)
  cmd_base
  log "base images took $(secs_since "$t0") s"
  t0=$(now_ms)
  if [ "$ENGINE" = podman ]; then
    timeout "$BUILD_TIMEOUT" podman build --pull=never -f docker/Dockerfile -t "$IMAGE" . \
      || die "podman build failed"
  else
    timeout "$BUILD_TIMEOUT" docker build -f docker/Dockerfile -t "$IMAGE" . || die "docker build failed"
  fi
  log "image $IMAGE built in $(secs_since "$t0") s, size $("$ENGINE" image inspect -f '{{.Size}}' "$IMAGE" \
    | awk '{ printf "%.1f MB", $1 / 1e6 }')"
}

# --------------------------------------------------------------------------------------------------- test

PASSED=0
FAILED=0
CONTAINERS=()
pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }
expect() { # what, wanted, got
  if [ "$3" = "$2" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}
engine() { timeout "$CMD_TIMEOUT" "$ENGINE" "$@"; }

cli() { # port, redis-cli arguments; never fails, an error shows in the output
  local port=$1 out rc=0
  shift
  out=$(timeout 5 redis-cli -h 127.0.0.1 -p "$port" "$@" 2>&1) || rc=$?
  [ $rc -eq 0 ] || out="$out [redis-cli exit $rc]"
  printf '%s' "$out"
}

port_in_use() {
  if command -v ss >/dev/null 2>&1 && [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; then return 0; fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

free_port() { # a port below Linux's ephemeral range that nothing listens on; bounded tries
  local p
  for _ in $(seq 1 100); do
    p=$((20000 + RANDOM % 12000))
    port_in_use "$p" || { echo "$p"; return 0; }
  done
  return 1
}

cleanup() {
  local rc=$? name
  for name in "${CONTAINERS[@]}"; do
    if timeout 30 "$ENGINE" container inspect "$name" >/dev/null 2>&1; then
      timeout 30 "$ENGINE" kill "$name" >/dev/null 2>&1 || true
      timeout 60 "$ENGINE" rm -f "$name" >/dev/null 2>&1 || echo "docker.sh: could not remove container $name" >&2
    fi
  done
  exit "$rc"
}

show_logs() { # name
  echo "---- last lines of $1's output ----"
  engine logs --tail 30 "$1" 2>&1 || true
  echo "----"
}

# Starts a container from $IMAGE publishing 127.0.0.1:<free port> to the container port; sets PORT.
start_container() { # name, container port, extra arguments for the server
  local name=$1 cport=$2 out
  shift 2
  local net=()
  [ "$ENGINE" = podman ] && net=(--network "${TEST_NETWORK:-slirp4netns}")
  for _ in 1 2 3; do
    PORT=$(free_port) || { fail "$name: found no free loopback port"; return 1; }
    CONTAINERS+=("$name")
    if out=$(engine run -d --name "$name" "${net[@]}" -p "127.0.0.1:$PORT:$cport" "$IMAGE" "$@" 2>&1); then
      log "started $name: 127.0.0.1:$PORT -> $cport, arguments: ${*:-(image default)}"
      return 0
    fi
    engine rm -f "$name" >/dev/null 2>&1 || true
    case "$out" in *"address already in use"*) continue ;; esac
    break
  done
  fail "$name: $ENGINE run failed: $out"
  return 1
}

wait_for_pong() { # name, port; bounded by READY_TIMEOUT seconds and a count of tries
  local name=$1 port=$2 t0 deadline tries=0 reply running
  t0=$(now_ms)
  deadline=$((t0 + READY_TIMEOUT * 1000))
  while [ $tries -lt $((READY_TIMEOUT * 10)) ] && [ "$(now_ms)" -lt "$deadline" ]; do
    tries=$((tries + 1))
    reply=$(timeout 2 redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)
    if [ "$reply" = PONG ]; then
      pass "$name answers PING with PONG on 127.0.0.1:$port after $(secs_since "$t0") s"
      return 0
    fi
    case "$reply" in
      DENIED* | NOAUTH* | ERR* | WRONGPASS*) # an answer that waiting will not change
        fail "$name answers PING on 127.0.0.1:$port with: ${reply:0:200}"
        show_logs "$name"
        return 1 ;;
    esac
    running=$(engine container inspect -f '{{.State.Running}}' "$name" 2>/dev/null || echo unknown)
    if [ "$running" != true ]; then
      fail "$name exited before answering PING (running: $running)"
      show_logs "$name"
      return 1
    fi
    sleep 0.2
  done
  fail "$name did not answer PING on 127.0.0.1:$port within ${READY_TIMEOUT} s ($tries tries)"
  show_logs "$name"
  return 1
}

check_set_get() { # name, port
  local key="docker-test:$1:$$" value="hello from $1"
  expect "$1: SET $key" OK "$(cli "$2" set "$key" "$value")"
  expect "$1: GET $key returns the value set" "$value" "$(cli "$2" get "$key")"
}

check_stop() { # name: SIGTERM must end the server quickly and with exit code 0
  local name=$1 t0 ms out code
  t0=$(now_ms)
  if ! out=$(engine stop -t "$STOP_TIMEOUT" "$name" 2>&1); then
    fail "$name: $ENGINE stop failed: $out"
    return
  fi
  ms=$(($(now_ms) - t0))
  if [ $ms -le $((STOP_LIMIT * 1000)) ]; then
    pass "$name stopped on SIGTERM in $ms ms (limit ${STOP_LIMIT} s; the engine kills after ${STOP_TIMEOUT} s)"
  else
    fail "$name took $ms ms to stop (limit ${STOP_LIMIT} s): SIGTERM was not handled"
  fi
  code=$(engine container inspect -f '{{.State.ExitCode}}' "$name" 2>&1 || true)
  expect "$name exit code after SIGTERM is 0" 0 "$code"
  [ "$code" = 0 ] || show_logs "$name"
}

# With the image's defaults (Redis's save points, /data as the working directory and a volume) SIGTERM
# saves dump.rdb, and the same container started again loads it. Run after check_stop; restarts it.
check_restart_keeps_data() { # name, port it was published on
  local name=$1 port=$2 key="docker-test:$1:$$" out
  if ! out=$(engine start "$name" 2>&1); then
    fail "$name: $ENGINE start after the stop failed: $out"
    return
  fi
  wait_for_pong "$name" "$port" || return
  expect "$name: after a stop and start, GET $key still returns the value set" "hello from $name" \
    "$(cli "$port" get "$key")"
  expect "$name: the snapshot is in /data" "/data" "$(cli "$port" config get dir | tail -n 1)"
  check_stop "$name"
}

cmd_test() {
  local t_all name1="redis-clone-test-$$" name2="redis-clone-test-$$-3000" user status uids pid1
  t_all=$(now_ms)
  TESTING=1
  command -v redis-cli >/dev/null 2>&1 || die "redis-cli is not installed: run scripts/install-deps.sh"
  cmd_build
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  echo "== end-to-end checks of $IMAGE =="

  user=$(engine image inspect -f '{{.Config.User}}' "$IMAGE" 2>&1 || true)
  case "$user" in
    "" | root | 0 | root:* | 0:*) fail "image $IMAGE runs as root (User: '${user}')" ;;
    *) pass "image $IMAGE is configured to run as user '$user'" ;;
  esac

  local ready=()
  if start_container "$name1" 5001 && wait_for_pong "$name1" "$PORT"; then
    local port1=$PORT
    ready+=("$name1")
    # PID 1 must be the server itself (no shell in between, so SIGTERM reaches it) and must not be root.
    status=$(engine exec "$name1" cat /proc/1/status 2>&1 || true)
    pid1=$(awk '/^Name:/ { print $2 }' <<<"$status")
    expect "$name1: PID 1 is the server itself" redis-clone "$pid1"
    uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' <<<"$status")
    case " $uids " in
      "  " | *" 0 "*) fail "$name1: the server runs as root or unknown (Uid: '$uids')" ;;
      *) pass "$name1: the server runs as a non-root user (uid ${uids%% *})" ;;
    esac
    expect "$name1: PING" PONG "$(cli "$port1" ping)"
    check_set_get "$name1" "$port1"
    expect "$name1: GET of a missing key gives nil" "(nil)" \
      "$(cli "$port1" --no-raw get "docker-test:missing:$$")"
  fi

  if start_container "$name2" 3000 --listenAddr :3000 && wait_for_pong "$name2" "$PORT"; then
    ready+=("$name2")
    check_set_get "$name2" "$PORT"
  fi

  for name in "${ready[@]}"; do
    if [ "$(engine container inspect -f '{{.State.Running}}' "$name" 2>/dev/null)" = true ]; then
      check_stop "$name"
    else
      fail "$name stopped running during the checks"
      show_logs "$name"
    fi
  done
  [ -n "${port1:-}" ] && check_restart_keeps_data "$name1" "$port1"

  echo "== $IMAGE: $(engine image inspect -f '{{.Size}}' "$IMAGE" | awk '{ printf "%.1f MB", $1 / 1e6 }'), \
checks took $(secs_since "$t_all") s in all with the build =="
  echo "docker-test: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
}

case "${1:-}" in
  base) pick_engine; cmd_base ;;
  build) pick_engine; cmd_build ;;
  test) pick_engine; cmd_test ;;
  *) echo "usage: $0 build|test|base" >&2; exit 2 ;;
esac
