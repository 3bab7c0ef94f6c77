#!/bin/sh
# test_fuzz_corpus.sh -- replay every fuzz target's corpus (seeds and crashing inputs once found)
# through the normal (or ASan) build: each must run to the end without a crash.
BUILD=${BUILD:-build}
n=0
for d in tests/fuzz/corpus/*/; do
    name=$(basename "$d")
    n=$((n + 1))
    if "$BUILD/tests/fuzz/fuzz_$name" "$d"* >/dev/null 2>&1; then
        echo "ok $n - fuzz corpus $name: $(ls "$d" | wc -l) inputs replayed"
    else
        echo "not ok $n - fuzz corpus $name"
    fi
done
echo "# fuzz corpus: $n targets"
