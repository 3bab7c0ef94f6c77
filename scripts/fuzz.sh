#!/bin/sh
# fuzz.sh -- run every libFuzzer target in BUILD/tests/fuzz for FUZZ_SECONDS each, starting from
# tests/fuzz/corpus/<target>/ (copied: the repository's corpus is not changed). A crash stops
# with the input saved under fuzz-crashes/; add it to tests/fuzz/corpus/<target>/ once fixed, so
# that `make test` replays it for ever.
set -u
BUILD=${1:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
W=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-fuzz-XXXXXX")
trap 'rm -rf "$W"' EXIT
mkdir -p fuzz-crashes
status=0
for t in "$BUILD"/tests/fuzz/fuzz_*; do
    name=$(basename "$t" | sed 's/^fuzz_//')
    mkdir -p "$W/$name"
    cp tests/fuzz/corpus/"$name"/* "$W/$name/" 2>/dev/null
    dict=""
    [ -f "tests/fuzz/$name.dict" ] && dict="-dict=tests/fuzz/$name.dict"
    if ASAN_OPTIONS=detect_leaks=1 TMPDIR="$W" "$t" "$W/$name" $dict -max_total_time="$SECS" -max_len=65536 \
        -rss_limit_mb=2048 -artifact_prefix="fuzz-crashes/$name-" -print_final_stats=1 >"$W/$name.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/$name.log")
        echo "fuzz $name: clean, ${runs:-?} inputs in $SECS s, corpus $(ls "$W/$name" | wc -l) files"
    else
        status=1
        echo "fuzz $name: FAILED"; grep -E 'ERROR|SUMMARY|Test unit written' "$W/$name.log" | head -5
    fi
done
rmdir fuzz-crashes 2>/dev/null
exit $status
