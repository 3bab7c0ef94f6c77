/* test_detect.c -- the leg-movement detector, quality flags and calibration on synthetic
 * signals whose truth is known exactly (bursts put into noise at chosen samples). */
#include "testlib.h"
#include "plm/plm.h"

#define FS 50.0

typedef struct {
    int64_t n;
    double *x; /* planar, 3 channels (one leg) */
} sig;

static double gauss(unsigned *s)
{ /* Box-Muller on a small LCG: deterministic and independent of libc */
    *s = *s * 1103515245u + 12345u;
    double u1 = ((*s >> 8) + 1.0) / 16777217.0;
    *s = *s * 1103515245u + 12345u;
    double u2 = ((*s >> 8) + 1.0) / 16777217.0;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Still leg at a fixed oblique orientation plus white noise (g). */
static sig make_sig(double seconds, double noise_g, unsigned seed)
{
    sig s = {(int64_t)(seconds * FS), NULL};
    s.x = malloc(sizeof(double) * 3 * (size_t)s.n);
    const double g[3] = {0.36, -0.48, 0.8};
    for (int c = 0; c < 3; c++)
        for (int64_t i = 0; i < s.n; i++) s.x[c * s.n + i] = g[c] + noise_g * gauss(&seed);
    return s;
}

/* A movement: 4 Hz and 6.5 Hz shaking along two axes, amplitude amp_g, 0.1-s ramps. */
static void add_burst(sig *s, double on_s, double dur_s, double amp_g)
{
    int64_t a = (int64_t)llround(on_s * FS), b = (int64_t)llround((on_s + dur_s) * FS);
    for (int64_t i = a; i < b && i < s->n; i++) {
        double t = (double)(i - a) / FS, d = dur_s, w = 1;
        if (t < 0.1) w = 0.5 - 0.5 * cos(M_PI * t / 0.1);
        if (t > d - 0.1) w = 0.5 - 0.5 * cos(M_PI * (d - t) / 0.1);
        s->x[0 * s->n + i] += amp_g * w * sin(2 * M_PI * 4.0 * t);
        s->x[2 * s->n + i] += amp_g * w * sin(2 * M_PI * 6.5 * t + 1);
    }
}

static const uint8_t one_leg[3] = {PLM_LEG_LEFT, PLM_LEG_LEFT, PLM_LEG_LEFT};

static plm_detect_result run(const sig *s, const plm_detect_cfg *cfg, int64_t block, double full_scale)
{
    plm_detector *d = NULL;
    assert_int_equal(plm_detector_create(cfg, FS, 3, one_leg, full_scale, &d), PLM_OK);
    double *buf = malloc(sizeof(double) * 3 * (size_t)block);
    for (int64_t i = 0; i < s->n; i += block) {
        int64_t m = s->n - i < block ? s->n - i : block;
        for (int c = 0; c < 3; c++) memcpy(buf + c * block, s->x + c * s->n + i, sizeof(double) * (size_t)m);
        assert_int_equal(plm_detector_push(d, buf, m, block), PLM_OK);
    }
    plm_detect_result r;
    assert_int_equal(plm_detector_finish(d, &r), PLM_OK);
    plm_detector_destroy(d);
    free(buf);
    return r;
}

static void finds_bursts_at_their_time(void **state)
{
    (void)state;
    sig s = make_sig(600, 0.003, 1);
    double dur[] = {0.6, 1.0, 2.5, 4.0, 0.8, 3.0, 1.5, 5.0, 0.7, 2.0};
    double amp[] = {0.03, 0.3, 0.05, 0.1, 0.2, 0.04, 0.08, 0.15, 0.06, 0.025};
    for (int k = 0; k < 10; k++) add_burst(&s, 100 + 37.3 * k, dur[k], amp[k]);
    plm_detect_cfg cfg = plm_detect_cfg_default();
    plm_detect_result r = run(&s, &cfg, 4096, NAN);
    assert_int_equal(r.lm.n, 10);
    for (int k = 0; k < 10; k++) {
        double on = (double)r.lm.v[k].onset / FS, off = (double)r.lm.v[k].end / FS, t0 = 100 + 37.3 * k;
        if (fabs(on - t0) > 0.15 || fabs(off - (t0 + dur[k])) > 0.75)
            fail_msg("burst %d: detected %.2f-%.2f s, true %.2f-%.2f s", k, on, off, t0, t0 + dur[k]);
        assert_int_equal(r.lm.v[k].leg, PLM_LEG_LEFT);
        assert_true(r.lm.v[k].peak_g > amp[k] * 0.3 && r.lm.v[k].peak_g < amp[k] * 2);
        assert_true(r.lm.v[k].area_g_s > 0);
    }
    assert_int_equal(r.nqc, 0);
    plm_detect_result_clear(&r);
    free(s.x);
}

static void spikes_are_not_movements(void **state)
{
    (void)state;
    sig s = make_sig(300, 0.003, 2);
    int nsp = 0;
    for (double t = 10; t < 290; t += 7.1, nsp++) s.x[(nsp % 3) * s.n + (int64_t)(t * FS)] += (nsp % 2 ? 2.5 : -1.2);
    plm_detect_cfg cfg = plm_detect_cfg_default();
    plm_detect_result r = run(&s, &cfg, 1000, NAN);
    assert_int_equal(r.lm.n, 0);
    assert_int_equal(r.despiked, nsp);
    plm_detect_result_clear(&r);
    free(s.x);
}

static void block_size_does_not_change_results(void **state)
{
    (void)state;
    sig s = make_sig(400, 0.004, 3);
    for (int k = 0; k < 8; k++) add_burst(&s, 50 + 41 * k, 1 + 0.3 * k, 0.05 + 0.02 * k);
    s.x[1 * s.n + 5000] = NAN;
    plm_detect_cfg cfg = plm_detect_cfg_default();
    plm_detect_result a = run(&s, &cfg, 1, NAN), b = run(&s, &cfg, 777, NAN), c = run(&s, &cfg, s.n, NAN);
    assert_int_equal(a.lm.n, 8);
    assert_int_equal(a.lm.n, b.lm.n);
    assert_int_equal(a.lm.n, c.lm.n);
    for (size_t i = 0; i < a.lm.n; i++) { /* field by field: the struct has padding */
        const plm_lm *x = &a.lm.v[i], *y = &b.lm.v[i], *z = &c.lm.v[i];
        assert_true(x->onset == y->onset && x->end == y->end && x->peak_g == y->peak_g && x->area_g_s == y->area_g_s);
        assert_true(x->onset == z->onset && x->end == z->end && x->peak_g == z->peak_g && x->area_g_s == z->area_g_s);
    }
    assert_int_equal(a.nqc, b.nqc);
    assert_int_equal(a.nqc, c.nqc);
    assert_true(a.nqc > 0); /* the NaN sample makes a dropout interval */
    for (size_t i = 0; i < a.nqc; i++) { /* field by field: the struct has padding */
        const plm_interval *x = &a.qc[i], *y = &b.qc[i], *z = &c.qc[i];
        assert_true(x->onset == y->onset && x->end == y->end && x->kind == y->kind && x->leg == y->leg);
        assert_true(x->onset == z->onset && x->end == z->end && x->kind == z->kind && x->leg == z->leg);
    }
    plm_detect_result_clear(&a);
    plm_detect_result_clear(&b);
    plm_detect_result_clear(&c);
    free(s.x);
}

/* A slow dorsiflexion: the shank tilts 15 deg in 1 s, holds 2 s, returns in 1 s; no shaking. */
static void add_rotation(sig *s, double on_s)
{
    for (int64_t i = 0; i < s->n; i++) {
        double t = (double)i / FS - on_s, a = 0;
        if (t >= 0 && t < 1.0) a = t / 1.0;
        else if (t >= 1.0 && t < 3.0) a = 1;
        else if (t >= 3.0 && t < 4.0) a = (4.0 - t) / 1.0;
        if (a == 0) continue;
        double th = 15 * M_PI / 180 * (0.5 - 0.5 * cos(M_PI * a)), x = s->x[i], z = s->x[2 * s->n + i];
        s->x[i] = x * cos(th) - z * sin(th);
        s->x[2 * s->n + i] = x * sin(th) + z * cos(th);
    }
}

static void orientation_channel_catches_slow_movements(void **state)
{
    (void)state;
    sig s = make_sig(200, 0.003, 4);
    add_rotation(&s, 100);
    plm_detect_cfg cfg = plm_detect_cfg_default();
    plm_detect_result r = run(&s, &cfg, 4096, NAN);
    assert_int_equal(r.lm.n, 1); /* tilt, hold and return: one movement (it differs from the posture
                                    before and the one after all along) */
    assert_near((double)r.lm.v[0].onset / FS, 100, 0.3);
    assert_near((double)r.lm.v[0].end / FS, 104, 0.6);
    plm_detect_result_clear(&r);
    cfg.tilt_min_g = 1e6; /* without the tilt channel the movement is missed */
    r = run(&s, &cfg, 4096, NAN);
    assert_int_equal(r.lm.n, 0);
    plm_detect_result_clear(&r);
    free(s.x);
}

/* The hardest slow dorsiflexion of the hard preset: 3 deg up and back over 1.5 s (about 50 mg of
 * gravity moving, 4 deg/s at most), no shaking at all, in 8 mg of noise per axis. A posture change
 * (a 40-deg roll kept afterwards) is one movement only while it happens. */
static void small_slow_tilt_in_noise(void **state)
{
    (void)state;
    sig s = make_sig(300, 0.008, 6);
    for (int64_t i = 0; i < s.n; i++) {
        double t = (double)i / FS, th = 0, ph = 0;
        if (t >= 100 && t < 101.5) th = 3 * M_PI / 180 * (0.5 - 0.5 * cos(2 * M_PI * (t - 100) / 1.5));
        if (t >= 200) ph = 40 * M_PI / 180 * (t >= 203 ? 1 : 0.5 - 0.5 * cos(M_PI * (t - 200) / 3));
        double x = s.x[i], y = s.x[s.n + i], z = s.x[2 * s.n + i];
        s.x[i] = x * cos(th) - z * sin(th);
        z = x * sin(th) + z * cos(th);
        s.x[s.n + i] = y * cos(ph) - z * sin(ph);
        s.x[2 * s.n + i] = y * sin(ph) + z * cos(ph);
    }
    plm_detect_cfg cfg = plm_detect_cfg_default();
    plm_detect_result r = run(&s, &cfg, 1000, NAN);
    assert_int_equal(r.lm.n, 2);
    assert_near((double)r.lm.v[0].onset / FS, 100, 0.3);
    assert_near((double)r.lm.v[0].end / FS, 101.5, 0.5);
    /* the pure roll starts gently (cosine): the onset is placed where it reaches a tenth of its peak
     * deviation (peak_fraction), about 0.45 s in */
    assert_near((double)r.lm.v[1].onset / FS, 200, 0.6);
    assert_near((double)r.lm.v[1].end / FS, 203, 0.6);
    plm_detect_result_clear(&r);
    free(s.x);
}

static void quality_flags(void **state)
{
    (void)state;
    sig s = make_sig(600, 0.003, 5);
    for (int64_t i = (int64_t)(100 * FS); i < (int64_t)(100.5 * FS); i++) s.x[i] = 8.0;     /* clipped */
    for (int64_t i = (int64_t)(200 * FS); i < (int64_t)(203 * FS); i++) s.x[s.n + i] = NAN; /* gap */
    for (int c = 0; c < 3; c++)
        for (int64_t i = (int64_t)(300 * FS); i < (int64_t)(302 * FS); i++) s.x[c * s.n + i] = 0.5; /* flat line */
    add_burst(&s, 201, 1.0, 0.2); /* inside the gap: never a movement */
    plm_detect_cfg cfg = plm_detect_cfg_default();
    plm_detect_result r = run(&s, &cfg, 4096, 8.0);
    int clip = 0, gap = 0, flat = 0;
    for (size_t i = 0; i < r.nqc; i++) {
        const plm_interval *q = &r.qc[i];
        double a = (double)q->onset / FS, b = (double)q->end / FS;
        if (q->kind == PLM_QC_CLIPPING && fabs(a - 100) < 0.05 && fabs(b - 100.5) < 0.05) clip++;
        if (q->kind == PLM_QC_DROPOUT && q->leg == 0 && fabs(a - 200) < 0.05 && fabs(b - 203) < 0.05) gap++;
        if (q->kind == PLM_QC_DROPOUT && q->leg == PLM_LEG_LEFT && fabs(a - 300) < 0.05 && fabs(b - 302) < 0.05) flat++;
    }
    assert_int_equal(clip, 1);
    assert_int_equal(gap, 1);
    assert_int_equal(flat, 1);
    assert_near(r.excluded_s[PLM_QC_CLIPPING], 0.5, 0.05);
    assert_near(r.excluded_s[PLM_QC_DROPOUT], 5, 0.1);
    for (size_t i = 0; i < r.lm.n; i++) {
        double on = (double)r.lm.v[i].onset / FS;
        assert_false(on >= 199 && on < 204);
    }
    plm_detect_result_clear(&r);
    free(s.x);
}

static void nonwear_is_a_table_not_a_still_leg(void **state)
{
    (void)state;
    plm_detect_cfg cfg = plm_detect_cfg_default();
    /* removed: flat on a table (gravity on z) for 2 h */
    sig t = make_sig(7200, 0.003, 6);
    for (int64_t i = 0; i < t.n; i++) t.x[i] = t.x[i] - 0.36, t.x[t.n + i] += 0.48, t.x[2 * t.n + i] += 0.2;
    plm_detect_result r = run(&t, &cfg, 8192, 8);
    assert_true(r.excluded_s[PLM_QC_NONWEAR] >= 3600);
    plm_detect_result_clear(&r);
    /* worn: an equally still leg, lying at an oblique angle, for 2 h */
    sig w = make_sig(7200, 0.003, 7);
    r = run(&w, &cfg, 8192, 8);
    assert_near(r.excluded_s[PLM_QC_NONWEAR], 0, 0);
    plm_detect_result_clear(&r);
    free(t.x);
    free(w.x);
}

/* Still windows on the whole sphere, raw = gain * true + offset + noise. */
static void calibration_recovers_offsets_and_gains(void **state)
{
    (void)state;
    const double off[3] = {0.020, -0.015, 0.010}, gain[3] = {1.02, 0.98, 1.01};
    size_t n = 500;
    double *v = malloc(3 * n * sizeof *v);
    unsigned seed = 8;
    for (size_t i = 0; i < n; i++) {
        double u[3], m = 0;
        for (int x = 0; x < 3; x++) {
            u[x] = gauss(&seed);
            m += u[x] * u[x];
        }
        for (int x = 0; x < 3; x++) v[3 * i + x] = gain[x] * u[x] / sqrt(m) + off[x] + 0.001 * gauss(&seed);
    }
    plm_detect_cfg cfg = plm_detect_cfg_default();
    plm_calibration c;
    assert_int_equal(plm_calibrate_fit(v, n, &cfg, &c), PLM_OK);
    assert_true(c.applied);
    for (int x = 0; x < 3; x++) {
        assert_near(c.offset_g[x], off[x], 0.001);
        assert_near(c.gain[x], gain[x], 0.001);
    }
    assert_true(c.error_after_g < c.error_before_g);
    assert_contains(c.reason, "applied");
    /* orientations that never turn the x axis down: not applied, and says why */
    for (size_t i = 0; i < n; i++) v[3 * i] = fabs(v[3 * i]) + 0.5;
    assert_int_equal(plm_calibrate_fit(v, n, &cfg, &c), PLM_OK);
    assert_false(c.applied);
    assert_contains(c.reason, "do not cover axis x");
    assert_near(c.gain[0], 1, 0);
    assert_int_equal(plm_calibrate_fit(v, 3, &cfg, &c), PLM_OK);
    assert_false(c.applied);
    free(v);
}

static void invalid_configs(void **state)
{
    (void)state;
    plm_detector *d = NULL;
    plm_detect_cfg c = plm_detect_cfg_default();
    c.hi_min_g = 0;
    assert_int_equal(plm_detector_create(&c, FS, 3, one_leg, NAN, &d), PLM_EINVAL);
    c = plm_detect_cfg_default();
    c.lo_fraction = 2;
    assert_int_equal(plm_detector_create(&c, FS, 3, one_leg, NAN, &d), PLM_EINVAL);
    c = plm_detect_cfg_default();
    c.env_window_s = 0;
    assert_int_equal(plm_detector_create(&c, FS, 3, one_leg, NAN, &d), PLM_EINVAL);
    c = plm_detect_cfg_default();
    assert_int_equal(plm_detector_create(&c, FS, 7, one_leg, NAN, &d), PLM_EINVAL);
    const uint8_t two[2] = {PLM_LEG_LEFT, PLM_LEG_LEFT};
    assert_int_equal(plm_detector_create(&c, FS, 2, two, NAN, &d), PLM_EINVAL);
    assert_int_equal(plm_detector_create(&c, 0, 3, one_leg, NAN, &d), PLM_EINVAL);
    assert_null(d);
    plm_detector_destroy(NULL);
    plm_detect_result_clear(NULL);
}


/* Two legs, movements on each (some at once, some across the 16384-sample stages) and a clipped
 * stretch: one thread or two, any block size, the same result, field by field and in order. */
static plm_detect_result run2(const sig *l, const sig *r, int64_t block, int threads)
{
    static const uint8_t legs[6] = {PLM_LEG_LEFT, PLM_LEG_LEFT, PLM_LEG_LEFT, PLM_LEG_RIGHT, PLM_LEG_RIGHT, PLM_LEG_RIGHT};
    plm_detect_cfg cfg = plm_detect_cfg_default();
    plm_detector *d = NULL;
    assert_int_equal(plm_detector_create(&cfg, FS, 6, legs, 8.0, &d), PLM_OK);
    assert_int_equal(plm_detector_set_threads(d, threads), PLM_OK);
    double *buf = malloc(sizeof(double) * 6 * (size_t)block);
    for (int64_t i = 0; i < l->n; i += block) {
        int64_t m = l->n - i < block ? l->n - i : block;
        for (int c = 0; c < 6; c++)
            memcpy(buf + c * block, (c < 3 ? l : r)->x + (c % 3) * l->n + i, sizeof(double) * (size_t)m);
        assert_int_equal(plm_detector_push(d, buf, m, block), PLM_OK);
    }
    plm_detect_result res;
    assert_int_equal(plm_detector_finish(d, &res), PLM_OK);
    plm_detector_destroy(d);
    free(buf);
    return res;
}

static void same_result_on_two_threads(void **state)
{
    (void)state;
    sig l = make_sig(1200, 0.003, 7), r = make_sig(1200, 0.003, 8);
    for (int k = 0; k < 40; k++) {
        add_burst(&l, 20 + 27.5 * k, 0.8 + 0.1 * (k % 7), 0.05 + 0.01 * (k % 5));
        if (k % 3) add_burst(&r, 20 + 27.5 * k + (k % 2 ? 0 : 3.3), 1.0 + 0.2 * (k % 4), 0.04 + 0.02 * (k % 3));
    }
    for (int64_t i = 40000; i < 40100; i++) r.x[i] = 8.0; /* clipped on the right */
    plm_detect_result a = run2(&l, &r, 4096, 1);
    size_t nl = 0, nr = 0, switches = 0;
    for (size_t i = 0; i < a.lm.n; i++) {
        nl += a.lm.v[i].leg == PLM_LEG_LEFT;
        nr += a.lm.v[i].leg == PLM_LEG_RIGHT;
        switches += i && a.lm.v[i].leg != a.lm.v[i - 1].leg;
    }
    assert_true(nl >= 35 && nr >= 22); /* both legs' movements found, interleaved in the list */
    assert_true(switches >= 20);
    assert_true(a.nqc >= 1);
    const int64_t blocks[] = {4096, 1000, 16384, 77777};
    for (int t = 1; t <= 2; t++)
        for (size_t b = 0; b < sizeof blocks / sizeof blocks[0]; b++) {
            plm_detect_result x = run2(&l, &r, blocks[b], t);
            assert_int_equal(x.lm.n, a.lm.n);
            for (size_t i = 0; i < a.lm.n; i++) { /* field by field: the structs have padding */
                const plm_lm *p = &x.lm.v[i], *q = &a.lm.v[i];
                assert_true(p->onset == q->onset && p->end == q->end && p->leg == q->leg && p->flags == q->flags);
                assert_memory_equal(&p->peak_g, &q->peak_g, sizeof p->peak_g);
                assert_memory_equal(&p->area_g_s, &q->area_g_s, sizeof p->area_g_s);
            }
            assert_int_equal(x.nqc, a.nqc);
            for (size_t i = 0; i < a.nqc; i++)
                assert_true(x.qc[i].onset == a.qc[i].onset && x.qc[i].end == a.qc[i].end && x.qc[i].kind == a.qc[i].kind &&
                            x.qc[i].leg == a.qc[i].leg);
            for (int g = 0; g < 2; g++) {
                assert_memory_equal(x.calib[g].gain, a.calib[g].gain, sizeof a.calib[g].gain);
                assert_memory_equal(x.calib[g].offset_g, a.calib[g].offset_g, sizeof a.calib[g].offset_g);
                assert_int_equal(x.calib[g].windows, a.calib[g].windows);
            }
            assert_int_equal(x.nsec, a.nsec);
            for (int g = 0; g < 2; g++) assert_memory_equal(x.sec_e2[g], a.sec_e2[g], a.nsec * sizeof(float));
            plm_detect_result_clear(&x);
        }
    plm_detect_result_clear(&a);
    free(l.x);
    free(r.x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finds_bursts_at_their_time),
        cmocka_unit_test(spikes_are_not_movements),
        cmocka_unit_test(block_size_does_not_change_results),
        cmocka_unit_test(same_result_on_two_threads),
        cmocka_unit_test(orientation_channel_catches_slow_movements),
        cmocka_unit_test(small_slow_tilt_in_noise),
        cmocka_unit_test(quality_flags),
        cmocka_unit_test(nonwear_is_a_table_not_a_still_leg),
        cmocka_unit_test(calibration_recovers_offsets_and_gains),
        cmocka_unit_test(invalid_configs),
    };
    return cmocka_run_group_tests_name("detect", tests, NULL, NULL);
}
