/* test_simulate.c -- the simulator's truth is self-consistent and really in the signal.
 * Oracles: an independent WASM 2016 series finder (SOMAS reading, written here from
 * domain.md 1.2/1.5) applied to the truth's movements must reproduce its PLM flags; and
 * the recorded acceleration must show each true movement on the right leg. */
#include "testlib.h"
#include "plm/plm.h"

typedef struct {
    double on, off;
    int legs, in_tib, sleep, plm, arousal;
    char kind[16];
    double peak_g, tilt_deg;
} tunit;

static const char *study, *study_hard;

static int setup(void **state)
{
    (void)state;
    const char *d = tl_tmpdir();
    if (!d) return -1;
    static char buf[512];
    snprintf(buf, sizeof buf, "%s/study", d);
    study = buf;
    plm_sim_cfg cfg = plm_sim_cfg_default();
    cfg.subjects = 1;
    cfg.fs_hz = 50;
    cfg.seed = 7;
    if (plm_simulate_study(&cfg, study, NULL, NULL) != PLM_OK) return -1;
    static char hbuf[512];
    snprintf(hbuf, sizeof hbuf, "%s/hard", d);
    study_hard = hbuf;
    cfg.preset = PLM_SIM_HARD;
    cfg.float_wav = 1;
    cfg.seed = 8;
    return plm_simulate_study(&cfg, study_hard, NULL, NULL) == PLM_OK ? 0 : -1;
}

static tunit *read_units(const char *path, size_t *n)
{
    plm_csv *c = NULL;
    assert_int_equal(plm_csv_open(path, &c), PLM_OK);
    char **f;
    size_t nf, line, cap = 0;
    tunit *u = NULL;
    *n = 0;
    assert_int_equal(plm_csv_next(c, &f, &nf, &line), PLM_OK);
    assert_string_equal(f[0], "onset_s");
    while (plm_csv_next(c, &f, &nf, &line) == PLM_OK) {
        assert_int_equal(nf, 10);
        if (*n == cap) u = realloc(u, (cap = cap ? 2 * cap : 256) * sizeof *u);
        tunit t = {atof(f[0]), atof(f[1]), atoi(f[2]), atoi(f[4]), atoi(f[5]), atoi(f[6]), atoi(f[7]), "", atof(f[8]), atof(f[9])};
        snprintf(t.kind, sizeof t.kind, "%s", f[3]);
        u[(*n)++] = t;
    }
    plm_csv_destroy(c);
    return u;
}

static int cmp_on(const void *a, const void *b)
{
    const tunit *x = a, *y = b;
    return x->on < y->on ? -1 : x->on > y->on;
}

/* WASM 2016, SOMAS reading: within TIB, intervals onset to onset over all movements;
 * a movement preceded by an interval < 10 s is not eligible and breaks the run; a run
 * breaks at intervals > 90 s (or > 15 s bilateral / > 10 s monolateral durations, none
 * here); runs of >= 4 eligible movements are periodic. */
static void wasm_series(const tunit *u, size_t n, int *plm)
{
    size_t start = 0, len = 0;
    for (size_t i = 0; i <= n; i++) {
        int brk = i == n;
        int eligible = 1;
        if (i < n) {
            double imi = i ? u[i].on - u[i - 1].on : INFINITY;
            double dur = u[i].off - u[i].on;
            int clm = u[i].legs == 3 ? dur <= 15 : dur <= 10;
            eligible = clm && imi >= 10;
            brk = !eligible || imi > 90 || !i;
        }
        if (brk) {
            if (len >= 4)
                for (size_t k = start; k < start + len; k++) plm[k] = 1;
            start = i;
            len = 0;
        }
        if (i < n) {
            plm[i] = 0;
            if (eligible) {
                if (!len) start = i;
                len++;
            } else {
                start = i + 1;
            }
        }
    }
}

/* The truth of both recordings of study dir obeys the rules; returns the movements (twitches
 * included) of the control night, for the caller to check. */
static tunit *check_rules(const char *dir, size_t *nout)
{
    static const char *recs[] = {"S01_control_n1", "S01_magnesium_n1"};
    tunit *keep = NULL;
    for (int r = 0; r < 2; r++) {
        char p[600];
        snprintf(p, sizeof p, "%s/truth/%s.lm.csv", dir, recs[r]);
        size_t n;
        tunit *all = read_units(p, &n);
        assert_true(n > 50);
        tunit *u = malloc(n * sizeof *u);
        size_t m = 0;
        for (size_t i = 0; i < n; i++) /* twitches are not leg movements */
            if (all[i].in_tib && strcmp(all[i].kind, "twitch")) u[m++] = all[i];
        qsort(u, m, sizeof *u, cmp_on);
        int *plm = calloc(m, sizeof *plm);
        wasm_series(u, m, plm);
        int nplm = 0, nplms = 0;
        for (size_t i = 0; i < m; i++) {
            if (plm[i] != u[i].plm) fail_msg("%s: movement at %.2f s: truth plm=%d, rules say %d", recs[r], u[i].on, u[i].plm, plm[i]);
            double d = u[i].off - u[i].on;
            assert_true(d >= 0.5 - 1e-9);
            nplm += plm[i];
            nplms += plm[i] && u[i].sleep;
        }
        assert_true(nplm >= 20);
        /* nights.csv counts agree with the movement list */
        snprintf(p, sizeof p, "%s/truth/nights.csv", dir);
        plm_csv *c = NULL;
        assert_int_equal(plm_csv_open(p, &c), PLM_OK);
        char **f;
        size_t nf, line;
        int found = 0;
        while (plm_csv_next(c, &f, &nf, &line) == PLM_OK)
            if (!strcmp(f[0], recs[r])) {
                found = 1;
                assert_int_equal(atoi(f[9]), (int)m);
                assert_int_equal(atoi(f[10]), nplm);
                assert_int_equal(atoi(f[11]), nplms);
                assert_near(atof(f[13]), nplms / atof(f[5]), 1e-5);
            }
        assert_true(found);
        plm_csv_destroy(c);
        free(plm);
        free(u);
        if (r == 0) {
            keep = all;
            *nout = n;
        } else free(all);
    }
    return keep;
}

static void truth_matches_the_rules(void **state)
{
    (void)state;
    size_t n;
    free(check_rules(study, &n));
}

/* The hard preset (docs/simulate.md): the same rules hold with twitches left out, and each kind
 * has the ranges the documentation promises. */
static void hard_preset_truth(void **state)
{
    (void)state;
    size_t n, plm = 0, slow = 0, twitch = 0, small = 0;
    tunit *u = check_rules(study_hard, &n);
    for (size_t i = 0; i < n; i++) {
        double d = u[i].off - u[i].on;
        if (!strcmp(u[i].kind, "twitch")) {
            twitch++;
            assert_true(d >= 0.1 - 1e-6 && d <= 0.35 + 1e-6);
            assert_true(u[i].peak_g >= 0.02 && u[i].peak_g <= 0.08);
            assert_int_equal(u[i].plm, 0);
            continue;
        }
        /* 8-400 mg (a slow dorsiflexion shakes with a quarter of it; wake clusters up to 500 mg) */
        assert_true(u[i].peak_g >= (strcmp(u[i].kind, "slow") ? 0.008 : 0.002) - 1e-9 && u[i].peak_g <= 0.5 + 1e-9);
        if (u[i].plm) {
            plm++;
            small += u[i].peak_g < 0.02;
        }
        if (!strcmp(u[i].kind, "slow")) {
            slow++;
            assert_int_equal(u[i].plm, 1);
            assert_true(d >= 1.5 - 1e-6 && d <= 4.3);
            assert_true(u[i].tilt_deg >= 3 - 1e-6 && u[i].tilt_deg <= 14 + 1e-6);
            assert_true(u[i].peak_g <= 0.1 + 1e-9); /* a quarter of at most 400 mg */
        }
    }
    print_message("hard preset: %zu PLMs, %zu slow, %zu under 20 mg, %zu twitches\n", plm, slow, small, twitch);
    assert_true(plm >= 100);
    assert_true(slow >= 0.15 * (double)plm && slow <= 0.35 * (double)plm);
    assert_true(small >= 0.05 * (double)plm);
    assert_true(twitch >= 10);
    /* float WAV: no full scale in the manifest, samples in g */
    char p[600];
    snprintf(p, sizeof p, "%s/manifest.csv", study_hard);
    plm_manifest m;
    assert_int_equal(plm_manifest_read(p, &m), PLM_OK);
    assert_null(m.rows[0].error);
    assert_true(isnan(m.rows[0].full_scale_g));
    plm_manifest_clear(&m);
    free(u);
}

/* Sum over a leg's axes of the variance of x[c][a..b). */
static double leg_var(const double *x, int64_t n, int leg, int64_t a, int64_t b)
{
    double v = 0;
    for (int ax = 0; ax < 3; ax++) {
        const double *y = x + (int64_t)(leg * 3 + ax) * n;
        double m = 0, s = 0;
        for (int64_t i = a; i < b; i++) m += y[i];
        m /= (double)(b - a);
        for (int64_t i = a; i < b; i++) s += (y[i] - m) * (y[i] - m);
        v += s / (double)(b - a);
    }
    return v;
}

static void movements_are_in_the_signal(void **state)
{
    (void)state;
    char p[600];
    snprintf(p, sizeof p, "%s/recordings/S01_control_n1.wav", study);
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.full_scale_g = 8;
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(p, &cfg, &r), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(r);
    int64_t n = in->frames;
    double fs = in->fs_hz;
    double *x = malloc(sizeof(double) * (size_t)(6 * n));
    int64_t got;
    assert_int_equal(plm_reader_read(r, x, n, &got), PLM_OK);
    assert_int_equal(got, n);
    plm_reader_destroy(r);
    /* per-leg truth events (listed leg by leg) */
    snprintf(p, sizeof p, "%s/truth/S01_control_n1.events.csv", study);
    plm_csv *c = NULL;
    assert_int_equal(plm_csv_open(p, &c), PLM_OK);
    char **f;
    size_t nf, line, ne = 0;
    double lo = -1, quiet_var = 0, (*ev)[3] = malloc(sizeof(double[3]) * 100000);
    while (plm_csv_next(c, &f, &nf, &line) == PLM_OK) {
        if (!strcmp(f[2], "lights_off")) lo = atof(f[0]);
        if (strcmp(f[2], "lm") || ne == 100000) continue;
        ev[ne][0] = atof(f[0]);
        ev[ne][1] = ev[ne][0] + atof(f[1]);
        ev[ne][2] = !strcmp(f[3], "R");
        ne++;
    }
    int tested = 0, shows = 0, quiet_other = 0, mono = 0;
    for (size_t e = 0; e < ne; e++) {
        int leg = (int)ev[e][2];
        double on = ev[e][0], off = ev[e][1];
        int near_same = 0, near_other = 0;
        for (size_t k = 0; k < ne; k++) {
            if (k == e || ev[k][0] > off + 6 || ev[k][1] < on - 6) continue;
            if ((int)ev[k][2] == leg) near_same = 1;
            else near_other = 1;
        }
        if (lo < 0 || on < lo || near_same) continue;
        int64_t a = (int64_t)llround(on * fs), b = (int64_t)llround(off * fs);
        double v_in = leg_var(x, n, leg, a, b), v_pre = leg_var(x, n, leg, a - (int64_t)(5 * fs), a - (int64_t)fs);
        tested++;
        shows += v_in > 4 * v_pre;
        if (tested == 1) quiet_var = v_pre;
        if (!near_other) {
            double other_in = leg_var(x, n, 1 - leg, a, b), other_pre = leg_var(x, n, 1 - leg, a - (int64_t)(5 * fs), a - (int64_t)fs);
            mono++;
            quiet_other += other_in < 2 * other_pre;
        }
    }
    free(ev);
    plm_csv_destroy(c);
    free(x);
    print_message("movements tested %d, visible %d; monolateral %d, other leg quiet %d; quiet SD %.2f mg\n", tested,
                  shows, mono, quiet_other, sqrt(quiet_var / 3) * 1000);
    assert_true(tested > 100);
    assert_true(shows >= 0.97 * tested);
    assert_true(quiet_other >= 0.9 * mono);
    /* noise floor of a still leg: 3 mg white noise, 1/256 g steps (about 1.1 mg SD) */
    assert_near(sqrt(quiet_var / 3) * 1000, sqrt(9 + 1.0 / (256.0 * 256.0 * 12.0) * 1e6), 1.0);
}

static void manifest_is_valid_and_clock_times_resolve(void **state)
{
    (void)state;
    char p[600];
    snprintf(p, sizeof p, "%s/manifest.csv", study);
    plm_manifest m;
    assert_int_equal(plm_manifest_read(p, &m), PLM_OK);
    assert_int_equal(m.nrows, 2);
    for (size_t i = 0; i < m.nrows; i++) {
        assert_null(m.rows[i].error);
        assert_int_equal(m.rows[i].lights_off.kind, PLM_TSPEC_CLOCK);
        assert_string_equal(m.rows[i].timezone, "Europe/Berlin");
    }
    plm_manifest_clear(&m);
}

static void bad_configs(void **state)
{
    (void)state;
    plm_sim_cfg cfg = plm_sim_cfg_default();
    cfg.fs_hz = 12.5;
    assert_int_equal(plm_simulate_study(&cfg, "/tmp/never", NULL, NULL), PLM_EINVAL);
    assert_contains(plm_last_error(), "fs_hz=12.5 must be a whole number");
    cfg = plm_sim_cfg_default();
    cfg.legs = 3;
    assert_int_equal(plm_simulate_study(&cfg, "/tmp/never", NULL, NULL), PLM_EINVAL);
    cfg = plm_sim_cfg_default();
    cfg.timezone = "Atlantis/Capital";
    assert_int_equal(plm_simulate_study(&cfg, "/tmp/never", NULL, NULL), PLM_EINVAL);
    cfg = plm_sim_cfg_default();
    cfg.first_night = "soon";
    assert_int_equal(plm_simulate_study(&cfg, "/tmp/never", NULL, NULL), PLM_EINVAL);
    assert_int_equal(access("/tmp/never", F_OK), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truth_matches_the_rules),
        cmocka_unit_test(hard_preset_truth),
        cmocka_unit_test(movements_are_in_the_signal),
        cmocka_unit_test(manifest_is_valid_and_clock_times_resolve),
        cmocka_unit_test(bad_configs),
    };
    return cmocka_run_group_tests_name("simulate", tests, setup, NULL);
}
