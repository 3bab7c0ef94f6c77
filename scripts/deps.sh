#!/bin/sh
# deps.sh -- make sure the Debian packages actiplm needs are installed.
# As root: apt-get install what is missing. Otherwise: print the exact command and fail.
# `deps.sh fuzz` also wants clang and its libFuzzer runtime (make fuzz only).
# `deps.sh test` also installs, when root, what the Slurm test needs (a local cluster:
# slurmctld, slurmd, munge) and what the report test opens the report with (chromium, xmllint,
# Pillow); without root those tests are skipped, so they are only suggested. `deps.sh bench` also
# installs SciPy and soundfile, for the script make bench races (skipped without them).
set -u
EXTRA=""
[ "${1:-}" = fuzz ] && EXTRA="clang-14 libclang-rt-14-dev"
OPTIONAL=""
[ "${1:-}" = test ] && OPTIONAL="slurmctld slurmd slurm-client munge chromium libxml2-utils python3-pil"
[ "${1:-}" = bench ] && OPTIONAL="python3-scipy python3-soundfile"
PKGS="$EXTRA gcc make pkg-config libsndfile1-dev libfftw3-dev libgsl-dev libhdf5-dev libedf-dev nettle-dev
libcmocka-dev libxlsxwriter-dev libzip-dev libcairo2-dev fonts-dejavu-core hdf5-tools python3 python3-h5py python3-numpy python3-openpyxl tzdata"
missing=""
for p in $PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
optmissing=""
for p in $OPTIONAL; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || optmissing="$optmissing $p"
done
export DEBIAN_FRONTEND=noninteractive
if [ -n "$optmissing" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "deps: installing (optional, for make ${1:-}):$optmissing" >&2
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends $optmissing; } >&2 ||
            echo "deps: could not install$optmissing; the tests that need them will be skipped" >&2
    else
        echo "deps: what needs$optmissing will be skipped (installing them needs root)" >&2
    fi
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
    echo "deps: installing:$missing" >&2
    apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends $missing >&2 && exit 0
    echo "deps: apt-get failed; run it by hand: apt-get install$missing" >&2
    exit 1
fi
echo "deps: missing Debian packages. Install them with:" >&2
echo "  sudo apt-get install$missing" >&2
exit 1
