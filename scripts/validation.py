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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lm_eval  # noqa: E402

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


def stages_manifest(d):
    """d/manifest_stages.csv: d/manifest.csv with the truth events (stages, lights) as annotations."""
    rows = list(csv.DictReader(open(os.path.join(d, "manifest.csv"))))
    with open(os.path.join(d, "manifest_stages.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()) + ["annotations"])
        w.writeheader()
        for r in rows:
            r["annotations"] = f"truth/{r['recording']}.events.csv"
            w.writerow(r)


# The hard preset (docs/simulate.md) on seeds never used while developing the detector:
# 4 formats x 2 seeds x 4 subjects x 2 conditions = 64 nights.
HARD = [("50 Hz, float WAV", ["--fs", "50", "--float"], [701, 702]),
        ("50 Hz, 16-bit FLAC (full_scale_g 8)", ["--fs", "50", "--flac"], [703, 704]),
        ("100 Hz, float WAV", ["--fs", "100", "--float"], [705, 706]),
        ("100 Hz, 16-bit FLAC (full_scale_g 8)", ["--fs", "100", "--flac"], [707, 708])]
AMP_BANDS = [(0, 0.015), (0.015, 0.03), (0.03, 0.06), (0.06, 0.12), (0.12, 1.0)]
NOISE_BANDS = [(3, 4.5), (4.5, 6), (6, 8.01)]


def within(a, b, frac):
    return abs(b - a) <= max(2, frac * a)


SUMMARY = {}
NO_TILT = [("50 Hz, float WAV, no tilt", ["--fs", "50", "--float", "--no-tilt"], [711, 712])]


def hard(tmp, configs=HARD):
    """Detection per kind, amplitude and noise, and per-night indices, on the hard preset with the
    true stages and lights given as annotations (as a sleep lab's PSG scoring would give them)."""
    per_fmt, res_all, nights_rows, noise_of = [], {}, [], {}
    for label, extra, seeds in configs:
        res_fmt = {}
        for seed in seeds:
            d = os.path.join(tmp, f"h{seed}")
            run([A, "simulate", "-o", d, "--subjects", "4", "--seed", str(seed), "--preset", "hard"] + extra)
            stages_manifest(d)
            h5 = os.path.join(tmp, f"h{seed}.h5")
            run([A, "run", os.path.join(d, "manifest_stages.csv"), "-o", h5, "-q", "-j", "2"])
            res = lm_eval.evaluate(d, h5)
            truth = {r["recording"]: r for r in csv.DictReader(open(os.path.join(d, "truth", "nights.csv")))}
            for rec, r in res.items():
                key = f"{seed}/{rec}"
                res_fmt[key] = r
                res_all[key] = r
                noise_of[key] = float(truth[rec]["noise_mg"])
            for r in h5py.File(h5, "r")["nights"][...]:
                rec = r["recording"].decode()
                t = truth[rec]
                nights_rows.append(dict(night=f"{seed}/{rec}", fmt=label, noise=float(t["noise_mg"]),
                                        plms_t=float(t["plms_index"]), plms=float(r["plms_index"]),
                                        tib_t=float(t["plm_tib_index"]), tib=float(r["plm_tib_index"])))
        per_fmt.append((label, len(res_fmt), lm_eval.summary(res_fmt)))
    return per_fmt, lm_eval.summary(res_all), res_all, noise_of, nights_rows


def hard_report(per_fmt, tot, res_all, noise_of, nrows):
    n = len(nrows)
    SUMMARY.update(f1=tot["f1"], se=tot["se"], ppv=tot["ppv"], on=tot["on_abs_med"], tw=tot["twitch_fp"],
                   twn=tot["twitches"], nights=n, slow=tot["kinds"].get("slow", [0, 1]),
                   tib10=sum(within(r["tib_t"], r["tib"], 0.10) for r in nrows),
                   plms10=sum(within(r["plms_t"], r["plms"], 0.10) for r in nrows))
    out = ["## Leg-movement detection, hard preset (the targets)", "",
           "`actiplm simulate --preset hard` (docs/simulate.md): LM amplitudes log-normal 8-400 mg, 3-8 mg of sensor",
           "noise per night, a quarter of PLMs slow dorsiflexions (3-14 deg over 1.5-4 s, little shaking), movements",
           "that build up slowly (40 % Hann-shaped), twitches of 0.1-0.35 s that are not leg movements, sparse wake",
           "movement, walking before and after bed. Seeds 701-708 were never used while the detector was developed",
           "(its development seeds were 9001-9007). Each study: 4 subjects x (control + magnesium), both legs;",
           "stages and lights given as annotations. One-to-one matching by overlap per leg, movements with onset",
           "in bed, as `actiplm compare`.", "",
           "| format | nights | TP | FN | FP | Se | PPV | F1 | onset error p10 / median / p90 (s) | median abs onset error (s) | offset error p10 / median / p90 (s) | twitches taken for LMs |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    fmt = lambda v: " / ".join(f"{x:+.2f}" for x in v)
    for label, n, s in per_fmt + [("all", len(res_all), tot)]:
        out.append(f"| {label} | {n} | {s['tp']} | {s['fn']} | {s['fp']} | {s['se']:.3f} | {s['ppv']:.3f} | {s['f1']:.3f} | "
                   f"{fmt(s['on'])} | {s['on_abs_med']:.3f} | {fmt(s['off'])} | {s['twitch_fp']} of {s['twitches']} "
                   f"({100 * s['twitch_fp'] / max(1, s['twitches']):.1f} %) |")
    out += ["", "Sensitivity per kind of movement (all 64 nights):", "",
            "| kind | true movements | detected | Se |", "|---|---|---|---|"]
    names = {"series": "PLM (ordinary)", "slow": "PLM, slow dorsiflexion", "isolated": "isolated LM in sleep",
             "wake": "wake, sparse", "short": "wake, quick clusters (< 10 s apart)", "posture": "posture change"}
    for k in ("series", "slow", "isolated", "wake", "short", "posture"):
        h, n = tot["kinds"].get(k, [0, 0])
        if n:
            out.append(f"| {names[k]} | {n} | {h} | {h / n:.3f} |")
    out += ["", "Sensitivity by peak vibration amplitude (a slow dorsiflexion's is a quarter of the usual; it is",
            "found by its tilt):", "", "| amplitude (mg) | movements (not slow) | Se | slow dorsiflexions | Se |",
            "|---|---|---|---|---|"]
    for a, b in AMP_BANDS:
        v = [h for p, h, k in tot["amp"] if a <= p < b and k != "slow"]
        w = [h for p, h, k in tot["amp"] if a <= p < b and k == "slow"]
        se = lambda x: f"{sum(x) / len(x):.3f}" if x else "-"
        hi = f"{b * 1000:.0f}" if b < 1 else "400"
        out.append(f"| {a * 1000:.0f}-{hi} | {len(v)} | {se(v)} | {len(w)} | {se(w)} |")
    out += ["", "Noise x amplitude (sensitivity, movements other than slow dorsiflexions; n in brackets):", "",
            "| noise (mg per axis) | " + " | ".join(f"{a * 1000:.0f}-{(b * 1000 if b < 1 else 400):.0f} mg" for a, b in AMP_BANDS)
            + " | slow dorsiflexions |", "|---" * (len(AMP_BANDS) + 2) + "|"]
    for na, nb in NOISE_BANDS:
        cells = []
        keys = [k for k in res_all if na <= noise_of[k] < nb]
        for a, b in AMP_BANDS:
            v = [h for k in keys for p, h, kind in res_all[k]["amp"] if a <= p < b and kind != "slow"]
            cells.append(f"{sum(v) / len(v):.3f} ({len(v)})" if v else "-")
        w = [h for k in keys for p, h, kind in res_all[k]["amp"] if kind == "slow"]
        cells.append(f"{sum(w) / len(w):.3f} ({len(w)})" if w else "-")
        out.append(f"| {na:g}-{min(nb, 8):g} ({len(keys)} nights) | " + " | ".join(cells) + " |")
    n = len(nrows)
    p10 = sum(within(r["plms_t"], r["plms"], 0.10) for r in nrows)
    t10 = sum(within(r["tib_t"], r["tib"], 0.10) for r in nrows)
    p15 = sum(within(r["plms_t"], r["plms"], 0.15) for r in nrows)
    t15 = sum(within(r["tib_t"], r["tib"], 0.15) for r in nrows)
    out += ["", "### Per-night indices, hard preset", "",
            "PLMS index with the true stages given (the detector's movements, WASM 2016 scoring) and `plm_tib_index`",
            "(PLM per hour in bed: the figure the leg alone measures, no sleep/wake needed) against the truth:", "",
            "| index | nights | within max(2/h, 10 %) | within max(2/h, 15 %) | median abs error (/h) |", "|---|---|---|---|---|",
            f"| PLMS index, stages given | {n} | {p10} ({100 * p10 / n:.0f} %) | {p15} ({100 * p15 / n:.0f} %) | "
            f"{statistics.median(abs(r['plms'] - r['plms_t']) for r in nrows):.2f} |",
            f"| plm_tib_index | {n} | {t10} ({100 * t10 / n:.0f} %) | {t15} ({100 * t15 / n:.0f} %) | "
            f"{statistics.median(abs(r['tib'] - r['tib_t']) for r in nrows):.2f} |", "",
            "Targets (issue 11): F1 >= 0.95, median abs onset error <= 0.10 s, twitches taken for movements <= 5 %;",
            "PLMS index (stages given) and `plm_tib_index` within max(2/h, 10 %) on >= 90 % of nights.", "",
            "<details><summary>Every night</summary>", "",
            "| night | format | noise (mg) | PLMS true | PLMS | plm_tib_index true | plm_tib_index |", "|---|---|---|---|---|---|---|"]
    for r in nrows:
        out.append(f"| {r['night']} | {r['fmt']} | {r['noise']:.1f} | {r['plms_t']:.1f} | {r['plms']:.1f} | "
                   f"{r['tib_t']:.1f} | {r['tib']:.1f} |")
    out += ["", "</details>", ""]
    return out


def no_tilt_report(per_fmt, tot, *_):
    out = ["### Harder still: movements that do not tilt the leg", "",
           "In the hard preset every ordinary movement also tilts the shank by 1-6 deg, which the tilt channel sees",
           "even when the shaking is lost in the noise. With `--no-tilt` only slow dorsiflexions and posture changes",
           "tilt it; everything else must be found by its vibration alone (seeds 711-712, 16 nights):", "",
           "| condition | nights | Se | PPV | F1 | median abs onset error (s) | twitches taken |", "|---|---|---|---|---|---|---|"]
    for label, n, s in per_fmt:
        out.append(f"| {label} | {n} | {s['se']:.3f} | {s['ppv']:.3f} | {s['f1']:.3f} | {s['on_abs_med']:.3f} | "
                   f"{s['twitch_fp']} of {s['twitches']} |")
    out += ["", "| amplitude (mg) | movements (not slow) | Se |", "|---|---|---|"]
    for a, b in AMP_BANDS:
        v = [h for p, h, k in tot["amp"] if a <= p < b and k != "slow"]
        out.append(f"| {a * 1000:.0f}-{b * 1000 if b < 1 else 400:.0f} | {len(v)} | {sum(v) / len(v):.3f} |" if v else
                   f"| {a * 1000:.0f}-{b * 1000 if b < 1 else 400:.0f} | 0 | - |")
    out += ["", "A movement that neither tilts the leg nor shakes it above about three times the night's vibration",
            "floor (the high threshold is twice the floor) is not in the signal the detector uses: below about 15 mg",
            "of peak vibration most such movements are missed, at 15-30 mg a share of them. Real ankle movements",
            "usually rotate the foot (domain.md 2.4), but a recording whose small movements do not would lose these.", ""]
    return out


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
        stages_manifest(d)
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
        if r["kind"] not in ("series", "twitch") and r["in_tib"] == "1":
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
        hard_out = hard_report(*hard(tmp)) + no_tilt_report(*hard(tmp, NO_TILT))
        results = [scenario(tmp, *s) for s in SCENARIOS]
        cals = [calibration(tmp, 0), calibration(tmp, 5)]
        nts = nights(tmp, [601, 602, 603])
        filt = run([os.path.join(BUILD, "tests", "test_filter")])
    S = SUMMARY
    est = nts["estimated"]
    version = run([A, "--version"]).strip()
    out = ["# Validation on simulated ground truth", "",
           f"Generated by `make validation` (scripts/validation.py) with {version}, from fixed seeds; do not edit by hand.",
           "Truth: `actiplm simulate` (docs/simulate.md). Scoring: `actiplm compare` (one-to-one matching by",
           "overlap, per leg, movements with onset between lights off and on).", "",
           "## In short", "",
           f"- Leg movements, hard preset, {S['nights']} held-out nights: F1 {S['f1']:.3f} (Se {S['se']:.3f}, PPV "
           f"{S['ppv']:.3f}); slow dorsiflexions found {S['slow'][0]} of {S['slow'][1]}; median abs onset error "
           f"{S['on']:.2f} s; {S['tw']} of {S['twn']} twitches taken for movements.",
           f"- **What the leg alone measures: `plm_tib_index`**, PLMs per hour in bed. It needs no sleep/wake and is",
           f"  within max(2/h, 10 %) of the truth on {S['tib10']} of {S['nights']} hard-preset nights. It is the leg-only",
           "  primary figure; report it, with its time in bed, when there is no PSG.",
           f"- PLMS index with stages from PSG given: within max(2/h, 10 %) on {S['plms10']} of {S['nights']} nights.",
           f"- PLMS index with sleep/wake estimated from the leg: within that on only {est['plms_ok']} of {est['n']}",
           "  nights (default preset, below). A leg alone cannot tell quiet wake from sleep: a PLM in a wake epoch",
           "  with no other movement is, in the signal, a PLM in sleep. PLMS, PLMW, SE and TST estimated from the leg",
           "  are biased that way; `run` and `stats` footnote them.",
           "- What the simulator cannot show: EMG activity without limb movement (39 % of EMG-scored LMs at the toe,",
           "  Terrill 2013) is in no accelerometer signal; and a movement that neither tilts the leg nor shakes it",
           "  well above the night's noise floor is missed (the `--no-tilt` table).", "",
           "The default-preset sections further down use 3 subjects x (control + magnesium) per study, both legs,",
           "50 Hz unless stated.", ""] + hard_out + [
           "## Leg-movement detection, default preset", "",
           "| scenario | nights | leg | TP | FN | FP | Se | PPV | F1 | lowest night F1 | onset error, median of nights (s) | worst night p95 onset error (s) | offset error, median (s) |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, n, legs in results:
        for leg in ("left", "right", "overall"):
            s = legs[leg]
            out.append(f"| {label} | {n} | {leg} | {s['tp']} | {s['fn']} | {s['fp']} | {s['se']:.3f} | {s['ppv']:.3f} | "
                       f"{s['f1']:.3f} | {s['f1_min']:.3f} | {s['on']:.3f} | {s['on95']:.3f} | {s['off']:.3f} |")
    out += ["", "Targets (issue 3): per-leg F1 >= 0.95 at default noise, >= 0.90 with 3x noise plus spikes and",
            "drift, median onset error < 0.2 s. `tests/test_accuracy.c` guards them, and the hard preset's, on other",
            "seeds. The default preset's movements start sharply (0.1-s ramps) and are large (30-300 mg): their onsets",
            "come out a little early (the band-pass skirt), and quick wake clusters (2.5-6 s apart) merge more often",
            "than on the hard preset, whose wake movement is sparse.", "",
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
