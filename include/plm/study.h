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
    size_t *line;      /* 1-based line of each row in its CSV; NULL for tables made from /nights */
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
    double hedges_g, hedges_g_ci_low, hedges_g_ci_high; /* unpaired design (plm/stats.h); NaN when paired */
    int has_lmm;           /* several nights per subject and condition: the mixed model too */
    plm_lmm_result lmm;
    double holm_p;         /* NaN for non-primary outcomes */
} plm_outcome_result;

typedef struct {
    plm_outcome_result *v;
    size_t n;
    int paired;
    char missing[512];     /* subjects left out for lacking a condition, or "" */
    char skipped[256];     /* outcomes with too few values (fewer than 2 pairs, or 2 per group) */
    char absent[256];      /* default outcomes the table has no column for (the others are analysed) */
    char conditions[512];  /* the conditions found, with their row counts */
    int sleep_estimated;   /* nights with sleep/wake estimated from the leg (-1 unknown), of nrows */
    size_t nrows;
} plm_study_result;

/* 1 if outcome depends on which epochs are sleep (biased when sleep/wake is estimated from the
 * leg: quiet wake reads as sleep); plm_tib_index and the counts in bed do not. */
int plm_outcome_needs_sleep(const char *outcome);

/* Errors: PLM_ENODATA when no comparison can be made, saying why (a condition without nights, with
 * the conditions found; fewer than 2 subjects with both conditions, or with each for an unpaired
 * design); PLM_EINVAL for an outcome named in cfg->outcomes that the table lacks (with the columns
 * it has). Default outcomes the table lacks are listed in out->absent and the others analysed. */
plm_status plm_study_analyze(const plm_table *t, const plm_study_cfg *cfg, plm_study_result *out);

/* The conditions cond[0..n) of a study's rows checked against cfg's control and treatment:
 * PLM_EFORMAT for one that looks like a misspelling of either (the same letters in another case,
 * or 1-2 edits away), naming source and line[i] (or the row, when line is NULL), the conditions
 * found and the name meant. Other names are allowed (a third arm is not compared). found (may be
 * NULL) gets "'control' (6 rows), 'magnesium' (6 rows)". */
plm_status plm_study_conditions(const char *const *cond, const size_t *line, size_t n, const char *source,
                                const plm_study_cfg *cfg, char *found, size_t nfound);
void plm_study_result_clear(plm_study_result *r);

/* The default outcomes, in /nights names and in order (plm_night_fields' study_rank): up to max of
 * them into out; returns how many. */
size_t plm_study_default_outcomes(const char **out, size_t max);

#endif
