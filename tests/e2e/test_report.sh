#!/bin/sh
# test_report.sh -- actiplm report and actiplm plot. A simulated study (3 subjects x 2 conditions)
# plus a recording that fails (missing file) and a night without movements (noise around 1 g,
# tests/gen/mkwav), and a 7-day recording in a results file of its own. Truth: the results files
# themselves (h5py): the raster's marks are the rows of /recordings/<id>/lm, its PLM marks their
# plm flags; the IMI bars' heights are proportional to imi_histogram; the paired plot has one line
# per subject with both conditions. The page is opened in headless Chromium (Debian's chromium):
# no console message, a screenshot that is not blank, one figure set per night in the DOM.
set -u
. "$(pwd)/tests/e2e_lib.sh"
MKWAV="$(pwd)/$BUILD/tests/mkwav"
T=$(mktemp -d "${TMPDIR:-/tmp}/actiplm-report-XXXXXX")
trap 'rm -rf "$T"' EXIT

"$A" simulate -o "$T/s" --subjects 3 --fs 25 --seed 77 >/dev/null 2>&1
"$MKWAV" "$T/s/recordings/quiet.wav" 3 25 720000 float >/dev/null 2>&1
{ cat "$T/s/manifest.csv"; } >"$T/m.csv"
hdr=$(head -1 "$T/m.csv")
/usr/bin/python3 - "$T" <<'PY'
import csv, sys
T = sys.argv[1]
rows = list(csv.DictReader(open(T + "/s/manifest.csv")))
cols = list(rows[0].keys())
with open(T + "/m.csv", "w", newline="") as f:
    w = csv.DictWriter(f, cols)
    w.writeheader()
    for r in rows:
        r["path"] = "s/" + r["path"]
        if r.get("annotations"): r["annotations"] = "s/" + r["annotations"]
        w.writerow(r)
    extra = {c: "" for c in cols}
    w.writerow(dict(extra, subject="S09", condition="control", path="s/recordings/missing.wav", recording="missing"))
    w.writerow(dict(extra, subject="S10", condition="control", path="s/recordings/quiet.wav", recording="quiet"))
PY
"$A" run "$T/m.csv" -o "$T/r.h5" -q -j 2 >/dev/null 2>"$T/run.err"
"$A" report "$T/r.h5" -o "$T/report.html" >"$T/out" 2>"$T/err"; rc=$?
check "report writes one page: 7 night sections, under 5 MB, exit 0" sh -c "
    [ $rc -eq 0 ] && grep -q 'report.html: 7 night sections' '$T/out' && [ \$(wc -c <'$T/report.html') -lt 5000000 ] ||
    { cat '$T/out' '$T/err' '$T/run.err'; false; }"
check "the page is self-contained: no script, stylesheet link, image or URL fetched" sh -c "
    ! grep -Eq '<script|<link|<img|<iframe|src=|href=\"(https?:)?//|url\\((https?:)?//|@import' '$T/report.html'"

/usr/bin/python3 - "$T" <<'PY' >"$T/svgs.txt"
import re, sys
T = sys.argv[1]
s = open(T + "/report.html", encoding="utf-8").read()
for i, m in enumerate(re.finditer(r"<svg.*?</svg>", s, re.S)):
    open(f"{T}/fig{i:03d}.svg", "w", encoding="utf-8").write('<?xml version="1.0" encoding="UTF-8"?>\n' + m.group(0))
    print(f"{T}/fig{i:03d}.svg")
PY
if command -v xmllint >/dev/null 2>&1; then
    check "every SVG of the page parses as XML (xmllint), 31 of them (3 paired + 7 nights x 4)" sh -c "
        [ \$(wc -l <'$T/svgs.txt') -eq 31 ] && xargs xmllint --noout <'$T/svgs.txt'"
else
    skip "xmllint not installed (Debian libxml2-utils): SVGs not parsed"
fi

# libxml2's HTML parser knows no HTML5 (section, figure, svg) and misreads some long attributes;
# Python's html.parser checks that every element is closed where it opened, and the ids
check "the page's elements nest and close (html.parser), its ids are unique" /usr/bin/python3 - "$T/report.html" <<'PY'
import sys
from html.parser import HTMLParser
VOID = {"meta", "br", "img", "input", "link", "hr", "wbr", "col", "source"}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.bad, self.ids = [], [], []
    def handle_starttag(self, tag, attrs):
        self.ids += [v for k, v in attrs if k == "id"]
        if tag not in VOID: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.ids += [v for k, v in attrs if k == "id"]
    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag: self.bad.append((tag, self.stack[-3:]))
        else: self.stack.pop()
p = P()
p.feed(open(sys.argv[1], encoding="utf-8").read())
p.close()
dup = {i for i in p.ids if p.ids.count(i) > 1}
print(p.bad[:3], p.stack[:3], sorted(dup)[:3], len(p.ids))
sys.exit(1 if p.bad or p.stack or dup or len(p.ids) < 100 else 0)
PY

check "the raster draws exactly /lm: one mark per movement, PLM marks = the plm flags, on every night" /usr/bin/python3 - "$T" <<'PY'
import re, sys
import h5py
T = sys.argv[1]
s = open(T + "/report.html", encoding="utf-8").read()
f = h5py.File(T + "/r.h5", "r")
bad, total = [], 0
for sec in re.finditer(r'<section class="night" id="night-([^"]+)">(.*?)</section>', s, re.S):
    rid, body = sec.group(1), sec.group(2)
    raster = re.search(r'<figure class="fig-raster">(.*?)</figure>', body, re.S).group(1)
    lm = f["recordings"][rid]["lm"][...]
    marks = len(re.findall(r'class="lm ', raster))
    plm = len(re.findall(r'class="lm plm"', raster))
    total += marks
    if marks != len(lm) or plm != int(lm["plm"].sum()):
        bad.append(f"{rid}: {marks} marks for {len(lm)} rows, {plm} PLM marks for {int(lm['plm'].sum())}")
print(bad, total)
sys.exit(1 if bad or total < 300 else 0)
PY

check "the IMI bars' heights are proportional to imi_histogram, one bar per non-empty bin" /usr/bin/python3 - "$T" <<'PY'
import re, sys
import h5py
T = sys.argv[1]
s = open(T + "/report.html", encoding="utf-8").read()
f = h5py.File(T + "/r.h5", "r")
bad = []
for sec in re.finditer(r'<section class="night" id="night-([^"]+)">(.*?)</section>', s, re.S):
    rid, body = sec.group(1), sec.group(2)
    imi = re.search(r'<figure class="fig-imi">(.*?)</figure>', body, re.S).group(1)
    counts = [int(c) for c in f["recordings"][rid]["imi_histogram"]["count"] if c > 0]
    bars = []
    for d in re.findall(r'<path class="imi-bar"[^>]* d="([^"]+)"', imi):
        nums = [float(v) for v in re.findall(r"-?[0-9.]+", d)]
        xs, ys = nums[0::2], nums[1::2]
        bars.append((min(xs), max(ys) - min(ys)))
    h = [b[1] for b in sorted(bars)]
    if len(h) != len(counts) or (h and max(abs(a / c - h[0] / counts[0]) for a, c in zip(h, counts)) > 0.02 * h[0] / counts[0] + 0.01):
        bad.append(f"{rid}: bars {h[:6]} counts {counts[:6]}")
print(bad)
sys.exit(1 if bad else 0)
PY

check "the paired plots: one line per subject with both conditions (nights averaged), per primary outcome" /usr/bin/python3 - "$T" <<'PY'
import math, re, sys
import h5py
T = sys.argv[1]
s = open(T + "/report.html", encoding="utf-8").read()
n = h5py.File(T + "/r.h5", "r")["nights"][...]
figs = re.findall(r'<figure class="paired-figure" data-outcome="([a-z_]+)">(.*?)</figure>', s, re.S)
want, order = [], [o for o, _ in figs]
for outcome in order:
    have = {}
    for r in n:
        v = float(r[outcome])
        if math.isfinite(v): have.setdefault(r["subject"], set()).add(r["condition"])
    want.append(sum(1 for c in have.values() if {b"control", b"magnesium"} <= c))
got = [len(re.findall(r'class="subject-line"', x)) for _, x in figs]
print(order, got, want)
ok = sorted(order) == ["plms_a_index", "plms_index", "se_pct"] and got == want
sys.exit(0 if ok and want[order.index("plms_index")] == 3 and want[order.index("plms_a_index")] == 0 else 1)
PY

check "the failed recording and the night without movements (0 rows in its lm): failures table, flagged row, its section" sh -c "
    grep -q '<td class=\"l\">missing</td><td class=\"l\">[^<]*missing.wav: cannot open' '$T/report.html' &&
    grep -q 'failed (see Failures)' '$T/report.html' && grep -q 'id=\"night-quiet\"' '$T/report.html' &&
    /usr/bin/python3 -c \"import h5py, sys; sys.exit(len(h5py.File('$T/r.h5', 'r')['recordings/quiet/lm']) != 0)\""

check "provenance: version, fingerprint, manifest checksum, every parameter and every input's SHA-256" /usr/bin/python3 - "$T" <<'PY'
import hashlib, re, sys
import h5py
T = sys.argv[1]
s = open(T + "/report.html", encoding="utf-8").read()
f = h5py.File(T + "/r.h5", "r")
params = {k: v for k, v in f.attrs.items() if k.startswith("param.")}
rows = dict(re.findall(r'<tr><td class="l">(param\.[^<]+)</td><td class="l">([^<]*)</td></tr>', s))
ok = set(rows) == set(params) and rows["param.score.rules"] == "wasm2016" and f.attrs["params_fingerprint"] in s
ok = ok and f.attrs["software_version"] in s and f.attrs["manifest_sha256"] in s
for rid in f["recordings"]:
    ok = ok and hashlib.sha256(open(f["recordings"][rid].attrs["source_path"], "rb").read()).hexdigest() in s
print(len(rows), len(params))
sys.exit(0 if ok else 1)
PY

# --- the page in a real browser ------------------------------------------------------------------
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROME" ]; then
    HOME="$T" timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars --no-first-run \
        --enable-logging=stderr --v=0 --window-size=1100,1400 --screenshot="$T/shot.png" "file://$T/report.html" \
        >"$T/chrome.out" 2>"$T/chrome.err"
    HOME="$T" timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --dump-dom \
        "file://$T/report.html" >"$T/dom.html" 2>/dev/null
    check "Chromium loads the page with no console message" sh -c "
        [ -s '$T/shot.png' ] && ! grep -q 'CONSOLE' '$T/chrome.err' || { grep CONSOLE '$T/chrome.err' | head; false; }"
    check "the screenshot of the study page is not blank" /usr/bin/python3 - "$T/shot.png" <<'PY'
import sys
try:
    from PIL import Image
except ImportError:  # without Pillow: a blank 1100 x 1400 PNG compresses to a few kB
    import os
    sys.exit(0 if os.path.getsize(sys.argv[1]) > 40000 else 1)
im = Image.open(sys.argv[1]).convert("RGB")
px = list(im.getdata())
white = sum(1 for p in px if p == (255, 255, 255)) / len(px)
colours = len(set(px))
print(f"white {white:.2f}, colours {colours}")
sys.exit(0 if white < 0.97 and colours > 50 else 1)
PY
    check "the DOM Chromium built: one section per night (7), each with its 4 figures" /usr/bin/python3 - "$T/dom.html" <<'PY'
import re, sys
s = open(sys.argv[1], encoding="utf-8").read()
secs = re.findall(r'<section class="night" id="night-[^"]+">(.*?)</section>', s, re.S)
ok = len(secs) == 7 and all(len(re.findall(r"<svg", x)) == 4 for x in secs)
print(len(secs), [len(re.findall(r"<svg", x)) for x in secs])
sys.exit(0 if ok else 1)
PY
else
    skip "chromium not installed (Debian chromium): page not opened in a browser"
    skip "chromium not installed: no screenshot"
    skip "chromium not installed: no DOM"
fi

# --- actiplm plot ---------------------------------------------------------------------------------
N=$(/usr/bin/python3 -c "import h5py; print(h5py.File('$T/r.h5', 'r')['nights'][0]['recording'].decode())")
ok=1
for k in activity raster sleep imi; do
    "$A" plot "$T/r.h5" --figure $k --night "$N" -o "$T/$k.png" 2>>"$T/plot.err" || ok=0
    "$A" plot "$T/r.h5" --figure $k --night "$N" -o "$T/$k.svg" 2>>"$T/plot.err" || ok=0
done
"$A" plot "$T/r.h5" --figure paired -o "$T/paired.png" --width 600 --height 320 2>>"$T/plot.err" || ok=0
"$A" plot "$T/r.h5" --figure paired --outcome plms_a_index -o "$T/allnan.svg" 2>>"$T/plot.err" || ok=0
check "plot writes every figure as PNG and SVG, and an all-NaN outcome's paired plot" /usr/bin/python3 -c "
import glob, sys
pngs = [p for p in glob.glob('$T/*.png') if not p.endswith('shot.png')]
ok = $ok == 1 and len(pngs) == 5 and all(open(p, 'rb').read(8) == b'\x89PNG\r\n\x1a\n' for p in pngs)
ok = ok and 'no subject has values' not in open('$T/raster.svg').read() and open('$T/allnan.svg').read().startswith('<?xml')
sys.exit(0 if ok else 1)"
"$A" plot "$T/r.h5" --figure raster --night nope -o "$T/x.svg" 2>"$T/err"; rc1=$?
"$A" plot "$T/r.h5" --figure bogus -o "$T/x.svg" 2>/dev/null; rc2=$?
"$A" plot "$T/r.h5" --figure raster --night "$N" -o "$T/x.pdf" 2>/dev/null; rc3=$?
check "plot: an unknown night is one line and exit 1; an unknown figure or extension exit 2" sh -c "
    [ $rc1 -eq 1 ] && grep -q \"no recording 'nope'\" '$T/err' && [ \$(wc -l <'$T/err') -eq 1 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 2 ]"

# --- a 7-day recording ----------------------------------------------------------------------------
"$MKWAV" "$T/week.wav" 3 10 6048000 float >/dev/null 2>&1
printf 'subject,condition,path\nW,control,week.wav\n' >"$T/week.csv"
"$A" run "$T/week.csv" -o "$T/week.h5" -q >/dev/null 2>&1
"$A" report "$T/week.h5" -o "$T/week.html" >/dev/null 2>"$T/err"; rc=$?
check "a 7-day recording renders: its section under 1 MB (activity reduced to the pixel width)" /usr/bin/python3 -c "
import re, sys
s = open('$T/week.html', encoding='utf-8').read()
sec = re.search(r'<section class=\"night\".*?</section>', s, re.S).group(0)
print(len(sec))
sys.exit(0 if $rc == 0 and 10000 < len(sec) < 1000000 and sec.count('<svg') == 4 else 1)"

IDS=$(/usr/bin/python3 -c "import h5py; n = h5py.File('$T/r.h5', 'r')['nights']; print(n[0]['recording'].decode() + ',' + n[2]['recording'].decode())")
"$A" report "$T/r.h5" --nights "$IDS" -o "$T/two.html" >"$T/out" 2>&1
check "report --nights A,B: those two sections, the tables still list every night" sh -c "
    grep -q '2 night sections' '$T/out' && [ \$(grep -c '<section class=\"night\"' '$T/two.html') -eq 2 ] &&
    [ \$(grep -o 'href=\"#night-' '$T/two.html' | wc -l) -eq 7 ]"

# --- bad inputs: one line each, exit 1, nothing written --------------------------------------------
"$A" report "$T/absent.h5" -o "$T/bad1.html" 2>"$T/e1"; r1=$?
"$A" report "$T/report.html" -o "$T/bad2.html" 2>"$T/e2"; r2=$?
"$A" convert "$T/s/recordings/quiet.wav" -o "$T/conv" --to h5 >/dev/null 2>&1
"$A" report "$T/conv.h5" -o "$T/bad3.html" 2>"$T/e3"; r3=$?
"$A" report "$T/r.h5" -o "$T/nodir/r.html" 2>"$T/e4"; r4=$?
"$A" report "$T/r.h5" --nights nope -o "$T/bad5.html" 2>"$T/e5"; r5=$?
check "report: a missing file, not HDF5, not a results file, an unwritable output, an unknown night: one line, exit 1, no page" sh -c "
    [ $r1 -eq 1 ] && grep -q 'absent.h5: cannot open: No such file' '$T/e1' && [ $r2 -eq 1 ] && grep -q 'not a readable HDF5 file' '$T/e2' &&
    [ $r3 -eq 1 ] && grep -q 'conv.h5: no /nights' '$T/e3' && [ $r4 -eq 1 ] && grep -q 'r.html: cannot create' '$T/e4' &&
    [ $r5 -eq 1 ] && grep -q \"no night 'nope'\" '$T/e5' && [ \$(cat '$T'/e[1-5] | wc -l) -eq 5 ] && ! ls '$T'/bad*.html 2>/dev/null"
