/* test_accuracy.c -- detection accuracy and calibration on simulated studies with known truth,
 * with margins on the figures of docs/validation.md, and the real Axivity file end to end. */
#include "testlib.h"
#include "plm/plm.h"

/* Simulate, process every row into one store, and compare each recording with its truth. */
static void study(const plm_sim_cfg *sim, plm_compare_result *total, double *worst_f1_leg, double *max_onset_med,
                  const char *results_name, const char **out_dir)
{
    const char *dir = tl_tmpdir();
    assert_non_null(dir);
    assert_int_equal(plm_simulate_study(sim, dir, NULL, NULL), PLM_OK);
    plm_manifest m;
    assert_int_equal(plm_manifest_read(tl_path(dir, "manifest.csv"), &m), PLM_OK);
    const char *h5 = tl_path(dir, results_name);
    plm_store *st = NULL;
    assert_int_equal(plm_store_create(h5, &st), PLM_OK);
    plm_process_cfg cfg = plm_process_cfg_default();
    for (size_t i = 0; i < m.nrows; i++) {
        plm_process_result res;
        if (plm_process_recording(&m.rows[i], &cfg, st, &res) != PLM_OK) fail_msg("%s", plm_last_error());
    }
    assert_int_equal(plm_store_commit(st), PLM_OK);
    memset(total, 0, sizeof *total);
    *worst_f1_leg = 1;
    *max_onset_med = 0;
    for (size_t i = 0; i < m.nrows; i++) {
        plm_span *det = NULL;
        size_t nd;
        assert_int_equal(plm_store_read_lm_leg(h5, m.rows[i].recording, &det, &nd, NULL, 0), PLM_OK);
        char p[700];
        snprintf(p, sizeof p, "%s/truth/%s.events.csv", dir, m.rows[i].recording);
        plm_event_list ev;
        assert_int_equal(plm_events_read_csv(p, &ev), PLM_OK);
        plm_span *ref = calloc(ev.n, sizeof *ref);
        size_t nr = 0;
        double lo = 0, ln = INFINITY;
        for (size_t k = 0; k < ev.n; k++) {
            if (ev.v[k].type == PLM_EV_LM) ref[nr++] = (plm_span){ev.v[k].onset_s, ev.v[k].onset_s + ev.v[k].duration_s, ev.v[k].leg};
            if (ev.v[k].type == PLM_EV_LIGHTS_OFF) lo = ev.v[k].onset_s;
            if (ev.v[k].type == PLM_EV_LIGHTS_ON) ln = ev.v[k].onset_s;
        }
        plm_compare_result r;
        assert_int_equal(plm_compare_spans(det, nd, ref, nr, lo, ln, &r), PLM_OK);
        for (int l = 1; l <= 2; l++) {
            *worst_f1_leg = fmin(*worst_f1_leg, r.leg[l].f1);
            *max_onset_med = fmax(*max_onset_med, r.leg[l].onset_err_median_s);
        }
        for (int l = 0; l < 3; l++) {
            total->leg[l].tp += r.leg[l].tp;
            total->leg[l].fn += r.leg[l].fn;
            total->leg[l].fp += r.leg[l].fp;
        }
        free(det);
        free(ref);
        plm_event_list_clear(&ev);
    }
    plm_manifest_clear(&m);
    if (out_dir) *out_dir = dir;
}

static double f1(const plm_match_stats *s) { return 2.0 * (double)s->tp / (double)(2 * s->tp + s->fn + s->fp); }

static void default_noise(void **state)
{
    (void)state;
    plm_sim_cfg sim = plm_sim_cfg_default();
    sim.subjects = 2;
    sim.seed = 11;
    plm_compare_result t;
    double worst, onset;
    study(&sim, &t, &worst, &onset, "default.h5", NULL);
    print_message("default noise: TP %zu FN %zu FP %zu, F1 %.3f, worst per-leg night F1 %.3f, largest median onset error %.3f s\n",
                  t.leg[0].tp, t.leg[0].fn, t.leg[0].fp, f1(&t.leg[0]), worst, onset);
    assert_true(f1(&t.leg[1]) >= 0.95 && f1(&t.leg[2]) >= 0.95);
    assert_true(worst >= 0.95);
    assert_true(onset < 0.2);
}

static void three_times_the_noise_spikes_and_drift(void **state)
{
    (void)state;
    plm_sim_cfg sim = plm_sim_cfg_default();
    sim.subjects = 2;
    sim.seed = 12;
    sim.noise_mg *= 3;
    sim.spike_rate_per_h = 10;
    sim.drift_mg = 15;
    plm_compare_result t;
    double worst, onset;
    study(&sim, &t, &worst, &onset, "hard.h5", NULL);
    print_message("3x noise, spikes, drift: TP %zu FN %zu FP %zu, F1 %.3f, worst per-leg night F1 %.3f, largest median onset error %.3f s\n",
                  t.leg[0].tp, t.leg[0].fn, t.leg[0].fp, f1(&t.leg[0]), worst, onset);
    assert_true(f1(&t.leg[1]) >= 0.90 && f1(&t.leg[2]) >= 0.90);
    assert_true(worst >= 0.90);
    assert_true(onset < 0.2);
}

/* The hard preset (docs/simulate.md: small and slow movements, 3-8 mg noise, twitches), float WAV,
 * on seeds the detector was not developed on: the targets of docs/validation.md -- F1 >= 0.95,
 * onsets within 0.15 s (median, every night and leg), twitches taken for movements <= 5 %. */
static void hard_preset(void **state)
{
    (void)state;
    plm_sim_cfg sim = plm_sim_cfg_default();
    sim.subjects = 2;
    sim.seed = 31;
    sim.preset = PLM_SIM_HARD;
    sim.float_wav = 1;
    plm_compare_result t;
    double worst, onset;
    const char *dir;
    study(&sim, &t, &worst, &onset, "hardpreset.h5", &dir);
    /* twitches (lm.csv kind twitch, never in the events truth) against the detections */
    int twitches = 0, taken = 0;
    static const char *recs[] = {"S01_control_n1", "S01_magnesium_n1", "S02_control_n1", "S02_magnesium_n1"};
    for (int r = 0; r < 4; r++) {
        plm_span *det = NULL;
        size_t nd;
        assert_int_equal(plm_store_read_lm_leg(tl_path(dir, "hardpreset.h5"), recs[r], &det, &nd, NULL, 0), PLM_OK);
        char p[700];
        snprintf(p, sizeof p, "%s/truth/%s.lm.csv", dir, recs[r]);
        plm_csv *c = NULL;
        assert_int_equal(plm_csv_open(p, &c), PLM_OK);
        char **f;
        size_t nf, line;
        plm_csv_next(c, &f, &nf, &line);
        while (plm_csv_next(c, &f, &nf, &line) == PLM_OK) {
            if (strcmp(f[3], "twitch") || !atoi(f[4])) continue;
            double on = atof(f[0]), off = atof(f[1]);
            int leg = atoi(f[2]), hit = 0;
            for (size_t k = 0; k < nd && !hit; k++) hit = (det[k].leg & leg) && det[k].onset_s < off && det[k].offset_s > on;
            twitches++;
            taken += hit;
        }
        plm_csv_destroy(c);
        free(det);
    }
    print_message("hard preset: TP %zu FN %zu FP %zu, F1 %.3f, worst per-leg night F1 %.3f, largest median onset error %.3f s; "
                  "twitches %d, taken for movements %d\n",
                  t.leg[0].tp, t.leg[0].fn, t.leg[0].fp, f1(&t.leg[0]), worst, onset, twitches, taken);
    assert_true(f1(&t.leg[0]) >= 0.95);
    assert_true(worst >= 0.90);
    assert_true(onset <= 0.15);
    assert_true(twitches >= 20);
    assert_true(taken <= 0.05 * twitches);
}

/* Calibration against the injected offsets and gains (truth/calibration.csv), no drift. */
static void calibration_recovers_the_truth(void **state)
{
    (void)state;
    plm_sim_cfg sim = plm_sim_cfg_default();
    sim.subjects = 3;
    sim.seed = 13;
    sim.drift_mg = 0;
    plm_compare_result t;
    double worst, onset;
    const char *dir;
    study(&sim, &t, &worst, &onset, "calib.h5", &dir);
    /* read the fitted values back with HDF5's own API (attributes per recording and leg) */
    plm_csv *c = NULL;
    assert_int_equal(plm_csv_open(tl_path(dir, "truth/calibration.csv"), &c), PLM_OK);
    char **f;
    size_t nf, line;
    plm_csv_next(c, &f, &nf, &line);
    int applied = 0, checked = 0;
    double worst_off = 0, worst_gain = 0;
    char cmd[2000];
    while (plm_csv_next(c, &f, &nf, &line) == PLM_OK) {
        const char *leg = !strcmp(f[1], "L") ? "left" : "right";
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c \"import h5py; a=h5py.File('%s','r')['recordings/%s'].attrs; "
                 "print(a['calib_%s_applied'], a['calib_%s_offset_%s_g'], a['calib_%s_gain_%s'])\"",
                 tl_path(dir, "calib.h5"), f[0], leg, leg, f[2], leg, f[2]);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        int ap = 0;
        double off = NAN, gain = NAN;
        assert_int_equal(fscanf(p, "%d %lf %lf", &ap, &off, &gain), 3);
        pclose(p);
        checked++;
        if (!ap) continue;
        applied++;
        worst_off = fmax(worst_off, fabs(off - atof(f[3])));
        worst_gain = fmax(worst_gain, fabs(gain - atof(f[4])));
    }
    plm_csv_destroy(c);
    print_message("calibration applied on %d of %d axes; worst offset error %.2f mg, worst gain error %.4f\n", applied, checked,
                  worst_off * 1000, worst_gain);
    assert_int_equal(checked, 3 * 2 * 2 * 3); /* subjects x conditions x legs x axes: every axis was compared */
    assert_true(applied > 0 && applied >= checked / 2);
    assert_true(worst_off < 0.005);
    assert_true(worst_gain < 0.005);
}

/* Per-night PLMS index and sleep efficiency against truth/nights.csv (issue 4 acceptance 2):
 * estimated sleep/wake: SE within 5 points on >= 80 % of nights; with the stages given as
 * annotations: PLMS index within max(2/h, 10 %) on >= 90 % of nights. */
static void nights_against_truth(void **state)
{
    (void)state;
    const char *dir = tl_tmpdir();
    plm_sim_cfg sim = plm_sim_cfg_default();
    sim.subjects = 3;
    sim.seed = 23;
    assert_int_equal(plm_simulate_study(&sim, dir, NULL, NULL), PLM_OK);
    plm_manifest m;
    assert_int_equal(plm_manifest_read(tl_path(dir, "manifest.csv"), &m), PLM_OK);
    plm_csv *c = NULL;
    assert_int_equal(plm_csv_open(tl_path(dir, "truth/nights.csv"), &c), PLM_OK);
    char **f;
    size_t nf, line;
    plm_csv_next(c, &f, &nf, &line);
    double t_plms[16], t_se[16];
    size_t nt = 0;
    while (plm_csv_next(c, &f, &nf, &line) == PLM_OK && nt < 16) {
        assert_string_equal(f[0], m.rows[nt].recording);
        t_plms[nt] = atof(f[13]);
        t_se[nt] = atof(f[6]);
        nt++;
    }
    plm_csv_destroy(c);
    assert_int_equal(nt, m.nrows);
    int se_ok = 0, plms_ok = 0;
    for (int mode = 0; mode < 2; mode++) {
        plm_store *st = NULL;
        assert_int_equal(plm_store_create(tl_path(dir, mode ? "stages.h5" : "estimated.h5"), &st), PLM_OK);
        plm_process_cfg cfg = plm_process_cfg_default();
        for (size_t i = 0; i < m.nrows; i++) {
            char ann[700];
            snprintf(ann, sizeof ann, "%s/truth/%s.events.csv", dir, m.rows[i].recording);
            plm_manifest_row row = m.rows[i];
            row.annotations = mode ? ann : NULL;
            plm_process_result res;
            if (plm_process_recording(&row, &cfg, st, &res) != PLM_OK) fail_msg("%s", plm_last_error());
            if (mode) plms_ok += fabs(res.row.plms_index - t_plms[i]) <= fmax(2, 0.1 * t_plms[i]);
            else se_ok += fabs(res.row.se_pct - t_se[i]) <= 5;
            print_message("%s %s: PLMS %.1f (true %.1f), SE %.1f (true %.1f)\n", m.rows[i].recording,
                          mode ? "stages" : "estimated", res.row.plms_index, t_plms[i], res.row.se_pct, t_se[i]);
        }
        plm_store_destroy(st);
    }
    assert_true(se_ok >= 0.8 * (double)nt);
    assert_true(plms_ok >= 0.9 * (double)nt);
    plm_manifest_clear(&m);
}

static void axivity_file_end_to_end(void **state)
{
    (void)state;
    const char *p = tl_shared("axivity/ax3test.wav");
    if (!p) {
        print_message("skip: ../shared/data/axivity/ax3test.wav not present\n");
        skip();
    }
    const char *dir = tl_tmpdir();
    plm_store *st = NULL;
    assert_int_equal(plm_store_create(tl_path(dir, "ax.h5"), &st), PLM_OK);
    plm_manifest_row row = {.line = 2, .subject = "ax", .condition = "control", .path = (char *)p,
                            .path_given = (char *)p, .recording = "ax3test", .night = 1, .full_scale_g = NAN};
    plm_process_cfg cfg = plm_process_cfg_default();
    plm_process_result res;
    if (plm_process_recording(&row, &cfg, st, &res) != PLM_OK) fail_msg("%s", plm_last_error());
    /* what the file says (README of ../shared/data): 32,640 frames at 100 Hz, cut short; start in the ICMT comment */
    assert_int_equal(res.frames, 32640);
    assert_near(res.duration_s, 326.4, 1e-9);
    assert_contains(res.warnings, "truncated");
    assert_true(res.has_start);
    char utc[48];
    plm_time_format_utc(&res.start, utc, sizeof utc);
    assert_string_equal(res.start_source, "axivity");
    assert_contains(utc, "2018-03-18T"); /* local 17:24:47.536 in the machine's zone */
    assert_int_equal(res.start.nsec, 536000000);
    assert_int_equal(res.lm_count[1], 0); /* one device: the left leg only */
    assert_int_equal(plm_store_commit(st), PLM_OK);
    /* the results file holds what the run reported: one night over the whole recording, every
     * detected movement in lm_leg. A wrist over 5 minutes moves: the naive SciPy script of
     * ../shared/tools/bench finds 37 movements here; ours must find some, and not an absurd number. */
    plm_night *n = NULL;
    size_t nn = 0;
    assert_int_equal(plm_store_read_nights(tl_path(dir, "ax.h5"), &n, &nn), PLM_OK);
    assert_int_equal(nn, 1);
    assert_string_equal(n[0].lights_source, "recording");
    assert_near(n[0].tib_h, 326.4 / 3600, 1e-9);
    plm_nights_free(n, nn);
    plm_span *lm = NULL;
    size_t nlm = 0;
    assert_int_equal(plm_store_read_lm_leg(tl_path(dir, "ax.h5"), "ax3test", &lm, &nlm, NULL, 0), PLM_OK);
    assert_int_equal(nlm, res.lm_count[0]);
    for (size_t i = 0; i < nlm; i++) assert_true(lm[i].onset_s >= 0 && lm[i].offset_s > lm[i].onset_s && lm[i].offset_s <= 326.4);
    free(lm);
    print_message("ax3test.wav: %zu movements on the wrist, calibration: %s\n", res.lm_count[0], res.calib[0].reason);
    assert_in_range(res.lm_count[0], 10, 60);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(default_noise),
        cmocka_unit_test(three_times_the_noise_spikes_and_drift),
        cmocka_unit_test(hard_preset),
        cmocka_unit_test(calibration_recovers_the_truth),
        cmocka_unit_test(nights_against_truth),
        cmocka_unit_test(axivity_file_end_to_end),
    };
    return cmocka_run_group_tests_name("accuracy", tests, NULL, NULL);
}
