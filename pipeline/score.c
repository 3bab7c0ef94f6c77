/* score.c -- WASM 2016 / AASM / legacy PLM scoring on integer-microsecond times. */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plm/events.h"
#include "plm/score.h"
#include "plm/types.h"
#include "internal.h"

static const char *const names[] = {"wasm2016", "aasm2007", "legacy1998"};

const char *plm_ruleset_name(plm_ruleset r) { return (unsigned)r < 3 ? names[r] : "unknown"; }

plm_status plm_ruleset_parse(const char *name, plm_ruleset *out)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, names[i])) {
            *out = (plm_ruleset)i;
            return PLM_OK;
        }
    PLM_FAIL(PLM_EINVAL, "unknown rule set '%s' (wasm2016, aasm2007, legacy1998)", name);
}

plm_score_cfg plm_score_cfg_rules(plm_ruleset rules)
{
    plm_score_cfg c = {.rules = rules, .lm_min_s = 0.5, .lm_max_mono_s = 10, .lm_max_bi_s = 15, .bi_by_onset = 0,
                       .bi_gap_s = 0.5, .bi_onset_s = 5, .bi_max_parts = 4, .imi_min_s = 10, .imi_max_s = 90,
                       .short_imi = PLM_SHORT_IMI_BREAK, .min_series = 4, .arousal_pad_s = 0.5,
                       .resp_rule = PLM_RESP_AFTER_END, .resp_before_s = 2.0, .resp_after_s = 10.25, .epoch_s = 30};
    if (rules == PLM_RULES_AASM2007) {
        c.lm_max_bi_s = 10;
        c.bi_by_onset = 1;
        c.bi_max_parts = 0;
        c.imi_min_s = 5;
        c.short_imi = PLM_SHORT_IMI_SKIP;
        c.resp_rule = PLM_RESP_AROUND;
        c.resp_before_s = 0.5;
        c.resp_after_s = 0.5;
    } else if (rules == PLM_RULES_LEGACY1998) {
        c.lm_max_mono_s = 5;
        c.lm_max_bi_s = 5;
        c.bi_by_onset = 1;
        c.bi_max_parts = 0;
        c.imi_min_s = 4;
        c.short_imi = PLM_SHORT_IMI_SKIP;
        c.resp_rule = PLM_RESP_NONE;
    }
    return c;
}

void plm_score_result_clear(plm_score_result *r)
{
    if (!r) return;
    free(r->lm);
    memset(r, 0, sizeof *r);
}

static int cmp_leg(const void *a, const void *b)
{
    const plm_leg_event *x = a, *y = b;
    if (x->onset_us != y->onset_us) return x->onset_us < y->onset_us ? -1 : 1;
    return (int)x->leg - (int)y->leg;
}

/* flags[e] of the epoch e holding t; 0 outside the hypnogram. */
static int flag_at(const plm_hypno_view *h, const uint8_t *flags, int64_t t, int64_t epoch_us)
{
    if (t < h->t0_us) return 0;
    int64_t e = (t - h->t0_us) / epoch_us;
    return (size_t)e < h->n ? flags[e] != 0 : 0;
}

/* 1 sleep, 0 wake, for the epoch holding t; outside the hypnogram: wake. No hypnogram: sleep. */
static int state_at(const plm_hypno_view *h, int64_t t, int64_t epoch_us)
{
    return h ? flag_at(h, h->sleep, t, epoch_us) : 1;
}

/* 1 if the epoch holding t is REM (hypnogram with stages only). */
static int rem_at(const plm_hypno_view *h, int64_t t, int64_t epoch_us)
{
    return h && h->rem ? flag_at(h, h->rem, t, epoch_us) : 0;
}

void plm_stages_to_epochs(const plm_event_list *ev, double t0_s, double epoch_s, size_t nep, uint8_t *sleep, uint8_t *rem)
{
    memset(sleep, 0, nep);
    if (rem) memset(rem, 0, nep);
    for (size_t i = 0; ev && i < ev->n; i++) {
        const plm_event *e = &ev->v[i];
        if (!(e->type >= PLM_EV_W && e->type <= PLM_EV_R)) continue;
        for (size_t k = 0; k < nep; k++) {
            double mid = t0_s + ((double)k + 0.5) * epoch_s;
            if (mid >= e->onset_s && mid < e->onset_s + e->duration_s) {
                sleep[k] = e->type != PLM_EV_W;
                if (rem) rem[k] = e->type == PLM_EV_R;
            }
        }
    }
}

/* Mark series among the movements idx[0..m) (in onset order); returns the number of series. */
static int find_series(const plm_score_cfg *c, plm_scored_lm *v, const size_t *idx, size_t m, uint8_t *plm,
                       int32_t *series, size_t *members)
{
    int64_t lo = plm_us(c->imi_min_s), hi = plm_us(c->imi_max_s);
    int nser = 0;
    size_t len = 0;
#define CLOSE()                                                               \
    do {                                                                      \
        if (len >= (size_t)c->min_series) {                                   \
            for (size_t q = 0; q < len; q++) {                                \
                plm[members[q]] = 1;                                          \
                if (series) series[members[q]] = nser;                        \
            }                                                                 \
            nser++;                                                           \
        }                                                                     \
        len = 0;                                                              \
    } while (0)
    if (c->short_imi == PLM_SHORT_IMI_SKIP) {
        int64_t last_on = 0;
        for (size_t p = 0; p < m; p++) {
            const plm_scored_lm *e = &v[idx[p]];
            if (!e->clm) {
                CLOSE();
                continue;
            }
            if (!len) {
                members[len++] = idx[p];
                last_on = e->onset_us;
                continue;
            }
            int64_t imi = e->onset_us - last_on;
            if (imi < lo) continue; /* skipped: measured from the last one kept */
            if (imi > hi) CLOSE();
            members[len++] = idx[p];
            last_on = e->onset_us;
        }
        CLOSE();
        return nser;
    }
    for (size_t p = 0; p < m; p++) {
        const plm_scored_lm *e = &v[idx[p]];
        int64_t imi = p ? e->onset_us - v[idx[p - 1]].onset_us : INT64_MAX;
        if (len && e->clm && imi >= lo && imi <= hi) {
            members[len++] = idx[p];
            continue;
        }
        CLOSE();
        int can_start = e->clm && (c->short_imi == PLM_SHORT_IMI_STARTS || p == 0 || imi >= lo);
        if (can_start) members[len++] = idx[p];
    }
    CLOSE();
#undef CLOSE
    return nser;
}

/* Candidate flag of a combined movement (domain.md 1.5 step 3). */
static void close_group(const plm_score_cfg *c, plm_scored_lm *g, int64_t longest, int64_t mono, int64_t bi)
{
    int64_t d = g->offset_us - g->onset_us;
    g->clm = g->leg == PLM_LEG_BOTH ? d <= bi && (!c->bi_max_parts || g->parts <= c->bi_max_parts) && longest <= mono
                                    : d <= mono;
}

static double median(double *x, size_t n)
{
    if (!n) return NAN;
    gsl_sort(x, 1, n);
    return gsl_stats_median_from_sorted_data(x, 1, n);
}

plm_status plm_score_night(const plm_score_cfg *c, const plm_leg_event *legs, size_t nlegs,
                           const plm_interval_us *arousals, size_t narousals, const plm_interval_us *resp,
                           size_t nresp, const plm_hypno_view *hyp, int64_t lo_us, int64_t ln_us, plm_score_result *out)
{
    memset(out, 0, sizeof *out);
    if (!(c->lm_min_s >= 0) || !(c->lm_max_mono_s > 0) || !(c->lm_max_bi_s > 0) || !(c->imi_min_s >= 0) ||
        !(c->imi_max_s > c->imi_min_s) || c->min_series < 1 || !(c->epoch_s > 0) || !(c->bi_gap_s >= 0))
        PLM_FAIL(PLM_EINVAL, "score: invalid rule values");
    if (ln_us <= lo_us) PLM_FAIL(PLM_EINVAL, "score: lights on is not after lights off");
    plm_status st = PLM_OK;
    plm_leg_event *e = malloc((nlegs ? nlegs : 1) * sizeof *e);
    size_t *idx = NULL, *members = NULL;
    uint8_t *plm2 = NULL;
    double *tmp = NULL;
    if (!e) PLM_FAIL(PLM_ENOMEM, "score: out of memory");
    /* 1: duration floor and lights */
    size_t n = 0;
    int64_t lm_min = plm_us(c->lm_min_s), epoch = plm_us(c->epoch_s);
    for (size_t i = 0; i < nlegs; i++)
        if (legs[i].offset_us - legs[i].onset_us >= lm_min && legs[i].onset_us >= lo_us && legs[i].onset_us < ln_us)
            e[n++] = legs[i];
    qsort(e, n, sizeof *e, cmp_leg);
    /* 2-3: combination and candidates */
    out->lm = calloc(n ? n : 1, sizeof *out->lm);
    idx = calloc(n ? n : 1, sizeof *idx);
    members = malloc((n ? n : 1) * sizeof *members);
    plm2 = calloc(n ? n : 1, 1);
    tmp = malloc((n ? n : 1) * sizeof *tmp);
    if (!out->lm || !idx || !members || !plm2 || !tmp) {
        st = plm__fail(PLM_ENOMEM, "score: out of memory");
        goto done;
    }
    int64_t gap = plm_us(c->bi_gap_s), within = plm_us(c->bi_onset_s), mono = plm_us(c->lm_max_mono_s),
            bi = plm_us(c->lm_max_bi_s);
    size_t m = 0;
    int64_t longest = 0;
    for (size_t i = 0; i < n; i++) {
        plm_scored_lm *g = m ? &out->lm[m - 1] : NULL;
        int join = 0;
        if (g) {
            if (c->bi_by_onset) join = !(g->leg & e[i].leg) && e[i].onset_us - g->onset_us < within;
            else join = e[i].onset_us - g->offset_us < gap;
        }
        int64_t d = e[i].offset_us - e[i].onset_us;
        if (join) {
            if (e[i].offset_us > g->offset_us) g->offset_us = e[i].offset_us;
            g->leg |= e[i].leg;
            g->parts++;
            if (d > longest) longest = d;
        } else {
            if (g) close_group(c, g, longest, mono, bi); /* the previous group is complete */
            g = &out->lm[m++];
            *g = (plm_scored_lm){e[i].onset_us, e[i].offset_us, e[i].leg, 1, 0, 0, 0, 0, 0, -1};
            longest = d;
        }
    }
    if (m) close_group(c, &out->lm[m - 1], longest, mono, bi);
    out->n = m;
    /* states, arousals, respiratory events */
    int64_t pad = plm_us(c->arousal_pad_s), rb = plm_us(c->resp_before_s), ra = plm_us(c->resp_after_s);
    for (size_t i = 0; i < m; i++) {
        plm_scored_lm *g = &out->lm[i];
        g->sleep = (uint8_t)state_at(hyp, g->onset_us, epoch);
        for (size_t a = 0; arousals && a < narousals && !g->arousal; a++)
            g->arousal = arousals[a].onset_us < g->offset_us + pad && arousals[a].offset_us > g->onset_us - pad;
        for (size_t r = 0; resp && r < nresp && !g->resp && g->clm; r++) {
            if (c->resp_rule == PLM_RESP_AFTER_END)
                g->resp = g->onset_us < resp[r].offset_us + ra && g->offset_us > resp[r].offset_us - rb;
            else if (c->resp_rule == PLM_RESP_AROUND)
                g->resp = g->onset_us < resp[r].offset_us + ra && g->offset_us > resp[r].onset_us - rb;
        }
        idx[i] = i;
    }
    /* 4-5: series on all movements, then without respiratory-related CLMs */
    uint8_t *plm1 = calloc(m ? m : 1, 1);
    int32_t *ser = malloc((m ? m : 1) * sizeof *ser);
    if (!plm1 || !ser) {
        free(plm1);
        free(ser);
        st = plm__fail(PLM_ENOMEM, "score: out of memory");
        goto done;
    }
    for (size_t i = 0; i < m; i++) ser[i] = -1;
    out->series_count = find_series(c, out->lm, idx, m, plm1, ser, members);
    size_t nmembers = 0;
    for (size_t i = 0; i < m; i++) {
        out->lm[i].plm = plm1[i];
        out->lm[i].series = ser[i];
        nmembers += plm1[i];
    }
    out->series_mean_len = out->series_count ? (double)nmembers / out->series_count : NAN;
    size_t k = 0;
    for (size_t i = 0; i < m; i++)
        if (!out->lm[i].resp) idx[k++] = i;
    find_series(c, out->lm, idx, k, plm2, NULL, members);
    free(plm1);
    free(ser);
    /* 6: counts and times */
    for (size_t i = 0; i < m; i++) {
        const plm_scored_lm *g = &out->lm[i];
        out->lm_count++;
        out->lms_count += g->sleep;
        out->clm_count += g->clm;
        out->clms_count += g->clm && g->sleep;
        out->plm_count += g->plm;
        out->plms_count += g->plm && g->sleep;
        out->plmw_count += g->plm && !g->sleep;
        out->plms_a_count += g->plm && g->sleep && g->arousal;
        out->plmsnr_count += plm2[i] && g->sleep;
        out->plms_rem_count += g->plm && g->sleep && rem_at(hyp, g->onset_us, epoch);
    }
    double tib_s = plm_us_to_s(ln_us - lo_us), tst_s = tib_s, rem_s = 0;
    if (hyp) {
        tst_s = 0;
        for (size_t ep = 0; ep < hyp->n; ep++) {
            if (!hyp->sleep[ep]) continue;
            int64_t a = hyp->t0_us + (int64_t)ep * epoch, b = a + epoch;
            if (a < lo_us) a = lo_us;
            if (b > ln_us) b = ln_us;
            if (b <= a) continue;
            tst_s += plm_us_to_s(b - a);
            if (hyp->rem && hyp->rem[ep]) rem_s += plm_us_to_s(b - a);
        }
    }
    out->tib_h = tib_s / 3600;
    out->tst_h = tst_s / 3600;
    int split = hyp && hyp->rem;
    out->rem_h = split ? rem_s / 3600 : NAN;
    double nrem_h = out->tst_h - out->rem_h;
    out->plms_rem_index = split && out->rem_h > 0 ? out->plms_rem_count / out->rem_h : NAN;
    out->plms_nrem_index = split && nrem_h > 0 ? (out->plms_count - out->plms_rem_count) / nrem_h : NAN;
    out->wake_h = out->tib_h - out->tst_h;
    out->lm_index = out->tst_h > 0 ? out->lms_count / out->tst_h : NAN;
    out->plms_index = out->tst_h > 0 ? out->plms_count / out->tst_h : NAN;
    out->plmw_index = out->wake_h > 0 ? out->plmw_count / out->wake_h : NAN;
    out->plm_tib_index = out->tib_h > 0 ? out->plm_count / out->tib_h : NAN;
    out->plms_a_index = arousals && out->tst_h > 0 ? out->plms_a_count / out->tst_h : NAN;
    out->plmsnr_index = resp && out->tst_h > 0 ? out->plmsnr_count / out->tst_h : NAN;
    out->pi_wasm = out->clms_count ? (double)out->plms_count / out->clms_count : NAN;
    /* intervals */
    size_t ni = 0, in_runs = 0, run = 0;
    double s_ln = 0, s_ln2 = 0;
    int n_ln = 0;
    for (size_t i = 1; i < m; i++) {
        double imi = plm_us_to_s(out->lm[i].onset_us - out->lm[i - 1].onset_us);
        tmp[ni++] = imi;
        int b = (int)floor(log10(fmax(imi, 1.0)) / 0.15);
        out->imi_hist[b < 0 ? 0 : b >= PLM_IMI_BINS ? PLM_IMI_BINS - 1 : b]++;
        if (imi > 10 && imi <= 90) run++;
        else {
            if (run >= 3) in_runs += run;
            run = 0;
        }
        if (out->lm[i].clm && out->lm[i].sleep && imi >= 10 && imi < 90) {
            s_ln += log(imi);
            s_ln2 += log(imi) * log(imi);
            n_ln++;
        }
    }
    if (run >= 3) in_runs += run;
    out->pi_ferri = ni ? (double)in_runs / (double)ni : NAN;
    out->ln_imi_mean = n_ln ? s_ln / n_ln : NAN;
    out->ln_imi_sd = n_ln > 1 ? sqrt(fmax(0, (s_ln2 - s_ln * s_ln / n_ln) / (n_ln - 1))) : NAN;
    out->median_imi_s = median(tmp, ni);
    double sd = 0;
    for (size_t i = 0; i < m; i++) sd += plm_us_to_s(out->lm[i].offset_us - out->lm[i].onset_us);
    out->mean_lm_duration_s = m ? sd / (double)m : NAN;
done:
    free(e);
    free(idx);
    free(members);
    free(plm2);
    free(tmp);
    if (st) plm_score_result_clear(out);
    return st;
}

void plm_hypno_summary(const plm_hypno_view *hyp, double epoch_s, int64_t lo_us, int64_t ln_us, plm_sleep_summary *out)
{
    double tib = plm_us_to_s(ln_us - lo_us);
    out->tib_h = tib / 3600;
    if (!hyp) {
        out->tst_h = out->tib_h;
        out->se_pct = 100;
        out->sol_min = out->waso_min = 0;
        return;
    }
    int64_t ep = plm_us(epoch_s);
    double tst = 0, first = NAN, last = NAN;
    for (size_t e = 0; e < hyp->n; e++) {
        int64_t a = hyp->t0_us + (int64_t)e * ep, b = a + ep;
        if (a < lo_us) a = lo_us;
        if (b > ln_us) b = ln_us;
        if (b <= a || !hyp->sleep[e]) continue;
        tst += plm_us_to_s(b - a);
        if (isnan(first)) first = plm_us_to_s(a - lo_us);
        last = plm_us_to_s(b - lo_us);
    }
    out->tst_h = tst / 3600;
    out->se_pct = tib > 0 ? 100 * tst / tib : NAN;
    out->sol_min = isnan(first) ? tib / 60 : first / 60;
    out->waso_min = isnan(first) ? 0 : ((last - first) - tst) / 60;
}

plm_status plm_score_events(const plm_score_cfg *c, const plm_event_list *ev, double lights_off_s, double lights_on_s,
                            plm_score_result *out, plm_sleep_summary *sleep, int *has_stages, int *has_arousals,
                            int *has_resp, const char **lights_from)
{
    memset(out, 0, sizeof *out);
    size_t nl = 0, na = 0, nr = 0;
    double st0 = INFINITY, st1 = -INFINITY, ev1 = 0, lo = NAN, ln = NAN;
    for (size_t i = 0; i < ev->n; i++) {
        const plm_event *e = &ev->v[i];
        double end = e->onset_s + e->duration_s;
        if (end > ev1) ev1 = end;
        switch (e->type) {
        case PLM_EV_LM: nl++; break;
        case PLM_EV_AROUSAL: na++; break;
        case PLM_EV_APNEA: case PLM_EV_HYPOPNEA: nr++; break;
        case PLM_EV_W: case PLM_EV_N1: case PLM_EV_N2: case PLM_EV_N3: case PLM_EV_R:
            st0 = fmin(st0, e->onset_s);
            st1 = fmax(st1, end);
            break;
        case PLM_EV_LIGHTS_OFF: lo = e->onset_s; break;
        case PLM_EV_LIGHTS_ON: ln = e->onset_s; break;
        }
    }
    *has_stages = isfinite(st0);
    *has_arousals = na > 0;
    *has_resp = nr > 0;
    *lights_from = "file";
    if (isnan(lo) || isnan(ln)) {
        lo = *has_stages ? st0 : 0;
        ln = *has_stages ? st1 : ev1;
        *lights_from = *has_stages ? "stages" : "events";
    }
    if (isfinite(lights_off_s)) lo = lights_off_s, *lights_from = "options";
    if (isfinite(lights_on_s)) ln = lights_on_s, *lights_from = "options";
    if (!(ln > lo)) PLM_FAIL(PLM_EINVAL, "the night is empty: lights on (%g s) is not after lights off (%g s)", ln, lo);
    plm_leg_event *legs = malloc((nl ? nl : 1) * sizeof *legs);
    plm_interval_us *ar = malloc((na ? na : 1) * sizeof *ar), *rs = malloc((nr ? nr : 1) * sizeof *rs);
    uint8_t *hyp = NULL, *rem = NULL;
    size_t nep = 0;
    if (*has_stages) {
        nep = (size_t)ceil((st1 - st0) / c->epoch_s - 1e-9);
        hyp = calloc(nep ? nep : 1, 1);
        rem = calloc(nep ? nep : 1, 1);
    }
    plm_status stt = PLM_OK;
    if (!legs || !ar || !rs || (*has_stages && (!hyp || !rem))) {
        stt = plm__fail(PLM_ENOMEM, "score: out of memory");
        goto done;
    }
    nl = na = nr = 0;
    for (size_t i = 0; i < ev->n; i++) {
        const plm_event *e = &ev->v[i];
        int64_t a = plm_us(e->onset_s), b = plm_us(e->onset_s + e->duration_s);
        if (e->type == PLM_EV_LM) legs[nl++] = (plm_leg_event){a, b, e->leg};
        else if (e->type == PLM_EV_AROUSAL) ar[na++] = (plm_interval_us){a, b};
        else if (e->type == PLM_EV_APNEA || e->type == PLM_EV_HYPOPNEA) rs[nr++] = (plm_interval_us){a, b};
    }
    if (*has_stages) plm_stages_to_epochs(ev, st0, c->epoch_s, nep, hyp, rem);
    plm_hypno_view hv = {plm_us(st0), nep, hyp, rem};
    const plm_hypno_view *hp = *has_stages ? &hv : NULL;
    stt = plm_score_night(c, legs, nl, na ? ar : NULL, na, nr ? rs : NULL, nr, hp, plm_us(lo), plm_us(ln), out);
    if (!stt) {
        plm_hypno_summary(hp, c->epoch_s, plm_us(lo), plm_us(ln), sleep);
        if (!hp) sleep->sol_min = sleep->waso_min = NAN;
    }
done:
    free(legs);
    free(ar);
    free(rs);
    free(hyp);
    free(rem);
    return stt;
}
