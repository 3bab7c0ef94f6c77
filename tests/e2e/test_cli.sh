#!/bin/sh
# test_cli.sh -- end-to-end tests of the actiplm command. Prints "ok N - ...",
# "not ok N - ..." or "skip N - ..." per check (counted by scripts/run-tests.sh).
set -u
. "$(pwd)/tests/e2e_lib.sh"
MKWAV="$(pwd)/$BUILD/tests/mkwav"
SHARED=${ACTIPLM_SHARED:-../shared}
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-e2e-XXXXXX")
trap 'rm -rf "$T"' EXIT

# --- command line --------------------------------------------------------------------
"$A" --help >"$T/out" 2>"$T/err"; rc=$?
check "--help exits 0 with usage and an example on stdout" sh -c "[ $rc -eq 0 ] && grep -q '^Usage: actiplm' '$T/out' && grep -q 'Example' '$T/out' && [ ! -s '$T/err' ]"
for c in run info simulate; do
    "$A" $c --help >"$T/out" 2>&1; rc=$?
    check "$c --help exits 0 with a worked example" sh -c "[ $rc -eq 0 ] && grep -q 'Example' '$T/out' && grep -q 'Exit status' '$T/out'"
done
check "--version prints the version" sh -c "'$A' --version | grep -qE '^actiplm [0-9]+\.[0-9]+\.[0-9]+$'"
"$A" frobnicate 2>"$T/err"; rc=$?
check "unknown command is a usage error (exit 2)" sh -c "[ $rc -eq 2 ] && grep -q \"unknown command 'frobnicate'\" '$T/err'"
"$A" run 2>"$T/err"; rc=$?
check "run without a manifest is a usage error" sh -c "[ $rc -eq 2 ] && grep -q 'expected one DIR' '$T/err'"
"$A" simulate -o "$T/x" --fs 12.5 2>"$T/err"; rc=$?
check "simulate --fs 12.5 is a usage error" sh -c "[ $rc -eq 2 ] && grep -q -- \"--fs: '12.5' is not a whole number\" '$T/err'"

# --- info on the real Axivity export ---------------------------------------------------
AX="$SHARED/data/axivity/ax3test.wav"
if [ -r "$AX" ]; then
    TZ=UTC "$A" info --head 1 "$AX" >"$T/info" 2>"$T/err"; rc=$?
    check "info ax3test.wav: 100 Hz, 3 axes, aux dropped, 8 g, start, 32,640 frames, one truncation warning (stderr)" sh -c "
        [ $rc -eq 0 ] && grep -q '^sample rate:  100 Hz' '$T/info' && grep -q 'using 3: L=1,2,3 (Accel-X,Accel-Y,Accel-Z)' '$T/info' &&
        grep -q '^dropped:      4 (aux)' '$T/info' && grep -q '^full scale:   8 g (axivity)' '$T/info' &&
        grep -q '^start:        2018-03-18 17:24:47.536' '$T/info' && grep -q '^frames:       32640 ' '$T/info' &&
        [ \$(cat '$T/info' '$T/err' | grep -c 'truncated') -eq 1 ] && grep -q 'ax3test.wav: warning: truncated' '$T/err'"
    check "info ax3test.wav: first frame = counts / 32768 * 8 (2943, 1054, -2325)" \
        grep -q '^sample 0: 0.718506 0.257324 -0.567627$' "$T/info"
else
    skip "info ax3test.wav (../shared/data absent)"
    skip "info ax3test.wav first frame (../shared/data absent)"
fi
"$A" info "$T/nothere.wav" 2>"$T/err"; rc=$?
check "info on a missing file: exit 1, one line naming the file" sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'nothere.wav: cannot open: No such file' '$T/err'"

# --- simulate: determinism ----------------------------------------------------------------
"$A" simulate -o "$T/s1" --subjects 3 --fs 10 --seed 42 >/dev/null 2>&1
"$A" simulate -o "$T/s2" --subjects 3 --fs 10 --seed 42 >/dev/null 2>&1
"$A" simulate -o "$T/s3" --subjects 3 --fs 10 --seed 43 >/dev/null 2>&1
check "simulate: same seed gives byte-identical files" diff -r "$T/s1" "$T/s2"
check "simulate: another seed gives other recordings" sh -c "! cmp -s '$T/s1/recordings/S01_control_n1.wav' '$T/s3/recordings/S01_control_n1.wav'"
"$A" info "$T/s1/recordings/S01_control_n1.wav" >"$T/info" 2>"$T/err"; rc=$?
check "info on a simulated WAV without --full-scale-g: the full scale is in the file (8 g, its comment)" sh -c "
    [ $rc -eq 0 ] && grep -q '^full scale:   8 g (comment)' '$T/info' && [ ! -s '$T/err' ]"
check "simulate: 6 recordings, truth for each" sh -c "[ \$(ls '$T/s1/recordings' | wc -l) -eq 6 ] && [ \$(ls '$T/s1/truth'/*.events.csv | wc -l) -eq 6 ] && [ \$(wc -l <'$T/s1/truth/nights.csv') -eq 7 ]"

# --- run: layout, truth times (one night crosses the spring clock change), reproducibility --
"$A" run "$T/s1" -o "$T/r1.h5" >"$T/out.run" 2>"$T/err"; rc=$?
check "run on a simulated study exits 0" sh -c "[ $rc -eq 0 ] && grep -q '6 of 6 recordings processed, 0 failed' '$T/out.run'"
check "progress when stderr is not a terminal: one line per recording, in manifest order" sh -c "[ \$(grep -c '^actiplm run: [1-6]/6 S0[1-3]_[a-z]*_n1: [0-9.]* h recorded, PLMS' '$T/err') -eq 6 ] && grep -q '^actiplm run: 1/6 S01_control_n1:' '$T/err'"
"$A" run "$T/s1" -o "$T/rq.h5" -q >"$T/out" 2>"$T/err"
check "-q: nothing on stderr for a clean study, and no table on stdout (the summary line only)" sh -c "
    [ ! -s '$T/err' ] && [ \$(wc -l <'$T/out') -eq 1 ] && grep -q '6 of 6 recordings processed' '$T/out'"
if command -v script >/dev/null; then
    script -qec "'$A' run '$T/s1' -o '$T/rt.h5' -j 2" /dev/null >"$T/tty" 2>&1
    check "progress on a terminal: a live bar with done/total, failures, throughput and time left" sh -c "grep -q '6/6 recordings, 0 failed, [0-9.]*/min, [0-9:]* left' '$T/tty' && ! grep -q '^actiplm run: 1/6' '$T/tty'"
else
    skip "progress on a terminal (no script(1))"
fi
check "results follow docs/hdf5-layout.md (h5py)" $CHECK "$T/r1.h5"
check "lights-off/on clock times and starts resolve to the truth, DST night included" $CHECK "$T/r1.h5" --truth "$T/s1"
check "/nights is filled: indices, sleep measures, counts (no NaN at default settings)" /usr/bin/python3 -c "
import h5py, math, sys
n = h5py.File('$T/r1.h5', 'r')['nights'][...]
ok = all(all(math.isfinite(r[k]) for k in ('tib_h', 'tst_h', 'se_pct', 'plms_index', 'plm_tib_index', 'lm_index', 'periodicity_index')) and r['plm_count'] >= 0 for r in n)
ok = ok and all(abs(r['plm_tib_index'] - r['plm_count'] / r['tib_h']) < 1e-9 for r in n)
ok = ok and all(math.isnan(r['plms_a_index']) for r in n)  # no arousal annotations: not made up
sys.exit(0 if ok else 1)"
check "the study has a night with the spring clock change" grep -q '^S03_control_n1,.*,2024-03-30T' "$T/s1/truth/nights.csv"
"$A" run "$T/s1" -o "$T/r2.h5" >/dev/null 2>&1
check "same input, same datasets (bit-identical)" $CHECK --same "$T/r1.h5" "$T/r2.h5"
"$A" run "$T/s1" -o "$T/rj2.h5" -j 2 >/dev/null 2>&1
check "-j 2 gives the same datasets as -j 1, rows in manifest order" sh -c "$CHECK --same '$T/r1.h5' '$T/rj2.h5' && /usr/bin/python3 -c \"import h5py; a=h5py.File('$T/r1.h5','r')['nights']['recording']; b=h5py.File('$T/rj2.h5','r')['nights']['recording']; exit(0 if list(a)==list(b) else 1)\""
"$A" run "$T/s1" -o "$T/r3.h5" --block-frames 1000 >/dev/null 2>&1
check "block size does not change the results" $CHECK --same "$T/r1.h5" "$T/r3.h5"
"$A" run "$T/s1" -o "$T/rnm.h5" --no-lm-mask -q >/dev/null 2>&1
check "sensitivity pair: masked figures are /nights, --no-lm-mask's /nights are the unmasked ones" /usr/bin/python3 -c "
import h5py, sys
a, b = h5py.File('$T/r1.h5', 'r'), h5py.File('$T/rnm.h5', 'r')
ok = len(a['nights']) == 6
for x, y in zip(a['nights'][...], b['nights'][...]):
    ra, rb = a['recordings'][x['recording'].decode()].attrs, b['recordings'][y['recording'].decode()].attrs
    ok = ok and ra['se_masked_pct'] == x['se_pct'] and ra['plms_index_masked'] == x['plms_index']
    ok = ok and ra['se_unmasked_pct'] == y['se_pct'] and ra['plms_index_unmasked'] == y['plms_index']
    ok = ok and rb['se_masked_pct'] == x['se_pct'] and rb['se_unmasked_pct'] == y['se_pct']
    ok = ok and y['se_pct'] < x['se_pct']  # counting the periodic movements pushes sleep toward wake
sys.exit(0 if ok else 1)"

# --- detect and compare --------------------------------------------------------------
R1="$T/s1/recordings/S01_control_n1.wav"
(cd "$T" && "$A" detect "$R1" --full-scale-g 8 --timezone Europe/Berlin --csv "$T/d.csv" >"$T/out" 2>"$T/err"); rc=$?
check "detect writes STEM.h5 here and an events CSV" sh -c "[ $rc -eq 0 ] && [ -f '$T/S01_control_n1.h5' ] && head -1 '$T/d.csv' | grep -q '^onset_s,duration_s,type,leg$' && grep -q 'leg movements: left' '$T/out'"
check "detect output follows the layout" $CHECK "$T/S01_control_n1.h5"
"$A" compare "$T/S01_control_n1.h5" "$T/s1/truth/S01_control_n1.events.csv" --json >"$T/cmp.json" 2>"$T/err"; rc=$?
check "compare (HDF5 vs truth CSV): per-leg F1 >= 0.95 at 10 Hz" /usr/bin/python3 -c "
import json, sys
j = json.load(open('$T/cmp.json'))
sys.exit(0 if $rc == 0 and j['left']['f1'] >= 0.95 and j['right']['f1'] >= 0.95 and j['overall']['tp'] > 50 else 1)"
"$A" compare "$T/d.csv" "$T/s1/truth/S01_control_n1.events.csv" --json >"$T/cmp2.json"
check "compare gives the same figures from the events CSV" cmp "$T/cmp.json" "$T/cmp2.json"
"$A" compare "$T/s1/truth/S01_control_n1.events.csv" "$T/s1/truth/S01_control_n1.events.csv" >"$T/out"
check "truth against itself: F1 1, errors 0" grep -qE '^overall +[0-9]+ +[0-9]+ +[0-9]+ +0 +0 +1.000 +1.000 +1.000 +0.000 +0.000 +0.000 +0.000$' "$T/out"
printf 'onset_s,duration_s,type,leg\n12,1,lm,L\nabc,1,lm,L\n' >"$T/badev.csv"
"$A" compare "$T/d.csv" "$T/badev.csv" 2>"$T/err"; rc=$?
check "compare: malformed events CSV names file and line" sh -c "[ $rc -eq 1 ] && grep -q \"badev.csv:3: onset_s 'abc' is not a number\" '$T/err'"
"$A" compare "$T/d.csv" 2>"$T/err"; rc=$?
check "compare with one file is a usage error" [ $rc -eq 2 ]
"$A" detect "$T/nothere.wav" -o "$T/x.h5" 2>"$T/err"; rc=$?
check "detect on a missing file: exit 1, nothing written" sh -c "[ $rc -eq 1 ] && [ ! -e '$T/x.h5' ] && grep -q 'nothere.wav: cannot open' '$T/err'"

# --- score: leg movements scored elsewhere --------------------------------------------
"$A" score --json tests/data/hand_night.csv >"$T/hand.json" 2>"$T/err"; rc=$?
check "score: the hand-counted night (tests/data/README.md) exactly" /usr/bin/python3 -c "
import json, sys
j = json.load(open('$T/hand.json'))
want = dict(lm_count=34, clm_count=33, plm_count=22, plms_count=20, plmw_count=2, series_count=5)
ok = $rc == 0 and all(j[k] == v for k, v in want.items())
near = dict(tib_h=1, tst_h=3000/3600, se_pct=300/3.6, sol_min=5, waso_min=5, lm_index=38.4, plms_index=24, plmw_index=12,
            plm_tib_index=22, plms_nrem_index=16/(2400/3600), plms_rem_index=4/(600/3600), plms_a_index=1.2, periodicity_index=20/31, series_mean_len=4.4, median_imi_s=20)
ok = ok and all(abs(j[k] - v) < 1e-9 for k, v in near.items()) and j['plmsnr_index'] is None
sys.exit(0 if ok else 1)"
"$A" score --json --short-imi-starts-series tests/data/hand_night.csv >"$T/hand2.json"
check "score --short-imi-starts-series: 23 periodic, 21 in sleep" sh -c "grep -q '\"plm_count\":23,\"plms_count\":21' '$T/hand2.json'"
check "score: no sleep-stage note when stages are given" sh -c "! grep -q 'no sleep stages' '$T/err'"
check "score reproduces the simulator's true /nights from its truth events (every night)" /usr/bin/python3 -c "
import csv, json, subprocess, sys
bad = 0
for t in csv.DictReader(open('$T/s1/truth/nights.csv')):
    j = json.loads(subprocess.run(['$A', 'score', '--json', '$T/s1/truth/' + t['recording'] + '.events.csv'],
                                  capture_output=True, text=True, check=True).stdout)
    for k in ('lm_count', 'plm_count', 'plms_count'):
        bad += j[k] != int(t[k])
    for k in ('tib_h', 'tst_h', 'se_pct', 'sol_min', 'waso_min', 'lm_index', 'plms_index', 'plmw_index', 'plm_tib_index', 'plms_a_index', 'periodicity_index',
              'plms_nrem_index', 'plms_rem_index'):
        bad += abs(j[k] - float(t[k])) > 1e-5
sys.exit(1 if bad else 0)"
printf 'onset_s,duration_s,type,leg\n10,1,lm,L\n20,1,lm\n30,1,spindle,\n' >"$T/noleg.csv"
"$A" score "$T/noleg.csv" 2>"$T/err"; rc=$?
check "score: an lm row without its leg is an error naming the line" sh -c "[ $rc -eq 1 ] && grep -q 'noleg.csv:3: an lm row needs its leg' '$T/err'"
printf 'onset_s,duration_s,type,leg\n10,1,lm,L\n30,1,spindle,\n' >"$T/unknown.csv"
"$A" score "$T/unknown.csv" >"$T/out" 2>"$T/err"; rc=$?
check "score: unknown types warned once, no stages said, still scored" sh -c "[ $rc -eq 0 ] && grep -q 'unknown event types ignored: spindle' '$T/err' && grep -q 'no sleep stages: all time between lights off and on counts as sleep' '$T/err'"
"$A" score --rules wasm tests/data/hand_night.csv 2>"$T/err"; rc=$?
check "score --rules with an unknown name is a usage error" sh -c "[ $rc -eq 2 ] && grep -q \"unknown rule set 'wasm'\" '$T/err'"

# --- statistics and exports ------------------------------------------------------------
check "run prints the Hornyak-style table" sh -c "grep -q 'magnesium vs control, paired design' '$T/out.run' && grep -q '^plms_index ' '$T/out.run'"
"$A" stats "$T/r1.h5" --csv "$T/st_h5.csv" >/dev/null 2>&1; rc=$?
check "/stats holds the numbers actiplm stats computes from the same nights" /usr/bin/python3 -c "
import csv, h5py, sys
s = h5py.File('$T/r1.h5', 'r')['stats'][...]
rows = list(csv.DictReader(open('$T/st_h5.csv')))
same = lambda a, b: (a != a and b != b) or a == b
ok = $rc == 0 and len(s) == len(rows) > 3 and all(same(float(r[k]), float(c[k] or 'nan')) for r, c in zip(s, rows) for k in s.dtype.names[1:])
sys.exit(0 if ok else 1)"
"$A" export "$T/r1.h5" --csv "$T/tables" --xlsx "$T/r1.xlsx" >/dev/null 2>&1; rc=$?
check "export writes the five CSV tables and a workbook" sh -c "[ $rc -eq 0 ] && for t in nights subjects stats lm_events dictionary; do [ -s '$T/tables/'\$t.csv ] || exit 1; done && [ -s '$T/r1.xlsx' ]"
"$A" stats "$T/tables/nights.csv" --csv "$T/st_csv.csv" >/dev/null 2>&1
check "stats on the exported nights.csv reproduces /stats exactly" cmp "$T/st_h5.csv" "$T/st_csv.csv"
cp "$T/r1.h5" "$T/older.h5"
/usr/bin/python3 -c "
import h5py, numpy as np
with h5py.File('$T/older.h5', 'r+') as f:
    src = f['nights'][...]
    keep = [k for k in src.dtype.names if k != 'plm_tib_index']
    del f['nights']
    f.create_dataset('nights', data=np.array([tuple(r[k] for k in keep) for r in src], dtype=[(k, src.dtype[k]) for k in keep]))"
"$A" export "$T/older.h5" --csv "$T/older" >/dev/null 2>&1; rc=$?
check "export of a file from before plm_tib_index: that column empty, the others as written" /usr/bin/python3 -c "
import csv, sys
a = list(csv.DictReader(open('$T/older/nights.csv')))
b = list(csv.DictReader(open('$T/tables/nights.csv')))
ok = $rc == 0 and len(a) == len(b) == 6 and all(r['plm_tib_index'] == '' for r in a)
ok = ok and all(r[k] == q[k] for r, q in zip(a, b) for k in r if k != 'plm_tib_index')
sys.exit(0 if ok else 1)"
check "CSV is RFC 4180, dot decimal separator, missing values as empty cells, shortest round-trip numbers" /usr/bin/python3 -c "
import csv, sys
rows = list(csv.reader(open('$T/tables/nights.csv', newline='')))
ok = rows[0][:4] == ['recording', 'subject', 'condition', 'night'] and all(len(r) == len(rows[0]) for r in rows)
text = {rows[0].index(k) for k in ('lights_source', 'sleep_source')}
ok = ok and len(text) == 2 and all(x == '' or float(x) == float(x) for r in rows[1:] for i, x in enumerate(r) if i >= 4 and i not in text)
ok = ok and any(x == '' for r in rows[1:] for x in r) and not any(x.lower() == 'nan' for r in rows for x in r)
# shortest: repr() is Python's shortest round-trip text; ours must be no longer and read back equal
nums = [x for r in rows[1:] for i, x in enumerate(r) if i >= 4 and i not in text and x]
ok = ok and len(nums) > 50 and all(len(x) <= len(repr(float(x))) for x in nums)
ok = ok and all(r[i] in ('manifest', 'annotations', 'estimated', 'recording', 'actigraphy') for r in rows[1:] for i in text)
sys.exit(0 if ok else 1)"
check "XLSX: sheets, frozen header, numeric cells equal to the CSV (openpyxl)" /usr/bin/python3 -c "
import csv, sys, openpyxl
wb = openpyxl.load_workbook('$T/r1.xlsx')
ok = wb.sheetnames == ['nights', 'subjects', 'stats', 'lm_events', 'dictionary']
ws = wb['nights']
ok = ok and ws.freeze_panes == 'A2'
rows = list(csv.reader(open('$T/tables/nights.csv', newline='')))
text = {rows[0].index(k) + 1 for k in ('lights_source', 'sleep_source')}
for i, r in enumerate(rows[1:], start=2):
    for j, x in enumerate(r, start=1):
        v = ws.cell(i, j).value
        if x == '': ok = ok and v is None
        elif j > 3 and j not in text: ok = ok and isinstance(v, (int, float)) and abs(float(v) - float(x)) <= 1e-14 * max(1, abs(float(x)))  # XLSX keeps 15-16 digits
        else: ok = ok and v == x
sys.exit(0 if ok else 1)"
if command -v libreoffice >/dev/null 2>&1; then
    (cd "$T" && HOME="$T" timeout 120 libreoffice --headless --convert-to csv r1.xlsx >/dev/null 2>&1)
    check "XLSX opens in LibreOffice with the expected values" /usr/bin/python3 -c "
import csv, sys
a = list(csv.reader(open('$T/r1.csv', newline='')))
b = list(csv.reader(open('$T/tables/nights.csv', newline='')))
ok = len(a) == len(b) and a[0] == b[0]
for ra, rb in zip(a[1:], b[1:]):
    for x, y in zip(ra, rb):
        if y == '': ok = ok and x == ''
        else:
            try: ok = ok and abs(float(x) - float(y)) <= 1e-9 * max(1, abs(float(y)))
            except ValueError: ok = ok and x == y
sys.exit(0 if ok else 1)"
else
    skip "XLSX in LibreOffice (libreoffice not installed)"
fi
printf 'subject,group\nS1,control\n' >"$T/nocond_stats.csv"
"$A" stats "$T/nocond_stats.csv" 2>"$T/err"; rc=$?
check "stats: a CSV without subject/condition names file and line" sh -c "[ $rc -eq 1 ] && grep -q 'nocond_stats.csv:1: needs columns subject and condition' '$T/err'"
"$A" stats "$T/tables/nights.csv" --outcomes plms_index,bogus 2>"$T/err"; rc=$?
check "stats: an unknown outcome is an error" sh -c "[ $rc -eq 1 ] && grep -q \"no outcome column 'bogus'\" '$T/err'"
"$A" stats "$T/tables/nights.csv" --treatment placebo 2>"$T/err"; rc=$?
check "stats: a treatment with no nights: exit 1, the conditions present listed" sh -c "[ $rc -eq 1 ] &&
    grep -q \"no 'placebo' nights; conditions found: 'control' (3 rows), 'magnesium' (3 rows)\" '$T/err'"
check "run: the Holm column's blanks are explained under the table" grep -q "^Holm p: the Wilcoxon p adjusted over the primary outcomes analysed (plms_index, se_pct); '-': not primary" "$T/out.run"

# --- conditions: misspellings are refused with the line and the name meant -----------------
line=$(grep -n ',magnesium,' "$T/tables/nights.csv" | head -1 | cut -d: -f1)
sed "${line}s/,magnesium,/,magnesum,/" "$T/tables/nights.csv" >"$T/typo.csv"
"$A" stats "$T/typo.csv" >"$T/out" 2>"$T/err"; rc=$?
check "stats: condition 'magnesum': exit 1, file:line, did-you-mean, the conditions found" sh -c "[ $rc -eq 1 ] &&
    grep -q \"typo.csv:$line: condition 'magnesum' is neither the control 'control' nor the treatment 'magnesium' (did you mean 'magnesium'?); conditions found: 'control' (3 rows), 'magnesum' (1 row), 'magnesium' (2 rows)\" '$T/err' && [ ! -s '$T/out' ]"
cp -r "$T/s1" "$T/s1typo"
sed -i '0,/,magnesium,/s//,Magnesium,/' "$T/s1typo/manifest.csv"
mline=$(grep -n ',Magnesium,' "$T/s1typo/manifest.csv" | cut -d: -f1)
"$A" run "$T/s1typo" -o "$T/typo.h5" >"$T/out" 2>"$T/err"; rc=$?
check "run: condition 'Magnesium' stops the run before any recording: manifest line, did-you-mean, nothing written" sh -c "
    [ $rc -eq 1 ] && grep -q \"manifest.csv:$mline: condition 'Magnesium' is neither the control 'control' nor the treatment 'magnesium' (did you mean 'magnesium'?)\" '$T/err' &&
    ! grep -q 'recorded' '$T/err' && [ ! -e '$T/typo.h5' ]"
cp -r "$T/s1" "$T/s1one"
grep -v '^S0[23],magnesium' "$T/s1/manifest.csv" >"$T/s1one/manifest.csv"
"$A" run "$T/s1one" -o "$T/one.h5" -q >"$T/out" 2>"$T/err"; rc=$?
check "run where only 1 subject has both conditions: exit 1 with the real reason, the results written" sh -c "
    [ $rc -eq 1 ] && grep -q \"no statistics: 1 subject has both conditions ('control' and 'magnesium'); 2 needed\" '$T/err' &&
    grep -q '4 of 4 recordings processed, 0 failed' '$T/out' && [ -s '$T/one.h5' ]"

# --- stats on what a spreadsheet user brings ------------------------------------------------
cut -d, -f2,3,14 "$T/tables/nights.csv" >"$T/only_plms.csv"
"$A" stats "$T/only_plms.csv" >"$T/out" 2>"$T/err"; rc=$?
check "stats on a table with only plms_index: analysed, the absent default outcomes named" sh -c "[ $rc -eq 0 ] &&
    head -1 '$T/only_plms.csv' | grep -qx 'subject,condition,plms_index' && grep -q '^plms_index ' '$T/out' &&
    grep -q 'not in the table, so not analysed: plms_a_index, plmw_index, plm_tib_index, se_pct' '$T/err'"
"$A" stats "$T/tables/nights.csv" --csv - >"$T/out" 2>"$T/err"; rc=$?
check "stats --csv -: stdout is the CSV alone (the /stats columns), the table on stderr" /usr/bin/python3 -c "
import csv, sys
rows = list(csv.reader(open('$T/out', newline='')))
ok = $rc == 0 and rows[0][:3] == ['outcome', 'n', 'control_mean'] and rows[0][-3:] == ['hedges_g', 'hedges_g_ci_low', 'hedges_g_ci_high']
ok = ok and len(rows) > 5 and all(len(r) == len(rows[0]) for r in rows) and rows[1][0] == 'plms_index'
ok = ok and 'paired design' in open('$T/err').read()
sys.exit(0 if ok else 1)"
/usr/bin/python3 -c "
import csv
rows = list(csv.DictReader(open('$T/tables/nights.csv')))
with open('$T/unpaired.csv', 'w', newline='') as f:
    w = csv.writer(f); w.writerow(['subject', 'condition', 'plms_index'])
    for r in rows: w.writerow([r['subject'] + ('m' if r['condition'] == 'magnesium' else ''), r['condition'], r['plms_index']])"
"$A" stats "$T/unpaired.csv" --csv "$T/unp.csv" >"$T/out" 2>"$T/err"; rc=$?
check "stats, unpaired design: its own header (no zero rule), Hedges' g with its CI, no dz" /usr/bin/python3 -c "
import csv, statistics as st, sys
out = open('$T/out').read()
r = list(csv.DictReader(open('$T/unp.csv')))[0]
v = list(csv.DictReader(open('$T/unpaired.csv')))
c = [float(x['plms_index']) for x in v if x['condition'] == 'control']; t = [float(x['plms_index']) for x in v if x['condition'] == 'magnesium']
sp = ((2 * st.variance(c) + 2 * st.variance(t)) / 4) ** 0.5
g = (1 - 3 / 15) * (st.mean(t) - st.mean(c)) / sp  # n 3 + 3: df 4, J = 1 - 3/(4*4-1)
ok = $rc == 0 and 'unpaired design' in out and 'zero differences' not in out and ' g' in out.splitlines()[2]
ok = ok and abs(float(r['hedges_g']) - g) < 1e-9 and float(r['hedges_g_ci_low']) < g < float(r['hedges_g_ci_high']) and r['cohen_dz'] == ''
sys.exit(0 if ok else 1)"
grep -v '^S0[23],magnesium' "$T/unpaired.csv" | sed 's/^S01m,/S01,/' >"$T/one_pair.csv"
"$A" stats "$T/one_pair.csv" --paired 2>"$T/err"; rc=$?
check "stats --paired with one subject having both conditions: exit 1, the real reason" sh -c "[ $rc -eq 1 ] &&
    grep -q \"one_pair.csv: no comparison: 1 subject has both conditions ('control' and 'magnesium'); 2 needed for a paired comparison\" '$T/err'"

# --- outputs are not lost by accident ------------------------------------------------------
cp "$T/r1.h5" "$T/mine.h5"
"$A" run "$T/s3" -o "$T/mine.h5" -q >"$T/out" 2>"$T/err"; rc=$?
check "run into results of another manifest: refused (exit 1), the file untouched, --force named" sh -c "[ $rc -eq 1 ] &&
    grep -q 'mine.h5: holds the results of another manifest' '$T/err' && grep -q -- '--force' '$T/err' && cmp -s '$T/r1.h5' '$T/mine.h5'"
touch "$T/mine.h5.tmp-999999-0" "$T/mine.h5.part.S01_control_n1.tmp-999999-1"
"$A" run "$T/s3" -o "$T/mine.h5" --force >"$T/out" 2>"$T/err"; rc=$?
check "run --force replaces them, and removes the temporary files a killed run left (saying how many)" sh -c "[ $rc -eq 0 ] &&
    ! cmp -s '$T/r1.h5' '$T/mine.h5' && grep -q 'removed 2 temporary files left by a run that was killed' '$T/err' &&
    [ ! -e '$T/mine.h5.tmp-999999-0' ] && [ ! -e '$T/mine.h5.part.S01_control_n1.tmp-999999-1' ]"

# --- killed runs: the previous results stay intact, --resume completes -------------------
"$A" simulate -o "$T/sk" --subjects 4 --fs 25 --seed 9 >/dev/null 2>&1
"$A" run "$T/sk" -o "$T/kfull.h5" -q >/dev/null 2>&1
cp "$T/kfull.h5" "$T/kprev.h5"; cp "$T/kfull.h5" "$T/kprev.copy"
intact=0 resumed=0 cleaned=0
for delay in 0.2 0.5 0.9 1.4; do
    rm -f "$T"/knew.h5*
    "$A" run "$T/sk" -o "$T/knew.h5" -q -j 2 >/dev/null 2>&1 & pid=$!
    "$A" run "$T/sk" -o "$T/kprev.h5" -q -j 2 >/dev/null 2>&1 & pid2=$!
    sleep $delay; kill -9 $pid $pid2 2>/dev/null; wait $pid $pid2 2>/dev/null
    cmp -s "$T/kprev.h5" "$T/kprev.copy" && intact=$((intact + 1))
    cp "$T/kprev.copy" "$T/kprev.h5"
    "$A" run "$T/sk" -o "$T/knew.h5" -q --resume >/dev/null 2>&1 && $CHECK --same "$T/kfull.h5" "$T/knew.h5" >/dev/null && resumed=$((resumed + 1))
    [ -z "$(ls "$T" | grep 'knew\.h5\.')" ] && cleaned=$((cleaned + 1))
done
check "SIGKILL at 4 moments: the earlier results file is untouched every time" [ $intact -eq 4 ]
check "... and --resume completes the run with results identical to an uninterrupted one" [ $resumed -eq 4 ]
check "... leaving no part or temporary files" [ $cleaned -eq 4 ]
"$A" run "$T/sk" -o "$T/kprev.h5" -q >/dev/null 2>&1
check "the next run to an output removes temporary files a killed run left" sh -c "! ls '$T' | grep -q 'kprev\.h5\.'"
allreused=0
for k in 1 2 3 4 5; do  # repeated: threads reading the previous results at once once crashed HDF5 now and then
    "$A" run "$T/sk" -o "$T/kfull.h5" --resume -j 4 >"$T/out" 2>&1 &&
        grep -q '8 of 8 recordings processed, 0 failed (8 reused)' "$T/out" && allreused=$((allreused + 1))
done
check "--resume on a complete run reuses every recording (5 of 5 runs, -j 4)" [ $allreused -eq 5 ]
"$A" run "$T/sk" -o "$T/kfull.h5" --resume --rules aasm2007 >"$T/out" 2>&1
check "--resume with other parameters redoes every recording" grep -q '(0 reused)' "$T/out"

# (the hostile-input suite proper: tests/hostile/ and test_hostile.sh)

# --- one bad recording never stops the batch --------------------------------------------
B="$T/bad"; mkdir -p "$B"
cp -r "$T/s1/recordings" "$B/"
cp "$T/s1/manifest.csv" "$B/manifest.csv"
"$MKWAV" "$B/seven.wav" 7 50 5000
"$MKWAV" "$B/int.wav" 3 50 5000 int16
"$MKWAV" "$B/cut.wav" 3 50 50000 int16; truncate -s 100000 "$B/cut.wav"
: >"$B/zero.wav"
echo "not audio at all" >"$B/text.wav"
"$MKWAV" "$B/allnan.wav" 3 50 5000 float nan-all
"$MKWAV" "$B/somenan.wav" 3 50 20000 float nan-run
"$MKWAV" "$B/slow.wav" 3 1 5000
cat >>"$B/manifest.csv" <<'CSV'
X1,control,1,missing.wav,missing,,,,,
X2,control,1,seven.wav,seven,,,,,
X3,control,1,int.wav,int,,,,,
X4,control,1,cut.wav,cut,,,,,8
X5,control,1,zero.wav,zero,,,,,
X6,control,1,text.wav,text,,,,,
X7,control,1,allnan.wav,allnan,,,,,
X8,control,1,somenan.wav,somenan,,,,,
X9,control,1,,nopath,,,,,
X10,control,1,int.wav,S01_control_n1,,,,,8
X11,control,1,int.wav,badtime,,,25:99,,8
X12,control,1,slow.wav,slow,,,,,
CSV
"$A" run "$B" -o "$T/bad.h5" >"$T/out" 2>"$T/err"; rc=$?
check "a batch with bad rows exits 1" [ $rc -eq 1 ]
check "the good recordings are still processed" grep -q '8 of 18 recordings processed, 10 failed' "$T/out"
for pair in \
    "missing.wav: cannot open: No such file or directory" \
    "seven.wav: 7 acceleration channels: expected 1, 3 (one leg) or 6" \
    "int.wav: integer samples and no full scale known: set the manifest column full_scale_g" \
    "cut.wav: warning: truncated" \
    "zero.wav: empty file (0 bytes)" \
    "text.wav: not a readable recording" \
    "allnan.wav: no finite samples (all NaN or Inf)" \
    "somenan.wav: warning: 150 NaN/Inf samples treated as missing" \
    "manifest.csv:16: empty path" \
    "manifest.csv:17: duplicate recording id 'S01_control_n1' (first on line 2)" \
    "manifest.csv:18: lights_off: '25:99' is not a valid clock time" \
    "slow.wav: sample rate 1 Hz is outside 10 .. 5000 Hz"; do
    check "stderr: $pair" has "$T/err" "$pair"
done
check "every diagnostic is one line starting 'actiplm: ' (besides progress lines)" sh -c "! grep -v -e '^actiplm: ' -e '^actiplm run: [0-9]*/18 ' '$T/err'"
nfail=$(sed -n 's/.* of 18 recordings processed, \([0-9]*\) failed.*/\1/p' "$T/out")
check "progress: a line for each good recording ($((18 - ${nfail:-99})) of 18), none for the failed ones" sh -c "[ -n '$nfail' ] && [ \$(grep -c '^actiplm run: [0-9]*/18 ' '$T/err') -eq $((18 - ${nfail:-99})) ] && ! grep -q '^actiplm run: [0-9]*/18 seven' '$T/err'"
"$A" run "$B" -o "$T/bad_j2.h5" -j 2 >"$T/out_j2" 2>"$T/err_j2"; rc=$?
check "the bad batch with -j 2: same exit, same messages in the same order, same results" sh -c "[ $rc -eq 1 ] && cmp '$T/err' '$T/err_j2' && $CHECK --same '$T/bad.h5' '$T/bad_j2.h5' && ! ls '$T' | grep -q '\.part-'"
check "failures and good rows land in /failures and /nights" /usr/bin/python3 -c "
import h5py, sys
f = h5py.File('$T/bad.h5', 'r')
fails = sorted(r.decode() if isinstance(r, bytes) else r for r in f['failures']['recording'])
nights = sorted(r.decode() if isinstance(r, bytes) else r for r in f['nights']['recording'])
want = sorted(['missing', 'seven', 'int', 'zero', 'text', 'allnan', 'nopath', 'S01_control_n1', 'badtime', 'slow'])
sys.exit(0 if fails == want and len(nights) == 8 and 'cut' in nights and 'somenan' in nights and f['recordings/cut'].attrs['truncated'] == 1 else 1)"
check "a results file with failures still has the full layout" $CHECK "$T/bad.h5"

# --- outputs that cannot be written; earlier results are never lost --------------------
"$A" run "$T/s1" -o "$T/no/such/dir/r.h5" 2>"$T/err"; rc=$?
check "unwritable output: exit 1 and a one-line reason" sh -c "[ $rc -eq 1 ] && [ \$(wc -l <'$T/err') -eq 1 ] && grep -q 'r.h5: cannot write results here: No such file or directory' '$T/err'"
echo x >"$T/afile"
"$A" run "$T/s1" -o "$T/afile/r.h5" 2>"$T/err"; rc=$?
check "output under a file: exit 1, 'Not a directory'" sh -c "[ $rc -eq 1 ] && grep -q 'Not a directory' '$T/err'"
cp "$T/r1.h5" "$T/keep.h5"
printf 'subject,path\nS1,a.wav\n' >"$T/nocond.csv"
"$A" run "$T/nocond.csv" -o "$T/r1.h5" 2>"$T/err"; rc=$?
check "manifest without a required column: exit 1, names file and line" sh -c "[ $rc -eq 1 ] && grep -q \"nocond.csv:1: missing required column 'condition'\" '$T/err'"
check "... and the earlier results file is untouched" cmp "$T/r1.h5" "$T/keep.h5"
check "no temporary files are left behind" sh -c "! ls '$T' | grep -q '\.tmp-'"

echo "# e2e: $n checks"
