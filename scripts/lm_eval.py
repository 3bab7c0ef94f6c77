#!/usr/bin/python3
"""lm_eval.py -- leg-movement detection scored against the simulator's truth, per kind.

Used by validation.py; also a command for one study:
    lm_eval.py STUDY_DIR RESULTS.h5      -> prints overall, per-kind and per-amplitude figures

Matching is that of `actiplm compare` (one to one per leg by largest overlap, movements
with onset between lights off and lights on). Each true per-leg movement (events.csv `lm`
rows) takes the kind and peak amplitude of the combined movement in lm.csv that holds it.
Twitches (lm.csv kind `twitch`) are not leg movements: a detection overlapping one is a
false positive, counted per twitch.
"""
import csv
import os
import sys

import h5py


def read_truth(study, rec):
    ev = list(csv.DictReader(open(os.path.join(study, "truth", f"{rec}.events.csv"))))
    lo = next(float(r["onset_s"]) for r in ev if r["type"] == "lights_off")
    ln = next(float(r["onset_s"]) for r in ev if r["type"] == "lights_on")
    units = list(csv.DictReader(open(os.path.join(study, "truth", f"{rec}.lm.csv"))))
    lms = []
    for r in ev:
        if r["type"] != "lm":
            continue
        on, leg = float(r["onset_s"]), 1 if r["leg"] == "L" else 2
        off = on + float(r["duration_s"])
        kind, peak = "?", float("nan")
        for u in units:
            if int(u["leg"]) & leg and float(u["onset_s"]) <= on + 1e-6 and float(u["offset_s"]) >= off - 1e-6:
                kind, peak = u["kind"], float(u["peak_g"]) if "peak_g" in u else float("nan")
                break
        lms.append(dict(on=on, off=off, leg=leg, kind=kind, peak=peak))
    tw = [dict(on=float(u["onset_s"]), off=float(u["offset_s"]), leg=int(u["leg"])) for u in units
          if u["kind"] == "twitch" and lo <= float(u["onset_s"]) < ln]
    return lo, ln, lms, tw


def read_det(h5, rec):
    g = h5["recordings"][rec]
    d = g["lm_leg"][...]
    names = d.dtype.names
    on = "onset_s" if "onset_s" in names else names[0]
    off = "offset_s" if "offset_s" in names else ("end_s" if "end_s" in names else names[1])
    return [dict(on=float(r[on]), off=float(r[off]), leg=int(r["leg"])) for r in d]


def match(det, ref):
    """One-to-one by largest overlap per leg; returns a list of (det index, ref index)."""
    pairs = []
    for leg in (1, 2):
        di = sorted((i for i, d in enumerate(det) if d["leg"] == leg), key=lambda i: det[i]["on"])
        ri = sorted((j for j, r in enumerate(ref) if r["leg"] == leg), key=lambda j: ref[j]["on"])
        cand, k0 = [], 0
        for j in ri:  # sweep: only the detections that can overlap
            r = ref[j]
            while k0 < len(di) and det[di[k0]]["off"] <= r["on"] - 30:
                k0 += 1
            for i in di[k0:]:
                d = det[i]
                if d["on"] >= r["off"]:
                    break
                ov = min(d["off"], r["off"]) - max(d["on"], r["on"])
                if ov > 0:
                    cand.append((-ov, j, i))
        cand.sort()
        du, ru = set(), set()
        for _, j, i in cand:
            if i in du or j in ru:
                continue
            du.add(i)
            ru.add(j)
            pairs.append((i, j))
    return pairs


def evaluate(study, h5path):
    """Per recording: dict(tp, fn, fp, kinds{kind: [hit, total]}, amp [(peak, hit)], onset errors,
    offset errors, twitches, twitch_fp)."""
    out = {}
    h5 = h5py.File(h5path, "r")
    for m in csv.DictReader(open(os.path.join(study, "manifest.csv"))):
        rec = m["recording"]
        lo, ln, lms, tw = read_truth(study, rec)
        ref = [r for r in lms if lo <= r["on"] < ln]
        det = [d for d in read_det(h5, rec) if lo <= d["on"] < ln]
        pairs = match(det, ref)
        hit = {j for _, j in pairs}
        used = {i for i, _ in pairs}
        kinds = {}
        for j, r in enumerate(ref):
            k = kinds.setdefault(r["kind"], [0, 0])
            k[0] += j in hit
            k[1] += 1
        tw_fp = 0
        for t in tw:
            tw_fp += any(d["leg"] & t["leg"] and min(d["off"], t["off"]) - max(d["on"], t["on"]) > 0
                         for i, d in enumerate(det) if i not in used and d["on"] < t["off"] + 1 and d["off"] > t["on"] - 1)
        out[rec] = dict(tp=len(pairs), fn=len(ref) - len(pairs), fp=len(det) - len(pairs), kinds=kinds,
                        amp=[(r["peak"], j in hit, r["kind"]) for j, r in enumerate(ref)],
                        on_err=[det[i]["on"] - ref[j]["on"] for i, j in pairs],
                        off_err=[det[i]["off"] - ref[j]["off"] for i, j in pairs],
                        twitches=len(tw), twitch_fp=tw_fp)
    return out


def pct(v, q):
    v = sorted(v)
    if not v:
        return float("nan")
    x = q * (len(v) - 1)
    i = int(x)
    return v[i] if i + 1 >= len(v) else v[i] + (x - i) * (v[i + 1] - v[i])


def summary(res):
    tp = sum(r["tp"] for r in res.values())
    fn = sum(r["fn"] for r in res.values())
    fp = sum(r["fp"] for r in res.values())
    kinds = {}
    for r in res.values():
        for k, (h, n) in r["kinds"].items():
            a = kinds.setdefault(k, [0, 0])
            a[0] += h
            a[1] += n
    on = [e for r in res.values() for e in r["on_err"]]
    off = [e for r in res.values() for e in r["off_err"]]
    tw = sum(r["twitches"] for r in res.values())
    twfp = sum(r["twitch_fp"] for r in res.values())
    return dict(tp=tp, fn=fn, fp=fp, se=tp / max(1, tp + fn), ppv=tp / max(1, tp + fp),
                f1=2 * tp / max(1, 2 * tp + fn + fp), kinds=kinds,
                on_abs_med=pct([abs(e) for e in on], 0.5), on=[pct(on, q) for q in (0.1, 0.5, 0.9)],
                off=[pct(off, q) for q in (0.1, 0.5, 0.9)], twitches=tw, twitch_fp=twfp,
                amp=[a for r in res.values() for a in r["amp"]])


def main():
    res = evaluate(sys.argv[1], sys.argv[2])
    s = summary(res)
    print(f"TP {s['tp']} FN {s['fn']} FP {s['fp']}  Se {s['se']:.3f} PPV {s['ppv']:.3f} F1 {s['f1']:.3f}")
    print(f"onset err p10/50/90 {s['on'][0]:+.3f} {s['on'][1]:+.3f} {s['on'][2]:+.3f}  |median| {s['on_abs_med']:.3f}"
          f"   offset err {s['off'][0]:+.3f} {s['off'][1]:+.3f} {s['off'][2]:+.3f}")
    print(f"twitches {s['twitches']}, detected as LM {s['twitch_fp']} ({100 * s['twitch_fp'] / max(1, s['twitches']):.1f} %)")
    for k, (h, n) in sorted(s["kinds"].items()):
        print(f"  {k:10s} {h:5d}/{n:5d}  Se {h / n:.3f}")
    bands = [(0, 0.015), (0.015, 0.03), (0.03, 0.06), (0.06, 0.12), (0.12, 1)]
    for a, b in bands:
        v = [h for p, h, k in s["amp"] if a <= p < b and k != "slow"]
        w = [h for p, h, k in s["amp"] if a <= p < b and k == "slow"]
        print(f"  amp {a * 1000:4.0f}-{b * 1000:4.0f} mg: Se {sum(v) / max(1, len(v)):.3f} (n {len(v)})"
              f"   slow: {sum(w) / max(1, len(w)):.3f} (n {len(w)})")
    per = sorted((2 * r["tp"] / max(1, 2 * r["tp"] + r["fn"] + r["fp"]), k) for k, r in res.items())
    print("worst nights:", ", ".join(f"{k} {f:.3f}" for f, k in per[:3]))


if __name__ == "__main__":
    main()
