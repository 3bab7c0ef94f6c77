/* test_night.c -- annotations (texts, EDF+ files), time-in-bed estimation, night analysis. */
#include "testlib.h"
#include <edflib.h>
#include "plm/plm.h"

static void annotation_texts(void **state)
{
    (void)state;
    const struct {
        const char *text;
        int type;
        uint8_t leg;
    } cases[] = {{"Sleep stage W", PLM_EV_W, 0},     {"Sleep stage N2", PLM_EV_N2, 0},  {"Sleep stage R", PLM_EV_R, 0},
                 {"Sleep stage 4", PLM_EV_N3, 0},    {"N1", PLM_EV_N1, 0},              {"Arousal", PLM_EV_AROUSAL, 0},
                 {"EEG arousal", PLM_EV_AROUSAL, 0}, {"Obstructive Apnea", PLM_EV_APNEA, 0},
                 {"Hypopnea", PLM_EV_HYPOPNEA, 0},   {"Lights off", PLM_EV_LIGHTS_OFF, 0}, {"LIGHTS ON", PLM_EV_LIGHTS_ON, 0},
                 {"Limb movement - left", PLM_EV_LM, PLM_LEG_LEFT}, {"Leg movement right", PLM_EV_LM, PLM_LEG_RIGHT},
                 {"Spindle", 0, 0},                  {"Snore", 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t leg = 9;
        int t = plm_event_type_from_text(cases[i].text, &leg);
        if (t != cases[i].type || (t == PLM_EV_LM && leg != cases[i].leg))
            fail_msg("'%s': type %d leg %d, expected %d %d", cases[i].text, t, leg, cases[i].type, cases[i].leg);
    }
}

static void edf_annotation_file(void **state)
{
    (void)state;
    const char *dir = tl_tmpdir();
    const char *p = tl_path(dir, "psg.edf");
    int h = edfopen_file_writeonly(p, EDFLIB_FILETYPE_EDFPLUS, 1);
    assert_true(h >= 0);
    edf_set_samplefrequency(h, 0, 10);
    edf_set_physical_maximum(h, 0, 100);
    edf_set_physical_minimum(h, 0, -100);
    edf_set_digital_maximum(h, 0, 32767);
    edf_set_digital_minimum(h, 0, -32768);
    edf_set_label(h, 0, "EEG C3");
    edf_set_physical_dimension(h, 0, "uV");
    double buf[10] = {0};
    for (int r = 0; r < 120; r++) edfwrite_physical_samples(h, buf);
    edfwrite_annotation_utf8(h, 0, -1, "Lights off");
    edfwrite_annotation_utf8(h, 0, 300000, "Sleep stage W");
    edfwrite_annotation_utf8(h, 300000, 300000, "Sleep stage N2");
    edfwrite_annotation_utf8(h, 400000, 50000, "Arousal");
    edfwrite_annotation_utf8(h, 450000, 10000, "Spindle");
    edfwrite_annotation_utf8(h, 1190000, -1, "Lights on");
    assert_int_equal(edfclose_file(h), 0);
    plm_event_list ev;
    assert_int_equal(plm_events_read_file(p, &ev), PLM_OK);
    assert_int_equal(ev.n, 5);
    assert_string_equal(ev.unknown_types, "Spindle");
    int seen = 0;
    for (size_t i = 0; i < ev.n; i++) {
        if (ev.v[i].type == PLM_EV_AROUSAL) {
            assert_near(ev.v[i].onset_s, 40, 1e-9);
            assert_near(ev.v[i].duration_s, 5, 1e-9);
            seen++;
        }
        if (ev.v[i].type == PLM_EV_N2) {
            assert_near(ev.v[i].onset_s, 30, 1e-9);
            assert_near(ev.v[i].duration_s, 30, 1e-9);
            seen++;
        }
        if (ev.v[i].type == PLM_EV_LIGHTS_ON) {
            assert_near(ev.v[i].onset_s, 119, 1e-9);
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    plm_event_list_clear(&ev);
    /* the same reader takes an events CSV */
    const char *q = tl_path(dir, "ev.csv");
    tl_write_text(q, "onset_s,duration_s,type,leg\n10,1,lm,R\n");
    assert_int_equal(plm_events_read_file(q, &ev), PLM_OK);
    assert_int_equal(ev.n, 1);
    assert_int_equal(ev.v[0].leg, PLM_LEG_RIGHT);
    plm_event_list_clear(&ev);
    assert_int_equal(plm_events_read_file(tl_path(dir, "none.edf"), &ev), PLM_EIO);
}

/* A detector result by hand: 1 h upright and walking, 3 h lying still, 1 h upright walking. */
static void time_in_bed_estimated_from_lying(void **state)
{
    (void)state;
    plm_detect_result d;
    memset(&d, 0, sizeof d);
    d.nlegs = 1;
    d.leg_of[0] = PLM_LEG_LEFT;
    d.nsec = 5 * 3600;
    d.ngrav = d.nsec / 30;
    d.sec_e2[0] = calloc(d.nsec, sizeof(float));
    d.grav[0] = calloc(3 * d.ngrav, sizeof(float));
    const double up[3] = {0.6, 0.0, 0.8}, lie[3] = {0.0, 1.0, 0.0};
    for (size_t e = 0; e < d.ngrav; e++) {
        int lying = e >= 120 && e < 480;
        for (int x = 0; x < 3; x++) d.grav[0][3 * e + x] = (float)(lying ? lie[x] : up[x]);
        for (size_t s = 30 * e; s < 30 * e + 30; s++) d.sec_e2[0][s] = lying ? 1e-5f : (e % 4 == 0 ? 0.04f : 1e-5f);
    }
    plm_night_cfg cfg = plm_night_cfg_default();
    plm_night_result r;
    assert_int_equal(plm_night_analyze(&cfg, &d, 50, 5 * 3600, NAN, NAN, NULL, &r), PLM_OK);
    assert_string_equal(r.lights_source, "estimated");
    assert_near(r.lights_off_s, 3600, 0);
    assert_near(r.lights_on_s, 4 * 3600, 0);
    assert_string_equal(r.sleep_source, "actigraphy");
    assert_near(r.sleep.tib_h, 3, 1e-9);
    assert_true(r.sleep.se_pct > 95); /* lying still: asleep */
    plm_night_result_clear(&r);
    /* given lights win over the estimate */
    assert_int_equal(plm_night_analyze(&cfg, &d, 50, 5 * 3600, 4000, 12000, NULL, &r), PLM_OK);
    assert_string_equal(r.lights_source, "manifest");
    assert_near(r.sleep.tib_h, 8000.0 / 3600, 1e-9);
    plm_night_result_clear(&r);
    /* lights on before lights off: refused */
    assert_int_equal(plm_night_analyze(&cfg, &d, 50, 5 * 3600, 9000, 8000, NULL, &r), PLM_EINVAL);
    free(d.sec_e2[0]);
    free(d.grav[0]);
}

/* The masked/unmasked sensitivity pair, by hand. A 3-h night (lights 0 .. 10800 s) lying still,
 * one leg; from minute 60, 42 movements of 3 s every 20 s (onsets on the minute, :20, :40), so
 * minutes 60..73 hold 9 active seconds each (RMS 0.2 g against a floor of 3.2 mg + 20 mg).
 * Masked: no activity left, every epoch sleep; all 42 are PLMS: 14 /h, SE 100 %.
 * Unmasked, Cole-Kripke (weights 4.64 6.87 3.75 5.07 16.19 5.84 4.024 for lags -4..+2, x 0.003,
 * sleep if < 0.5): minute 59 gives 0.003 x 9.864 x 9 = 0.266 (sleep), 60 gives
 * 0.003 x 26.054 x 9 = 0.703 (wake), 74 gives 0.003 x 20.33 x 9 = 0.549 (wake), 75 gives
 * 0.003 x 15.26 x 9 = 0.412 (sleep): 15 wake minutes, then Webster turns the next 4 into wake.
 * 19 wake minutes: SE = 161 / 180, and every PLM falls in wake: PLMS index 0. */
static void sensitivity_masked_and_unmasked(void **state)
{
    (void)state;
    const double fs = 50;
    plm_detect_result d;
    memset(&d, 0, sizeof d);
    d.nlegs = 1;
    d.leg_of[0] = PLM_LEG_LEFT;
    d.nsec = 3 * 3600;
    d.sec_e2[0] = calloc(d.nsec, sizeof(float));
    d.lm.v = calloc(42, sizeof *d.lm.v);
    d.lm.fs_hz = fs;
    for (size_t s = 0; s < d.nsec; s++) d.sec_e2[0][s] = 1e-5f;
    for (size_t k = 0; k < 42; k++) {
        size_t on = 3600 + 20 * k;
        d.lm.v[d.lm.n++] = (plm_lm){.onset = (int64_t)(on * fs), .end = (int64_t)((on + 3) * fs), .leg = PLM_LEG_LEFT};
        for (size_t s = on; s < on + 3; s++) d.sec_e2[0][s] = 0.04f;
    }
    plm_night_cfg cfg = plm_night_cfg_default();
    plm_night_result r;
    assert_int_equal(plm_night_analyze(&cfg, &d, fs, 3 * 3600, 0, 3 * 3600, NULL, &r), PLM_OK);
    assert_int_equal(r.score.plm_count, 42);
    assert_near(r.sleep.se_pct, 100, 1e-9);
    assert_near(r.se_masked_pct, 100, 1e-9);
    assert_near(r.plms_index_masked, 14, 1e-9);
    assert_near(r.score.plms_index, 14, 1e-9);
    assert_near(r.se_unmasked_pct, 161.0 / 180 * 100, 1e-9);
    assert_near(r.plms_index_unmasked, 0, 0);
    plm_night_result_clear(&r);
    /* without masking the pair is the same, the chosen figures are the unmasked ones */
    cfg.mask_plm = 0;
    assert_int_equal(plm_night_analyze(&cfg, &d, fs, 3 * 3600, 0, 3 * 3600, NULL, &r), PLM_OK);
    assert_near(r.sleep.se_pct, 161.0 / 180 * 100, 1e-9);
    assert_near(r.score.plms_index, 0, 0);
    assert_near(r.se_masked_pct, 100, 1e-9);
    assert_near(r.se_unmasked_pct, 161.0 / 180 * 100, 1e-9);
    assert_near(r.plms_index_masked, 14, 1e-9);
    assert_near(r.masked_s, 0, 0);
    assert_true(isnan(r.score.plms_rem_index) && isnan(r.score.plms_nrem_index)); /* no stages, no split */
    plm_night_result_clear(&r);
    /* stages given: no actigraphic sensitivity figures; REM 3600-5400 s holds the whole series */
    plm_event st[3] = {{.onset_s = 0, .duration_s = 3600, .type = PLM_EV_N2},
                       {.onset_s = 3600, .duration_s = 1800, .type = PLM_EV_R},
                       {.onset_s = 5400, .duration_s = 5400, .type = PLM_EV_N3}};
    plm_event_list ann = {.v = st, .n = 3, .cap = 3};
    assert_int_equal(plm_night_analyze(&cfg, &d, fs, 3 * 3600, 0, 3 * 3600, &ann, &r), PLM_OK);
    assert_string_equal(r.sleep_source, "annotations");
    assert_true(isnan(r.se_masked_pct) && isnan(r.se_unmasked_pct));
    assert_true(isnan(r.plms_index_masked) && isnan(r.plms_index_unmasked));
    assert_near(r.score.plms_index, 14, 1e-9);
    assert_near(r.score.rem_h, 0.5, 1e-12);
    assert_near(r.score.plms_rem_index, 84, 1e-9); /* 42 in half an hour of REM */
    assert_near(r.score.plms_nrem_index, 0, 0);
    plm_night_result_clear(&r);
    free(d.sec_e2[0]);
    free(d.lm.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(annotation_texts),
        cmocka_unit_test(edf_annotation_file),
        cmocka_unit_test(time_in_bed_estimated_from_lying),
        cmocka_unit_test(sensitivity_masked_and_unmasked),
    };
    return cmocka_run_group_tests_name("night", tests, NULL, NULL);
}
