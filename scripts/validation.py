#!/usr/bin/python3
"""validation.py BUILD OUT.md -- regenerate docs/validation.md from fixed seeds.

Simulates studies with `actiplm simulate`, runs `actiplm run`, scores every
recording with `actiplm compare --json` against the simulator's truth, checks
calibration against truth/calibration.csv, and writes a Markdown report.
"""
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile

import h5py

BUILD, OUT = sys.argv[1], sys.argv[2]
A = os.path.join(BUILD, "actiplm")

SCENARIOS = [
    ("default noise (3 mg), spikes 1/h, drift 5 mg", [], [101, 102, 103]),
    ("3x noise (9 mg), spikes 10/h, drift 15 mg", ["--noise-mg", "9", "--spike-rate", "10", "--drift-mg", "15"], [201, 202, 203]),
    ("default, 25 Hz", ["--fs", "25"], [301]),
    ("default, 100 Hz", ["--fs", "100"], [401]),
]


def run(args):
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def scenario(tmp, label, extra, seeds):
    rows = []
    for seed in seeds:
        d = os.path.join(tmp, f"s{seed}")
        run([A, "simulate", "-o", d, "--subjects", "3", "--seed", str(seed)] + extra)
        h5 = os.path.join(tmp, f"r{seed}.h5")
        run([A, "run", d, "-o", h5, "-q"])
        for r in csv.DictReader(open(os.path.join(d, "manifest.csv"))):
            rec = r["recording"]
            j = json.loads(run([A, "compare", h5, os.path.join(d, "truth", f"{rec}.events.csv"), "--recording", rec, "--json"]))
            rows.append(j)
    legs = {}
    for leg in ("left", "right", "overall"):
        tp = sum(r[leg]["tp"] for r in rows)
        fn = sum(r[leg]["fn"] for r in rows)
        fp = sum(r[leg]["fp"] for r in rows)
        f1s = [r[leg]["f1"] for r in rows if r[leg]["f1"] is not None]
        on = [r[leg]["onset_err_median_s"] for r in rows if r[leg]["onset_err_median_s"] is not None]
        off = [r[leg]["offset_err_median_s"] for r in rows if r[leg]["offset_err_median_s"] is not None]
        on95 = [r[leg]["onset_err_p95_s"] for r in rows if r[leg]["onset_err_p95_s"] is not None]
        legs[leg] = dict(tp=tp, fn=fn, fp=fp, se=tp / (tp + fn), ppv=tp / (tp + fp), f1=2 * tp / (2 * tp + fn + fp),
                         f1_min=min(f1s), on=statistics.median(on), on95=max(on95), off=statistics.median(off))
    return label, len(rows), legs


def nights(tmp, seeds):
    """Per-night PLMS index and sleep efficiency against the truth: estimated sleep/wake, and
    with the simulator's stages (as a sleep lab's PSG scoring would give them) as annotations."""
    out = {"estimated": [], "stages": [], "estimated, no PLM masking": []}
    bracket, bound, tib = [], [], {m: [] for m in out}
    for seed in seeds:
        d = os.path.join(tmp, f"n{seed}")
        run([A, "simulate", "-o", d, "--subjects", "6", "--seed", str(seed)])
        rows = list(csv.DictReader(open(os.path.join(d, "manifest.csv"))))
        with open(os.path.join(d, "manifest_stages.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) + ["annotations"])
            w.writeheader()
            for r in rows:
                r["annotations"] = f"truth/{r['recording']}.events.csv"
                w.writerow(r)
        truth = {r["recording"]: r for r in csv.DictReader(open(os.path.join(d, "truth", "nights.csv")))}
        for mode, manifest, extra in (("estimated", "manifest.csv", []), ("stages", "manifest_stages.csv", []),
                                      ("estimated, no PLM masking", "manifest.csv", ["--no-lm-mask"])):
            h5 = os.path.join(tmp, f"n{seed}_{mode[:5]}{len(extra)}.h5")
            run([A, "run", os.path.join(d, manifest), "-o", h5, "-q"] + extra)
            f = h5py.File(h5, "r")
            for r in f["nights"][...]:
                rec = r["recording"].decode()
                t = truth[rec]
                out[mode].append((float(t["plms_index"]), float(r["plms_index"]), float(t["se_pct"]), float(r["se_pct"]),
                                  int(t["plm_count"]), int(r["plm_count"])))
                tib[mode].append((float(t["plm_tib_index"]), float(r["plm_tib_index"])))
                if mode == "estimated":
                    a = f["recordings"][rec].attrs
                    between = lambda x, lo, hi: min(lo, hi) <= x <= max(lo, hi)
                    bracket.append((between(float(t["plms_index"]), a["plms_index_masked"], a["plms_index_unmasked"]),
                                    between(float(t["se_pct"]), a["se_masked_pct"], a["se_unmasked_pct"])))
        for rec, t in truth.items():
            bound.append(leg_best_case(d, rec, t))
    res = {}
    for mode, v in out.items():
        n = len(v)
        plms_ok = sum(abs(b - a) <= max(2, 0.1 * a) for a, b, *_ in v)
        se_ok = sum(abs(d_ - c_) <= 5 for _, _, c_, d_, *_ in v)
        res[mode] = dict(n=n, plms_ok=plms_ok, se_ok=se_ok,
                         tib_ok=sum(abs(b - a) <= max(2, 0.1 * a) for a, b in tib[mode]),
                         plms_err=statistics.median(abs(b - a) for a, b, *_ in v),
                         se_err=statistics.median(abs(d_ - c_) for _, _, c_, d_, *_ in v),
                         se_bias=statistics.mean(d_ - c_ for _, _, c_, d_, *_ in v),
                         plm_err=statistics.median(abs(f_ - e_) / e_ for *_, e_, f_ in v if e_))
    res["bracket_plms"] = sum(b for b, _ in bracket)
    res["bracket_se"] = sum(b for _, b in bracket)
    res["bound_ok"] = sum(b[0] for b in bound)
    res["plmw"] = sum(b[1] for b in bound)
    res["plmw_hidden"] = sum(b[2] for b in bound)
    res["bound_n"] = len(bound)
    return res


def leg_best_case(d, rec, t):
    """Best case for any method that sees only the leg: the true TST and the true state of every
    epoch, except that a PLM in wake whose 30-s epoch holds no other movement reads as PLMS (in the
    signal it is the same as a PLM in sleep). Returns (PLMS index then within tolerance, PLMs in
    wake, those of them in such epochs)."""
    lo = float(t["lights_off_s"])
    lm = list(csv.DictReader(open(os.path.join(d, "truth", f"{rec}.lm.csv"))))
    busy = set()
    for r in lm:
        if r["kind"] != "series" and r["in_tib"] == "1":
            busy.update(range(int((float(r["onset_s"]) - lo) // 30), int((float(r["offset_s"]) - lo) // 30) + 1))
    plmw = [r for r in lm if r["plm"] == "1" and r["sleep"] == "0"]
    hidden = sum(1 for r in plmw if int((float(r["onset_s"]) - lo) // 30) not in busy)
    a = float(t["plms_index"])
    b = (int(t["plms_count"]) + hidden) / float(t["tst_h"])
    return abs(b - a) <= max(2, 0.1 * a), len(plmw), hidden


def calibration(tmp, drift):
    d = os.path.join(tmp, f"cal{drift}")
    run([A, "simulate", "-o", d, "--subjects", "6", "--seed", "501", "--drift-mg", str(drift)])
    h5 = os.path.join(tmp, f"cal{drift}.h5")
    run([A, "run", d, "-o", h5, "-q"])
    f = h5py.File(h5, "r")
    applied = total = 0
    errs, gerrs, before, after = [], [], [], []
    for r in csv.DictReader(open(os.path.join(d, "truth", "calibration.csv"))):
        leg = "left" if r["leg"] == "L" else "right"
        a = f["recordings"][r["recording"]].attrs
        total += 1
        if not a[f"calib_{leg}_applied"]:
            continue
        applied += 1
        errs.append(abs(a[f"calib_{leg}_offset_{r['axis']}_g"] - float(r["offset_g"])) * 1000)
        gerrs.append(abs(a[f"calib_{leg}_gain_{r['axis']}"] - float(r["gain"])))
        if r["axis"] == "x":
            before.append(a[f"calib_{leg}_error_before_g"] * 1000)
            after.append(a[f"calib_{leg}_error_after_g"] * 1000)
    return dict(drift=drift, applied=applied // 3, legs=total // 3, off_med=statistics.median(errs), off_max=max(errs),
                off_p90=sorted(errs)[int(0.9 * (len(errs) - 1))],
                gain_max=max(gerrs), before=statistics.median(before), after=statistics.median(after))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        results = [scenario(tmp, *s) for s in SCENARIOS]
        cals = [calibration(tmp, 0), calibration(tmp, 5)]
        nts = nights(tmp, [601, 602, 603])
        filt = run([os.path.join(BUILD, "tests", "test_filter")])
    out = ["# Validation on simulated ground truth", "",
           "Generated by `make validation` (scripts/validation.py) from fixed seeds; do not edit by hand.",
           "Truth: `actiplm simulate` (docs/simulate.md). Scoring: `actiplm compare` (one-to-one matching by",
           "overlap, per leg, movements with onset between lights off and on). Each study has 3 subjects x",
           "(control + magnesium), both legs, 50 Hz unless stated.", "",
           "## Leg-movement detection", "",
           "| scenario | nights | leg | TP | FN | FP | Se | PPV | F1 | lowest night F1 | onset error, median of nights (s) | worst night p95 onset error (s) | offset error, median (s) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, n, legs in results:
        for leg in ("left", "right", "overall"):
            s = legs[leg]
            out.append(f"| {label} | {n} | {leg} | {s['tp']} | {s['fn']} | {s['fp']} | {s['se']:.3f} | {s['ppv']:.3f} | "
                       f"{s['f1']:.3f} | {s['f1_min']:.3f} | {s['on']:.3f} | {s['on95']:.3f} | {s['off']:.3f} |")
    out += ["", "Targets (issue 3): per-leg F1 >= 0.95 at default noise, >= 0.90 with 3x noise plus spikes and",
            "drift, median onset error < 0.2 s. `tests/test_accuracy.c` guards them on other seeds.", "",
            "Offsets come out later than the truth: the envelope needs 0.5 s below the low threshold to end a",
            "movement and the band-pass rings briefly after it; the onset follows the EMG rule (first sample",
            "above the high threshold).", "",
            "## Calibration (6 subjects x 2 nights, both legs)", "",
            "| drift | legs calibrated | error before (median, mg) | after (median, mg) | offset error median / 90th pct / max (mg) | gain error max |",
            "|---|---|---|---|---|---|"]
    for c in cals:
        out.append(f"| {c['drift']} mg | {c['applied']} of {c['legs']} | {c['before']:.1f} | {c['after']:.2f} | "
                   f"{c['off_med']:.2f} / {c['off_p90']:.2f} / {c['off_max']:.2f} | {c['gain_max']:.4f} |")
    out += ["", "A leg is calibrated only when its still postures cover every axis beyond +-0.3 g (van Hees 2014)",
            "and pin every parameter down (standard error <= 0.002 from the fit's covariance); an ankle",
            "sensor often fails the first test (the shank is never upside down), and then the fit is reported",
            "but not applied. Without drift the injected offsets and gains come back to within 0.2 mg. With",
            "5 mg of slow drift the offset is not one number over the night; the fit then lands within a",
            "few mg of the injected offset on most legs, but the worst legs are off by up to about three",
            "times the drift: a drift model (GGIR uses temperature) is left for later.", "",
            "## Per-night PLMS index and sleep efficiency (3 seeds x 6 subjects x 2 nights, default noise)", "",
            "WASM 2016 rules (SOMAS reading), movements from the detector. Sleep/wake either estimated from",
            "the leg (Cole-Kripke on periodic-movement-masked counts, Webster rescoring) or given as stage",
            "annotations (the simulator's hypnogram, as PSG scoring would give it).", "",
            "| sleep/wake | nights | PLMS index within max(2/h, 10 %) | median abs PLMS error (/h) | SE within 5 points | median abs SE error | mean SE bias | median PLM count error | PLM per hour in bed within max(2/h, 10 %) |",
            "|---|---|---|---|---|---|---|---|---|"]
    for mode in ("estimated", "stages", "estimated, no PLM masking"):
        r = nts[mode]
        out.append(f"| {mode} | {r['n']} | {r['plms_ok']} ({100 * r['plms_ok'] / r['n']:.0f} %) | {r['plms_err']:.2f} | "
                   f"{r['se_ok']} ({100 * r['se_ok'] / r['n']:.0f} %) | {r['se_err']:.1f} | {r['se_bias']:+.1f} | "
                   f"{100 * r['plm_err']:.1f} % | {r['tib_ok']} ({100 * r['tib_ok'] / r['n']:.0f} %) |")
    out += ["", "Targets (issue 4): PLMS index within max(2/h, 10 %) for >= 90 % of nights; SE within 5 points",
            "for >= 80 % of nights with estimated sleep/wake. With estimated sleep/wake the PLMS index inherits",
            "the sleep/wake errors (TST is its denominator and each PLM's state decides PLMS or PLMW).",
            "Without masking the periodic movements out of the counts, PLMs push sleep toward wake and SE",
            "is underestimated (domain.md 3.2): the last row. The PLM index per hour in bed",
            "(`plm_tib_index`), which does not depend on sleep/wake, is what the leg alone measures",
            "(domain.md 2.1; PAM-RL-type devices report it): last column.", "",
            "Where the estimated PLMS index misses, the PLM count is right (median error 0 %) and the error",
            "is PLMW counted as PLMS. A PLM series often runs on into a wake bout; in that wake the simulated",
            "leg makes no movement besides the periodic ones, which masking removes, so the epoch looks like",
            "sleep (seed 601, S03 magnesium: all 47 PLMW fall in epochs estimated as sleep). Counting the",
            "PLMs instead (no masking) turns sleep into wake far more often. The leg signal alone cannot",
            "separate quiet wake with PLMs from sleep with PLMs; the PLMS index needs stages (PSG) for that,",
            "and with them it is exact (second row).", "",
            "How far the leg alone can go: give a method the true TST and the true state of every epoch, except",
            "that a PLM in wake whose 30-s epoch holds no other movement reads as PLMS (in the signal it is the",
            f"same as a PLM in sleep). Then {nts['bound_ok']} of {nts['bound_n']} nights "
            f"({100 * nts['bound_ok'] / nts['bound_n']:.0f} %) are within max(2/h, 10 %); {nts['plmw_hidden']} of the "
            f"{nts['plmw']} PLMs in wake",
            "lie in such an epoch. The estimate does a little better (first row): Cole-Kripke's window sees",
            "wake movement in the epochs around some of these PLMs, and its TST errors partly offset the rest.",
            "Reaching 90 % would take calling wake where the leg shows nothing but periodic movements, that",
            "is, guessing against the signal.", "",
            "Sensitivity pair (domain.md 3.2): every actigraphic night also records `se_masked_pct`,",
            "`se_unmasked_pct`, `plms_index_masked` and `plms_index_unmasked` (docs/scoring.md). The true",
            f"PLMS index lies between the two on {nts['bracket_plms']} of {nts['estimated']['n']} nights and the true SE on "
            f"{nts['bracket_se']} of {nts['estimated']['n']}:",
            "the masked figures are the ones to report, the unmasked ones show how much the periodic",
            "movements themselves could move them.", "",
            "## Band-pass filter (default 2-9 Hz, 1.5-Hz transitions, 60 dB)", "", "```"]
    out += [l for l in filt.splitlines() if l.startswith("fs ") or l.startswith("max |")]
    out += ["```", ""]
    with open(OUT, "w") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
