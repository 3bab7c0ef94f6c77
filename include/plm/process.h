/* plm/process.h -- process one manifest row into the results store.
 *
 * Reads the recording in blocks (memory bounded by cfg.read.block_frames,
 * never by the recording's length), computes its SHA-256, resolves the start
 * time and lights-off/on, runs the detector (plm/detect.h: per-leg leg
 * movements, quality flags, calibration) in the same pass, writes
 * /recordings/<id> (attributes, lm_leg, qc, the low-rate activity trace,
 * EDF+ annotations), then analyses the night (plm/night.h: time in bed,
 * sleep/wake, PLM scoring with the manifest's or the recording's
 * annotations), writes lm (scored movements), epochs and imi_histogram, and
 * appends its row to /nights. Nothing is written for a recording
 * that fails: its half-written group is removed and the caller records the
 * failure (plm_store_add_failure).
 *
 * Activity trace: per epoch of cfg.activity_epoch_s and per leg, the mean
 * absolute deviation of the acceleration magnitude (MAD, Vaha-Ypya 2015) in
 * g; gravity-insensitive without filtering, good enough for plots.
 *
 * Ownership: inputs borrowed; res filled by value. Thread safety: one store
 * per thread (the caller serialises store access).
 */
#ifndef PLM_PROCESS_H
#define PLM_PROCESS_H

#include "detect.h"
#include "manifest.h"
#include "night.h"
#include "read.h"
#include "store.h"

typedef struct {
    plm_read_cfg read;        /* full_scale_g, channels, timezone come from the row */
    double activity_epoch_s;  /* > 0, default 1 s */
    double min_fs_hz;         /* slower recordings are refused; default 10 Hz */
    double max_fs_hz;         /* faster ones too; default 5000 Hz */
    double min_duration_s;    /* shorter recordings are refused as too short to score; default 300 s */
    double tib_min_plausible_h;    /* an estimated time in bed under this is flagged; default 4 h */
    double tib_min_plausible_frac; /* ... or under this share of a recording over 6 h; default 0.4 */
    plm_detect_cfg detect;    /* leg-movement detection, QC and calibration */
    plm_night_cfg night;      /* time in bed, sleep/wake, PLM scoring rules */
    int threads;              /* threads for one recording (2: the legs at once; 3: also the
                                 activity trace on the reading thread); default 1. The results are
                                 the same bytes whatever it is */
} plm_process_cfg;

plm_process_cfg plm_process_cfg_default(void);

typedef struct {
    char sha256[65];
    char sha256_right[65];    /* a two-file recording's right file; "" otherwise */
    int64_t frames;
    double duration_s;
    int64_t nonfinite_samples; /* NaN/Inf samples found (treated as missing) */
    double lights_off_s, lights_on_s; /* NaN when not given */
    int has_start;
    plm_time start;
    char start_source[16];    /* "manifest", "bext", "axivity", "edf" or "" */
    char warnings[1024];      /* "; "-separated; the CLI prints them */
    char devices[256];        /* two-file recordings: each device, its rate and offset; "" otherwise */
    size_t lm_count[2];       /* detected per-leg movements, left and right */
    plm_calibration calib[2];
    double excluded_s[4];     /* by PLM_QC_* kind */
    size_t gap_count;         /* stretches the file lacks (device formats: missing or corrupt data) */
    double gap_s;             /* their total length */
    plm_night row;            /* the /nights row written (strings point into the manifest row) */
    const char *lights_source, *sleep_source; /* literals, as in plm_night_result */
} plm_process_result;

/* Errors: those of plm_reader_open, PLM_EFORMAT for a bad manifest row or an
 * absurd sample rate, PLM_ENODATA when no finite sample exists, PLM_EIO for
 * store failures. The detail names the file and the reason. */
plm_status plm_process_recording(const plm_manifest_row *row, const plm_process_cfg *cfg, plm_store *store,
                                 plm_process_result *res);

/* SHA-256 of a file (or a buffer) as 64 lowercase hex digits. */
plm_status plm_sha256_file(const char *path, char hex[65]);
plm_status plm_sha256_buffer(const void *data, size_t n, char hex[65]);

#endif
