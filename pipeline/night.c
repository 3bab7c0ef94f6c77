/* night.c -- time in bed, PLM-masked actigraphic sleep/wake and PLM scoring for one night. */
#define _DEFAULT_SOURCE
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/night.h"
#include "plm/types.h"
#include "internal.h"

plm_night_cfg plm_night_cfg_default(void)
{
    plm_night_cfg c = {.score = plm_score_cfg_rules(PLM_RULES_WASM2016), .algo = PLM_SLEEP_COLE_KRIPKE,
                       .sadeh_count_scale = 5, .oakley_threshold = 40, .ck = plm_ck_cfg_default(), .webster = 1,
                       .mask_plm = 1, .mask_pad_s = 1.0, .lying_deg = 45, .walk_g = 0.05, .act_thr_g = 0.02, .tib_min_s = 1800,
                       .tib_gap_s = 600};
    /* activity here is the RMS (g) of the 2-9 Hz band at the ankle, not the wrist activity index */
    c.ck.scale = 0.003;
    return c;
}

void plm_night_result_clear(plm_night_result *r)
{
    if (!r) return;
    plm_score_result_clear(&r->score);
    free(r->epoch_sleep);
    memset(r, 0, sizeof *r);
}

/* RMS activity (g) of 30-s epoch e of the larger leg. */
static double epoch_rms(const plm_detect_result *d, size_t e)
{
    double best = 0;
    for (int l = 0; l < d->nlegs; l++) {
        double s = 0;
        size_t n = 0;
        for (size_t k = 30 * e; k < 30 * e + 30 && k < d->nsec; k++, n++) s += d->sec_e2[l][k];
        if (n) best = fmax(best, sqrt(s / (double)n));
    }
    return best;
}

/* Unit vector of epoch e of grav g, 0 if it has no length. */
static int unit_vec(const float *g, size_t e, double v[3])
{
    double n = sqrt((double)g[3 * e] * g[3 * e] + (double)g[3 * e + 1] * g[3 * e + 1] + (double)g[3 * e + 2] * g[3 * e + 2]);
    if (!(n > 0.5)) return 0;
    for (int x = 0; x < 3; x++) v[x] = g[3 * e + x] / n;
    return 1;
}

/* The shank's upright direction. Candidates are the gravity directions of the active epochs (walking,
 * but also restless time in bed); the true axis is the one that every other epoch is nearly parallel to
 * (sitting, standing, walking) or nearly perpendicular to (lying, whatever the roll). The mean of the
 * active epochs alone was pulled toward the lying postures by movement in bed, and half of a study's
 * nights then lost most of their time in bed. 0 if there is no candidate. */
static int upright_axis(const plm_night_cfg *c, const plm_detect_result *d, double up[3])
{
    const float *g = d->grav[0];
    const double par = cos(30 * M_PI / 180), perp = sin(30 * M_PI / 180);
    size_t best = 0, best_e = SIZE_MAX, tried = 0;
    size_t nact = 0;
    for (size_t e = 0; e < d->ngrav; e++) nact += epoch_rms(d, e) > c->walk_g;
    size_t stride = nact > 400 ? nact / 400 : 1; /* at most ~400 candidates, evenly spread */
    for (size_t e = 0, k = 0; e < d->ngrav; e++) {
        double v[3];
        if (!(epoch_rms(d, e) > c->walk_g) || !unit_vec(g, e, v) || k++ % stride) continue;
        size_t score = 0;
        for (size_t f = 0; f < d->ngrav; f++) {
            double w[3];
            if (!unit_vec(g, f, w)) continue;
            double cs = fabs(v[0] * w[0] + v[1] * w[1] + v[2] * w[2]);
            score += cs > par || cs < perp;
        }
        tried++;
        if (score > best) best = score, best_e = e;
    }
    if (!tried || best_e == SIZE_MAX) return 0;
    double v[3];
    unit_vec(g, best_e, v);
    up[0] = up[1] = up[2] = 0; /* refine: mean of the active epochs near the candidate */
    for (size_t e = 0; e < d->ngrav; e++) {
        double w[3];
        if (!(epoch_rms(d, e) > c->walk_g) || !unit_vec(g, e, w) || v[0] * w[0] + v[1] * w[1] + v[2] * w[2] < par) continue;
        for (int x = 0; x < 3; x++) up[x] += w[x];
    }
    double n = sqrt(up[0] * up[0] + up[1] * up[1] + up[2] * up[2]);
    if (!(n > 0)) return 0;
    for (int x = 0; x < 3; x++) up[x] /= n;
    return 1;
}

/* Estimated lights off/on: the longest lying stretch (see night.h). 0 if none. */
static int estimate_tib(const plm_night_cfg *c, const plm_detect_result *d, double *lo, double *ln)
{
    if (!d->ngrav || !d->nlegs) return 0;
    const float *g = d->grav[0];
    double up[3];
    if (!upright_axis(c, d, up)) return 0;
    double cmax = cos(c->lying_deg * M_PI / 180);
    size_t best_a = 0, best_b = 0, a = 0, last_lying = 0;
    int in = 0;
    size_t gap = (size_t)(c->tib_gap_s / 30);
    for (size_t e = 0; e <= d->ngrav; e++) {
        int lying = 0;
        if (e < d->ngrav) {
            double n = sqrt(g[3 * e] * g[3 * e] + g[3 * e + 1] * g[3 * e + 1] + g[3 * e + 2] * g[3 * e + 2]);
            double cs = n > 0 ? (g[3 * e] * up[0] + g[3 * e + 1] * up[1] + g[3 * e + 2] * up[2]) / n : 1;
            lying = cs < cmax;
        }
        if (lying) {
            if (!in) {
                in = 1;
                a = e;
            }
            last_lying = e;
        } else if (in && (e == d->ngrav || e - last_lying > gap)) {
            if (last_lying + 1 - a > best_b - best_a) {
                best_a = a;
                best_b = last_lying + 1;
            }
            in = 0;
        }
    }
    if ((double)(best_b - best_a) * 30 < c->tib_min_s) return 0;
    *lo = (double)best_a * 30;
    *ln = (double)best_b * 30;
    return 1;
}

/* The larger leg's band-passed RMS (g) over second s. */
static double sec_rms(const plm_detect_result *d, size_t s)
{
    double b2 = 0;
    for (int l = 0; l < d->nlegs; l++) b2 = fmax(b2, d->sec_e2[l][s]);
    return sqrt(b2);
}

/* 1 if second s is active: not masked (masked may be NULL) and its RMS above floor + threshold. */
static double act_sec(const plm_detect_result *d, const char *masked, size_t s, double floor_g, double thr_g)
{
    if (masked && masked[s]) return 0;
    return sec_rms(d, s) > floor_g + thr_g;
}

/* The night's activity floor: 10th percentile of the seconds in bed of the larger leg's
 * band-passed RMS (0 if the night is under a minute). */
static plm_status activity_floor(const plm_detect_result *det, double lo, double ln, double *floor_g)
{
    *floor_g = 0;
    size_t s0 = lo > 0 ? (size_t)lo : 0, s1 = (size_t)ln < det->nsec ? (size_t)ln : det->nsec;
    if (s1 <= s0 + 60) return PLM_OK;
    double *v = malloc((s1 - s0) * sizeof *v);
    if (!v) return plm__fail(PLM_ENOMEM, "night: out of memory");
    for (size_t s = s0; s < s1; s++) v[s - s0] = sec_rms(det, s);
    gsl_sort(v, 1, s1 - s0);
    *floor_g = gsl_stats_quantile_from_sorted_data(v, 1, s1 - s0, 0.10);
    free(v);
    return PLM_OK;
}

/* Active seconds not in mask (NULL: none masked) per window of win_s seconds from g0_s. */
static void count_active(const plm_night_cfg *c, const plm_detect_result *det, const char *mask, double floor_g,
                         double g0_s, double win_s, size_t n, double *counts)
{
    for (size_t m = 0; m < n; m++) {
        size_t a0 = (size_t)(g0_s + win_s * (double)m);
        counts[m] = 0;
        for (size_t s = a0; s < a0 + (size_t)win_s && s < det->nsec; s++) counts[m] += act_sec(det, mask, s, floor_g, c->act_thr_g);
    }
}

/* Actigraphic sleep/wake of the nep 30-s epochs from lights off lo (see night.h): counts of the
 * active seconds outside mask, on a grid aligned to lights off; Oakley on 30-s counts, else
 * Cole-Kripke or Sadeh on 1-min counts with Webster rescoring, each minute's state going to its
 * two epochs. */
static plm_status classify(const plm_night_cfg *c, const plm_detect_result *det, const char *mask, double floor_g,
                           double lo, double duration_s, size_t nep, uint8_t *sleep)
{
    double g0 = lo - 60 * floor(lo / 60);
    size_t nmin = (size_t)floor((duration_s - g0) / 60), m0 = (size_t)llround((lo - g0) / 60);
    int oakley = c->algo == PLM_SLEEP_OAKLEY;
    size_t n = oakley ? 2 * nmin : nmin; /* Oakley: native 30-s epochs */
    double *cnt = calloc(n ? n : 1, sizeof *cnt);
    uint8_t *s = calloc(n ? n : 1, 1);
    plm_status st = PLM_OK;
    if (!cnt || !s) {
        st = plm__fail(PLM_ENOMEM, "night: out of memory");
        goto done;
    }
    count_active(c, det, mask, floor_g, g0, oakley ? 30 : 60, n, cnt);
    if (oakley) {
        if ((st = plm_oakley(cnt, n, c->oakley_threshold, s))) goto done;
        for (size_t k = 0; k < nep; k++) sleep[k] = 2 * m0 + k < n ? s[2 * m0 + k] : 0;
        goto done;
    }
    if (c->algo == PLM_SLEEP_SADEH) {
        for (size_t m = 0; m < n; m++) cnt[m] *= c->sadeh_count_scale;
        st = plm_sadeh(cnt, n, s);
    } else {
        st = plm_cole_kripke(cnt, n, &c->ck, s);
    }
    if (st) goto done;
    if (c->webster) plm_webster_rescore(s, n, 1);
    for (size_t k = 0; k < nep; k++) sleep[k] = m0 + k / 2 < n ? s[m0 + k / 2] : 0;
done:
    free(cnt);
    free(s);
    return st;
}

plm_status plm_night_analyze(const plm_night_cfg *c, const plm_detect_result *det, double fs, double duration_s,
                             double lights_off_s, double lights_on_s, const plm_event_list *ann, plm_night_result *out)
{
    memset(out, 0, sizeof *out);
    out->lights_source = out->sleep_source = "";
    plm_status st = PLM_OK;
    /* annotations: lights, stages, arousals, respiratory events, lm rows are ignored here (our detector's) */
    double alo = NAN, aln = NAN, st0 = INFINITY, st1 = -INFINITY;
    size_t na = 0, nr = 0;
    for (size_t i = 0; ann && i < ann->n; i++) {
        const plm_event *e = &ann->v[i];
        if (e->type == PLM_EV_LIGHTS_OFF) alo = e->onset_s;
        else if (e->type == PLM_EV_LIGHTS_ON) aln = e->onset_s;
        else if (e->type == PLM_EV_AROUSAL) na++;
        else if (e->type == PLM_EV_APNEA || e->type == PLM_EV_HYPOPNEA) nr++;
        else if (e->type >= PLM_EV_W && e->type <= PLM_EV_R) {
            st0 = fmin(st0, e->onset_s);
            st1 = fmax(st1, e->onset_s + e->duration_s);
        }
    }
    double lo = lights_off_s, ln = lights_on_s;
    out->lights_source = "manifest";
    if (isfinite(alo) && isfinite(aln)) { /* annotations replace the manifest */
        lo = alo;
        ln = aln;
        out->lights_source = "annotations";
    }
    if (!isfinite(lo) || !isfinite(ln)) {
        double elo, eln;
        if (estimate_tib(c, det, &elo, &eln)) {
            if (!isfinite(lo)) lo = elo;
            if (!isfinite(ln)) ln = eln;
            out->lights_source = "estimated";
        } else {
            if (!isfinite(lo)) lo = 0;
            if (!isfinite(ln)) ln = duration_s;
            out->lights_source = "recording";
        }
    }
    if (ln > duration_s) ln = duration_s;
    if (!(ln > lo)) PLM_FAIL(PLM_EINVAL, "night: lights on (%.1f s) is not after lights off (%.1f s)", ln, lo);
    out->lights_off_s = lo;
    out->lights_on_s = ln;
    int64_t lo_us = plm_us(lo), ln_us = plm_us(ln);
    /* inputs for scoring */
    size_t nl = det->lm.n;
    plm_leg_event *legs = malloc((nl ? nl : 1) * sizeof *legs);
    plm_interval_us *ar = malloc((na ? na : 1) * sizeof *ar), *rs = malloc((nr ? nr : 1) * sizeof *rs);
    size_t nep = (size_t)floor((ln - lo) / c->score.epoch_s);
    if (!nep) nep = 1;
    uint8_t *sleep = calloc(nep, 1);
    uint8_t *alt = NULL, *rem = NULL;
    char *masked = NULL;
    if (!legs || !ar || !rs || !sleep) {
        st = plm__fail(PLM_ENOMEM, "night: out of memory");
        goto done;
    }
    for (size_t i = 0; i < nl; i++)
        legs[i] = (plm_leg_event){plm_us(plm_samples_to_s(det->lm.v[i].onset, fs)), plm_us(plm_samples_to_s(det->lm.v[i].end, fs)),
                                  det->lm.v[i].leg};
    na = nr = 0;
    for (size_t i = 0; ann && i < ann->n; i++) {
        const plm_event *e = &ann->v[i];
        plm_interval_us iv = {plm_us(e->onset_s), plm_us(e->onset_s + e->duration_s)};
        if (e->type == PLM_EV_AROUSAL) ar[na++] = iv;
        else if (e->type == PLM_EV_APNEA || e->type == PLM_EV_HYPOPNEA) rs[nr++] = iv;
    }
    /* sleep/wake per 30-s epoch from lights off */
    if (isfinite(st0)) {
        out->sleep_source = "annotations";
        if (!(rem = calloc(nep, 1))) {
            st = plm__fail(PLM_ENOMEM, "night: out of memory");
            goto done;
        }
        plm_stages_to_epochs(ann, lo, c->score.epoch_s, nep, sleep, rem);
    } else {
        out->sleep_source = "actigraphy";
        /* periodic movements first (states do not matter for series) */
        plm_score_result pre;
        if ((st = plm_score_night(&c->score, legs, nl, NULL, 0, NULL, 0, NULL, lo_us, ln_us, &pre))) goto done;
        masked = calloc(det->nsec ? det->nsec : 1, 1);
        if (!masked) {
            plm_score_result_clear(&pre);
            st = plm__fail(PLM_ENOMEM, "night: out of memory");
            goto done;
        }
        for (size_t i = 0; i < pre.n; i++) {
            if (!pre.lm[i].plm) continue;
            double a = plm_us_to_s(pre.lm[i].onset_us) - c->mask_pad_s, b = plm_us_to_s(pre.lm[i].offset_us) + c->mask_pad_s;
            for (size_t s = a < 0 ? 0 : (size_t)a; s < det->nsec && (double)s < b; s++) masked[s] = 1;
        }
        plm_score_result_clear(&pre);
        for (size_t s = 0; c->mask_plm && s < det->nsec; s++) out->masked_s += masked[s];
        /* Counts in time-above-threshold mode: per second, the larger leg's RMS of the band-passed
         * acceleration; a second is active when it exceeds the night's noise floor (10th percentile
         * of the seconds in bed) by act_thr_g. */
        if ((st = activity_floor(det, lo, ln, &out->activity_floor_g))) goto done;
        /* the chosen classification, and the other one (masked or not) as the sensitivity check of
         * domain.md 3.2 */
        alt = calloc(nep, 1);
        if (!alt) {
            st = plm__fail(PLM_ENOMEM, "night: out of memory");
            goto done;
        }
        if ((st = classify(c, det, c->mask_plm ? masked : NULL, out->activity_floor_g, lo, duration_s, nep, sleep)) ||
            (st = classify(c, det, c->mask_plm ? NULL : masked, out->activity_floor_g, lo, duration_s, nep, alt)))
            goto done;
    }
    plm_hypno_view hv = {lo_us, nep, sleep, rem};
    if ((st = plm_score_night(&c->score, legs, nl, na ? ar : NULL, na, nr ? rs : NULL, nr, &hv, lo_us, ln_us, &out->score)))
        goto done;
    plm_hypno_summary(&hv, c->score.epoch_s, lo_us, ln_us, &out->sleep);
    out->se_masked_pct = out->se_unmasked_pct = out->plms_index_masked = out->plms_index_unmasked = NAN;
    if (alt) {
        plm_hypno_view av = {lo_us, nep, alt, NULL};
        plm_score_result as;
        plm_sleep_summary ss;
        if ((st = plm_score_night(&c->score, legs, nl, na ? ar : NULL, na, nr ? rs : NULL, nr, &av, lo_us, ln_us, &as)))
            goto done;
        plm_hypno_summary(&av, c->score.epoch_s, lo_us, ln_us, &ss);
        double se[2] = {out->sleep.se_pct, ss.se_pct}, pi[2] = {out->score.plms_index, as.plms_index};
        int u = !c->mask_plm; /* index of the masked variant's figures among {chosen, other} */
        out->se_masked_pct = se[u];
        out->se_unmasked_pct = se[!u];
        out->plms_index_masked = pi[u];
        out->plms_index_unmasked = pi[!u];
        plm_score_result_clear(&as);
    }
    out->nepochs = nep;
    out->epoch_sleep = sleep;
    sleep = NULL;
done:
    free(legs);
    free(ar);
    free(rs);
    free(sleep);
    free(alt);
    free(rem);
    free(masked);
    return st;
}
