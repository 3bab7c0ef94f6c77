/* plm/stats.h -- paired comparison of a treatment (magnesium) with a control, small samples.
 *
 * For the differences d = treatment - control (domain.md 4.2):
 *  - paired t test: t = mean(d) / (sd(d)/sqrt(n)), df = n - 1, t-based CI;
 *  - Wilcoxon signed-rank test on mid-ranks of |d|: zero differences dropped
 *    (Wilcoxon's rule, default, as R's wilcox.test) or ranked and then left
 *    out of the sum (Pratt's rule). Exact p (the permutation distribution of
 *    the doubled mid-ranks by dynamic programming, ties included) for n <= 50,
 *    two-sided as exactRankTests::pperm; beyond, the normal approximation with
 *    continuity and tie corrections (as R's wilcox.test);
 *  - Hodges-Lehmann estimate: the median of the n(n+1)/2 Walsh averages, with
 *    its exact confidence interval from the signed-rank distribution (the
 *    construction of exactRankTests::wilcox.exact, which also holds with ties);
 *  - exact sign-flip permutation test of mean(d) (all 2^n patterns up to n =
 *    perm_exact_max_n, seeded Monte Carlo beyond);
 *  - effect sizes: Cohen's dz = mean(d)/sd(d), Hedges' gz = dz (1 - 3/(4(n-1)-1)),
 *    matched-pairs rank-biserial r = (W+ - W-)/(W+ + W-).
 * Numbers from GSL (t and normal distributions). Verified against R
 * (tests/test_stats.c says how each expected value was produced).
 * Ownership: inputs borrowed; results by value. Thread safety: reentrant.
 */
#ifndef PLM_STATS_H
#define PLM_STATS_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

typedef enum { PLM_ZERO_WILCOXON = 0, PLM_ZERO_PRATT } plm_zero_rule;

typedef struct {
    double conf_level;       /* 0.95 */
    plm_zero_rule zero;      /* PLM_ZERO_WILCOXON */
    size_t exact_max_n;      /* exact Wilcoxon p up to this many non-zero differences; 50 */
    size_t perm_exact_max_n; /* exact permutation p up to this n; 20 */
    size_t perm_mc;          /* Monte Carlo resamples beyond; 100000 */
    uint64_t seed;           /* Monte Carlo seed; 1998 */
} plm_stats_cfg;

plm_stats_cfg plm_stats_cfg_default(void);

typedef struct {
    size_t n;                /* pairs */
    size_t n_ranked;         /* differences in the signed-rank test */
    double control_mean, control_sd, treatment_mean, treatment_sd;
    double diff_mean, diff_sd, diff_ci_low, diff_ci_high;
    double t, df, ttest_p;
    double w_plus;           /* R's V: sum of the ranks of positive differences */
    double wilcoxon_p;
    int wilcoxon_exact;
    double hl_estimate, hl_ci_low, hl_ci_high;
    double perm_p;
    int perm_exact;
    double cohen_dz, hedges_gz, rank_biserial;
} plm_paired_result;

/* control[i], treatment[i]: one pair per subject; pairs with a NaN are left out.
 * PLM_ENODATA with fewer than 2 usable pairs. */
plm_status plm_stats_paired(const double *control, const double *treatment, size_t n, const plm_stats_cfg *cfg,
                            plm_paired_result *out);

/* Two independent groups (different subjects per condition): Welch's t test; exact
 * Wilcoxon-Mann-Whitney rank-sum test with mid-ranks (the permutation distribution of the
 * doubled rank sum by dynamic programming; two-sided as exactRankTests) up to 50 per group,
 * the normal approximation with tie and continuity corrections beyond (R's wilcox.test);
 * Hodges-Lehmann shift (median of all treatment - control differences) with its exact CI
 * (exactRankTests::wilcox.exact's construction). */
typedef struct {
    size_t n_control, n_treatment;
    double control_mean, control_sd, treatment_mean, treatment_sd;
    double diff_mean, diff_ci_low, diff_ci_high, welch_t, welch_df, welch_p;
    double w;                /* R's W: rank sum of the treatment group - nt(nt+1)/2 */
    double mw_p;
    int mw_exact;
    double hl_shift, hl_ci_low, hl_ci_high;
    double hedges_g;         /* (treatment - control) / pooled SD x (1 - 3 / (4 (n1 + n2 - 2) - 1)); NaN if SD 0 */
    double hedges_g_ci_low, hedges_g_ci_high; /* normal approximation, Hedges & Olkin (1985) */
} plm_unpaired_result;

plm_status plm_stats_unpaired(const double *control, size_t nc, const double *treatment, size_t nt,
                              const plm_stats_cfg *cfg, plm_unpaired_result *out);

/* Random-intercept linear mixed model, fitted by REML: y = b0 + b1 treatment + u_subject + e
 * (several nights per subject and condition). The variance ratio is profiled out and the
 * REML likelihood maximised over it (grid, then Brent); b1's t test uses nlme's
 * denominator degrees of freedom (N - subjects - 1 when treatment varies within subjects,
 * subjects - 2 when it does not). Checked against R's nlme::lme(method = "REML"). */
typedef struct {
    size_t n_obs, n_subjects;
    double estimate, se, df, ci_low, ci_high, p;
    double sd_subject, sd_residual;
} plm_lmm_result;

/* subject[i] in 0 .. n_subjects-1; treatment[i] 0/1; NaN y are left out. */
plm_status plm_stats_lmm(const double *y, const int *subject, const uint8_t *treatment, size_t n, double conf_level,
                         plm_lmm_result *out);

/* Holm-adjusted p values (NaN entries are left out and stay NaN). */
void plm_stats_holm(const double *p, size_t n, double *adjusted);

#endif
