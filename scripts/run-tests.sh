#!/bin/sh
# run-tests.sh -- run every unit test binary and end-to-end script; print one summary line.
# Environment: BUILD (build folder, default build).
set -u
BUILD=${BUILD:-build}
export BUILD
# every test's temporary files live under one folder, removed at the end
TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-tests-XXXXXX")
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
pass=0 fail=0 skip=0 failed=""
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    out=$("$t" 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
    s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${s:-0}))
    if [ $rc -ne 0 ] && [ -z "$f" ]; then fail=$((fail + 1)); fi
    [ $rc -ne 0 ] && failed="$failed $(basename "$t")"
done
for t in tests/e2e/*.sh; do
    [ -f "$t" ] || continue
    out=$(sh "$t" 2>&1); rc=$?
    printf '%s\n' "$out"
    p=$(printf '%s\n' "$out" | grep -c '^ok ')
    f=$(printf '%s\n' "$out" | grep -c '^not ok ')
    s=$(printf '%s\n' "$out" | grep -c '^skip ')
    pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then fail=$((fail + 1)); fi
    [ $rc -ne 0 ] && failed="$failed $(basename "$t")"
done
[ -n "$failed" ] && echo "failing:$failed"
echo "tests: $pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
