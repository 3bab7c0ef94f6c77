#!/bin/sh
# test_two_devices.sh -- one device per ankle: the sample study (made here as `make run` makes
# sample-data/study: 12 nights of
# two legs) written as two Axivity CWA files per night by tests/gen/mkcwa, the left device on
# time, the right one's sample clock 1 % fast (50.5 Hz for a nominal 50) and started 37 s later.
# Truth: the single-file WAV run of the same nights. The detector's own tolerance, stated in
# docs/input.md and measured here:
#   - each leg's movements: >= 99 % of the WAV's found again with their onset within 0.5 s (the
#     bilateral rule's own window; the rest are movements at the recording's new first 37 s and
#     long wake movements whose onset is ill-defined);
#   - bilateral movements stay bilateral: the count of movements scored on both legs within
#     max(2, 2 %) of the WAV's on every night (measured: equal on all 12);
#   - /nights: movement counts within max(5, 2 %), every index within max(2/h, 10 %) (the
#     validation tolerance), sleep efficiency within 1.5 points.
# A misalignment breaks all of it: the right clock's 1 % drifts 0.5 s in the first 50 s.
set -u
. "$(pwd)/tests/e2e_lib.sh"
MKCWA="$(pwd)/$BUILD/tests/mkcwa"
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-two-XXXXXX")
trap 'rm -rf "$T"' EXIT
# the sample study, made here as `make run` makes it (the Makefile's SIM_ARGS)
S="$T/study"
"$A" simulate -o "$S" $(sed -n 's/^SIM_ARGS *= *//p' Makefile) >/dev/null 2>&1

/usr/bin/python3 - "$S" "$T" "$MKCWA" >"$T/gen.log" 2>&1 <<'PY'
import csv, subprocess, sys
S, T, mkcwa = sys.argv[1:4]
rows = list(csv.DictReader(open(S + "/manifest.csv")))
cols = ["subject", "condition", "night", "path", "path_right", "recording", "timezone", "lights_off", "lights_on"]
with open(T + "/manifest.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(cols)
    for r in rows:
        start = ["--start", r["start"][:19].replace("T", " ")] if r["start"] else []  # else the WAV's bext
        wav, rec = S + "/" + r["path"], r["recording"]
        subprocess.check_call([mkcwa, f"{T}/{rec}_L.cwa", "--wav", wav, "--leg", "L", "--device-id", "1001"] + start)
        subprocess.check_call([mkcwa, f"{T}/{rec}_R.cwa", "--wav", wav, "--leg", "R", "--device-id", "2002",
                               "--clock-error", "0.01", "--delay", "37"] + start)
        w.writerow([r["subject"], r["condition"], r["night"], f"{rec}_L.cwa", f"{rec}_R.cwa", rec, r["timezone"],
                    r["lights_off"], r["lights_on"]])
PY
check "mkcwa writes the 24 device files (12 nights x 2 ankles)" sh -c "[ \$(ls '$T'/*.cwa | wc -l) -eq 24 ] || { cat '$T/gen.log'; false; }"

"$A" run "$S" -o "$T/wav.h5" -q >/dev/null 2>"$T/err.wav"
"$A" run "$T/manifest.csv" -o "$T/two.h5" -j 2 -v >"$T/out" 2>"$T/err"; rc=$?
check "run on the two-device study: 12 of 12 nights, statistics computed (exit 0)" sh -c "
    [ $rc -eq 0 ] && grep -q '12 of 12 recordings processed, 0 failed' '$T/out' || { cat '$T/err'; false; }"
check "run reports each device's rate and the right one's start (-v): 50.5000 Hz (+1.00 %), started 37.00 s after the left" \
    grep -q 'two devices: left Axivity AX3 1001, 50.0000 Hz (nominal 50, +0.00 %); right Axivity AX3 2002, 50.5000 Hz (nominal 50, +1.00 %), started 37.0[0-2] s after the left' "$T/err"

check "the same /nights as the WAV's within the stated tolerance; bilateral movements stay bilateral" /usr/bin/python3 - "$T" <<'PY'
import datetime, sys
import h5py, numpy as np
T = sys.argv[1]
a, b = h5py.File(T + "/two.h5", "r"), h5py.File(T + "/wav.h5", "r")
na = {r["recording"].decode(): r for r in a["nights"][...]}
nb = {r["recording"].decode(): r for r in b["nights"][...]}
bad, found, total, worst = [], 0, 0, {}
def t0(g):
    return datetime.datetime.fromisoformat(g.attrs["start_utc"].replace("Z", "+00:00")).timestamp()
assert len(na) == len(nb) == 12, (len(na), len(nb))
for k, w in nb.items():
    r = na[k]
    for c in ("lm_count", "plm_count", "plms_count"):
        d = abs(int(r[c]) - int(w[c]))
        worst[c] = max(worst.get(c, 0), d)
        if d > max(5, 0.02 * w[c]): bad.append(f"{k} {c} {r[c]} vs {w[c]}")
    for c in ("lm_index", "plms_index", "plmw_index", "plm_tib_index", "plms_a_index"):
        d = abs(float(r[c]) - float(w[c]))
        worst[c] = max(worst.get(c, 0), d)
        if d > max(2, 0.1 * w[c]): bad.append(f"{k} {c} {r[c]:.2f} vs {w[c]:.2f}")
    worst["se_pct"] = max(worst.get("se_pct", 0), abs(float(r["se_pct"]) - float(w["se_pct"])))
    if abs(r["se_pct"] - w["se_pct"]) > 1.5: bad.append(f"{k} se_pct {r['se_pct']:.2f} vs {w['se_pct']:.2f}")
    ga, gb = a["recordings"][k], b["recordings"][k]
    bil_a, bil_b = int(np.sum(ga["lm"]["leg"] == 3)), int(np.sum(gb["lm"]["leg"] == 3))
    if bil_b < 20 or abs(bil_a - bil_b) > max(2, 0.02 * bil_b): bad.append(f"{k} bilateral {bil_a} vs {bil_b}")
    shift = t0(ga) - t0(gb)  # the two-device recording starts when both devices run
    if not 36.9 < shift < 37.1: bad.append(f"{k} start {shift:.3f} s after the WAV's")
    for leg in (1, 2):
        x = np.sort(ga["lm_leg"]["onset_s"][ga["lm_leg"]["leg"] == leg]) + shift
        y = gb["lm_leg"]["onset_s"][gb["lm_leg"]["leg"] == leg]
        y = y[y >= shift]
        i = np.clip(np.searchsorted(x, y), 1, len(x) - 1)
        d = np.minimum(np.abs(x[i] - y), np.abs(x[i - 1] - y))
        found += int(np.sum(d <= 0.5))
        total += len(y)
print("worst differences:", {k: round(v, 3) for k, v in worst.items()}, f"per-leg movements found again {found}/{total}")
if found < 0.99 * total: bad.append(f"per-leg movements found again: {found} of {total}")
if bad:
    print("\n".join(bad))
    sys.exit(1)
PY

check "each night records both devices: rates, offsets, serials, checksums (/recordings attributes)" /usr/bin/python3 -c "
import h5py, hashlib, sys
g = h5py.File('$T/two.h5', 'r')['recordings/S03_control_n1'].attrs
sha = hashlib.sha256(open('$T/S03_control_n1_R.cwa', 'rb').read()).hexdigest()
ok = abs(g['left_fs_hz'] - 50) < 1e-6 and abs(g['right_fs_hz'] - 50.5) < 1e-6 and g['right_fs_nominal_hz'] == 50
ok = ok and abs(g['right_offset_s'] - g['left_offset_s'] - 37) < 0.03 and g['left_serial'] == '1001'
ok = ok and g['right_serial'] == '2002' and g['right_sha256'] == sha and g['format'].startswith('two files: CWA')
ok = ok and g['right_source_path'].endswith('S03_control_n1_R.cwa') and abs(g['fs_hz'] - 50) < 1e-6
sys.exit(0 if ok else 1)"

"$A" info "$T/S01_control_n1_L.cwa" --right "$T/S01_control_n1_R.cwa" --timezone Europe/Berlin >"$T/info" 2>&1; rc=$?
check "info --right: each device's rate and first sample, the recording is the overlap" sh -c "
    [ $rc -eq 0 ] && grep -q '^left  file:' '$T/info' && grep -q '^right file:' '$T/info' &&
    grep -q '50.5000 Hz observed from the file.s sample times (nominal 50 Hz, +1.00 %)' '$T/info' &&
    grep -q 'frames (37.0 s) before the other file began' '$T/info' && grep -q '^channels:     6' '$T/info' || { cat '$T/info'; false; }"

"$A" convert "$T/S01_control_n1_L.cwa" --right "$T/S01_control_n1_R.cwa" --timezone Europe/Berlin -o "$T/conv" --to h5 >/dev/null 2>"$T/err"; rc=$?
check "convert --right writes accel_g N x 6 (left then right) with each device's rate and offset" /usr/bin/python3 -c "
import h5py, numpy as np, sys
f = h5py.File('$T/conv.h5', 'r')
a = f['accel_g']
ok = $rc == 0 and a.shape[1] == 6 and a.shape[0] == f['time_unix_s'].shape[0] > 1700000
ok = ok and abs(f.attrs['right_fs_hz'] - 50.5) < 1e-6 and abs(f.attrs['right_offset_s'] - f.attrs['left_offset_s'] - 37) < 0.03
m = np.linalg.norm(a[100000:200000, 3:6], axis=1)  # the right leg: gravity, about 1 g
ok = ok and 0.9 < np.median(m) < 1.1
sys.exit(0 if ok else 1)"

# --- bad rows: each fails alone with its reason; the rest of the batch runs --------------------
cp "$T/S01_control_n1_L.cwa" "$T/other.cwa"
cat >"$T/bad.csv" <<EOF
subject,condition,night,path,path_right,timezone,recording
S01,control,1,S01_control_n1_L.cwa,S01_control_n1_R.cwa,Europe/Berlin,good
S02,control,1,S01_control_n1_L.cwa,missing_R.cwa,Europe/Berlin,missing
S03,control,1,S01_control_n1_L.cwa,S02_control_n1_R.cwa,Europe/Berlin,apart
S04,control,1,S01_control_n1_L.cwa,S01_control_n1_L.cwa,Europe/Berlin,same
EOF
"$A" run "$T/bad.csv" -o "$T/bad.h5" -q >"$T/out" 2>"$T/err"; rc=$?
check "a missing right file, files that do not overlap, the same file twice: one line each (and why no statistics), the good night is kept" sh -c "
    [ $rc -eq 1 ] && grep -q '1 of 4 recordings processed, 3 failed' '$T/out' &&
    grep -q 'missing_R.cwa: cannot open' '$T/err' && grep -q 'do not overlap in time' '$T/err' &&
    grep -q 'bad.csv:5: path_right names the same file as path' '$T/err' &&
    grep -q 'no statistics: no .magnesium. nights' '$T/err' && [ \$(wc -l <'$T/err') -eq 4 ] || { cat '$T/err'; false; }"

# --- resume: a changed right file is processed again -------------------------------------------
head -2 "$T/bad.csv" >"$T/one.csv"
"$A" run "$T/one.csv" -o "$T/one.h5" -q >/dev/null 2>&1
"$A" run "$T/one.csv" -o "$T/one.h5" --resume >"$T/out1" 2>&1
"$MKCWA" "$T/S01_control_n1_R.cwa" --wav "$S/recordings/S01_control_n1.wav" --leg R --device-id 2002 --clock-error 0.01 --delay 38 >/dev/null 2>&1
"$A" run "$T/one.csv" -o "$T/one.h5" --resume >"$T/out2" 2>&1
check "--resume reuses the night while both files are unchanged, redoes it when the right file changes" sh -c "
    grep -q '(1 reused)' '$T/out1' && grep -q '(0 reused)' '$T/out2' || { cat '$T/out1' '$T/out2'; false; }"
