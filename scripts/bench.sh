#!/bin/sh
# bench.sh -- speed and memory figures (printed, never pass/fail). Medians of RUNS runs.
#  1. one simulated night (100 Hz, both legs, about 10 h) and
#  2. a synthetic 7-day, 100 Hz, 6-channel recording:
#     per-stage throughput (tests/gen/bench_stages.c), end-to-end / decode-only ratio,
#     and `actiplm run` wall time and peak resident memory (scripts/measure.py);
#  3. a 200-night study with -j 1 and -j 2: speed-up and identical results;
#  4. memory against block size on the 7-day file (bounded by the block, not the duration);
#  5. the devices' own formats: a 7-day AX3 .cwa decoded by actiplm convert and by the vendor's
#     omconvert, run on it (peak memory), the same with a second device on the other ankle, and
#     GENEActiv, GT3X and CWA decode rates.
# `run` exits 1 when it can make no comparison (one subject, one night): those lines say "exit 1"
# and the bench goes on.
set -eu
BUILD=${BUILD:-build}
RUNS=${RUNS:-3}
A="$BUILD/actiplm"
M="/usr/bin/python3 scripts/measure.py"
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-bench-XXXXXX")
trap 'rm -rf "$T"' EXIT
echo "bench: $(nproc) cores, $(uname -m), actiplm $($A --version | cut -d' ' -f2), one core used"
$A simulate -o "$T/night" --subjects 1 --fs 100 --seed 1 >/dev/null
N="$T/night/recordings/S01_control_n1.wav"
echo "one night: $(du -m "$N" | cut -f1) MB"
"$BUILD/tests/bench_stages" "$N" 8 "$RUNS"
$M "  actiplm run, one night (exits 1: one subject, no comparison)" $A run "$T/night/manifest.csv" -o "$T/night.h5" -q || true
$A simulate -o "$T/study200" --subjects 100 --fs 25 --seed 2 >/dev/null
echo "200 nights at 25 Hz, both legs: $(du -sm "$T/study200" | cut -f1) MB"
$M "  actiplm run, 200 nights, -j 1" $A run "$T/study200" -o "$T/s200a.h5" -q -j 1 | tee "$T/j1.txt"
$M "  actiplm run, 200 nights, -j 2" $A run "$T/study200" -o "$T/s200b.h5" -q -j 2 | tee "$T/jn.txt"
/usr/bin/python3 -c "
import re
a = float(re.search(r'([0-9.]+) s wall', open('$T/j1.txt').read()).group(1))
b = float(re.search(r'([0-9.]+) s wall', open('$T/jn.txt').read()).group(1))
print(f'  speed-up with -j 2: {a / b:.2f}x ($(nproc) cores)')"
if /usr/bin/python3 scripts/check_layout.py --same "$T/s200a.h5" "$T/s200b.h5" >/dev/null; then
    echo "  -j 1 and -j 2 results: identical datasets"
else
    echo "  -j 1 and -j 2 results: DIFFER"
fi
rm -rf "$T/study200" "$T"/s200?.h5
"$BUILD/tests/mkwav" "$T/week.wav" 6 100 60480000 int16
printf 'subject,condition,path,full_scale_g\nW,control,week.wav,8\n' >"$T/manifest.csv"
echo "7 days: $(du -m "$T/week.wav" | cut -f1) MB"
"$BUILD/tests/bench_stages" "$T/week.wav" 8 "$RUNS"
$M "  actiplm run, 7 days, block 32768 frames (default)" $A run "$T" -o "$T/week.h5" -q || true
$M "  actiplm run, 7 days, block 4096 frames" $A run "$T" -o "$T/week4k.h5" -q --block-frames 4096 || true
$M "  actiplm run, 7 days, block 262144 frames" $A run "$T" -o "$T/week256k.h5" -q --block-frames 262144 || true
rm -f "$T"/week*.h5 "$T/week.wav"

# 5. the devices' own formats: a synthetic 7-day 100-Hz AX3 .cwa decoded by `actiplm convert` and by
#    the vendor's omconvert (its fastest full decode), `run` on it; GENEActiv and GT3X decode rates
"$BUILD/tests/mkcwa" "$T/week.cwa" --synthetic 604800 --rate 100 --clock-error -0.011
echo "7 days, AX3 .cwa (packed, clock 1.1 % slow): $(du -m "$T/week.cwa" | cut -f1) MB"
$M "  actiplm convert --to wav (decode, resample to 100 Hz, write float WAV)" $A convert "$T/week.cwa" --timezone UTC -o "$T/ap" --to wav
rm -f "$T/ap.wav"
OM=$(sh ../shared/tools/omconvert/build.sh 2>/dev/null | tail -1 || true)
if [ -n "$OM" ] && [ -x "$OM" ]; then
    $M "  omconvert -calibrate 0 -interpolate-mode 1 -out X.wav (the vendor's)" sh -c "'$OM' '$T/week.cwa' -calibrate 0 -interpolate-mode 1 -out '$T/om.wav' >/dev/null 2>&1"
    rm -f "$T/om.wav"
else
    echo "  omconvert: not built (../shared/tools/omconvert/build.sh); no comparison"
fi
printf 'subject,condition,path,timezone\nW,control,week.cwa,UTC\n' >"$T/cwa.csv"
$M "  actiplm run, 7-day CWA (exits 1: one night, no comparison)" $A run "$T/cwa.csv" -o "$T/weekcwa.h5" -q || true
"$BUILD/tests/mkcwa" "$T/week_r.cwa" --synthetic 604800 --rate 100 --clock-error 0.01 --delay 37 --device-id 2
printf 'subject,condition,path,path_right,timezone\nW,control,week.cwa,week_r.cwa,UTC\n' >"$T/pair.csv"
$M "  actiplm run, 7 days, one device per ankle (2 CWA, clocks -1.1 % and +1 %)" $A run "$T/pair.csv" -o "$T/weekpair.h5" -q || true
rm -f "$T/week.cwa" "$T/week_r.cwa" "$T/weekcwa.h5" "$T/weekpair.h5"
"$BUILD/tests/mkwav" "$T/day.wav" 3 100 2160000 int16
for f in geneactiv gt3x; do
    /usr/bin/python3 tests/gen/mkdevice.py $f "$T/day.wav" "$T/day.$f"
    /usr/bin/python3 -c "
import subprocess, time
best = 1e9
for _ in range($RUNS):
    t = time.perf_counter(); subprocess.run(['$A', 'info', '$T/day.$f', '--timezone', 'UTC'], capture_output=True, check=True)
    best = min(best, time.perf_counter() - t)
print(f'  decode (actiplm info reads every sample): $f {2160000 / best / 1e6:.1f} M samples/s ({best:.2f} s for 6 h at 100 Hz)')"
done
/usr/bin/python3 -c "
import subprocess, time
best = 1e9
for _ in range($RUNS):
    subprocess.run(['$BUILD/tests/mkcwa', '$T/day.cwa', '--wav', '$T/day.wav'], check=True)
    t = time.perf_counter(); subprocess.run(['$A', 'info', '$T/day.cwa', '--timezone', 'UTC'], capture_output=True, check=True)
    best = min(best, time.perf_counter() - t)
print(f'  decode (actiplm info reads every sample): cwa {2160000 / best / 1e6:.1f} M samples/s ({best:.2f} s for 6 h at 100 Hz)')"
