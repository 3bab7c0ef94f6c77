/* plm/study.h -- study-level comparison of a treatment condition with a control condition.
 *
 * Input: a table of nights (subject, condition, night, one column per outcome),
 * from /nights of a results file or from a CSV (subject,condition[,night] and
 * numeric columns). Paired design (default when subjects have both
 * conditions): nights are averaged within subject and condition (or the
 * first night only), subjects lacking a condition are listed and left out;
 * each outcome gets the analyses of plm/stats.h. Outcomes that are NaN for
 * everyone are skipped with a note. Holm's adjustment runs over the primary
 * outcomes (PLMS index, PLMS-A index, sleep efficiency) on the Wilcoxon p.
 * Unpaired design (no subject has both): on the per-subject means, Welch's
 * t test, the exact Wilcoxon-Mann-Whitney rank-sum test (in the Wilcoxon
 * fields) and the Hodges-Lehmann shift with its exact CI.
 * With several nights per subject and condition, each outcome also gets a
 * random-intercept mixed model on all nights (REML), reported beside.
 * Ownership: tables and results are the caller's, freed by the _clear functions.
 */
#ifndef PLM_STUDY_H
#define PLM_STUDY_H

#include <stddef.h>
#include "nights.h"
#include "stats.h"
#include "status.h"

typedef struct {
    size_t nrows, ncols;
    char **subject, **condition;
    int *night;
    char **names;      /* outcome column names */
    double *values;    /* nrows x ncols, row-major */
    int sleep_estimated; /* rows whose sleep/wake was estimated from the leg (sleep_source
                            "actigraphy"); -1 when the table does not say */
} plm_table;

plm_status plm_table_read_csv(const char *path, plm_table *out);

/* The measured /nights fields (PLM_NF_RESULT) of rows[0..n) as a table (strings copied). */
plm_status plm_table_from_nights(const plm_night *rows, size_t n, plm_table *out);
void plm_table_clear(plm_table *t);

typedef enum { PLM_DESIGN_AUTO = 0, PLM_DESIGN_PAIRED, PLM_DESIGN_UNPAIRED } plm_design;

typedef struct {
    const char *control, *treatment;  /* "control", "magnesium" */
    plm_design design;
    int first_night_only;
    plm_stats_cfg stats;
    const char *const *outcomes;      /* NULL = the default list */
    size_t noutcomes;
} plm_study_cfg;

plm_study_cfg plm_study_cfg_default(void);

typedef struct {
    char outcome[64];
    int paired;
    plm_paired_result r;
    double welch_p;        /* unpaired design */
    int has_lmm;           /* several nights per subject and condition: the mixed model too */
    plm_lmm_result lmm;
    double holm_p;         /* NaN for non-primary outcomes */
} plm_outcome_result;

typedef struct {
    plm_outcome_result *v;
    size_t n;
    int paired;
    char missing[512];     /* subjects left out for lacking a condition, or "" */
    char skipped[256];     /* outcomes NaN for everyone */
    int sleep_estimated;   /* nights with sleep/wake estimated from the leg (-1 unknown), of nrows */
    size_t nrows;
} plm_study_result;

/* 1 if outcome depends on which epochs are sleep (biased when sleep/wake is estimated from the
 * leg: quiet wake reads as sleep); plm_tib_index and the counts in bed do not. */
int plm_outcome_needs_sleep(const char *outcome);

plm_status plm_study_analyze(const plm_table *t, const plm_study_cfg *cfg, plm_study_result *out);
void plm_study_result_clear(plm_study_result *r);

/* The default outcomes, in /nights names and in order (plm_night_fields' study_rank): up to max of
 * them into out; returns how many. */
size_t plm_study_default_outcomes(const char **out, size_t max);

#endif
