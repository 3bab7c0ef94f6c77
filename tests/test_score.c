/* test_score.c -- PLM scoring rules at their edges, built by hand, for each rule set. */
#include "testlib.h"
#include "plm/plm.h"

#define S(x) plm_us(x)
#define L PLM_LEG_LEFT
#define R PLM_LEG_RIGHT

static plm_score_result score(plm_ruleset rs, plm_short_imi policy, const plm_leg_event *e, size_t n)
{
    plm_score_cfg c = plm_score_cfg_rules(rs);
    if (policy != (plm_short_imi)-1) c.short_imi = policy;
    plm_score_result r;
    assert_int_equal(plm_score_night(&c, e, n, NULL, 0, NULL, 0, NULL, S(0), S(36000), &r), PLM_OK);
    return r;
}

/* n movements of 1 s on the left leg at the given onsets */
static size_t at(plm_leg_event *e, const double *on, size_t n)
{
    for (size_t i = 0; i < n; i++) e[i] = (plm_leg_event){S(on[i]), S(on[i] + 1), L};
    return n;
}

static void intervals_of_exactly_10_and_90_s(void **state)
{
    (void)state;
    plm_leg_event e[8];
    const double ten[] = {100, 110, 120, 130}, ninety[] = {100, 190, 280, 370};
    const double under[] = {100, 110, 120, 129.999999}, over[] = {100, 190, 280, 370.000001};
    plm_score_result r = score(PLM_RULES_WASM2016, -1, e, at(e, ten, 4));
    assert_int_equal(r.plm_count, 4);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_WASM2016, -1, e, at(e, ninety, 4));
    assert_int_equal(r.plm_count, 4);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_WASM2016, -1, e, at(e, under, 4));
    assert_int_equal(r.plm_count, 0);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_WASM2016, -1, e, at(e, over, 4));
    assert_int_equal(r.plm_count, 0);
    plm_score_result_clear(&r);
    /* AASM: 5 s is enough; legacy: 4 s */
    const double five[] = {100, 105, 110, 115}, four[] = {100, 104, 108, 112};
    r = score(PLM_RULES_AASM2007, -1, e, at(e, five, 4));
    assert_int_equal(r.plm_count, 4);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_AASM2007, -1, e, at(e, four, 4));
    assert_int_equal(r.plm_count, 0);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_LEGACY1998, -1, e, at(e, four, 4));
    assert_int_equal(r.plm_count, 4);
    plm_score_result_clear(&r);
    for (int rs = 0; rs < 3; rs++) {
        r = score((plm_ruleset)rs, -1, e, at(e, ninety, 4));
        assert_int_equal(r.plm_count, 4);
        plm_score_result_clear(&r);
        r = score((plm_ruleset)rs, -1, e, at(e, over, 4));
        assert_int_equal(r.plm_count, 0);
        plm_score_result_clear(&r);
    }
}

static void short_interval_inside_a_series(void **state)
{
    (void)state;
    plm_leg_event e[8];
    const double on[] = {0, 20, 40, 43, 60, 80, 100}, on5[] = {0, 20, 40, 43, 60, 80, 100, 120};
    /* SOMAS: 43 breaks and joins none; 0-40 and 60-100 are runs of 3 */
    plm_score_result r = score(PLM_RULES_WASM2016, -1, e, at(e, on, 7));
    assert_int_equal(r.plm_count, 0);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_WASM2016, -1, e, at(e, on5, 8)); /* 60-120 is a run of 4 */
    assert_int_equal(r.plm_count, 4);
    assert_int_equal(r.lm[3].plm, 0);
    assert_int_equal(r.lm[4].plm, 1);
    plm_score_result_clear(&r);
    /* MATPLM reading: 43 may start a run: 43, 60, 80, 100 */
    r = score(PLM_RULES_WASM2016, PLM_SHORT_IMI_STARTS, e, at(e, on, 7));
    assert_int_equal(r.plm_count, 4);
    assert_int_equal(r.lm[3].plm, 1);
    assert_int_equal(r.lm[2].plm, 0);
    plm_score_result_clear(&r);
    /* AASM and legacy: 43 is skipped, the series 0..100 goes on (interval 60-40 = 20) */
    for (int rs = 1; rs < 3; rs++) {
        r = score((plm_ruleset)rs, -1, e, at(e, on, 7));
        assert_int_equal(r.plm_count, 6);
        assert_int_equal(r.lm[3].plm, 0);
        assert_int_equal(r.series_count, 1);
        plm_score_result_clear(&r);
    }
}

static void bilateral_gaps(void **state)
{
    (void)state;
    plm_leg_event a[2] = {{S(100), S(101), L}, {S(101.49), S(102.5), R}};
    plm_leg_event b[2] = {{S(100), S(101), L}, {S(101.51), S(102.5), R}};
    plm_score_result r = score(PLM_RULES_WASM2016, -1, a, 2);
    assert_int_equal(r.lm_count, 1);
    assert_int_equal(r.lm[0].leg, PLM_LEG_BOTH);
    assert_int_equal(r.lm[0].parts, 2);
    assert_int_equal(r.lm[0].offset_us, S(102.5));
    plm_score_result_clear(&r);
    r = score(PLM_RULES_WASM2016, -1, b, 2);
    assert_int_equal(r.lm_count, 2);
    plm_score_result_clear(&r);
    /* AASM and legacy combine legs by onsets < 5 s apart: both pairs are one movement */
    for (int rs = 1; rs < 3; rs++) {
        r = score((plm_ruleset)rs, -1, b, 2);
        assert_int_equal(r.lm_count, 1);
        plm_score_result_clear(&r);
    }
    plm_leg_event c[2] = {{S(100), S(101), L}, {S(105), S(106), R}}; /* exactly 5 s: two movements */
    r = score(PLM_RULES_AASM2007, -1, c, 2);
    assert_int_equal(r.lm_count, 2);
    plm_score_result_clear(&r);
}

static void a_fifth_part(void **state)
{
    (void)state;
    plm_leg_event e[5] = {{S(0), S(1), L}, {S(1.2), S(2.2), R}, {S(2.4), S(3.4), L}, {S(3.6), S(4.6), R}, {S(4.8), S(5.8), L}};
    plm_score_result r = score(PLM_RULES_WASM2016, -1, e, 4);
    assert_int_equal(r.lm_count, 1);
    assert_int_equal(r.lm[0].parts, 4);
    assert_int_equal(r.clm_count, 1);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_WASM2016, -1, e, 5);
    assert_int_equal(r.lm_count, 1);
    assert_int_equal(r.lm[0].parts, 5);
    assert_int_equal(r.clm_count, 0);
    plm_score_result_clear(&r);
}

static void bilateral_15_and_15_1_s(void **state)
{
    (void)state;
    plm_leg_event a[2] = {{S(100), S(108), L}, {S(107), S(115), R}}, b[2] = {{S(100), S(108), L}, {S(107), S(115.1), R}};
    plm_score_result r = score(PLM_RULES_WASM2016, -1, a, 2);
    assert_int_equal(r.clm_count, 1);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_WASM2016, -1, b, 2);
    assert_int_equal(r.lm_count, 1);
    assert_int_equal(r.clm_count, 0);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_AASM2007, -1, a, 2); /* AASM: onsets 7 s apart are two movements */
    assert_int_equal(r.lm_count, 2);
    assert_int_equal(r.clm_count, 2);
    plm_score_result_clear(&r);
    plm_leg_event c1[2] = {{S(100), S(106), L}, {S(103), S(110), R}}, c2[2] = {{S(100), S(106), L}, {S(103), S(110.1), R}};
    r = score(PLM_RULES_AASM2007, -1, c1, 2); /* AASM: one bilateral movement of 10.0 s: a candidate */
    assert_int_equal(r.lm_count, 1);
    assert_int_equal(r.clm_count, 1);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_AASM2007, -1, c2, 2); /* 10.1 s: not */
    assert_int_equal(r.clm_count, 0);
    plm_score_result_clear(&r);
    /* monolateral 10.0 s is a candidate, 10.1 s is not; legacy allows 5 s */
    plm_leg_event m1 = {S(100), S(110), L}, m2 = {S(100), S(110.1), L}, m3 = {S(100), S(105.1), L};
    r = score(PLM_RULES_WASM2016, -1, &m1, 1);
    assert_int_equal(r.clm_count, 1);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_WASM2016, -1, &m2, 1);
    assert_int_equal(r.clm_count, 0);
    plm_score_result_clear(&r);
    r = score(PLM_RULES_LEGACY1998, -1, &m3, 1);
    assert_int_equal(r.clm_count, 0);
    plm_score_result_clear(&r);
    /* a long non-candidate breaks a series */
    const double on[] = {0, 20, 40, 60, 80, 100};
    plm_leg_event s[6];
    at(s, on, 6);
    s[3].offset_us = S(60 + 12); /* 12 s */
    r = score(PLM_RULES_WASM2016, -1, s, 6);
    assert_int_equal(r.plm_count, 0);
    plm_score_result_clear(&r);
    /* under 0.5 s is dropped before anything else */
    plm_leg_event t = {S(100), S(100.499), L};
    r = score(PLM_RULES_WASM2016, -1, &t, 1);
    assert_int_equal(r.lm_count, 0);
    plm_score_result_clear(&r);
}

static void lights_off_and_on(void **state)
{
    (void)state;
    plm_score_cfg c = plm_score_cfg_rules(PLM_RULES_WASM2016);
    plm_leg_event e[3] = {{S(999), S(1001), L}, {S(1000), S(1001), R}, {S(2000), S(2001), L}};
    plm_score_result r;
    assert_int_equal(plm_score_night(&c, e, 3, NULL, 0, NULL, 0, NULL, S(1000), S(2000), &r), PLM_OK);
    assert_int_equal(r.lm_count, 1); /* straddling lights off: out; at lights off: in; at lights on: out */
    assert_int_equal(r.lm[0].leg, PLM_LEG_RIGHT);
    assert_near(r.tib_h, 1000.0 / 3600, 1e-12);
    plm_score_result_clear(&r);
    assert_int_equal(plm_score_night(&c, e, 3, NULL, 0, NULL, 0, NULL, S(2000), S(1000), &r), PLM_EINVAL);
}

static void series_crossing_wake(void **state)
{
    (void)state;
    /* epochs from 0: sleep, sleep, wake (60-90 s), sleep, ...; series at 10, 30, 50, 70, 90, 110 s */
    uint8_t st[8] = {1, 1, 0, 1, 1, 1, 1, 1};
    plm_hypno_view h = {S(0), 8, st, NULL};
    plm_score_cfg c = plm_score_cfg_rules(PLM_RULES_WASM2016);
    const double on[] = {10, 30, 50, 70, 90, 110};
    plm_leg_event e[6];
    at(e, on, 6);
    plm_score_result r;
    assert_int_equal(plm_score_night(&c, e, 6, NULL, 0, NULL, 0, &h, S(0), S(240), &r), PLM_OK);
    assert_int_equal(r.series_count, 1);
    assert_int_equal(r.plm_count, 6);
    assert_int_equal(r.plmw_count, 1); /* 70 s, in the wake epoch 60-90 s; the series goes on through it */
    assert_int_equal(r.plms_count, 5);
    assert_near(r.tst_h, 210.0 / 3600, 1e-12);
    assert_near(r.plms_index, 5 / (210.0 / 3600), 1e-9);
    assert_near(r.plmw_index, 1 / (30.0 / 3600), 1e-9);
    assert_near(r.plm_tib_index, 6 / (240.0 / 3600), 1e-9); /* all six, over the 240 s in bed */
    assert_true(isnan(r.plms_nrem_index) && isnan(r.plms_rem_index) && isnan(r.rem_h)); /* stages unknown */
    plm_score_result_clear(&r);
    /* the same with the stages known: epochs 3 and 4 (90-150 s) REM hold the PLMS at 90 and 110 s */
    const uint8_t rem[8] = {0, 0, 0, 1, 1, 0, 0, 0};
    h.rem = rem;
    assert_int_equal(plm_score_night(&c, e, 6, NULL, 0, NULL, 0, &h, S(0), S(240), &r), PLM_OK);
    assert_int_equal(r.plms_rem_count, 2);
    assert_near(r.rem_h, 60.0 / 3600, 1e-12);
    assert_near(r.plms_rem_index, 2 / (60.0 / 3600), 1e-9);
    assert_near(r.plms_nrem_index, 3 / (150.0 / 3600), 1e-9); /* 10, 30, 50 over 210 - 60 s */
    assert_near(r.plms_index, 5 / (210.0 / 3600), 1e-9);
    assert_near(r.pi_wasm, 1.0, 0); /* every CLM in sleep is periodic */
    assert_true(isnan(r.plms_a_index));
    assert_true(isnan(r.plmsnr_index));
    plm_score_result_clear(&r);
}

static void arousals_and_respiratory_events(void **state)
{
    (void)state;
    plm_score_cfg c = plm_score_cfg_rules(PLM_RULES_WASM2016);
    const double on[] = {100, 120, 140, 160, 180};
    plm_leg_event e[5];
    at(e, on, 5);
    /* arousal 0.49 s after the first movement's end: associated; 0.51 s after the second's: not */
    plm_interval_us ar[2] = {{S(101.49), S(105)}, {S(121.51), S(125)}};
    /* apnea ending at 150: [148, 160.25] catches 160; the CLM at 140 ends at 141 < 148 */
    plm_interval_us ap[1] = {{S(130), S(150)}};
    plm_score_result r;
    assert_int_equal(plm_score_night(&c, e, 5, ar, 2, ap, 1, NULL, S(0), S(3600), &r), PLM_OK);
    assert_int_equal(r.lm[0].arousal, 1);
    assert_int_equal(r.lm[1].arousal, 0);
    assert_int_equal(r.plms_a_count, 1);
    assert_near(r.plms_a_index, 1.0, 1e-12);
    assert_int_equal(r.lm[3].resp, 1);
    assert_int_equal(r.lm[2].resp, 0);
    assert_int_equal(r.plms_count, 5);
    assert_int_equal(r.plmsnr_count, 4); /* without 160: 100, 120, 140, 180 (intervals 20, 20, 40): still a series */
    assert_near(r.plmsnr_index, 4.0, 1e-12);
    assert_near(r.pi_ferri, 1.0, 0);     /* four intervals of 20 s, one run */
    assert_near(r.median_imi_s, 20, 1e-9);
    assert_near(r.mean_lm_duration_s, 1, 1e-9);
    assert_int_equal(r.imi_hist[(int)floor(log10(20.0) / 0.15)], 4);
    plm_score_result_clear(&r);
    /* a CLMr inside a short series: without it the series is too short */
    plm_interval_us ap2[1] = {{S(120), S(135)}}; /* window [133, 145.25]: the movement at 140 */
    assert_int_equal(plm_score_night(&c, e, 4, NULL, 0, ap2, 1, NULL, S(0), S(3600), &r), PLM_OK);
    assert_int_equal(r.plms_count, 4);
    assert_int_equal(r.plmsnr_count, 0);
    assert_true(isnan(r.plms_a_index));
    plm_score_result_clear(&r);
}

static void rule_names(void **state)
{
    (void)state;
    plm_ruleset rs;
    assert_int_equal(plm_ruleset_parse("aasm2007", &rs), PLM_OK);
    assert_int_equal(rs, PLM_RULES_AASM2007);
    assert_int_equal(plm_ruleset_parse("wasm", &rs), PLM_EINVAL);
    assert_string_equal(plm_ruleset_name(PLM_RULES_LEGACY1998), "legacy1998");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intervals_of_exactly_10_and_90_s),
        cmocka_unit_test(short_interval_inside_a_series),
        cmocka_unit_test(bilateral_gaps),
        cmocka_unit_test(a_fifth_part),
        cmocka_unit_test(bilateral_15_and_15_1_s),
        cmocka_unit_test(lights_off_and_on),
        cmocka_unit_test(series_crossing_wake),
        cmocka_unit_test(arousals_and_respiratory_events),
        cmocka_unit_test(rule_names),
    };
    return cmocka_run_group_tests_name("score", tests, NULL, NULL);
}
