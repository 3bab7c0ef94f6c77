#!/bin/sh
# test_omconvert.sh -- the CWA reader (and tests/gen/mkcwa) against an independent decoder: the
# vendor's omconvert (../shared/tools/omconvert, built here). omconvert resamples onto its own
# grid; with nearest-neighbour interpolation each of its samples must be one of ours at the two
# sample times nearest to its time: the same values, and times that agree within a sample.
set -u
. "$(pwd)/tests/e2e_lib.sh"
SHARED=${ACTIPLM_SHARED:-../shared}
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-om-XXXXXX")
trap 'rm -rf "$T"' EXIT
# built plainly, whatever make passes down (under `make asan` MAKEFLAGS carries the sanitizer flags:
# the vendor's code is the yardstick here, not under test)
OM=$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u CFLAGS -u LDFLAGS OMCONVERT_OUT="$T/omconvert/omconvert" \
    sh "$SHARED/tools/omconvert/build.sh" 2>/dev/null | tail -1)
if [ -z "$OM" ] || [ ! -x "$OM" ]; then
    skip "omconvert comparison ($SHARED/tools/omconvert absent or not buildable)"
    exit 0
fi
compare() { # compare FILE.cwa MIN_SHARE GAP_SAMPLES (omconvert's grid points in our gaps, +-3)
    "$OM" "$1" -interpolate-mode 1 -csv-file "$T/om.csv" >/dev/null 2>&1
    "$A" convert "$1" --timezone UTC -o "$T/ap" --to csv >/dev/null 2>&1
    /usr/bin/python3 -c "
import datetime, sys
import numpy as np
om = np.genfromtxt('$T/om.csv', delimiter=',', skip_header=1, dtype=None, encoding=None)
t_om = np.array([datetime.datetime.strptime(r[0], '%Y-%m-%d %H:%M:%S.%f').replace(tzinfo=datetime.timezone.utc).timestamp() for r in om])
v_om = np.array([[r[1], r[2], r[3]] for r in om])
ap = np.genfromtxt('$T/ap.csv', delimiter=',', skip_header=1)
t, v = ap[:, 0], ap[:, 1:]
i = np.clip(np.searchsorted(t, t_om), 1, len(t) - 1)
ok = np.all(np.abs(v[i] - v_om) < 1e-5, axis=1) | np.all(np.abs(v[i - 1] - v_om) < 1e-5, axis=1)
gap = np.isnan(v[i]).any(axis=1) | np.isnan(v[i - 1]).any(axis=1)  # ours: a gap; omconvert fills it
share = ok[~gap].mean()
print('%d omconvert samples, %d in our gaps, %.4f %% of the others are ours' % (len(ok), gap.sum(), 100 * share))
sys.exit(0 if len(ok) > 1000 and share >= $2 and abs(int(gap.sum()) - $3) <= 3 else 1)"
}
"$(pwd)/$BUILD/tests/mkcwa" "$T/gen.cwa" --synthetic 120 --rate 100 --clock-error -0.011 --corrupt 30
check "mkcwa's file (clock 1.1 % slow, a corrupt block as our gap): >= 99.9 % of omconvert's other samples are ours" compare "$T/gen.cwa" 0.999 121
if [ -r "$SHARED/data/axivity/ax3_sample.cwa" ]; then
    check "ax3_sample.cwa (200 Hz packed): >= 99.9 % of omconvert's samples are ours" compare "$SHARED/data/axivity/ax3_sample.cwa" 0.999 0
    check "ax6_sample.cwa (AX6 16-bit): >= 99.5 % of omconvert's samples are ours" compare "$SHARED/data/axivity/ax6_sample.cwa" 0.995 0
else
    skip "omconvert on ../shared/data (absent)"
fi
