#!/usr/bin/env bash
# Sanitizer builds and fuzzing of redis-clone; ends with one line "sanitizers: N passed, M failed" (N, M count
# checks) and exits non-zero if any check fails.
#
#   scripts/sanitizers.sh                 everything (what `make test` runs); see the timings below
#     asan   build-asan (clang -O0, ASan+UBSan, no UBSan recovery): the Catch2 unit tests, then the e2e
#            pytest suite against the ASan server
#     tsan   build-tsan (clang -O0, TSan): the unit tests tagged [concurrency] (all of them while none is),
#            then the e2e files where many clients run at once (TSAN_E2E) against the TSan server
#     fuzz   build-fuzz (clang -O2, libFuzzer+ASan+UBSan): replay the seed corpus and tests/fuzz/regressions/,
#            then fuzz each target FUZZ_SECONDS (default 60; 0: replay only) from a temporary copy of the corpus
#   scripts/sanitizers.sh asan|tsan|fuzz  only that part; `fuzz` defaults to FUZZ_SECONDS=600 (`make fuzz`)
#   scripts/sanitizers.sh fuzz --merge    also merge the inputs that found new coverage into tests/fuzz/corpus
#
# A check fails on sanitizer evidence: a report, a crashed or hung test process, a server that died or did
# not exit 0 on SIGTERM. Tests that merely fail their assertions are noted; the plain suites report them.
# Environment: FUZZ_SECONDS (per target), FUZZ_TARGETS (default "decoder dispatcher"), JOBS (ninja -j,
# default 2), SANITIZER_CXX (compiler of build-asan and build-tsan: clang++, else g++), TSAN_E2E, KEEP_LOGS=1.
# A crash leaves its input in build-fuzz/artifacts/; minimize it (see tests/fuzz/README.md) and save it
# in tests/fuzz/regressions/<target>/ so that every later run replays it.
# Timings on the shared 2-core development machine: from scratch 8.5 min (the three builds 4.5 min, ASan
# e2e 1 min, TSan e2e 1 min, fuzzing 2 x 1 min); with the builds up to date about 4 min.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MODE=all
MERGE=0
for arg in "$@"; do
  case "$arg" in
    all|asan|tsan|fuzz) MODE=$arg ;;
    --merge) MERGE=1 ;;
    -h|--help) sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sanitizers.sh: unknown argument '$arg' (all|asan|tsan|fuzz [--merge])" >&2; exit 2 ;;
  esac
done
if [ "$MERGE" = 1 ] && [ "$MODE" != fuzz ]; then
  echo "sanitizers.sh: --merge goes with 'fuzz'" >&2
  exit 2
fi
if [ "$MODE" = fuzz ]; then FUZZ_SECONDS=${FUZZ_SECONDS:-600}; else FUZZ_SECONDS=${FUZZ_SECONDS:-60}; fi
case "$FUZZ_SECONDS" in ''|*[!0-9]*) echo "sanitizers.sh: FUZZ_SECONDS must be a number" >&2; exit 2 ;; esac
FUZZ_TARGETS=${FUZZ_TARGETS:-decoder dispatcher}
JOBS=${JOBS:-2}
# clang by default: it compiles these builds about twice as fast as g++, and its ASan sees more (clang's
# value-initialization zeroes whole objects with one instrumented memset, g++ stores member by member).
if [ -z "${SANITIZER_CXX:-}" ]; then
  if command -v clang++ >/dev/null 2>&1; then SANITIZER_CXX=clang++; else SANITIZER_CXX=g++; fi
fi
FUZZ_MAX_LEN=4096
# Hard ceilings on every step, so that a hang fails the step instead of stalling `make test` (SIGKILL 30 s
# after SIGTERM: a process wedged inside a sanitizer runtime may ignore SIGTERM).
BUILD_TIMEOUT=${BUILD_TIMEOUT:-1800}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}  # the unit suite takes ~10 s under either sanitizer
TEST_TIMEOUT=${TEST_TIMEOUT:-600}  # an e2e run takes 1-2 min, a corpus replay seconds

# One run at a time per checkout: two runs would build the same directories at once (bounded wait).
if command -v flock >/dev/null 2>&1; then
  exec 9>"/tmp/redis-clone-sanitizers-$(printf '%s' "$ROOT" | md5sum | cut -c1-12).lock"
  if ! flock -w 3600 9; then echo "sanitizers.sh: another run holds the lock" >&2; exit 2; fi
fi

WORK=$(mktemp -d /tmp/redis-clone-sanitizers.XXXXXX)
cleanup() { if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

passed=0
failed=0
failed_checks=()
started_at=$SECONDS

# check NAME COMMAND...: runs one check, its output in $WORK/NAME.log (shown on failure), and counts it.
check() {
  local name=$1; shift
  local log="$WORK/$name.log"
  local start=$SECONDS
  echo "== $name: $*"
  "$@" >"$log" 2>&1
  local rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" = 0 ]; then
    passed=$((passed + 1))
    echo "== $name: PASS (${took}s)"
    grep '^note: ' "$log" | sed 's/^/   | /'
  else
    failed=$((failed + 1))
    failed_checks+=("$name")
    echo "== $name: FAIL (exit $rc, ${took}s); last lines of its log:"
    tail -n 60 "$log" | sed 's/^/   | /'
  fi
  return "$rc"
}

# configure DIR COMPILER MESON_ARGS...: sets DIR up once, so a later run only rebuilds what changed; sets it
# up afresh when these arguments changed since (the stamp file records them).
configure() {
  local dir=$1 compiler=$2; shift 2
  local wanted="CXX=$compiler $*"
  if [ -f "$dir/build.ninja" ] && [ "$(cat "$dir/.sanitizers-setup" 2>/dev/null)" = "$wanted" ]; then return 0; fi
  rm -rf "$dir"
  CXX=$compiler meson setup "$dir" -Db_lundef=false "$@" || return 1
  echo "$wanted" >"$dir/.sanitizers-setup"
}

# build DIR COMPILER MESON_ARGS... -- TARGETS...
build() {
  local dir=$1 compiler=$2; shift 2
  local setup=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do setup+=("$1"); shift; done
  shift
  configure "$dir" "$compiler" "${setup[@]}" || return 1
  timeout --kill-after=30 "$BUILD_TIMEOUT" ninja -C "$dir" -j "$JOBS" "$@"
}

# ---------------------------------------------------------------------------------------------------- asan
# What fails a sanitizer check is sanitizer evidence: a report file, a test process that died without
# finishing its run (abort_on_error turns every report into SIGABRT), a server that crashed or did not exit
# 0 on SIGTERM (the e2e fixture's own messages), or a timeout. A test that only fails its assertions is
# listed but does not fail the check: the plain unit and e2e suites of run-tests.sh report those already.

# verdict RC RUN_FINISHED REPORT_PREFIX: prints the reports and returns the check's status.
verdict() {
  local rc=$1 finished=$2 prefix=$3
  local status=0
  reports "$prefix".* || status=1
  case "$rc" in
    124|137) echo "timed out"; status=1 ;;
  esac
  if [ "$finished" != yes ]; then echo "the test run did not finish (exit $rc): crashed or aborted"; status=1; fi
  if [ "$status" = 0 ] && [ "$rc" != 0 ]; then
    echo "note: some tests fail without sanitizer findings (exit $rc); the plain suites report them"
  fi
  return $status
}

# sanitizer_env PREFIX ABORT: the options of ASan and UBSan for one check, reports to PREFIX.<pid>. ABORT=1
# ends a process with SIGABRT on a report (servers); 0 with exit code 1, for the Catch2 binary, whose
# SIGABRT handler can hang when other threads are running.
sanitizer_env() {
  local asan="detect_leaks=1:abort_on_error=$2:halt_on_error=1:strict_string_checks=1"
  echo "ASAN_OPTIONS=$asan:check_initialization_order=1:strict_init_order=1:log_path=$1"
  echo "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=$2:report_error_type=1:log_path=$1"
}

asan_unit() {
  local log="$WORK/asan-unit-run.log" prefix="$WORK/asan-unit-report"
  local env_vars
  mapfile -t env_vars < <(sanitizer_env "$prefix" 0)
  env "${env_vars[@]}" timeout --kill-after=30 "$UNIT_TIMEOUT" build-asan/tests/unit/unit-tests >"$log" 2>&1
  local rc=$?
  grep -E 'FAILED|^test cases:|^All tests passed' "$log" | tail -n 20
  local finished=no
  grep -qE '^test cases:|^All tests passed' "$log" && finished=yes
  verdict "$rc" "$finished" "$prefix"
}

# e2e_under NAME BINARY PREFIX ENV... -- PYTEST_PATHS...: the e2e suite against a sanitized server (the
# ENV assignments carry the sanitizer options; a caller may set E2E_WRAPPER, a command prefix). A report
# aborts the server; the fixture fails a test whose server died by itself or did not exit 0 after SIGTERM.
E2E_WRAPPER=()
e2e_under() {
  local name=$1 binary=$2 prefix=$3; shift 3
  local env_vars=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do env_vars+=("$1"); shift; done
  shift
  local log="$WORK/$name-pytest.log"
  env "${env_vars[@]}" REDIS_CLONE_BIN="$ROOT/$binary" \
    timeout --kill-after=30 "$TEST_TIMEOUT" "${E2E_WRAPPER[@]}" python3 -m pytest -q -p no:cacheprovider "$@" \
    >"$log" 2>&1
  local rc=$?
  grep -E '^(FAILED|ERROR) ' "$log" | head -n 20
  local finished=no
  tail -n 1 "$log" | grep -qE '[0-9]+ (passed|failed)' && finished=yes
  local status=0
  verdict "$rc" "$finished" "$prefix" || status=1
  local died='exited by itself during the test|after SIGTERM \(expected 0\)|did not exit within'
  if grep -qE "$died" "$log"; then
    echo "a server under test crashed or did not exit cleanly:"
    grep -E "$died" "$log" | head -n 5
    status=1
  fi
  tail -n 1 "$log"
  return $status
}

# is_instrumented BINARY SYMBOL: the binary was really built with that sanitizer.
is_instrumented() {
  local symbols
  symbols=$(nm "$1" 2>/dev/null)
  grep -q "$2" <<<"$symbols" && return 0
  echo "$1 is not built with the sanitizer ($2 missing)"
  return 1
}

asan_e2e() {
  is_instrumented build-asan/redis-clone __asan_init || return 1
  local prefix="$WORK/asan-e2e-report"
  local env_vars
  mapfile -t env_vars < <(sanitizer_env "$prefix" 1)
  e2e_under asan-e2e build-asan/redis-clone "$prefix" "${env_vars[@]}" -- tests/e2e
}

# reports FILES...: prints the first sanitizer report files (their opening lines) and fails if there is any.
reports() {
  local count=0
  for file in "$@"; do
    [ -f "$file" ] || continue
    count=$((count + 1))
    [ $count -le 2 ] || continue
    echo "--- sanitizer report $file"
    head -n 20 "$file"
  done
  [ $count -gt 2 ] && echo "--- ... $((count - 2)) more report files"
  [ $count = 0 ]
}

run_asan() {
  # -O0 (buildtype debug): the sanitizers find as much, and Catch2's main compiles 4x faster than at -O1.
  check asan-build build build-asan "$SANITIZER_CXX" --buildtype=debug -Db_sanitize=address,undefined \
    "-Dcpp_args=-fno-sanitize-recover=all" -- redis-clone tests/unit/unit-tests || return
  check asan-unit asan_unit
  check asan-e2e asan_e2e
}

# ---------------------------------------------------------------------------------------------------- tsan
# setarch -R: TSan of gcc 12 / clang 14 cannot map its shadow memory with some kernels' ASLR settings.
NO_ASLR=()
if command -v setarch >/dev/null 2>&1 && setarch "$(uname -m)" -R true 2>/dev/null; then
  NO_ASLR=(setarch "$(uname -m)" -R)
fi

# tsan_options PREFIX ABORT (as sanitizer_env). detect_deadlocks=0: TSan's lock-order checker holds at most
# 64 locks per thread and dies on a CHECK (then hangs) when FLUSHALL/SWAPDB take every shard lock at once;
# data races are still reported.
tsan_options() { echo "halt_on_error=1:abort_on_error=$2:detect_deadlocks=0:history_size=4:log_path=$1"; }

tsan_unit() {
  local binary=build-tsan/tests/unit/unit-tests
  local filter=()
  # Only the tests that start threads, when they are tagged; the whole suite otherwise.
  local tags
  tags=$("$binary" --list-tags 2>/dev/null)
  if grep -q '\[concurrency\]' <<<"$tags"; then filter=('[concurrency]'); fi
  echo "tsan: running ${filter[*]:-every unit test}"
  local log="$WORK/tsan-unit-run.log" prefix="$WORK/tsan-unit-report"
  TSAN_OPTIONS=$(tsan_options "$prefix" 0) \
    timeout --kill-after=30 "$UNIT_TIMEOUT" "${NO_ASLR[@]}" "$binary" "${filter[@]}" >"$log" 2>&1
  local rc=$?
  grep -E 'FAILED|^test cases:|^All tests passed' "$log" | tail -n 20
  local finished=no
  grep -qE '^test cases:|^All tests passed' "$log" && finished=yes
  verdict "$rc" "$finished" "$prefix"
}

# The e2e files where many clients run at once (TSAN_E2E overrides; the whole suite if none exists).
TSAN_E2E=${TSAN_E2E:-tests/e2e/test_server.py tests/e2e/test_clients.py tests/e2e/test_isolation.py
                    tests/e2e/test_abuse.py}

tsan_e2e() {
  is_instrumented build-tsan/redis-clone __tsan_init || return 1
  local paths=()
  for path in $TSAN_E2E; do [ -e "$path" ] && paths+=("$path"); done
  [ ${#paths[@]} -gt 0 ] || paths=(tests/e2e)
  local prefix="$WORK/tsan-e2e-report"
  # The servers pytest starts inherit setarch's setting.
  local E2E_WRAPPER=("${NO_ASLR[@]}")
  e2e_under tsan-e2e build-tsan/redis-clone "$prefix" "TSAN_OPTIONS=$(tsan_options "$prefix" 1)" -- "${paths[@]}"
}

run_tsan() {
  check tsan-build build build-tsan "$SANITIZER_CXX" --buildtype=debug -Db_sanitize=thread -- \
    redis-clone tests/unit/unit-tests || return
  check tsan-unit tsan_unit
  check tsan-e2e tsan_e2e
}

# ---------------------------------------------------------------------------------------------------- fuzz
FUZZ_DIR=build-fuzz
FUZZ_UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:report_error_type=1"

# Replays the seed corpus and every saved regression input once, no mutation.
fuzz_replay() {
  local target=$1
  local inputs=("tests/fuzz/corpus/$target")
  [ -d "tests/fuzz/regressions/$target" ] && inputs+=("tests/fuzz/regressions/$target")
  mkdir -p "$FUZZ_DIR/artifacts"
  UBSAN_OPTIONS=$FUZZ_UBSAN_OPTIONS timeout --kill-after=30 "$TEST_TIMEOUT" "$FUZZ_DIR/tests/fuzz/${target}_fuzz" \
    -runs=0 -error_exitcode=1 -timeout=25 -max_len=$FUZZ_MAX_LEN \
    -artifact_prefix="$ROOT/$FUZZ_DIR/artifacts/replay-$target-" "${inputs[@]}"
}

# Fuzzes one target for FUZZ_SECONDS from a temporary copy of the corpus (the committed one is only
# written by --merge). -timeout: one input taking longer is a finding (a hang); -rss_limit_mb: so is a
# memory blow-up from a 4 KiB input.
fuzz_run() {
  local target=$1
  local corpus="$WORK/corpus-$target"
  mkdir -p "$corpus" "$FUZZ_DIR/artifacts"
  cp tests/fuzz/corpus/"$target"/* "$corpus"/
  local args=(-max_total_time="$FUZZ_SECONDS" -max_len=$FUZZ_MAX_LEN -timeout=25 -rss_limit_mb=2048
              -error_exitcode=1 -print_final_stats=1 -dict=tests/fuzz/resp.dict
              -artifact_prefix="$ROOT/$FUZZ_DIR/artifacts/$target-")
  # libFuzzer stops by itself after -max_total_time; the outer timeout only catches a wedged process.
  UBSAN_OPTIONS=$FUZZ_UBSAN_OPTIONS timeout --kill-after=30 $((FUZZ_SECONDS + 300)) \
    "$FUZZ_DIR/tests/fuzz/${target}_fuzz" "${args[@]}" "$corpus"
  local rc=$?
  if [ $rc = 0 ] && [ "$MERGE" = 1 ]; then
    echo "merging new inputs into tests/fuzz/corpus/$target"
    timeout --kill-after=30 "$TEST_TIMEOUT" "$FUZZ_DIR/tests/fuzz/${target}_fuzz" -merge=1 \
      -max_len=$FUZZ_MAX_LEN -timeout=25 "tests/fuzz/corpus/$target" "$corpus" || rc=1
  fi
  return $rc
}

# One line per target: executions, coverage, corpus size (from libFuzzer's last status line and stats).
fuzz_summary() {
  local target=$1 log="$WORK/fuzz-$target.log"
  [ -f "$log" ] || return 0
  local runs cov
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+)/\1/p' "$log" | tail -n 1)
  cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+' "$log" | tail -n 1)
  echo "fuzz $target: ${runs:-?} executions in ${FUZZ_SECONDS}s, ${cov:-no coverage line}"
  # The inputs this run saved (crash-, leak-, timeout-, oom-); older ones stay in the directory.
  find "$FUZZ_DIR/artifacts" -name "*$target-*" -newer "$WORK/fuzz-started" 2>/dev/null | sed 's/^/  finding: /'
}

run_fuzz() {
  if ! command -v clang++ >/dev/null 2>&1; then
    echo "clang++ is missing: apt-get install clang libclang-rt-14-dev llvm (scripts/install-deps.sh)"
    failed=$((failed + 1)); failed_checks+=("fuzz-build")
    return
  fi
  local targets=()
  for target in $FUZZ_TARGETS; do targets+=("tests/fuzz/${target}_fuzz"); done
  touch "$WORK/fuzz-started"
  # fuzzer-no-link: the core library gets the coverage instrumentation that guides libFuzzer.
  check fuzz-build build "$FUZZ_DIR" clang++ --buildtype=debugoptimized -Dfuzz=true \
    -Db_sanitize=address,undefined "-Dcpp_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
    -- "${targets[@]}" || return
  for target in $FUZZ_TARGETS; do
    check "fuzz-replay-$target" fuzz_replay "$target"
  done
  # -max_total_time=0 would mean "forever" to libFuzzer: FUZZ_SECONDS=0 replays only.
  [ "$FUZZ_SECONDS" -gt 0 ] || return
  for target in $FUZZ_TARGETS; do
    check "fuzz-$target" fuzz_run "$target"
  done
  for target in $FUZZ_TARGETS; do fuzz_summary "$target"; done
}

case "$MODE" in
  all) run_asan; run_tsan; run_fuzz ;;
  asan) run_asan ;;
  tsan) run_tsan ;;
  fuzz) run_fuzz ;;
esac

echo
echo "sanitizers ($MODE) took $((SECONDS - started_at))s"
if [ ${#failed_checks[@]} -gt 0 ]; then echo "failed checks: ${failed_checks[*]}"; fi
echo "sanitizers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
