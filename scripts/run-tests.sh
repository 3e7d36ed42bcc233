#!/usr/bin/env bash
# Runs every test suite of redis-clone (what `make test` and CI run) and ends with one line
# "tests: N passed, M failed" that counts the test cases of all suites. Exits non-zero if any suite fails.
#   unit          Catch2 tests of the decoder, encoder, store and commands (meson test)
#   e2e           pytest: the real binary on a free port, driven by raw sockets, redis-py, redis-cli,
#                 and the differential corpus against Debian's redis-server
#   test-client   go-redis v9 against the real binary
#   docker        the container image built with podman and checked end to end
#   sanitizers    unit and end-to-end tests under ASan+UBSan and TSan, and each libFuzzer target for a
#                 bounded time (FUZZ_SECONDS, default 60) after replaying the corpus and saved regressions
# Select suites with SUITES="unit e2e" (default: all).
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
BINARY=$(pwd)/$BUILD_DIR/redis-clone
SUITES=${SUITES:-unit e2e test-client docker sanitizers}
LOGS=$(mktemp -d /tmp/redis-clone-tests.XXXXXX)
passed=0
failed=0
failed_suites=()

# count SUITE PASSED FAILED: adds a suite's test-case counts to the totals.
count() { passed=$((passed + $2)); failed=$((failed + $3)); echo "== $1: $2 passed, $3 failed"; }

run_suite() {
  local name=$1; shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$LOGS/$name.log"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || failed_suites+=("$name")
  return "$rc"
}

for suite in $SUITES; do
  case "$suite" in
    unit)
      run_suite unit "$BUILD_DIR/tests/unit/unit-tests"
      rc=$?
      line=$(grep -E '^test cases:|^All tests passed' "$LOGS/unit.log" | tail -n 1)
      p=$(sed -nE 's/.*All tests passed \([0-9]+ assertions? in ([0-9]+) test cases?\).*/\1/p; s/^test cases: *[0-9]+ \| *([0-9]+) passed.*/\1/p' <<<"$line")
      f=$(sed -nE 's/^test cases:.*\| *([0-9]+) failed.*/\1/p' <<<"$line")
      count unit "${p:-0}" "${f:-$([ $rc = 0 ] && echo 0 || echo 1)}"
      ;;
    e2e)
      REDIS_CLONE_BIN=$BINARY run_suite e2e python3 -m pytest -q -p no:cacheprovider tests/e2e
      rc=$?
      line=$(grep -E '[0-9]+ (passed|failed)' "$LOGS/e2e.log" | tail -n 1)
      p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+')
      f=$(( $(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0) + $(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || echo 0) ))
      [ $rc = 0 ] || [ "$f" -gt 0 ] || f=1
      count e2e "${p:-0}" "$f"
      ;;
    test-client)
      run_suite test-client scripts/test-client/run.sh "$BINARY"
      rc=$?
      line=$(grep -E '^test-client: [0-9]+ passed' "$LOGS/test-client.log" | tail -n 1)
      p=$(sed -nE 's/^test-client: ([0-9]+) passed.*/\1/p' <<<"$line")
      f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
      [ $rc = 0 ] || [ "${f:-0}" -gt 0 ] || f=1
      count test-client "${p:-0}" "${f:-0}"
      ;;
    docker)
      scripts/install-deps.sh docker
      run_suite docker scripts/docker.sh test
      rc=$?
      p=$(grep -c '^PASS' "$LOGS/docker.log")
      f=$(grep -c '^FAIL' "$LOGS/docker.log")
      [ $rc = 0 ] || [ "$f" -gt 0 ] || f=1
      count docker "$p" "$f"
      ;;
    sanitizers)
      run_suite sanitizers scripts/sanitizers.sh
      rc=$?
      line=$(grep -E '^sanitizers: [0-9]+ passed' "$LOGS/sanitizers.log" | tail -n 1)
      p=$(sed -nE 's/^sanitizers: ([0-9]+) passed.*/\1/p' <<<"$line")
      f=$(sed -nE 's/.* ([0-9]+) failed.*/\1/p' <<<"$line")
      [ $rc = 0 ] || [ "${f:-0}" -gt 0 ] || f=1
      count sanitizers "${p:-0}" "${f:-0}"
      ;;
    *) echo "unknown suite '$suite'" >&2; exit 2 ;;
  esac
done

rm -rf "$LOGS"
echo
if [ ${#failed_suites[@]} -gt 0 ]; then echo "failed suites: ${failed_suites[*]}"; fi
echo "tests: $passed passed, $failed failed"
[ ${#failed_suites[@]} -eq 0 ] && [ "$failed" -eq 0 ]
