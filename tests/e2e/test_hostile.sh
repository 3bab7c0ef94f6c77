#!/bin/sh
# test_hostile.sh -- the hostile-input suite in tests/hostile/ (files made by its make.py):
# each file gets exactly the answer tests/hostile/expected.txt gives for it, on one stderr
# line naming the file, and in /failures; the good rows are processed with finite indices.
set -u
. "$(pwd)/tests/e2e_lib.sh"
H="$(pwd)/tests/hostile"
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-hostile-XXXXXX")
trap 'rm -rf "$T"' EXIT

# the study manifest (BOM, CRLF, blank line, quotes, a path with a space and non-ASCII) and every
# manifest of its own, each run once; then one checker compares everything with expected.txt
"$A" run "$H" -o "$T/h.h5" -j 2 >"$T/out" 2>"$T/err"
echo $? >"$T/rc"
for m in "$H"/manifest_*.csv; do
    b=$(basename "$m" .csv)
    "$A" run "$m" -o "$T/$b.h5" -q >/dev/null 2>"$T/$b.err"
    echo $? >"$T/$b.rc"
done
/usr/bin/python3 - "$H" "$T" <<'EOF'
import h5py, math, os, sys
H, T = sys.argv[1], sys.argv[2]
n = 0
def check(desc, cond, detail=""):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, desc))
    if not cond and detail:
        print("\n".join("#   " + l for l in str(detail).splitlines()))
exp = [l.rstrip("\n").split("\t") for l in open(os.path.join(H, "expected.txt"), encoding="utf-8") if l.strip() and not l.startswith("#")]
err = open(os.path.join(T, "err"), encoding="utf-8").read().splitlines()
f = h5py.File(os.path.join(T, "h.h5"), "r")
dec = lambda v: v.decode() if isinstance(v, bytes) else v
nights = {dec(r["recording"]): r for r in f["nights"][...]}
fails = {dec(r["recording"]): dec(r["error"]) for r in f["failures"][...]}
rows = [e for e in exp if not e[0].endswith(".csv")]
check("manifest.csv (BOM, CRLF, blank line, quotes) is read: exit 1, %d rows" % len(rows),
      open(os.path.join(T, "rc")).read().strip() == "1" and len(nights) + len(fails) == len(rows),
      "%d nights, %d failures" % (len(nights), len(fails)))
for rec, outcome, text in rows:
    if outcome == "failed":
        lines = [l for l in err if text in l]
        check("%s: fails with '%s' (stderr, one line naming the file; /failures)" % (rec, text),
              rec in fails and text in fails[rec] and rec not in nights and len(lines) == 1
              and lines[0].startswith("actiplm: ") and "/hostile/" in lines[0],
              "failures: %r\nstderr lines: %r" % (fails.get(rec), lines))
    else:
        r = nights.get(rec)
        ok = r is not None and rec not in fails and all(math.isfinite(r[k]) for k in ("plms_index", "se_pct", "tst_h", "lm_index"))
        if text != "-":
            ok = ok and sum(text in l for l in err) == 1
        check("%s: processed, indices finite%s" % (rec, "" if text == "-" else ", stderr: '%s'" % text), ok,
              "night: %r\nfailure: %r" % (r, fails.get(rec)))
check("every diagnostic is one line starting 'actiplm: ' or a progress line 'actiplm run: '",
      all(l.startswith("actiplm: ") or l.startswith("actiplm run: ") for l in err), "\n".join(err))
for m, outcome, text in (e for e in exp if e[0].endswith(".csv")):
    b = m[:-4]
    e = open(os.path.join(T, b + ".err"), encoding="utf-8").read().splitlines()
    rc = open(os.path.join(T, b + ".rc")).read().strip()
    check("%s: exit 1, '%s' on one line" % (m, text), rc == "1" and sum(text in l for l in e) == 1 and all(l.startswith("actiplm: ") for l in e),
          "rc %s\n%s" % (rc, "\n".join(e)))
print("# hostile: %d checks" % n)
EOF
