#!/usr/bin/env bash
# Installs what building and testing redis-clone needs on Debian bookworm. Idempotent: every step first
# checks whether its part is already there, so `make build` can call it each time at almost no cost.
#
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh docker     also what `make docker-build` needs (podman, runc, mmdebstrap)
#   scripts/install-deps.sh bench      also what `make bench` needs (matplotlib for the scaling plot, perf and
#                                      strace for the system call counts of `scripts/bench.sh --hot-path`)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PACKAGES=(g++ meson ninja-build pkg-config libfmt-dev libspdlog-dev catch2)
TEST_PACKAGES=(redis-server redis-tools python3 python3-pip procps util-linux)
# Sanitizer builds and libFuzzer (scripts/sanitizers.sh, run by `make test`).
SANITIZER_PACKAGES=(clang libclang-rt-14-dev llvm)
DOCKER_PACKAGES=(podman runc mmdebstrap uidmap slirp4netns fuse-overlayfs)
# scripts/bench.sh --hot-path counts the server's system calls with perf (or strace where perf cannot attach).
BENCH_PACKAGES=(linux-perf strace)

want=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}" "${SANITIZER_PACKAGES[@]}")
[ "${1:-}" = docker ] && want+=("${DOCKER_PACKAGES[@]}")
[ "${1:-}" = bench ] && want+=("${BENCH_PACKAGES[@]}")

missing=()
for pkg in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  # redis-server's package would start a system-wide server on 6379; tests start their own.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Python tools for the end-to-end tests (redis-py, pytest), pinned in tests/e2e/requirements.txt.
PY=${PYTHON:-python3}
if ! "$PY" -c 'import redis, pytest' 2>/dev/null; then
  echo "install-deps: installing Python test tools"
  "$PY" -m pip install -q --disable-pip-version-check -r tests/e2e/requirements.txt \
    || "$PY" -m pip install -q --disable-pip-version-check --break-system-packages -r tests/e2e/requirements.txt
fi

if [ "${1:-}" = bench ] && ! "$PY" -c 'import matplotlib' 2>/dev/null; then
  echo "install-deps: installing matplotlib for the benchmark plot"
  "$PY" -m pip install -q --disable-pip-version-check matplotlib \
    || "$PY" -m pip install -q --disable-pip-version-check --break-system-packages matplotlib
fi

# The Go test client's modules (go-redis v9), as go.sum pins them.
if command -v go >/dev/null 2>&1 && [ -f scripts/test-client/go.mod ]; then
  (cd scripts/test-client && go mod download)
fi
