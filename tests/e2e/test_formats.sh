#!/bin/sh
# test_formats.sh -- one study whose nights come in six formats: WAV, FLAC, EDF, Axivity CWA,
# GENEActiv .bin and ActiGraph .gt3x, each written from the same simulated night (the CWA by
# tests/gen/mkcwa with a clock 1.1 % slow; EDF, GENEActiv and GT3X by tests/gen/mkdevice.py).
# Truth: the WAV run of the same nights. The devices' formats quantise (CWA and GT3X 1/256 g,
# GENEActiv 1/250 g): the PLM-per-hour-in-bed of each night must stay within max(2/h, 10 %) of the
# WAV's, and its time in bed within 0.1 h.
set -u
. "$(pwd)/tests/e2e_lib.sh"
MKCWA="$(pwd)/$BUILD/tests/mkcwa"
MKDEV="/usr/bin/python3 $(pwd)/tests/gen/mkdevice.py"
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-formats-XXXXXX")
trap 'rm -rf "$T"' EXIT

"$A" simulate -o "$T/w" --subjects 3 --fs 50 --seed 4711 --legs 1 >/dev/null 2>&1
"$A" simulate -o "$T/f" --subjects 3 --fs 50 --seed 4711 --legs 1 --flac >/dev/null 2>&1
R="$T/w/recordings"
"$MKCWA" "$T/cwa.cwa" --wav "$R/S02_magnesium_n1.wav" --clock-error -0.011 >"$T/err" 2>&1
$MKDEV edf "$R/S02_control_n1.wav" "$T/edf.edf" >>"$T/err" 2>&1
$MKDEV geneactiv "$R/S03_control_n1.wav" "$T/ga.bin" >>"$T/err" 2>&1
$MKDEV gt3x "$R/S03_magnesium_n1.wav" "$T/gt.gt3x" >>"$T/err" 2>&1
check "the device files are written (mkcwa, mkdevice.py)" sh -c "[ ! -s '$T/err' ] && [ -s '$T/cwa.cwa' ] && [ -s '$T/edf.edf' ] && [ -s '$T/ga.bin' ] && [ -s '$T/gt.gt3x' ]" 
/usr/bin/python3 - "$T" <<'PY'
import csv, sys
T = sys.argv[1]
rows = {r["recording"]: r for r in csv.DictReader(open(T + "/w/manifest.csv"))}
flac = {r["recording"]: r for r in csv.DictReader(open(T + "/f/manifest.csv"))}
paths = {"S01_control_n1": "w/recordings/S01_control_n1.wav", "S01_magnesium_n1": "f/recordings/S01_magnesium_n1.flac",
         "S02_control_n1": "edf.edf", "S02_magnesium_n1": "cwa.cwa", "S03_control_n1": "ga.bin",
         "S03_magnesium_n1": "gt.gt3x"}
with open(T + "/mixed.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["subject", "condition", "night", "path", "recording", "timezone", "start", "lights_off", "lights_on", "full_scale_g"])
    for rec, p in paths.items():
        r = flac[rec] if p.endswith(".flac") else rows[rec]
        wav = p.endswith(".wav") or p.endswith(".flac")
        w.writerow([r["subject"], r["condition"], r["night"], p, rec, r["timezone"], r["start"] if wav else "",
                    r["lights_off"], r["lights_on"], r["full_scale_g"] if wav else ""])
PY
"$A" run "$T/mixed.csv" -o "$T/mixed.h5" -j 2 >"$T/out" 2>"$T/err"; rc=$?
check "the mixed study runs end to end: 6 of 6 nights, statistics computed (exit 0)" sh -c "
    [ $rc -eq 0 ] && grep -q '6 of 6 recordings processed, 0 failed' '$T/out' && grep -q 'paired design' '$T/out' || { cat '$T/err'; false; }"
"$A" run "$T/w" -o "$T/wav.h5" -q >/dev/null 2>&1
check "each format's night agrees with the WAV's: plm_tib_index within max(2/h, 10 %), time in bed within 0.1 h" /usr/bin/python3 -c "
import h5py, sys
a = {r['recording'].decode(): r for r in h5py.File('$T/mixed.h5', 'r')['nights'][...]}
b = {r['recording'].decode(): r for r in h5py.File('$T/wav.h5', 'r')['nights'][...]}
bad = []
for k, r in a.items():
    w = b[k]
    d = abs(r['plm_tib_index'] - w['plm_tib_index'])
    print(k, round(float(r['plm_tib_index']), 2), round(float(w['plm_tib_index']), 2), round(float(r['tib_h'] - w['tib_h']), 3))
    if not (d <= max(2, 0.1 * w['plm_tib_index']) and abs(r['tib_h'] - w['tib_h']) <= 0.1): bad.append(k)
sys.exit(1 if bad or len(a) != 6 else 0)"
check "each night records its format, device and rate (CWA: observed 49.45 Hz for a nominal 50)" /usr/bin/python3 -c "
import h5py, sys
g = h5py.File('$T/mixed.h5', 'r')['recordings']
f = {k: g[k].attrs['format'] for k in g}
d = g['S02_magnesium_n1'].attrs
ok = f['S02_control_n1'] == 'EDF' and f['S02_magnesium_n1'].startswith('CWA') and f['S03_control_n1'] == 'GENEActiv .bin'
ok = ok and f['S03_magnesium_n1'].startswith('GT3X') and d['device'] == 'Axivity AX3' and abs(d['fs_hz'] - 49.45) < 0.01
ok = ok and d['fs_nominal_hz'] == 50 and g['S03_magnesium_n1'].attrs['device'] == 'ActiGraph wGT3XBT'
sys.exit(0 if ok else 1)"
"$A" info "$T/cwa.cwa" --timezone Europe/Berlin >"$T/info" 2>&1
check "info on the CWA: device, observed vs nominal rate, its zone, no gaps" sh -c "
    grep -q '^device:       Axivity AX3' '$T/info' && grep -q 'sample rate:  49.4500 Hz observed .* (nominal 50 Hz, -1.10 %)' '$T/info' &&
    grep -q '^time zone:    UTC+0[12]:00 (--timezone)' '$T/info' && grep -q '^gaps:         0' '$T/info'"

# --- actiplm convert: the CWA night as HDF5, WAV and FLAC; the round trip --------------------------
"$A" convert "$T/cwa.cwa" --timezone Europe/Berlin -o "$T/conv" --to h5,wav,flac,csv >"$T/out" 2>"$T/err"; rc=$?
check "convert writes OUT.h5 (the truth files' layout: accel_g N x 3, time_unix_s, fs_hz), OUT.wav, OUT.flac, OUT.csv" /usr/bin/python3 -c "
import csv, h5py, sys
f = h5py.File('$T/conv.h5', 'r')
a, t = f['accel_g'], f['time_unix_s']
ok = $rc == 0 and a.shape[1] == 3 and a.shape[0] == t.shape[0] > 1000000 and abs(f.attrs['fs_hz'] - 49.45) < 0.01
ok = ok and f.attrs['fs_nominal_hz'] == 50 and len(f['gaps']) == 0 and abs((t[-1] - t[0]) / (len(t) - 1) - 1 / 49.45) < 1e-6
rows = sum(1 for _ in open('$T/conv.csv')) - 1
sys.exit(0 if ok and rows == a.shape[0] else 1)"
for e in wav flac; do "$A" info "$T/conv.$e" --timezone Europe/Berlin >"$T/info.$e" 2>&1; done
"$A" info "$T/cwa.cwa" --timezone Europe/Berlin >"$T/info.cwa" 2>&1
check "info reads the converted WAV and FLAC back with the original's start, the nominal rate and (FLAC) its full scale" sh -c "
    s=\$(grep '^start:' '$T/info.cwa' | cut -c15-43) && [ -n \"\$s\" ] &&
    grep -q \"^start:        \$s\" '$T/info.wav' && grep -q \"^start:        \$s\" '$T/info.flac' &&
    grep -q '^sample rate:  50 Hz' '$T/info.wav' && grep -q '^sample rate:  50 Hz' '$T/info.flac' &&
    grep -q '^full scale:   8 g (comment)' '$T/info.flac'"
/usr/bin/python3 - "$T" <<'PY'
import csv, sys
T = sys.argv[1]
rows = list(csv.DictReader(open(T + "/mixed.csv")))
r = [x for x in rows if x["recording"] == "S02_magnesium_n1"][0]
with open(T + "/conv.csv.manifest", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(r.keys()))
    w.writeheader()
    for ext in ("cwa", "wav", "flac"):
        q = dict(r, path="cwa.cwa" if ext == "cwa" else "conv." + ext, recording="n_" + ext)
        w.writerow(q)
PY
"$A" run "$T/conv.csv.manifest" -o "$T/conv_run.h5" -q >/dev/null 2>&1
check "run on the converted WAV and FLAC gives the CWA's night: plm_tib_index within max(2/h, 10 %), time in bed within 0.1 h" /usr/bin/python3 -c "
import h5py, sys
n = {r['recording'].decode(): r for r in h5py.File('$T/conv_run.h5', 'r')['nights'][...]}
c = n['n_cwa']
for k in ('n_wav', 'n_flac'):
    print(k, float(n[k]['plm_tib_index']), float(c['plm_tib_index']), float(n[k]['tib_h']), float(c['tib_h']))
ok = len(n) == 3 and all(abs(n[k]['plm_tib_index'] - c['plm_tib_index']) <= max(2, 0.1 * c['plm_tib_index'])
                         and abs(n[k]['tib_h'] - c['tib_h']) <= 0.1 for k in ('n_wav', 'n_flac'))
sys.exit(0 if ok else 1)"
