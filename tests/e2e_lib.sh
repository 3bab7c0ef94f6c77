# e2e_lib.sh -- sourced by tests/e2e/*.sh: "ok N - ...", "not ok N - ..." (with the failing
# output indented as "#   ") and "skip N - ..." lines, counted by scripts/run-tests.sh.
BUILD=${BUILD:-build}
A="$(pwd)/$BUILD/actiplm"
CHECK="/usr/bin/python3 $(pwd)/scripts/check_layout.py"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | sed 's/^/#   /'; }
skip() { n=$((n + 1)); echo "skip $n - $1"; }
check() { # check DESCRIPTION COMMAND...
    d=$1; shift
    if out=$("$@" 2>&1); then ok "$d"; else notok "$d" "$out"; fi
}
has() { grep -qF -- "$2" "$1"; }
