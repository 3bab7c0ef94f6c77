/* plm/store.h -- the HDF5 results file (layout: docs/hdf5-layout.md).
 *
 * A store is written to a temporary file beside its destination and renamed
 * into place by plm_store_commit(), so an interrupted run never leaves a
 * broken or half-overwritten results file. plm_store_destroy() without a
 * commit removes the temporary file and leaves any earlier file untouched.
 *
 * Tables (/nights, /failures, /stats) are buffered in memory (one row per
 * recording or outcome) and written at commit. Recording groups are written
 * as they come; plm_store_recording_abort() removes a half-written one.
 *
 * Units: seconds from the first sample (_s), hours (_h), minutes (_min),
 * percent (_pct), per hour (_index). Unknown values are NaN (floats) or -1
 * (counts); nothing is made up.
 * Reproducibility: object modification times are not stored, so the same
 * input and parameters give bit-identical datasets.
 * Ownership: strings passed in are copied. Thread safety: one thread per store.
 */
#ifndef PLM_STORE_H
#define PLM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include "compare.h"
#include "detect.h"
#include "nights.h"
#include "read.h"
#include "status.h"

/* One row of /stats. cohen_dz: paired designs; hedges_g and its CI: unpaired ones (NaN otherwise). */
typedef struct {
    const char *outcome;
    int32_t n;
    double control_mean, control_sd, treatment_mean, treatment_sd, diff_mean, diff_ci_low, diff_ci_high,
        hl_estimate, hl_ci_low, hl_ci_high, ttest_p, wilcoxon_p, cohen_dz, holm_p;
    double hedges_g, hedges_g_ci_low, hedges_g_ci_high;
} plm_stat_row;

/* Rows of /recordings/<id>/lm, epochs, activity. */
typedef struct {
    double onset_s, offset_s;
    uint8_t leg, clm, plm, sleep;
} plm_lm_row;

typedef struct {
    double onset_s;
    uint8_t sleep;
} plm_epoch_row;

typedef struct {
    double onset_s;
    double left_mad_g, right_mad_g; /* NaN where the leg is absent or samples are missing */
} plm_activity_row;

/* Rows of /recordings/<id>/qc (kind "nonwear", "clipping", "dropout"; leg 0 = both) and
 * imi_histogram. */
typedef struct {
    double onset_s, offset_s;
    char *kind;
    uint8_t leg;
} plm_qc_row;

typedef struct {
    double lo_s, hi_s;
    int32_t count;
} plm_imi_bin;

typedef struct plm_store plm_store;
typedef struct plm_store_rec plm_store_rec;

/* Start writing path (through a temporary file in the same folder).
 * PLM_EIO when the folder is missing or not writable; the detail says why. */
plm_status plm_store_create(const char *path, plm_store **out);

/* Attributes on the root (group NULL or "/") or on a recording group. */
plm_status plm_store_attr_str(plm_store *s, const char *group, const char *name, const char *value);
plm_status plm_store_attr_f64(plm_store *s, const char *group, const char *name, double value);
plm_status plm_store_attr_i64(plm_store *s, const char *group, const char *name, int64_t value);
/* A 1-D array of n doubles. */
plm_status plm_store_attr_f64v(plm_store *s, const char *group, const char *name, const double *v, size_t n);

plm_status plm_store_add_night(plm_store *s, const plm_night *row);
plm_status plm_store_add_failure(plm_store *s, const char *recording, const char *path, const char *error);
plm_status plm_store_add_stat(plm_store *s, const plm_stat_row *row);

/* One row of /stats_lmm (written only when some row was added): the mixed model per outcome. */
typedef struct {
    const char *outcome;
    int32_t n_nights, n_subjects;
    double estimate, se, df, ci_low, ci_high, p, sd_subject, sd_residual;
} plm_lmm_row;
plm_status plm_store_add_lmm(plm_store *s, const plm_lmm_row *row);

/* Recording group /recordings/<id>; PLM_EINVAL if id exists or is invalid. */
plm_status plm_store_recording_begin(plm_store *s, const char *id, plm_store_rec **out);
plm_status plm_store_rec_append_activity(plm_store_rec *r, const plm_activity_row *rows, size_t n);
plm_status plm_store_rec_write_lm(plm_store_rec *r, const plm_lm_row *rows, size_t n);
plm_status plm_store_rec_write_epochs(plm_store_rec *r, const plm_epoch_row *rows, size_t n);
plm_status plm_store_rec_write_annotations(plm_store_rec *r, const plm_annotation *a, size_t n);
/* Per-leg detections: dataset lm_leg (onset_s, offset_s, leg, peak_g, area_g_s). */
plm_status plm_store_rec_write_lm_leg(plm_store_rec *r, const plm_lm *v, size_t n, double fs_hz);
/* Quality flags: dataset qc (onset_s, offset_s, kind "nonwear"/"clipping"/"dropout", leg 0/1/2). */
plm_status plm_store_rec_write_qc(plm_store_rec *r, const plm_interval *v, size_t n, double fs_hz);
/* IMI histogram: dataset imi_histogram (lo_s, hi_s, count), log10 bins of 0.15 from 1 s. */
plm_status plm_store_rec_write_imi_histogram(plm_store_rec *r, const int32_t *counts, size_t nbins);
/* Finish (keep) or abort (delete) the group; both free r. */
plm_status plm_store_recording_end(plm_store_rec *r);
void plm_store_recording_abort(plm_store_rec *r);

/* Read per-leg detections back from a results file: /recordings/<recording>/lm_leg
 * (recording NULL: the file must hold exactly one; its id is copied to
 * rec_out[rec_n]). *out is malloc'd (free it); times in seconds. */
plm_status plm_store_read_lm_leg(const char *path, const char *recording, plm_span **out, size_t *n, char *rec_out,
                                 size_t rec_n);

/* Copy /recordings/<id> (with its attributes and datasets) from another results file;
 * used by parallel runs, in which each worker writes one recording to its own file. */
plm_status plm_store_import_recording(plm_store *s, const char *src_path, const char *id);

/* A string attribute of an object ("/" or "/recordings/<id>") of a results file; PLM_ENODATA if absent. */
plm_status plm_store_read_attr_str(const char *path, const char *object, const char *name, char *buf, size_t n);

/* Read /nights of a results file back as plm_night rows, strings malloc'd (free with
 * plm_nights_free). Fields an older file lacks are unknown. */
plm_status plm_store_read_nights(const char *path, plm_night **rows, size_t *n);

/* Read /stats back (outcome strings malloc'd: free each, then *rows). Columns an older file
 * lacks are NaN. */
plm_status plm_store_read_stats(const char *path, plm_stat_row **rows, size_t *n);

/* Recording ids under /recordings (each malloc'd; free them and *ids). */
plm_status plm_store_list_recordings(const char *path, char ***ids, size_t *n);

/* /recordings/<id>/lm back (*rows malloc'd). */
plm_status plm_store_read_lm(const char *path, const char *id, plm_lm_row **rows, size_t *n);

/* Shard files (actiplm run --shard K/N) hold a /shard table: one row per manifest row of the
 * slice, in manifest order, with its 0-based manifest row and whether it went to /failures
 * (failed = 1) or to /nights (0). Written at commit when some row was added. */
typedef struct {
    int32_t manifest_row;
    uint8_t failed;
} plm_shard_row;
plm_status plm_store_add_shard_row(plm_store *s, int32_t manifest_row, int failed);
/* /shard back (*rows malloc'd; a file without /shard gives 0 rows). */
plm_status plm_store_read_shard_rows(const char *path, plm_shard_row **rows, size_t *n);

/* /failures back: strings malloc'd (free each, then *rows). */
typedef struct {
    char *recording, *path, *error;
} plm_failure;
plm_status plm_store_read_failures(const char *path, plm_failure **rows, size_t *n);

/* /recordings/<id>/epochs, qc (kinds malloc'd: plm_qc_rows_free) and imi_histogram back (*rows
 * malloc'd). */
plm_status plm_store_read_epochs(const char *path, const char *id, plm_epoch_row **rows, size_t *n);
plm_status plm_store_read_qc(const char *path, const char *id, plm_qc_row **rows, size_t *n);
void plm_qc_rows_free(plm_qc_row *rows, size_t n);
plm_status plm_store_read_imi_histogram(const char *path, const char *id, plm_imi_bin **rows, size_t *n);

/* Rows [first, first + cap) of /recordings/<id>/activity into rows (caller's, cap long): *got
 * read, *total in the dataset. Reading a long recording in slices keeps memory bounded. */
plm_status plm_store_read_activity(const char *path, const char *id, size_t first, size_t cap, plm_activity_row *rows,
                                   size_t *got, size_t *total);

/* Each root attribute whose name starts with prefix, in name order, as text (numbers %.15g,
 * arrays comma-separated), passed to fn. */
plm_status plm_store_root_attrs_text(const char *path, const char *prefix,
                                     void (*fn)(void *user, const char *name, const char *value), void *user);

/* A floating-point attribute of an object of a results file; PLM_ENODATA if absent. */
plm_status plm_store_read_attr_f64(const char *path, const char *object, const char *name, double *value);

/* An integer attribute of an object of a results file; PLM_ENODATA if absent. */
plm_status plm_store_read_attr_i64(const char *path, const char *object, const char *name, int64_t *value);

/* Copy the root attributes (strings, integers, floats) of another results file to this
 * store's root, except those named in skip[0..nskip). */
plm_status plm_store_copy_root_attrs(plm_store *s, const char *src_path, const char *const *skip, size_t nskip);

/* Write the tables, close, and rename into place. s is freed either way. */
plm_status plm_store_commit(plm_store *s);

/* Discard (no commit): the temporary file is removed. NULL is a no-op. */
void plm_store_destroy(plm_store *s);

/* For a program's main, before any other libplm call: HDF5 then skips its exit-time clean-up.
 * After a write that failed (a full disk) HDF5 1.10.8 keeps the file half closed, and its clean-up
 * at exit crashes on it; libplm closes every file it writes itself, so nothing is lost. */
void plm_store_process_init(void);

#endif
