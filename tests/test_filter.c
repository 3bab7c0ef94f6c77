/* test_filter.c -- the FFT band-pass: spectral mask, delay removal, block-size invariance,
 * and agreement with a direct time-domain convolution (an independent oracle). */
#include "testlib.h"
#include "plm/plm.h"

/* Direct convolution of x (constant-extended at both ends) with the taps, delay removed. */
static void direct(const double *h, size_t nt, const double *x, int64_t n, double *y)
{
    int64_t d = (int64_t)(nt - 1) / 2;
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < nt; k++) {
            int64_t j = i + d - (int64_t)k;
            s += h[k] * x[j < 0 ? 0 : j >= n ? n - 1 : j];
        }
        y[i] = s;
    }
}

/* Filter x (nchan planar, n frames) pushing chunks of `chunk` frames. */
static double *run(plm_filter *f, const double *x, int nchan, int64_t n, int64_t chunk)
{
    double *y = calloc((size_t)(nchan * n), sizeof *y);
    int64_t cap = plm_filter_max_out(f, chunk), pos = 0, got;
    double *in = malloc(sizeof(double) * (size_t)(nchan * chunk)), *out = malloc(sizeof(double) * (size_t)(nchan * cap));
    for (int64_t i = 0; i < n; i += chunk) {
        int64_t m = n - i < chunk ? n - i : chunk;
        for (int c = 0; c < nchan; c++) memcpy(in + c * chunk, x + c * n + i, sizeof(double) * (size_t)m);
        assert_int_equal(plm_filter_process(f, in, m, chunk, out, cap, &got), PLM_OK);
        for (int c = 0; c < nchan; c++) memcpy(y + c * n + pos, out + c * cap, sizeof(double) * (size_t)got);
        pos += got;
    }
    double *tail = malloc(sizeof(double) * (size_t)(nchan * (n + 100000)));
    assert_int_equal(plm_filter_process(f, NULL, 0, 0, tail, n + 100000, &got), PLM_OK);
    assert_int_equal(pos + got, n);
    for (int c = 0; c < nchan; c++) memcpy(y + c * n + pos, tail + c * (n + 100000), sizeof(double) * (size_t)got);
    free(in);
    free(out);
    free(tail);
    return y;
}

static double *noise_signal(int nchan, int64_t n, unsigned seed)
{
    double *x = malloc(sizeof(double) * (size_t)(nchan * n));
    srand(seed);
    for (int64_t i = 0; i < nchan * n; i++) x[i] = (i % n == 0 ? 1.0 : 0.0) + (double)rand() / RAND_MAX - 0.5 + 1.0;
    return x;
}

static size_t ntaps_of(const plm_filter *f)
{
    size_t n;
    plm_filter_taps(f, &n);
    return n;
}

static void spectral_mask(void **state)
{
    (void)state;
    double rates[] = {25, 50, 100, 200};
    for (size_t r = 0; r < 4; r++) {
        plm_filter_cfg cfg = plm_filter_cfg_default();
        plm_filter *f = NULL;
        assert_int_equal(plm_filter_create(&cfg, rates[r], 1, &f), PLM_OK);
        double lo, hi, delta = pow(10, -cfg.atten_db / 20);
        plm_filter_band(f, &lo, &hi);
        double worst_pass = 0, worst_stop = 0;
        for (double fr = 0; fr <= rates[r] / 2; fr += 0.005) {
            double m = plm_filter_response(f, fr);
            if (fr >= lo && fr <= hi) worst_pass = fmax(worst_pass, fabs(m - 1));
            if (fr <= lo - cfg.transition_hz || fr >= hi + cfg.transition_hz) worst_stop = fmax(worst_stop, m);
        }
        print_message("fs %g Hz: %zu taps, passband %.2f-%.2f Hz, ripple %.2e, stopband %.1f dB\n", rates[r],
                      ntaps_of(f), lo, hi, worst_pass,
                      20 * log10(worst_stop));
        assert_true(worst_pass <= 1.5 * delta);         /* Kaiser: ripple about delta */
        assert_true(20 * log10(worst_stop) <= -cfg.atten_db + 1.0);
        assert_true(plm_filter_response(f, 0) < 1e-12);  /* zero DC gain */
        plm_filter_destroy(f);
    }
}

static void matches_direct_convolution(void **state)
{
    (void)state;
    plm_filter_cfg cfg = plm_filter_cfg_default();
    plm_filter *f = NULL;
    assert_int_equal(plm_filter_create(&cfg, 50, 2, &f), PLM_OK);
    int64_t n = 20011;
    double *x = noise_signal(2, n, 1);
    double *y = run(f, x, 2, n, 777);
    size_t nt;
    const double *h = plm_filter_taps(f, &nt);
    double *ref = malloc(sizeof(double) * (size_t)n), worst = 0;
    for (int c = 0; c < 2; c++) {
        direct(h, nt, x + c * n, n, ref);
        for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(y[c * n + i] - ref[i]));
    }
    print_message("max |overlap-save - direct| = %.3g (start and end included)\n", worst);
    assert_true(worst < 1e-12);
    free(ref);
    free(x);
    free(y);
    plm_filter_destroy(f);
}

static void block_size_does_not_matter(void **state)
{
    (void)state;
    int64_t n = 30000, chunks[] = {1, 7, 1000, 4096, 30000};
    double *x = noise_signal(3, n, 2), *first = NULL;
    for (size_t k = 0; k < 5; k++) {
        plm_filter_cfg cfg = plm_filter_cfg_default();
        plm_filter *f = NULL;
        assert_int_equal(plm_filter_create(&cfg, 100, 3, &f), PLM_OK);
        double *y = run(f, x, 3, n, chunks[k]);
        if (!first) first = y;
        else {
            assert_memory_equal(first, y, sizeof(double) * (size_t)(3 * n));
            free(y);
        }
        plm_filter_destroy(f);
    }
    free(first);
    free(x);
}

/* Designs are shared within a process (filter.c): a filter made after filters at 20 other rates
 * (more than the table keeps, so the last ones own theirs) gives the same bits as the first one
 * at its rate, and every one agrees with the direct convolution of its own taps. */
static void designs_shared_across_rates(void **state)
{
    (void)state;
    enum { NR = 21 };
    int64_t n = 3000;
    double *x = noise_signal(1, n, 3), *ref = malloc(sizeof(double) * (size_t)n), *y[NR];
    plm_filter_cfg cfg = plm_filter_cfg_default();
    size_t prev_nt = 0;
    for (int r = 0; r < NR; r++) {
        plm_filter *f = NULL;
        assert_int_equal(plm_filter_create(&cfg, 20 + r, 1, &f), PLM_OK);
        y[r] = run(f, x, 1, n, 1000);
        size_t nt;
        const double *h = plm_filter_taps(f, &nt);
        assert_true(nt >= prev_nt); /* its own rate's design: longer as the rate rises */
        prev_nt = nt;
        size_t L, B; /* overlap-save: a power-of-two FFT of at least 1024, new samples = L - taps + 1 */
        plm_filter_segment(f, &L, &B);
        assert_true(L >= 1024 && (L & (L - 1)) == 0 && L > nt);
        assert_int_equal(B, L - nt + 1);
        direct(h, nt, x, n, ref);
        double worst = 0;
        for (int64_t i = 0; i < n; i++) worst = fmax(worst, fabs(y[r][i] - ref[i]));
        assert_true(worst < 1e-12);
        plm_filter_destroy(f);
    }
    for (int r = 0; r < NR; r += NR - 1) { /* the first rate (shared) and the last (its own) again */
        plm_filter *f = NULL;
        assert_int_equal(plm_filter_create(&cfg, 20 + r, 1, &f), PLM_OK);
        double *again = run(f, x, 1, n, 333);
        assert_memory_equal(again, y[r], sizeof(double) * (size_t)n);
        free(again);
        plm_filter_destroy(f);
    }
    for (int r = 0; r < NR; r++) free(y[r]);
    free(ref);
    free(x);
}

static void no_delay_and_no_gravity(void **state)
{
    (void)state;
    plm_filter_cfg cfg = plm_filter_cfg_default();
    plm_filter *f = NULL;
    assert_int_equal(plm_filter_create(&cfg, 50, 1, &f), PLM_OK);
    int64_t n = 5000;
    double *x = malloc(sizeof(double) * (size_t)n);
    for (int64_t i = 0; i < n; i++) x[i] = 1.0 + 0.05 * sin(2 * M_PI * 3.0 * (double)i / 50);
    double *y = run(f, x, 1, n, 333);
    double worst = 0;
    for (int64_t i = 1000; i < n - 1000; i++) worst = fmax(worst, fabs(y[i] - (x[i] - 1.0)));
    assert_true(worst < 0.05 * 2e-3); /* the 3 Hz wave passes in place, gravity is gone */
    free(y);
    for (int64_t i = 0; i < n; i++) x[i] = 0.98;
    plm_filter_destroy(f);
    assert_int_equal(plm_filter_create(&cfg, 50, 1, &f), PLM_OK);
    y = run(f, x, 1, n, 100);
    for (int64_t i = 0; i < n; i++) assert_true(fabs(y[i]) < 1e-12);
    free(y);
    free(x);
    plm_filter_destroy(f);
}

static void invalid_configs(void **state)
{
    (void)state;
    plm_filter *f = NULL;
    plm_filter_cfg c = plm_filter_cfg_default();
    c.pass_lo_hz = 9;
    assert_int_equal(plm_filter_create(&c, 50, 1, &f), PLM_EINVAL);
    c = plm_filter_cfg_default();
    c.transition_hz = 0;
    assert_int_equal(plm_filter_create(&c, 50, 1, &f), PLM_EINVAL);
    c = plm_filter_cfg_default();
    c.atten_db = 10;
    assert_int_equal(plm_filter_create(&c, 50, 1, &f), PLM_EINVAL);
    c = plm_filter_cfg_default();
    assert_int_equal(plm_filter_create(&c, 0, 1, &f), PLM_EINVAL);
    assert_int_equal(plm_filter_create(&c, 2, 1, &f), PLM_EINVAL);
    assert_contains(plm_last_error(), "does not fit");
    assert_null(f);
    assert_int_equal(plm_filter_create(&c, 50, 1, &f), PLM_OK);
    double y[8];
    int64_t got;
    assert_int_equal(plm_filter_process(f, NULL, 0, 0, y, 8, &got), PLM_OK); /* empty stream */
    assert_int_equal(got, 0);
    assert_int_equal(plm_filter_process(f, y, 1, 1, y, 8, &got), PLM_EINVAL);
    plm_filter_destroy(f);
    plm_filter_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(spectral_mask),
        cmocka_unit_test(matches_direct_convolution),
        cmocka_unit_test(block_size_does_not_matter),
        cmocka_unit_test(designs_shared_across_rates),
        cmocka_unit_test(no_delay_and_no_gravity),
        cmocka_unit_test(invalid_configs),
    };
    return cmocka_run_group_tests_name("filter", tests, NULL, NULL);
}
