/* plm/batch.h -- a whole study: every row of a manifest processed into one results file.
 *
 * This is what `actiplm run` does, as a library call, so that a program using
 * libplm directly gets the same results and the same provenance: the root
 * attributes (software, version, command line, manifest and its SHA-256,
 * every parameter of plm_params and their fingerprint), one /recordings group
 * and /nights row per recording in manifest order, /failures for those that
 * failed, and /stats over the nights done.
 *
 * Workers (cfg.jobs) process whole recordings, each into a part file of its own
 * beside the output (OUT.part.<recording>); the calling thread imports them in
 * manifest order, so results are identical whatever the number of workers.
 * Resume: a recording already in the output or in its part file, with the same
 * input (SHA-256) and parameters (fingerprint), is reused. Shards: with
 * shard_n > 0 only rows K-1, K-1+N, ... are processed into a shard file with a
 * /shard table and no /stats (actiplm merge combines them).
 *
 * Safety: the output is written under a temporary name and renamed into place;
 * an existing output made from another manifest is never replaced unless
 * cfg.force; temporary files that a killed run left beside the output (their
 * process no longer exists) are removed first and counted.
 *
 * Conditions: a manifest condition that looks like a misspelling of the
 * study's control or treatment (cfg.study) stops the batch before anything is
 * read, naming the manifest line, the conditions found and the name meant.
 *
 * Thread safety: one batch at a time per output; the progress callback runs on
 * the calling thread, once per row in manifest order.
 */
#ifndef PLM_BATCH_H
#define PLM_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include "manifest.h"
#include "process.h"
#include "store.h"
#include "study.h"

/* ---- parameters: one table over plm_process_cfg ---- */

typedef enum {
    PLM_PARAM_F64,  /* double */
    PLM_PARAM_INT,  /* int */
    PLM_PARAM_I64,  /* int64_t */
    PLM_PARAM_SIZE, /* size_t */
    PLM_PARAM_ENUM, /* an enum (int-sized); written as its name */
    PLM_PARAM_ROW   /* set per recording from the manifest row (full scale, channels, zone): not written */
} plm_param_type;

typedef struct {
    const char *name;               /* root attribute, "param.<stage>.<key>" */
    plm_param_type type;
    size_t offset, size;            /* of the member in plm_process_cfg */
    int count;                      /* array length (PLM_PARAM_F64 only), 1 for scalars */
    const char *const *enum_names;  /* PLM_PARAM_ENUM: name of value 0, 1, ... (NULL-terminated) */
    int results;                    /* 0: does not change results (the read block size) */
} plm_param;

/* Every member of plm_process_cfg and the structs it holds, in memory order. */
extern const plm_param plm_params[];
extern const size_t plm_nparams;

/* Member i of cfg as a number (element k of an array; an enum's value). */
double plm_param_value(const plm_process_cfg *cfg, const plm_param *p, int k);

/* SHA-256 (64 hex digits) of the software version and every parameter that changes results. */
void plm_params_fingerprint(const plm_process_cfg *cfg, char fp[65]);

/* Root attributes: software, software_version, command_line, created_utc, manifest_path and
 * manifest_sha256 (manifest NULL: ""), every parameter and params_fingerprint. */
plm_status plm_batch_write_root(plm_store *s, const char *manifest, const plm_process_cfg *cfg,
                                const char *command_line);

/* ---- study statistics into a store ---- */

/* The /stats row of one outcome (strings point into o). */
plm_stat_row plm_study_stat_row(const plm_outcome_result *o);

/* /stats (and /stats_lmm) rows and the param.stats.* attributes of r. */
plm_status plm_study_to_store(plm_store *s, const plm_study_result *r, const plm_study_cfg *cfg);

/* The statistics over nights rows[0..n): into *out and the store. *have = 0 (and why in note)
 * when no comparison could be made; the return is an error only for a store failure. */
plm_status plm_batch_study(plm_store *s, const plm_night *rows, size_t n, const plm_study_cfg *cfg,
                           plm_study_result *out, int *have, char *note, size_t nnote);

/* ---- the batch ---- */

typedef struct {
    plm_process_cfg process;
    plm_study_cfg study;          /* control and treatment names; the statistics */
    int jobs;                     /* recordings processed at once (>= 1; 1: in the calling thread) */
    int resume;                   /* reuse recordings done with the same input and parameters */
    int force;                    /* replace an output made from another manifest */
    long shard_k, shard_n;        /* 1 <= K <= N: this slice only; 0, 0: every row */
    const char *command_line;     /* recorded as command_line (NULL: "") */
} plm_batch_cfg;

plm_batch_cfg plm_batch_cfg_default(void);

/* One finished row, reported in manifest order; first, before any row, the plan (index 0). */
typedef struct {
    size_t index, total;          /* index-th (1-based) of the total rows of this run; 0: the plan */
    const plm_manifest_row *row;
    int failed;                   /* 1: error says why; the row is in /failures */
    const char *error;
    int reused;                   /* resumed from an earlier run */
    const plm_process_result *res; /* when not failed (reused rows: only res->row) */
    const char *note;             /* the plan: a warning (e.g. no treatment rows: no comparison), or NULL */
} plm_batch_event;

typedef void (*plm_batch_progress)(void *user, const plm_batch_event *ev);

typedef struct {
    size_t total, failed, reused;
    size_t stale_removed;         /* temporary files of killed runs removed */
    int have_study;               /* /stats written (never for a shard) */
    plm_study_result study;
    char study_note[512];         /* why there are no statistics, or "" */
    char manifest[4096];          /* the manifest read */
} plm_batch_result;

/* Process manifest (a CSV, or a folder holding manifest.csv) into out. PLM_OK when the
 * results file was written, even if some recordings failed (res->failed). Errors: the
 * manifest cannot be read or names unknown conditions (PLM_EFORMAT), out belongs to another
 * manifest (PLM_EINVAL), the store cannot be written (PLM_EIO). progress may be NULL. */
plm_status plm_batch_run(const char *manifest, const char *out, const plm_batch_cfg *cfg, plm_batch_progress progress,
                         void *user, plm_batch_result *res);

void plm_batch_result_clear(plm_batch_result *r);

/* Remove the temporary files (OUT.tmp-PID-N, OUT.part.*.tmp-PID-N) of processes that no longer
 * exist; returns how many. */
size_t plm_batch_remove_stale(const char *out);

/* The conditions of a manifest checked against the study's control and treatment
 * (plm_study_conditions): PLM_EFORMAT for a misspelled one, naming its line, the conditions found
 * and the name meant. note (may be NULL) gets a warning when the control or the treatment has no
 * rows (no comparison will be made), else "". */
plm_status plm_batch_check_conditions(const plm_manifest *m, const plm_study_cfg *study, char *note, size_t nnote);

/* What identifies a shard file (root attributes written by a sharded batch). */
typedef struct {
    int64_t k, n, rows;                 /* shard_index, shard_count, manifest_rows */
    char version[64], fp[80], msha[80]; /* software_version, params_fingerprint, manifest_sha256 */
} plm_shard_id;

/* PLM_ENODATA when the file is not a shard file; other errors as plm_store_read_attr_*. */
plm_status plm_shard_id_read(const char *path, plm_shard_id *id);

#endif
