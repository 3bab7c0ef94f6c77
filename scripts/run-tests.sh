#!/bin/sh
# run-tests.sh -- run every unit test binary and end-to-end script; print one summary line.
# Environment: BUILD (build folder, default build).
#
# Under the sanitizers (ASAN_OPTIONS set, as `make asan` does), every process's reports go to
# files (log_path) in a folder per test, so that a report is seen even from a process whose
# stderr a test throws away or whose exit status it does not check: any AddressSanitizer,
# LeakSanitizer or UBSan report fails the suite and is printed. A test that failed only because
# LeakSanitizer's own stop-the-world tracer crashed at a process's exit ("Tracer caught signal",
# "LeakSanitizer has encountered a fatal error", no report; a known rare fault of the runtime,
# google/sanitizers#1353) is run once more, and says so.
set -u
BUILD=${BUILD:-build}
export BUILD
# every test's temporary files live under one folder, removed at the end
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-tests-XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
SAN=${ASAN_OPTIONS+1}
ASAN_BASE=${ASAN_OPTIONS:-}
UBSAN_BASE=${UBSAN_OPTIONS:-}
pass=0 fail=0 skip=0 failed=""

# run1 NAME COMMAND...: run a test once; sets out, rc, and (under the sanitizers) logs
run1() {
    name=$1; shift
    if [ -n "$SAN" ]; then
        logs="$TMPDIR/sanitizer-$name"
        rm -rf "$logs"; mkdir -p "$logs"
        out=$(ASAN_OPTIONS="$ASAN_BASE:log_path=$logs/log" UBSAN_OPTIONS="$UBSAN_BASE:log_path=$logs/log" "$@" 2>&1); rc=$?
    else
        out=$("$@" 2>&1); rc=$?
    fi
}

# reports: sanitizer log files of the last run1 holding a real report
reports() {
    [ -n "$SAN" ] || return 0
    grep -lE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:|SUMMARY: ' "$logs"/log.* 2>/dev/null
}

# tracer_crash: the last run1 has a log of LeakSanitizer's tracer crashing, and no report
tracer_crash() {
    [ -n "$SAN" ] && [ -z "$(reports)" ] && grep -lq 'LeakSanitizer has encountered a fatal error' "$logs"/log.* 2>/dev/null
}

# run NAME COUNT-FUNCTION COMMAND...
run() {
    name=$1 count=$2; shift 2
    run1 "$name" "$@"
    if [ $rc -ne 0 ] && tracer_crash; then
        printf '%s\n' "$out"
        echo "# $name: LeakSanitizer's tracer crashed at a process's exit, with no report (google/sanitizers#1353):"
        cat "$logs"/log.* | sed 's/^/#   /'
        echo "# $name: running it once more"
        run1 "$name" "$@"
    fi
    printf '%s\n' "$out"
    $count
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then fail=$((fail + 1)); fi
    found=$(reports)
    if [ -n "$found" ]; then
        echo "# $name: sanitizer reports:"
        for r in $found; do sed 's/^/#   /' "$r"; done
        fail=$((fail + 1)); rc=1
    fi
    [ $rc -ne 0 ] && failed="$failed $name"
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
}

count_cmocka() {
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1); p=${p:-0}
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1); f=${f:-0}
    s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1); s=${s:-0}
}

count_tap() {
    p=$(printf '%s\n' "$out" | grep -c '^ok ')
    f=$(printf '%s\n' "$out" | grep -c '^not ok ')
    s=$(printf '%s\n' "$out" | grep -c '^skip ')
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run "$(basename "$t")" count_cmocka "$t"
done
for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    run "$(basename "$t")" count_tap sh "$t"
done
[ -n "$failed" ] && echo "failing:$failed"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
