#!/bin/sh
# test_tib.sh -- time in bed estimated from the leg, its plausibility flag, and what the
# output says about outcomes that need sleep/wake. Truth: the simulator's truth/nights.csv.
set -u
. "$(pwd)/tests/e2e_lib.sh"
MKWAV="$(pwd)/$BUILD/tests/mkwav"
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-tib-XXXXXX")
trap 'rm -rf "$T"' EXIT

# the sample study of `make run`, with the lights columns removed from its manifest
"$A" simulate -o "$T/s" --subjects 6 --nights 1 --fs 50 --seed 1998 >/dev/null 2>&1
/usr/bin/python3 -c "
import csv
rows = list(csv.DictReader(open('$T/s/manifest.csv')))
keep = [k for k in rows[0] if k not in ('lights_off', 'lights_on')]
with open('$T/s/nolights.csv', 'w', newline='') as f:
    w = csv.DictWriter(f, fieldnames=keep, extrasaction='ignore')
    w.writeheader()
    w.writerows(rows)"
"$A" run "$T/s/nolights.csv" -o "$T/r.h5" -j 2 >"$T/out" 2>"$T/err"; rc=$?
check "sample study without lights: time in bed within 0.5 h of the truth on every night" /usr/bin/python3 -c "
import csv, h5py, sys
t = {r['recording']: r for r in csv.DictReader(open('$T/s/truth/nights.csv'))}
n = h5py.File('$T/r.h5', 'r')['nights'][...]
bad = [(r['recording'].decode(), round(float(r['tib_h']), 2), t[r['recording'].decode()]['tib_h']) for r in n
       if abs(r['tib_h'] - float(t[r['recording'].decode()]['tib_h'])) > 0.5]
print(bad)
sys.exit(0 if $rc == 0 and len(n) == 12 and not bad else 1)"
check "... each night says its lights were estimated and its sleep came from actigraphy, none implausible" /usr/bin/python3 -c "
import h5py, sys
n = h5py.File('$T/r.h5', 'r')['nights'][...]
sys.exit(0 if all(r['lights_source'] == b'estimated' and r['sleep_source'] == b'actigraphy' and r['tib_implausible'] == 0 for r in n) else 1)"
check "... the warning reads as English" has "$T/err" "lights off/on estimated from the leg:"
check "... a warning on every night is printed once, then summarised once with the count" sh -c "
    [ \$(grep -c 'warning: lights off/on estimated from the leg' '$T/err') -eq 1 ] &&
    grep -q '^actiplm: warning on 12 of 12 recordings (shown above for the first, .*S01_control_n1.wav): lights off/on estimated from the leg: # .. # s$' '$T/err'"
check "... the table marks the outcomes that need sleep/wake and says why" sh -c "grep -q '^plms_index \*' '$T/out' && grep -q '^se_pct \*' '$T/out' && grep -q '^plm_tib_index  ' '$T/out' && grep -q '^\* sleep/wake estimated from the leg on 12 of 12 nights' '$T/out'"
"$A" export "$T/r.h5" --csv "$T/x" >/dev/null 2>&1
"$A" stats "$T/x/nights.csv" >"$T/st" 2>&1
check "stats on the exported table: the same footnote (sleep_source is read from the CSV)" grep -q '^\* sleep/wake estimated from the leg on 12 of 12 nights' "$T/st"

# with the manifest's lights and the true stages the outcomes need no footnote
/usr/bin/python3 -c "
import csv
rows = list(csv.DictReader(open('$T/s/manifest.csv')))
with open('$T/s/stages.csv', 'w', newline='') as f:
    w = csv.DictWriter(f, fieldnames=list(rows[0]) + ['annotations'])
    w.writeheader()
    for r in rows:
        r['annotations'] = 'truth/%s.events.csv' % r['recording']
        w.writerow(r)"
"$A" run "$T/s/stages.csv" -o "$T/st.h5" -j 2 >"$T/out2" 2>"$T/err2"
check "with lights and stages given (the truth events carry lights rows too): sources say so and no footnote" sh -c "! grep -q 'sleep/wake estimated' '$T/out2' && /usr/bin/python3 -c \"
import h5py, sys
n = h5py.File('$T/st.h5', 'r')['nights'][...]
sys.exit(0 if all(r['lights_source'] in (b'manifest', b'annotations') and r['sleep_source'] == b'annotations' and r['tib_implausible'] == 0 for r in n) else 1)\""

# a leg that lay down for two hours of a seven-hour recording
mkdir -p "$T/b"
"$MKWAV" "$T/b/short.wav" 3 25 $((7 * 3600 * 25)) float bed2h
printf 'subject,condition,path\nS1,control,short.wav\n' >"$T/b/manifest.csv"
"$A" run "$T/b" -o "$T/b.h5" >"$T/out3" 2>"$T/err3"
check "an estimated time in bed of 2 h in 7 h: a warning naming the file, and tib_implausible = 1" sh -c "grep -q 'short.wav: warning: .*estimated time in bed 2.0 h of a 7.0-h recording is implausible' '$T/err3' && /usr/bin/python3 -c \"
import h5py, sys
n = h5py.File('$T/b.h5', 'r')['nights'][...]
sys.exit(0 if len(n) == 1 and n[0]['tib_implausible'] == 1 and n[0]['lights_source'] == b'estimated' and abs(n[0]['tib_h'] - 2) < 0.1 else 1)\""

echo "# e2e tib: $n checks"
