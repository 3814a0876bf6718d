#!/usr/bin/env bash
# Runs every test suite of libmsgobj: unit, protocol, fault matrix, Python,
# integration against real servers (each test starts its own on 127.0.0.1),
# the install check; then, unless MSGOBJ_QUICK=1, the suites again under
# valgrind and in an ASan/UBSan build; then checks the formatting of the C
# sources. This is what CI runs (.ci/run). Ends with "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."

build-aux/install-deps.sh || exit 1

passed=0
failed=0
failed_steps=()

# Adds the counts of a meson test run's summary (read from its output).
count_meson () {
  local log=$1 ok fail
  ok=$(grep -E '^Ok: ' "$log" | tail -1 | awk '{print $2}')
  fail=$(grep -E '^(Fail|Unexpected Pass|Timeout|Skipped): ' "$log" | awk '{s += $NF} END {print s + 0}')
  passed=$((passed + ${ok:-0}))
  failed=$((failed + fail))
}

step () {
  local name=$1
  shift
  local log
  log=$(mktemp)
  echo "==> $name"
  if "$@" 2>&1 | tee "$log"; then
    :
  else
    failed_steps+=("$name")
  fi
  if grep -qE '^Ok: ' "$log"; then
    count_meson "$log"
  fi
  rm -f "$log"
}

setup () {
  local dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@"
  else
    meson setup "$dir" "$@"
  fi && ninja -C "$dir"
}

features=(-Dintrospection=enabled -Dpython_tests=enabled -Dintegration_tests=enabled)

step "build" setup _build-ci "${features[@]}"
# Every suite; a skipped test counts as a failure (no suite may pass by
# not running).
step "tests" meson test -C _build-ci --print-errorlogs --num-processes 2

if [ "${MSGOBJ_QUICK:-0}" != 1 ]; then
  step "valgrind" meson test -C _build-ci --setup valgrind --print-errorlogs --num-processes 2
  step "asan build" setup _build-asan -Db_sanitize=address,undefined -Db_lundef=false \
    -Dintrospection=disabled -Dpython_tests=disabled -Dintegration_tests=disabled
  # Memory errors and undefined behaviour here; leaks are valgrind's job
  # (LeakSanitizer crashes at exit once glib-networking is loaded).
  step "asan" env ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    meson test -C _build-asan --print-errorlogs --num-processes 2 --no-suite install
fi

format_check () {
  local bad=0 f
  for f in $(git ls-files '*.c'); do
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
      echo "not formatted by .clang-format: $f"
      bad=1
    fi
  done
  return $bad
}
step "format" format_check

if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
  failed=$((failed + ${#failed_steps[@]}))
fi
echo "${passed} passed, ${failed} failed"
[ ${#failed_steps[@]} -eq 0 ] && [ "$failed" -eq 0 ]
