/* test_stats.c -- paired statistics against R (tests/stats_reference.inc, made by
 * scripts/stats_reference.R: t.test(paired = TRUE), exactRankTests::wilcox.exact(paired = TRUE,
 * exact = TRUE, conf.int = TRUE), wilcox.test(exact = FALSE, correct = TRUE) beyond 50 non-zero
 * differences, coin::wilcoxsign_test(zero.method = "Pratt", distribution = "exact"), the median
 * of the Walsh averages, and a full sign-flip enumeration for n <= 14), plus domain.md 4.1's
 * exact table for n = 10. */
#include "testlib.h"
#include "plm/plm.h"

typedef struct {
    const char *name;
    int n;
    double ctl[60], trt[60];
    double ttest_p, ci_lo, ci_hi, v, wilcoxon_p, hl, hl_lo, hl_hi, pratt_p, perm_p;
    int exact;
} ref_case;

static const ref_case cases[] = {
#include "stats_reference.inc"
};

static int rel_ok(double got, double want)
{
    if (isnan(want)) return 1; /* not computed in R for this case */
    return fabs(got - want) <= 1e-6 * fmax(1e-12, fabs(want)) + 1e-12;
}

static const double holm_expected[] = HOLM_EXPECTED;

typedef struct {
    const char *name;
    int nc, nt;
    double ctl[60], trt[60];
    double welch_p, welch_lo, welch_hi, w, mw_p, hl, hl_lo, hl_hi;
    int exact;
} ref_unpaired;

static const ref_unpaired ucases[] = {UNPAIRED_CASES};

static void unpaired_against_r(void **state)
{
    (void)state;
    plm_stats_cfg cfg = plm_stats_cfg_default();
    size_t n = sizeof ucases / sizeof ucases[0];
    for (size_t k = 0; k < n; k++) {
        const ref_unpaired *c = &ucases[k];
        plm_unpaired_result r;
        assert_int_equal(plm_stats_unpaired(c->ctl, (size_t)c->nc, c->trt, (size_t)c->nt, &cfg, &r), PLM_OK);
        const struct {
            const char *what;
            double got, want;
        } chk[] = {{"Welch p", r.welch_p, c->welch_p}, {"Welch CI low", r.diff_ci_low, c->welch_lo},
                   {"Welch CI high", r.diff_ci_high, c->welch_hi}, {"W", r.w, c->w}, {"rank-sum p", r.mw_p, c->mw_p},
                   {"HL CI low", r.hl_ci_low, c->hl_lo}, {"HL CI high", r.hl_ci_high, c->hl_hi}};
        for (size_t i = 0; i < sizeof chk / sizeof chk[0]; i++)
            if (!rel_ok(chk[i].got, chk[i].want))
                fail_msg("%s: %s = %.17g, R gives %.17g", c->name, chk[i].what, chk[i].got, chk[i].want);
        if (r.hl_shift != c->hl) fail_msg("%s: HL shift %.17g, R %.17g", c->name, r.hl_shift, c->hl);
        assert_int_equal(r.mw_exact, c->exact);
    }
    print_message("%zu unpaired cases against R\n", n);
}

static void against_r(void **state)
{
    (void)state;
    size_t ncases = sizeof cases / sizeof cases[0];
    assert_true(ncases >= 20);
    plm_stats_cfg cfg = plm_stats_cfg_default();
    int pratt_checked = 0, perm_checked = 0;
    for (size_t k = 0; k < ncases; k++) {
        const ref_case *c = &cases[k];
        plm_paired_result r;
        assert_int_equal(plm_stats_paired(c->ctl, c->trt, (size_t)c->n, &cfg, &r), PLM_OK);
        const struct {
            const char *what;
            double got, want;
        } chk[] = {{"t-test p", r.ttest_p, c->ttest_p},      {"t CI low", r.diff_ci_low, c->ci_lo},
                   {"t CI high", r.diff_ci_high, c->ci_hi},  {"V", r.w_plus, c->v},
                   {"Wilcoxon p", r.wilcoxon_p, c->wilcoxon_p}, {"HL CI low", r.hl_ci_low, c->hl_lo},
                   {"HL CI high", r.hl_ci_high, c->hl_hi}};
        for (size_t i = 0; i < sizeof chk / sizeof chk[0]; i++)
            if (!rel_ok(chk[i].got, chk[i].want))
                fail_msg("%s: %s = %.17g, R gives %.17g", c->name, chk[i].what, chk[i].got, chk[i].want);
        if (r.hl_estimate != c->hl) fail_msg("%s: HL %.17g, R gives %.17g", c->name, r.hl_estimate, c->hl);
        assert_int_equal(r.wilcoxon_exact, c->exact);
        if (!isnan(c->perm_p)) {
            perm_checked++;
            if (!rel_ok(r.perm_p, c->perm_p)) fail_msg("%s: permutation p %.17g, R %.17g", c->name, r.perm_p, c->perm_p);
        }
        if (!isnan(c->pratt_p)) {
            plm_stats_cfg pc = cfg;
            pc.zero = PLM_ZERO_PRATT;
            plm_paired_result rp;
            assert_int_equal(plm_stats_paired(c->ctl, c->trt, (size_t)c->n, &pc, &rp), PLM_OK);
            if (!rel_ok(rp.wilcoxon_p, c->pratt_p)) fail_msg("%s: Pratt p %.17g, coin %.17g", c->name, rp.wilcoxon_p, c->pratt_p);
            pratt_checked++;
        }
    }
    print_message("%zu cases against R; %d with Pratt's rule against coin, %d permutation p\n", ncases, pratt_checked, perm_checked);
    assert_true(pratt_checked >= 3);
    assert_true(perm_checked >= 10);
}

/* domain.md 4.1: exact two-sided p of the signed-rank test, n = 10, no ties, by T */
typedef struct {
    const char *name;
    int n;
    double y[64];
    int subj[64];
    uint8_t tr[64];
    double est, se, df, lo, hi, p;
} ref_lmm;

static const ref_lmm lcases[] = {LMM_CASES};

/* against nlme::lme(method = "REML"), to 1e-6 relative like the other cases */
static void lmm_against_nlme(void **state)
{
    (void)state;
    for (size_t k = 0; k < sizeof lcases / sizeof lcases[0]; k++) {
        const ref_lmm *c = &lcases[k];
        plm_lmm_result r;
        assert_int_equal(plm_stats_lmm(c->y, c->subj, c->tr, (size_t)c->n, 0.95, &r), PLM_OK);
        const double got[] = {r.estimate, r.se, r.df, r.ci_low, r.ci_high, r.p}, want[] = {c->est, c->se, c->df, c->lo, c->hi, c->p};
        const char *what[] = {"estimate", "SE", "df", "CI low", "CI high", "p"};
        for (int i = 0; i < 6; i++)
            if (fabs(got[i] - want[i]) > 1e-6 * fmax(1e-9, fabs(want[i])))
                fail_msg("%s: %s = %.12g, nlme gives %.12g", c->name, what[i], got[i], want[i]);
    }
}

/* A second oracle: SciPy (tests/stats_scipy.inc, scripts/stats_reference_scipy.py) on untied cases. */
#include "stats_scipy.inc"
typedef struct {
    const char *name;
    double t_p, rank_p;
    double g, g_lo, g_hi; /* Hedges' g and its 95 % CI (unpaired cases) */
} ref_scipy;
static const ref_scipy scipy_paired[] = {SCIPY_PAIRED}, scipy_unpaired[] = {SCIPY_UNPAIRED};

static void against_scipy(void **state)
{
    (void)state;
    plm_stats_cfg cfg = plm_stats_cfg_default();
    for (size_t k = 0; k < sizeof scipy_paired / sizeof scipy_paired[0]; k++) {
        const ref_case *c = NULL;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
            if (!strcmp(cases[i].name, scipy_paired[k].name)) c = &cases[i];
        assert_non_null(c);
        plm_paired_result r;
        assert_int_equal(plm_stats_paired(c->ctl, c->trt, (size_t)c->n, &cfg, &r), PLM_OK);
        if (!rel_ok(r.ttest_p, scipy_paired[k].t_p) || !rel_ok(r.wilcoxon_p, scipy_paired[k].rank_p))
            fail_msg("%s: t p %.17g / %.17g, Wilcoxon p %.17g / %.17g", c->name, r.ttest_p, scipy_paired[k].t_p,
                     r.wilcoxon_p, scipy_paired[k].rank_p);
    }
    for (size_t k = 0; k < sizeof scipy_unpaired / sizeof scipy_unpaired[0]; k++) {
        const ref_unpaired *c = NULL;
        for (size_t i = 0; i < sizeof ucases / sizeof ucases[0]; i++)
            if (!strcmp(ucases[i].name, scipy_unpaired[k].name)) c = &ucases[i];
        assert_non_null(c);
        plm_unpaired_result r;
        assert_int_equal(plm_stats_unpaired(c->ctl, (size_t)c->nc, c->trt, (size_t)c->nt, &cfg, &r), PLM_OK);
        if (!rel_ok(r.welch_p, scipy_unpaired[k].t_p) || !rel_ok(r.mw_p, scipy_unpaired[k].rank_p))
            fail_msg("%s: Welch p %.17g / %.17g, rank-sum p %.17g / %.17g", c->name, r.welch_p, scipy_unpaired[k].t_p,
                     r.mw_p, scipy_unpaired[k].rank_p);
        assert_near(r.hedges_g, scipy_unpaired[k].g, 1e-9);
        assert_near(r.hedges_g_ci_low, scipy_unpaired[k].g_lo, 1e-9);
        assert_near(r.hedges_g_ci_high, scipy_unpaired[k].g_hi, 1e-9);
    }
}

static void exact_table_n10(void **state)
{
    (void)state;
    const int T[] = {0, 1, 2, 3, 5, 8, 9, 10, 11};
    const double p[] = {.0020, .0039, .0059, .0098, .0195, .0488, .0645, .0840, .1055};
    plm_stats_cfg cfg = plm_stats_cfg_default();
    for (size_t k = 0; k < sizeof T / sizeof T[0]; k++) {
        /* differences 1..10; make the ranks summing to T negative (greedy from the top) */
        double ctl[10] = {0}, trt[10];
        int left = T[k];
        for (int i = 10; i >= 1; i--) {
            trt[i - 1] = i;
            if (i <= left) {
                trt[i - 1] = -i;
                left -= i;
            }
        }
        assert_int_equal(left, 0);
        plm_paired_result r;
        assert_int_equal(plm_stats_paired(ctl, trt, 10, &cfg, &r), PLM_OK);
        assert_near(55 - r.w_plus, T[k], 0);
        assert_near(r.wilcoxon_p, p[k], 0.00005);
    }
}

static void effect_sizes_and_holm(void **state)
{
    (void)state;
    /* d = 1, 2, 3, 4: mean 2.5, sd 1.2909944, dz 1.9364917, J = 1 - 3/11, W+ = 10, W- = 0 */
    double c[4] = {0, 0, 0, 0}, t[4] = {1, 2, 3, 4};
    plm_stats_cfg cfg = plm_stats_cfg_default();
    plm_paired_result r;
    assert_int_equal(plm_stats_paired(c, t, 4, &cfg, &r), PLM_OK);
    assert_near(r.cohen_dz, 2.5 / sqrt(5.0 / 3.0), 1e-12);
    assert_near(r.hedges_gz, r.cohen_dz * (1 - 3.0 / 11.0), 1e-12);
    assert_near(r.rank_biserial, 1.0, 0);
    assert_true(r.perm_exact);
    assert_near(r.perm_p, 2.0 / 16.0, 0);
    double p[5] = {0.01, 0.04, 0.03, NAN, 0.2}, adj[5];
    plm_stats_holm(p, 5, adj);
    for (int i = 0; i < 5; i++) {
        if (isnan(holm_expected[i])) assert_true(isnan(adj[i]));
        else assert_near(adj[i], holm_expected[i], 1e-15);
    }
    /* too few pairs; NaN pairs are left out */
    double one[1] = {1}, nan2[3] = {1, NAN, 3}, t3[3] = {2, 5, NAN};
    assert_int_equal(plm_stats_paired(one, one, 1, &cfg, &r), PLM_ENODATA);
    assert_int_equal(plm_stats_paired(nan2, t3, 3, &cfg, &r), PLM_ENODATA);
    /* Monte Carlo beyond 20 pairs is seeded: the same p twice */
    double c30[30], t30[30];
    for (int i = 0; i < 30; i++) c30[i] = i, t30[i] = i + (i % 3) - 0.8;
    plm_paired_result a, b;
    plm_stats_paired(c30, t30, 30, &cfg, &a);
    plm_stats_paired(c30, t30, 30, &cfg, &b);
    assert_false(a.perm_exact);
    assert_true(a.perm_p == b.perm_p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(against_r),
        cmocka_unit_test(exact_table_n10),
        cmocka_unit_test(unpaired_against_r),
        cmocka_unit_test(lmm_against_nlme),
        cmocka_unit_test(against_scipy),
        cmocka_unit_test(effect_sizes_and_holm),
    };
    return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
