#!/bin/sh
# test_headers.sh -- each public header compiles on its own, pedantic C11 (libsndfile's header test).
set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-hdr-XXXXXX")
trap 'rm -rf "$T"' EXIT
n=0
for h in include/plm/*.h; do
    n=$((n + 1))
    printf '#include "plm/%s"\nint main(void) { return 0; }\n' "$(basename "$h")" >"$T/t.c"
    if out=$(${CC:-cc} -std=c11 -pedantic -Wall -Wextra -Werror -Iinclude -c "$T/t.c" -o "$T/t.o" 2>&1); then
        echo "ok $n - $h compiles alone (-std=c11 -pedantic)"
    else
        echo "not ok $n - $h compiles alone"; printf '%s\n' "$out" | sed 's/^/#   /'
    fi
done
