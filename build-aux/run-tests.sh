#!/usr/bin/env bash
# Runs every test suite of libmsgobj: unit, protocol, fault matrix, Python,
# integration against real servers (each test starts its own on 127.0.0.1),
# the install check; then, unless MSGOBJ_QUICK=1, the suites again under
# valgrind and in an ASan/UBSan build (LeakSanitizer on, Python too); then
# checks the formatting of the C sources. Builds with -Dwerror=true. This is what CI runs (.ci/run).
#
# Installs nothing and needs no root: it fails at once, naming them, when
# packages are missing (build-aux/install-deps.sh installs them).
#
# Ends with "N passed, N failed": N counts meson tests (one test program
# or pytest run each), and a test counts as failed unless meson says it
# passed and none of its subtests was skipped (no suite may pass by not
# running); a step that fails outside any test (a build, the format
# check) counts one failure.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

build-aux/install-deps.sh --check || exit 1

passed=0
failed=0
failed_steps=()
failed_tests=()

# Counts the tests of a meson run from its JSON log: OK (or an expected
# failure) without a skipped subtest (TAP "# SKIP", pytest "SKIPPED") is
# a pass; everything else (FAIL, ERROR, TIMEOUT, SKIP, UNEXPECTEDPASS, or
# a skipped subtest) a failure. Prints "PASSED FAILED", then the failed
# tests one a line.
count_json () {
  /usr/bin/python3 - "$1" <<'EOF'
import json, re, sys

skip = re.compile(r'^ok \d+\b.*#\s*SKIP|\sSKIPPED(\s|$)', re.M)
passed, bad = 0, []
with open(sys.argv[1]) as log:
    for line in log:
        test = json.loads(line)
        result = test['result']
        if result in ('OK', 'EXPECTEDFAIL') and skip.search(test.get('stdout') or ''):
            result = 'a subtest SKIPPED'
        if result in ('OK', 'EXPECTEDFAIL'):
            passed += 1
        else:
            bad.append('%s (%s)' % (test['name'], result))
print(passed, len(bad))
for name in bad:
    print(name)
EOF
}

# Why each failed test of a meson JSON log failed, briefly: CI shows only
# the end of the output, and a test's own log is far above it (or gone
# with the machine). Appended to $digest, printed before the summary.
digest=$(mktemp)
trap 'rm -f "$digest"' EXIT
explain_json () {
  /usr/bin/python3 - "$1" "$2" >>"$digest" <<'EOF'
import json, re, sys

mark = re.compile(r'^(not ok|Bail out)|ERROR:|CRITICAL|assertion|Invalid (read|write|free)|uninitialised'
                  r'|definitely lost in|Process terminating|AddressSanitizer|LeakSanitizer|runtime error|Traceback|\bFAILED\b')
noise = re.compile(r'GLib-DEBUG|^==\d+== *$|^--\d+-- WARNING: unhandled')

def excerpt(text, keep):
    lines = [l for l in (text or '').splitlines() if not noise.search(l)]
    hits = [i for i, l in enumerate(lines) if mark.search(l)]
    if not hits:
        return lines[-8:]
    start, end = max(0, hits[0] - 3), hits[0] + keep
    tail = max(end, len(lines) - 8)
    return lines[start:end] + (['...'] if tail > end else []) + lines[tail:]

with open(sys.argv[2]) as log:
    for line in log:
        test = json.loads(line)
        if test['result'] in ('OK', 'EXPECTEDFAIL'):
            continue
        print('---- %s: %s (%s, %.0f s)' % (sys.argv[1], test['name'], test['result'], test.get('duration') or 0))
        for l in excerpt(test.get('stdout'), 12):
            print('  out| ' + l[:300])
        for l in excerpt(test.get('stderr'), 30):
            print('  err| ' + l[:300])
EOF
}

step () {
  local name=$1
  shift
  echo "==> $name"
  if ! "$@"; then
    failed_steps+=("$name")
  fi
}

# A meson test run in build directory $1, named $2 (its logs are
# meson-logs/$2.*, or $2-SETUP.* with --setup), counted from its JSON log.
meson_step () {
  local dir=$1 name=$2 json f counts status=0 bad
  shift 2
  rm -f "$dir/meson-logs/$name".json "$dir/meson-logs/$name"-*.json
  echo "==> $name"
  "$@" --logbase "$name" || status=$?
  json=
  for f in "$dir/meson-logs/$name".json "$dir/meson-logs/$name"-*.json; do
    [ -s "$f" ] && json=$f
  done
  if [ -z "$json" ]; then
    echo "$name: no test log in $dir/meson-logs"
    failed_steps+=("$name")
    return
  fi
  counts=$(count_json "$json")
  bad=$(head -1 <<<"$counts" | cut -d' ' -f2)
  passed=$((passed + $(head -1 <<<"$counts" | cut -d' ' -f1)))
  failed=$((failed + bad))
  # meson failed, yet no test did: count the run itself.
  if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
    failed_steps+=("$name")
  fi
  while IFS= read -r t; do
    [ -n "$t" ] && failed_tests+=("$name: $t")
  done < <(tail -n +2 <<<"$counts")
  [ "$bad" -eq 0 ] || explain_json "$name" "$json"
}

# The Python suite against the ASan build's library, counted as one test
# like the other Python runs. The ASan build makes no typelib (the
# scanner's dump program would have to run instrumented): the plain
# build's describes the same library, and GI loads the library by its
# soname, found through LD_LIBRARY_PATH. /usr/bin/python3 is not
# instrumented, so the runtime is preloaded; PYTHONMALLOC=malloc lets ASan
# see Python's own buffers and LeakSanitizer trace through Python objects
# (with pymalloc's arenas, which it does not scan, CPython alone "leaks"
# about 100 KB at exit); tests/python/lsan.supp names what PyGObject keeps.
# $@: env and the sanitizer settings.
# The Python suite against the ASan library, the runtime preloaded. Not
# test_crypto.py: the gpg it starts inherits the preload, and gpg-agent
# then never comes up (the call hangs); the C crypto suite runs in the
# ASan pass, and the Python one in the plain pass.
python_asan () {
  local b=_build-asan status=0 out json=_build-asan/meson-logs/asan-python.json counts
  out=$("$@" LD_PRELOAD="$(gcc -print-file-name=libasan.so)" PYTHONMALLOC=malloc \
    LSAN_OPTIONS=suppressions="$PWD/tests/python/lsan.supp" \
    GI_TYPELIB_PATH=_build-ci/bindings LD_LIBRARY_PATH=$b/libmsgobj \
    MSGOBJ_TRANSPORT_PATH=$b/transports/smtp:$b/transports/nntp MSGOBJ_TEST_TOOL=$b/tools/msgobj \
    MSGOBJ_TEST_DKIM_VERIFY=$b/tests/dkim-verify \
    PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$PWD/tests:$PWD/bindings/python" \
    timeout 1800 /usr/bin/python3 -m pytest -v -p no:cacheprovider tests/python 2>&1) || status=$?
  printf '%s\n' "$out" | tail -n 40
  /usr/bin/python3 -c 'import json, sys; print(json.dumps({"name": "python", "stdout": sys.stdin.read(),
      "result": "OK" if sys.argv[1] == "0" else "FAIL"}))' "$status" <<<"$out" >"$json"
  counts=$(count_json "$json")
  passed=$((passed + $(head -1 <<<"$counts" | cut -d' ' -f1)))
  failed=$((failed + $(head -1 <<<"$counts" | cut -d' ' -f2)))
  [ "$status" -eq 0 ] || failed_tests+=("asan-python: python (exit status $status)")
  [ "$status" -eq 0 ] || explain_json asan-python "$json"
  return 0
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

features=(-Dwerror=true -Dintrospection=enabled -Dpython_tests=enabled -Dintegration_tests=enabled)

step "build" setup _build-ci "${features[@]}"
meson_step _build-ci tests meson test -C _build-ci --print-errorlogs --num-processes 2

if [ "${MSGOBJ_QUICK:-0}" != 1 ]; then
  # The valgrind setup (meson.build) sets MSGOBJ_TEST_TIME_SCALE=8.
  meson_step _build-ci valgrind meson test -C _build-ci --setup valgrind --print-errorlogs --num-processes 2
  step "asan build" setup _build-asan -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
    -Dintrospection=disabled -Dpython_tests=disabled -Dintegration_tests=disabled
  # Memory errors, undefined behaviour and leaks. As under valgrind, not
  # the no-valgrind suite: checks of the tree and of programs built
  # outside meson (the install check, the doc examples, which would link
  # the instrumented library without the ASan runtime).
  # LeakSanitizer: intercept_tls_get_addr=0 works around a bug of GCC 12's
  # runtime that crashes it at exit ("Tracer caught signal 11") once GnuTLS
  # is loaded (docs/design.md, decision 17); fast_unwind_on_malloc=0 because
  # Debian's GLib has no frame pointers, and tests/lsan.supp must see who
  # called g_malloc(); malloc_context_size=10 keeps that unwinding cheap
  # enough (a TLS handshake still takes about 4 times as long).
  # MSGOBJ_TEST_TIME_SCALE=8, as under valgrind: with that unwinding on
  # every malloc, loading the system's trust store alone takes over 1 s.
  asan=(env "ASAN_OPTIONS=detect_leaks=1:intercept_tls_get_addr=0:fast_unwind_on_malloc=0:malloc_context_size=10"
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 MSGOBJ_TEST_TIME_SCALE=8)
  meson_step _build-asan asan "${asan[@]}" \
    meson test -C _build-asan --print-errorlogs --num-processes 2 --timeout-multiplier 3 --no-suite no-valgrind
  step "asan python" python_asan "${asan[@]}"
fi

format_check () {
  local bad=0 f
  # Every source and every header but the public ones, which are aligned
  # by hand (docs/design.md, "How the sources are written").
  for f in $(git ls-files '*.c' '*.h'); do
    case "$f" in
      libmsgobj/*-private.h) ;;
      libmsgobj/*.h) continue ;;
    esac
    if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then
      echo "not formatted by .clang-format: $f"
      bad=1
    fi
  done
  return $bad
}
step "format" format_check

cat "$digest"
for t in "${failed_tests[@]}"; do
  echo "failed: $t"
done
if [ ${#failed_steps[@]} -gt 0 ]; then
  echo "failed steps: ${failed_steps[*]}"
  failed=$((failed + ${#failed_steps[@]}))
fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ]
