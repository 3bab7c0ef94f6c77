#!/bin/sh
# bench.sh -- speed and memory figures (printed, never pass/fail).
#  1. simulate a 2-subject study at 100 Hz (generation speed);
#  2. actiplm run on it (reading + checksum + activity trace + HDF5);
#  3. a 7-day, 100 Hz, 6-channel recording (60.5 M frames): run time and peak memory,
#     with two block sizes, to show memory is bounded by the block, not the recording.
set -eu
BUILD=${BUILD:-build}
A="$BUILD/actiplm"
M="/usr/bin/python3 scripts/measure.py"
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-bench-XXXXXX")
trap 'rm -rf "$T"' EXIT
echo "bench: $(nproc) cores, $(uname -m), actiplm $($A --version | cut -d' ' -f2)"
$M "simulate 4 nights (2 subjects x 2 conditions, 6 ch, 100 Hz)" $A simulate -o "$T/study" --subjects 2 --fs 100 --seed 1
$M "run 4 nights" $A run "$T/study" -o "$T/study.h5"
/usr/bin/python3 -c "
import h5py
f = h5py.File('$T/study.h5', 'r')
n = sum(int(g.attrs['frames']) for g in f['recordings'].values())
print(f'  4 nights = {n} frames ({n / 100 / 3600:.1f} h of recording)')"
"$BUILD/tests/mkwav" "$T/week.wav" 6 100 60480000 int16
printf 'subject,condition,path,full_scale_g\nW,control,week.wav,8\n' >"$T/manifest.csv"
echo "  7-day file: $(du -m "$T/week.wav" | cut -f1) MB on disk"
$M "run 7 days @100 Hz, 6 ch, block 32768 frames (default)" $A run "$T" -o "$T/week.h5"
$M "run 7 days @100 Hz, 6 ch, block 4096 frames" $A run "$T" -o "$T/week4k.h5" --block-frames 4096
$M "run 7 days @100 Hz, 6 ch, block 1048576 frames" $A run "$T" -o "$T/week1m.h5" --block-frames 1048576
$M "info 7 days" $A info --full-scale-g 8 "$T/week.wav"
