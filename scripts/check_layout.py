#!/usr/bin/python3
"""check_layout.py -- independent check of an actiplm results file with h5py.

Usage:
  check_layout.py RESULTS.h5                 layout of docs/hdf5-layout.md
  check_layout.py RESULTS.h5 --truth DIR     also: lights-off/on and start times equal
                                             the simulator's truth (DIR/truth/nights.csv)
  check_layout.py --same A.h5 B.h5           every dataset bit-identical in A and B
Prints one line per problem and exits 1 if there is any.
"""
import csv
import sys

import h5py
import numpy as np

NIGHTS = [("recording", "S"), ("subject", "S"), ("condition", "S"), ("night", "<i4"),
          ("tib_h", "<f8"), ("tst_h", "<f8"), ("se_pct", "<f8"), ("sol_min", "<f8"),
          ("waso_min", "<f8"), ("lm_count", "<i4"), ("plm_count", "<i4"), ("plms_count", "<i4"),
          ("lm_index", "<f8"), ("plms_index", "<f8"), ("plmw_index", "<f8"), ("plm_tib_index", "<f8"),
          ("plms_a_index", "<f8"), ("periodicity_index", "<f8"), ("lights_source", "S"), ("sleep_source", "S"),
          ("tib_implausible", "<i4")]
STATS = [("outcome", "S"), ("n", "<i4")] + [(k, "<f8") for k in (
    "control_mean", "control_sd", "treatment_mean", "treatment_sd", "diff_mean", "diff_ci_low",
    "diff_ci_high", "hl_estimate", "hl_ci_low", "hl_ci_high", "ttest_p", "wilcoxon_p", "cohen_dz",
    "holm_p", "hedges_g", "hedges_g_ci_low", "hedges_g_ci_high")]
FAILURES = [("recording", "S"), ("path", "S"), ("error", "S")]
LM = [("onset_s", "<f8"), ("offset_s", "<f8"), ("leg", "|u1"), ("clm", "|u1"), ("plm", "|u1"),
      ("sleep", "|u1")]
EPOCHS = [("onset_s", "<f8"), ("sleep", "|u1")]
ACTIVITY = [("onset_s", "<f8"), ("left_mad_g", "<f8"), ("right_mad_g", "<f8")]
LM_LEG = [("onset_s", "<f8"), ("offset_s", "<f8"), ("leg", "|u1"), ("peak_g", "<f8"), ("area_g_s", "<f8")]
QC = [("onset_s", "<f8"), ("offset_s", "<f8"), ("kind", "S"), ("leg", "|u1")]
ROOT_ATTRS = ["software", "software_version", "command_line", "created_utc", "manifest_sha256",
              "param.filter.pass_lo_hz", "param.detect.hi_min_g", "param.qc.nonwear_sd_g", "param.calib.max_error_g"]
REC_ATTRS = ["source_path", "sha256", "format", "fs_hz", "start_utc", "start_local", "channel_map",
             "full_scale_g", "duration_s", "frames", "subject", "condition", "night",
             "lights_off_s", "lights_on_s", "excluded_nonwear_s", "excluded_clipping_s", "excluded_dropout_s",
             "lights_source", "sleep_source", "rules", "short_imi", "clm_count", "plmsnr_index",
             "periodicity_index_ferri", "series_count", "median_imi_s", "mean_lm_duration_s", "se_masked_pct",
             "se_unmasked_pct", "plms_index_masked", "plms_index_unmasked", "rem_h", "plms_nrem_index",
             "plms_rem_index"]

problems = []


def check_table(f, name, fields):
    if name not in f:
        problems.append(f"{name}: missing")
        return None
    d = f[name]
    if d.ndim != 1 or d.dtype.names is None:
        problems.append(f"{name}: not a 1-D compound table")
        return None
    names = list(d.dtype.names)
    if names != [n for n, _ in fields]:
        problems.append(f"{name}: fields {names}, expected {[n for n, _ in fields]}")
        return None
    for n, t in fields:
        dt = d.dtype[n]
        if t == "S":
            if h5py.check_string_dtype(dt) is None:
                problems.append(f"{name}.{n}: {dt} is not a string")
        elif dt.str != t:
            problems.append(f"{name}.{n}: {dt.str}, expected {t}")
    return d[...]


def layout(path, truth_dir):
    with h5py.File(path, "r") as f:
        for a in ROOT_ATTRS:
            if a not in f.attrs:
                problems.append(f"/: attribute {a} missing")
        nights = check_table(f, "nights", NIGHTS)
        check_table(f, "stats", STATS)
        check_table(f, "failures", FAILURES)
        recs = f.get("recordings")
        if recs is None:
            problems.append("/recordings missing")
            return
        if nights is not None:
            ids = [r.decode() if isinstance(r, bytes) else r for r in nights["recording"]]
            if sorted(ids) != sorted(recs.keys()):
                problems.append(f"/nights rows {sorted(ids)} != /recordings groups {sorted(recs.keys())}")
        for k, g in recs.items():
            for a in REC_ATTRS:
                if a not in g.attrs:
                    problems.append(f"/recordings/{k}: attribute {a} missing")
            lmc = check_table(g, "lm", LM)
            if lmc is not None and len(lmc) and not set(lmc["leg"]) <= {1, 2, 3}:
                problems.append(f"/recordings/{k}/lm: leg values {sorted(set(lmc['leg']))}")
            if lmc is not None and len(lmc) and (lmc["plm"] > lmc["clm"]).any():
                problems.append(f"/recordings/{k}/lm: a periodic movement that is not a candidate")
            ep = check_table(g, "epochs", EPOCHS)
            if ep is not None and len(ep) > 1 and not np.allclose(np.diff(ep["onset_s"]), 30):
                problems.append(f"/recordings/{k}/epochs: not 30-s epochs")
            check_table(g, "imi_histogram", [("lo_s", "<f8"), ("hi_s", "<f8"), ("count", "<i4")])
            lm = check_table(g, "lm_leg", LM_LEG)
            if lm is not None and len(lm) and not (lm["offset_s"] > lm["onset_s"]).all():
                problems.append(f"/recordings/{k}/lm_leg: a movement does not end after it starts")
            check_table(g, "qc", QC)
            act = check_table(g, "activity", ACTIVITY)
            if act is not None and len(act):
                step = np.diff(act["onset_s"])
                if len(step) and not np.allclose(step, step[0]):
                    problems.append(f"/recordings/{k}/activity: uneven epochs")
                n = g.attrs["frames"] / g.attrs["fs_hz"]
                if abs(act["onset_s"][-1] - n) > 2:
                    problems.append(f"/recordings/{k}/activity: ends at {act['onset_s'][-1]}, recording at {n}")
            if len(g.attrs.get("sha256", "")) != 64:
                problems.append(f"/recordings/{k}: sha256 is not 64 hex digits")
        if truth_dir:
            with open(f"{truth_dir}/truth/nights.csv", newline="") as t:
                for row in csv.DictReader(t):
                    g = recs.get(row["recording"])
                    if g is None:
                        problems.append(f"{row['recording']}: not in the results")
                        continue
                    for a in ("lights_off_s", "lights_on_s"):
                        if abs(float(g.attrs[a]) - float(row[a])) > 1e-6:
                            problems.append(f"{row['recording']}: {a} {g.attrs[a]} != truth {row[a]}")
                    if g.attrs["start_utc"] != row["start_utc"]:
                        problems.append(f"{row['recording']}: start_utc {g.attrs['start_utc']} != truth {row['start_utc']}")


def same(a, b):
    with h5py.File(a, "r") as fa, h5py.File(b, "r") as fb:
        names = []
        fa.visit(lambda n: names.append(n) if isinstance(fa[n], h5py.Dataset) else None)
        other = []
        fb.visit(lambda n: other.append(n) if isinstance(fb[n], h5py.Dataset) else None)
        if sorted(names) != sorted(other):
            problems.append(f"datasets differ: {sorted(set(names) ^ set(other))}")
        for n in names:
            if n in fb and not identical(fa[n][...], fb[n][...]):
                problems.append(f"{n}: contents differ")


def identical(x, y):
    """Bit-identical numbers (NaN included); equal strings (their heap addresses may differ)."""
    if x.dtype != y.dtype or x.shape != y.shape:
        return False
    if x.dtype.names is None:
        if x.dtype.kind == "O":
            return list(x.ravel()) == list(y.ravel())
        return x.tobytes() == y.tobytes()
    return all(identical(x[k], y[k]) for k in x.dtype.names)


def main():
    args = sys.argv[1:]
    if len(args) == 3 and args[0] == "--same":
        same(args[1], args[2])
    elif len(args) in (1, 3):
        layout(args[0], args[2] if len(args) == 3 and args[1] == "--truth" else None)
    else:
        print(__doc__)
        return 2
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
