/* detect.c -- streaming leg-movement detector with quality flags and calibration. */
#define _DEFAULT_SOURCE
#include <gsl/gsl_blas.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/detect.h"
#include "internal.h"

plm_detect_cfg plm_detect_cfg_default(void)
{
    plm_detect_cfg c = {
        .filter = plm_filter_cfg_default(), .despike_g = 0.5, .env_window_s = 0.15, .floor_max_s = 0.5,
        .floor_min_s = 60, .hi_min_g = 0.015, .hi_factor = 1.0, .lo_fraction = 0.25, .quiet_s = 0.5,
        .ceiling_g = 0.1, .rot_window_s = 0.25, .rot_hi_deg_s = 20, .rot_lo_deg_s = 5, .hold_max_s = 10,
        .hold_tilt_deg = 5, .clip_fraction = 0.98,
        .flat_s = 1.0, .nonwear_window_s = 3600, .nonwear_step_s = 900, .nonwear_sd_g = 0.013,
        .nonwear_range_g = 0.050, .nonwear_flat_deg = 10, .calib_window_s = 10, .calib_sd_g = 0.013,
        .calib_cover_g = 0.3, .calib_max_error_g = 0.01, .calib_max_se = 0.002, .calib_max_windows = 200000};
    return c;
}

#define CALIB_FIT_MAX 10000 /* still windows used by the sphere fit (evenly thinned beyond) */

/* ---------- monotone deque for centred running max/min ---------- */

typedef struct {
    int64_t *idx;
    double *val;
    size_t mask, head, len;
} deque;

static int dq_init(deque *q, size_t need)
{
    size_t cap = 16;
    while (cap < need) cap *= 2;
    q->idx = malloc(cap * sizeof *q->idx);
    q->val = malloc(cap * sizeof *q->val);
    q->mask = cap - 1;
    q->head = q->len = 0;
    return q->idx && q->val;
}

static void dq_free(deque *q)
{
    free(q->idx);
    free(q->val);
}

/* Push (i, v) keeping values monotone: decreasing for max (sign = +1), increasing for min (-1). */
static void dq_push(deque *q, int64_t i, double v, double sign)
{
    while (q->len && sign * q->val[(q->head + q->len - 1) & q->mask] <= sign * v) q->len--;
    q->idx[(q->head + q->len) & q->mask] = i;
    q->val[(q->head + q->len) & q->mask] = v;
    q->len++;
}

static double dq_front(deque *q, int64_t lo)
{
    while (q->len > 1 && q->idx[q->head] < lo) {
        q->head = (q->head + 1) & q->mask;
        q->len--;
    }
    return q->val[q->head];
}

/* ---------- per-leg detector ---------- */

enum { F_ROT_HI = 1, F_ROT_LO = 2, F_GAP = 4 };

typedef struct plm_leg {
    int nax, ch[3];
    uint8_t leg;
    /* envelope: running sum of e^2 over [lo_idx, n_e) */
    double *e2, e2sum;
    int64_t n_e, e2_lo, n_env;
    /* per-second mean of e^2 (sleep/wake), per-30-s mean raw vector (posture) */
    double sec_sum, gsum[3];
    int64_t sec_n, g_n;
    size_t nsec, capsec, ngrav, capgrav;
    float *sec, *grav;
    /* rotation: sums of raw over [a1, b1) and [a2, b2) */
    double s1[3], s2[3];
    int64_t a1, b1, a2, b2;
    /* decision ring: env and flags by env index */
    double *env;
    uint8_t *flags;
    deque dmax, dmin;
    int64_t n_mx, n_b;
    /* events */
    int active, morph_ok;
    int64_t onset, rise, last_active, last_below, last_below_rot, quiet;
    double peak, area, pend_peak, pend_area;
    uint8_t *mring;
    int64_t mcount, mpos;
    /* the last movement, held back in case the next one ends its hold */
    int has_pending;
    plm_lm pending;
    double pend_pre[3], pend_post[3], cur_pre[3];
    /* QC */
    int64_t clip_start, flat_start, flat_run, blk_pos;
    size_t blk_cur;
    double prev[3];
    /* 15-min blocks for non-wear */
    double (*blk)[3][4]; /* per block, per axis: sum, sum2, min, max */
    int64_t *blk_n;
    size_t nblk, capblk;
    /* 10-s calibration windows */
    double cw[3][2];
    int64_t cw_n;
    int cw_bad;
    double *cal;
    size_t ncal, capcal;
} plm_leg;

struct plm_detector {
    plm_detect_cfg cfg;
    double fs, full_scale_g;
    int nchan, nlegs;
    plm_leg legs[2];
    plm_filter *filter;
    int64_t h, hm, hb, W, Q, M, flat_n, blk_len, cw_len, sec_len, grav_len;
    double clip_g;           /* |x| at or above this is clipped; INFINITY without a full scale */
    double rot_hi2, rot_lo2; /* sin^2 of the rotation thresholds over W */
    /* raw ring (despiked), gap ring */
    double *raw;
    uint8_t *gap;
    size_t rmask;
    int64_t n_in, n_clean, n_filt;
    double last_finite[6], dsp[6][2]; /* despike window: values at n_in-2, n_in-1 */
    int64_t gap_start;
    /* filter staging */
    double *fin, *fout;
    int64_t S, fin_n, fout_cap;
    plm_detect_result res;
};

static plm_status add_interval(plm_detect_result *r, int64_t a, int64_t b, uint8_t kind, uint8_t leg)
{
    if (b <= a) return PLM_OK;
    if (r->nqc == r->capqc) {
        size_t nc = r->capqc ? 2 * r->capqc : 16;
        plm_interval *p = realloc(r->qc, plm__mul(nc, sizeof *p));
        if (!p) PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
        r->qc = p;
        r->capqc = nc;
    }
    r->qc[r->nqc++] = (plm_interval){a, b, kind, leg};
    return PLM_OK;
}

static plm_status push_lm(plm_detect_result *r, plm_lm m)
{
    plm_lm_list *l = &r->lm;
    if (l->n == l->cap) {
        size_t nc = l->cap ? 2 * l->cap : 256;
        plm_lm *p = realloc(l->v, plm__mul(nc, sizeof *p));
        if (!p) PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
        l->v = p;
        l->cap = nc;
    }
    l->v[l->n++] = m;
    return PLM_OK;
}

#define RING(d, i) ((size_t)(i) & (d)->rmask)

static double raw_at(const plm_detector *d, int ch, int64_t i) { return d->raw[(size_t)ch * (d->rmask + 1) + RING(d, i)]; }

/* ---- event state machine, one decided sample k at a time ---- */

/* Mean raw vector of a leg over [a, b), clamped to the samples known. */
static void mean_vec(const plm_detector *d, const plm_leg *L, int64_t a, int64_t b, double v[3])
{
    if (a < 0) a = 0;
    if (b > d->n_clean) b = d->n_clean;
    v[0] = v[1] = v[2] = 0;
    for (int x = 0; x < L->nax; x++) {
        for (int64_t i = a; i < b; i++) v[x] += raw_at(d, L->ch[x], i);
        if (b > a) v[x] /= (double)(b - a);
    }
}

static double cos_angle(const double a[3], const double b[3])
{
    double ab = a[0] * b[0] + a[1] * b[1] + a[2] * b[2], na = a[0] * a[0] + a[1] * a[1] + a[2] * a[2],
           nb = b[0] * b[0] + b[1] * b[1] + b[2] * b[2];
    return na > 0 && nb > 0 ? ab / sqrt(na * nb) : 1;
}

static plm_status flush_pending(plm_detector *d, plm_leg *L)
{
    if (!L->has_pending) return PLM_OK;
    L->has_pending = 0;
    return push_lm(&d->res, L->pending);
}

static plm_status finalize(plm_detector *d, plm_leg *L)
{
    L->active = 0;
    if (!L->morph_ok) return PLM_OK;
    plm_lm m = {.onset = L->onset, .end = L->last_active + 1, .leg = L->leg, .peak_g = L->peak, .area_g_s = L->area / d->fs};
    double post[3] = {0, 0, 0};
    if (L->nax == 3) mean_vec(d, L, m.end, m.end + d->W, post);
    if (L->has_pending && L->nax == 3 && (double)(m.onset - L->pending.end) <= d->cfg.hold_max_s * d->fs) {
        double tilt = cos(d->cfg.hold_tilt_deg * M_PI / 180), back = cos(d->cfg.hold_tilt_deg / 2 * M_PI / 180);
        if (cos_angle(L->pend_pre, L->pend_post) <= tilt && cos_angle(L->pend_post, L->cur_pre) >= back &&
            cos_angle(L->pend_pre, post) >= back) { /* tilted, held, returned: one movement */
            L->pending.end = m.end;
            L->pending.peak_g = fmax(L->pending.peak_g, m.peak_g);
            L->pending.area_g_s += m.area_g_s;
            L->pending.flags |= PLM_LM_HELD;
            memcpy(L->pend_post, post, sizeof post);
            return PLM_OK;
        }
    }
    plm_status st = flush_pending(d, L);
    if (st) return st;
    L->pending = m;
    L->has_pending = 1;
    memcpy(L->pend_pre, L->cur_pre, sizeof L->cur_pre);
    memcpy(L->pend_post, post, sizeof post);
    return PLM_OK;
}

static plm_status decide(plm_detector *d, plm_leg *L, int64_t k, double b)
{
    const plm_detect_cfg *c = &d->cfg;
    size_t slot = (size_t)k & d->rmask;
    double env = L->env[slot];
    uint8_t fl = L->flags[slot];
    double thi = fmax(c->hi_min_g, c->hi_factor * b), tlo = c->lo_fraction * thi;
    int usable = !(fl & F_GAP) && b <= c->ceiling_g;
    int hi = usable && (env > b + thi || (fl & F_ROT_HI));
    int lo = usable && (env > b + tlo || (fl & F_ROT_LO));
    /* morphology: active-low count over the last M decided samples */
    size_t ms = (size_t)L->mpos;
    if (++L->mpos == d->M) L->mpos = 0;
    L->mcount += lo - L->mring[ms];
    L->mring[ms] = (uint8_t)lo;
    if (L->active) {
        if (lo) {
            L->last_active = k;
            L->quiet = 0;
            if (env > L->peak) L->peak = env;
            if (env > b) L->area += env - b;
            if (k - L->rise + 1 >= d->M && 2 * L->mcount > d->M) L->morph_ok = 1;
        } else if (++L->quiet >= d->Q) {
            plm_status st = finalize(d, L);
            if (st) return st;
            L->last_below = L->last_below_rot = k;
            L->pend_peak = L->pend_area = 0;
        }
        return PLM_OK;
    }
    if (!(usable && (fl & F_ROT_LO))) L->last_below_rot = k;
    if (!lo) {
        L->last_below = k;
        L->pend_peak = L->pend_area = 0;
        return PLM_OK;
    }
    if (env > L->pend_peak) L->pend_peak = env;
    if (env > b) L->pend_area += env - b;
    if (hi) {
        L->active = 1;
        /* WASM/AASM: onset where the amplitude first exceeds the high threshold; a movement
         * started by rotation alone starts where the rotation began (no filter ringing there) */
        L->onset = env > b + thi ? k : L->last_below_rot + 1;
        L->rise = L->last_below + 1;
        if (L->nax == 3) mean_vec(d, L, L->onset - d->W, L->onset, L->cur_pre);
        L->last_active = k;
        L->quiet = 0;
        L->peak = L->pend_peak;
        L->area = L->pend_area;
        L->morph_ok = k - L->rise + 1 >= d->M && 2 * L->mcount > d->M;
    }
    return PLM_OK;
}

/* floor value for index k2 is ready: decide */
static plm_status emit_floor(plm_detector *d, plm_leg *L, int64_t k2, int64_t last_mx)
{
    (void)last_mx;
    double b = dq_front(&L->dmin, k2 - d->hb);
    L->n_b = k2 + 1;
    return decide(d, L, k2, b);
}

/* running max value for index k1 is ready */
static plm_status emit_max(plm_detector *d, plm_leg *L, int64_t k1)
{
    double mx = dq_front(&L->dmax, k1 - d->hm);
    L->n_mx = k1 + 1;
    dq_push(&L->dmin, k1, mx, -1);
    if (k1 >= d->hb) return emit_floor(d, L, k1 - d->hb, k1);
    return PLM_OK;
}

/* move the raw sums to windows [a1,b1) and [a2,b2) */
static void rot_move(plm_detector *d, plm_leg *L, int64_t a1, int64_t b1, int64_t a2, int64_t b2)
{
    if (a1 == L->a1 + 1 && b1 == L->b1 + 1 && a2 == L->a2 + 1 && b2 == L->b2 + 1) { /* steady state: one step */
        size_t stride = d->rmask + 1, ia = RING(d, a1 - 1), ib = RING(d, b1 - 1), ja = RING(d, a2 - 1), jb = RING(d, b2 - 1);
        for (int x = 0; x < L->nax; x++) {
            const double *r = d->raw + (size_t)L->ch[x] * stride;
            L->s1[x] += r[ib] - r[ia];
            L->s2[x] += r[jb] - r[ja];
        }
        L->a1 = a1, L->b1 = b1, L->a2 = a2, L->b2 = b2;
        return;
    }
    for (int x = 0; x < L->nax; x++) {
        int ch = L->ch[x];
        for (int64_t i = L->b1; i < b1; i++) L->s1[x] += raw_at(d, ch, i);
        for (int64_t i = L->a1; i < a1; i++) L->s1[x] -= raw_at(d, ch, i);
        for (int64_t i = L->b2; i < b2; i++) L->s2[x] += raw_at(d, ch, i);
        for (int64_t i = L->a2; i < a2; i++) L->s2[x] -= raw_at(d, ch, i);
    }
    L->a1 = a1, L->b1 = b1, L->a2 = a2, L->b2 = b2;
}

/* envelope for index k is ready (ntot: samples known in total, for clamping) */
static plm_status emit_env(plm_detector *d, plm_leg *L, int64_t k, int64_t ntot)
{
    while (L->e2_lo < k - d->h) L->e2sum -= L->e2[(size_t)(L->e2_lo++) & d->rmask];
    double env = sqrt(fmax(0, L->e2sum) / (double)(L->n_e - L->e2_lo));
    uint8_t fl = d->gap[RING(d, k)] ? F_GAP : 0;
    if (L->nax == 3) {
        int64_t a1 = k - d->W < 0 ? 0 : k - d->W, b2 = k + d->W > ntot ? ntot : k + d->W;
        rot_move(d, L, a1, k, k, b2);
        if (L->b1 > L->a1 && L->b2 > L->a2) {
            double m1[3], m2[3];
            for (int x = 0; x < 3; x++) {
                m1[x] = L->s1[x] / (double)(L->b1 - L->a1);
                m2[x] = L->s2[x] / (double)(L->b2 - L->a2);
            }
            double cx = m1[1] * m2[2] - m1[2] * m2[1], cy = m1[2] * m2[0] - m1[0] * m2[2],
                   cz = m1[0] * m2[1] - m1[1] * m2[0];
            double cr2 = cx * cx + cy * cy + cz * cz;
            double n2 = (m1[0] * m1[0] + m1[1] * m1[1] + m1[2] * m1[2]) * (m2[0] * m2[0] + m2[1] * m2[1] + m2[2] * m2[2]);
            if (cr2 > d->rot_hi2 * n2) fl |= F_ROT_HI;
            if (cr2 > d->rot_lo2 * n2) fl |= F_ROT_LO;
        }
    }
    size_t slot = (size_t)k & d->rmask;
    L->env[slot] = env;
    L->flags[slot] = fl;
    L->n_env = k + 1;
    dq_push(&L->dmax, k, env, +1);
    if (k >= d->hm) return emit_max(d, L, k - d->hm);
    return PLM_OK;
}

/* the squared norm e2 of the filtered axes for index j */
static int push_float(float **v, size_t *n, size_t *cap, float x)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 1024;
        float *p = realloc(*v, plm__mul(nc, sizeof *p));
        if (!p) return 0;
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = x;
    return 1;
}

static plm_status push_e(plm_detector *d, plm_leg *L, int64_t j, double e2)
{
    L->sec_sum += e2;
    if (++L->sec_n == d->sec_len) {
        if (!push_float(&L->sec, &L->nsec, &L->capsec, (float)(L->sec_sum / (double)L->sec_n)))
            PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
        L->sec_sum = 0;
        L->sec_n = 0;
    }
    L->e2[(size_t)j & d->rmask] = e2;
    L->e2sum += e2;
    L->n_e = j + 1;
    if (j >= d->h) return emit_env(d, L, j - d->h, d->n_clean);
    return PLM_OK;
}

static plm_status leg_finish(plm_detector *d, plm_leg *L)
{
    plm_status st;
    int64_t n = d->n_filt;
    for (int64_t k = L->n_env; k < n; k++)
        if ((st = emit_env(d, L, k, n))) return st;
    for (int64_t k = L->n_mx; k < n; k++)
        if ((st = emit_max(d, L, k))) return st;
    for (int64_t k = L->n_b; k < n; k++)
        if ((st = emit_floor(d, L, k, n))) return st;
    if (L->active && (st = finalize(d, L))) return st;
    return flush_pending(d, L);
}

/* ---- filtering ---- */

static plm_status handle_filtered(plm_detector *d, int64_t got)
{
    plm_status st;
    for (int64_t i = 0; i < got; i++) {
        int64_t j = d->n_filt + i;
        for (int l = 0; l < d->nlegs; l++) {
            plm_leg *L = &d->legs[l];
            double s = 0;
            for (int x = 0; x < L->nax; x++) {
                double v = d->fout[(size_t)L->ch[x] * (size_t)d->fout_cap + (size_t)i];
                s += v * v;
            }
            if ((st = push_e(d, L, j, s))) return st;
        }
    }
    d->n_filt += got;
    return PLM_OK;
}

static plm_status flush_stage(plm_detector *d)
{
    if (!d->fin_n) return PLM_OK;
    int64_t got;
    plm_status st = plm_filter_process(d->filter, d->fin, d->fin_n, d->S, d->fout, d->fout_cap, &got);
    d->fin_n = 0;
    if (st) return st;
    return handle_filtered(d, got);
}

/* ---- QC and calibration on the (held, despiked) samples ---- */

static plm_status qc_sample(plm_detector *d, plm_leg *L, int64_t i, const double *v, int clipped)
{
    plm_status st;
    const plm_detect_cfg *c = &d->cfg;
    /* clipping runs */
    if (clipped && L->clip_start < 0) L->clip_start = i;
    if (!clipped && L->clip_start >= 0) {
        if ((st = add_interval(&d->res, L->clip_start, i, PLM_QC_CLIPPING, L->leg))) return st;
        L->clip_start = -1;
    }
    /* flat lines: every axis equal to the previous sample */
    int same = i > 0;
    for (int x = 0; x < L->nax && same; x++) same = v[x] == L->prev[x];
    if (same) {
        if (!L->flat_run) L->flat_start = i - 1;
        L->flat_run++;
    } else {
        if (L->flat_run + 1 >= d->flat_n && (st = add_interval(&d->res, L->flat_start, i, PLM_QC_DROPOUT, L->leg)))
            return st;
        L->flat_run = 0;
    }
    for (int x = 0; x < L->nax; x++) L->prev[x] = v[x];
    for (int x = 0; x < L->nax; x++) L->gsum[x] += v[x];
    if (++L->g_n == d->grav_len) {
        for (int x = 0; x < 3; x++)
            if (!push_float(&L->grav, &L->ngrav, &L->capgrav, (float)(x < L->nax ? L->gsum[x] / (double)L->g_n : 0)))
                PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
        L->gsum[0] = L->gsum[1] = L->gsum[2] = 0;
        L->g_n = 0;
    }
    if (L->nax != 3) return PLM_OK;
    /* 15-min blocks */
    size_t b = L->blk_cur;
    if (++L->blk_pos == d->blk_len) {
        L->blk_pos = 0;
        L->blk_cur++;
    }
    if (b >= L->nblk) {
        if (b >= L->capblk) {
            size_t nc = L->capblk ? 2 * L->capblk : 64;
            void *p = realloc(L->blk, plm__mul(nc, sizeof *L->blk)), *q = realloc(L->blk_n, plm__mul(nc, sizeof *L->blk_n));
            if (p) L->blk = p;
            if (q) L->blk_n = q;
            if (!p || !q) PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
            L->capblk = nc;
        }
        for (; L->nblk <= b; L->nblk++) {
            L->blk_n[L->nblk] = 0;
            for (int x = 0; x < 3; x++) {
                L->blk[L->nblk][x][0] = L->blk[L->nblk][x][1] = 0;
                L->blk[L->nblk][x][2] = INFINITY;
                L->blk[L->nblk][x][3] = -INFINITY;
            }
        }
    }
    L->blk_n[b]++;
    for (int x = 0; x < 3; x++) {
        double *s = L->blk[b][x];
        s[0] += v[x];
        s[1] += v[x] * v[x];
        if (v[x] < s[2]) s[2] = v[x];
        if (v[x] > s[3]) s[3] = v[x];
    }
    /* 10-s calibration windows */
    for (int x = 0; x < 3; x++) {
        L->cw[x][0] += v[x];
        L->cw[x][1] += v[x] * v[x];
    }
    L->cw_bad |= clipped || d->gap[RING(d, i)];
    if (++L->cw_n == d->cw_len) {
        int still = !L->cw_bad;
        double mean[3];
        for (int x = 0; x < 3; x++) {
            mean[x] = L->cw[x][0] / (double)L->cw_n;
            double var = L->cw[x][1] / (double)L->cw_n - mean[x] * mean[x];
            if (var > c->calib_sd_g * c->calib_sd_g) still = 0;
            L->cw[x][0] = L->cw[x][1] = 0;
        }
        if (still && L->ncal < c->calib_max_windows) {
            if (L->ncal == L->capcal) {
                size_t nc = L->capcal ? 2 * L->capcal : 256;
                double *p = realloc(L->cal, plm__mul(nc, 3 * sizeof *p));
                if (!p) PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
                L->cal = p;
                L->capcal = nc;
            }
            memcpy(L->cal + 3 * L->ncal++, mean, sizeof mean);
        }
        L->cw_n = 0;
        L->cw_bad = 0;
    }
    return PLM_OK;
}

/* One cleaned sample (index d->n_clean) of every channel. */
static plm_status clean_sample(plm_detector *d, const double *v, const double *orig)
{
    plm_status st;
    int64_t i = d->n_clean;
    for (int c = 0; c < d->nchan; c++) {
        d->raw[(size_t)c * (d->rmask + 1) + RING(d, i)] = v[c];
        d->fin[(size_t)c * (size_t)d->S + (size_t)d->fin_n] = v[c];
    }
    for (int l = 0; l < d->nlegs; l++) {
        plm_leg *L = &d->legs[l];
        double lv[3];
        int clipped = 0;
        for (int x = 0; x < L->nax; x++) {
            lv[x] = v[L->ch[x]];
            if (fabs(orig[L->ch[x]]) >= d->clip_g) clipped = 1;
        }
        if ((st = qc_sample(d, L, i, lv, clipped))) return st;
    }
    d->n_clean++;
    if (++d->fin_n == d->S) return flush_stage(d);
    return PLM_OK;
}

plm_status plm_detector_push(plm_detector *d, const double *x, int64_t n, int64_t x_cap)
{
    plm_status st;
    const double thr = d->cfg.despike_g;
    for (int64_t i = 0; i < n; i++) {
        int64_t g = d->n_in;
        int gap = 0;
        double cur[6];
        for (int c = 0; c < d->nchan; c++) {
            double v = x[(size_t)c * (size_t)x_cap + (size_t)i];
            if (!isfinite(v)) {
                gap = 1;
                v = d->last_finite[c];
            } else d->last_finite[c] = v;
            cur[c] = v;
        }
        d->gap[RING(d, g)] = (uint8_t)gap;
        if (gap && d->gap_start < 0) d->gap_start = g;
        if (!gap && d->gap_start >= 0) {
            if ((st = add_interval(&d->res, d->gap_start, g, PLM_QC_DROPOUT, 0))) return st;
            d->gap_start = -1;
        }
        if (g >= 1) { /* decide on sample g-1 now that its right neighbour is known */
            double out[6], orig[6];
            for (int c = 0; c < d->nchan; c++) {
                double a = g >= 2 ? d->dsp[c][0] : d->dsp[c][1], b = d->dsp[c][1], nx = cur[c];
                orig[c] = b;
                out[c] = b;
                if (g >= 2 && fabs(b - a) > thr && fabs(b - nx) > thr && fabs(nx - a) < thr / 2) {
                    out[c] = (a + nx) / 2;
                    d->res.despiked++;
                }
            }
            for (int c = 0; c < d->nchan; c++) d->dsp[c][0] = out[c]; /* left neighbour: the cleaned value */
            if ((st = clean_sample(d, out, orig))) return st;
        }
        for (int c = 0; c < d->nchan; c++) d->dsp[c][1] = cur[c];
        d->n_in++;
    }
    return PLM_OK;
}

/* ---------- calibration ---------- */

typedef struct {
    const double *v;
    size_t n;
} fit_data;

/* residual_i = |(v_i - o) / s| - 1, parameters (o_x, o_y, o_z, s_x, s_y, s_z) */
static int sphere_f(const gsl_vector *p, void *data, gsl_vector *f)
{
    const fit_data *d = data;
    for (size_t i = 0; i < d->n; i++) {
        double nrm = 0;
        for (int x = 0; x < 3; x++) {
            double t = (d->v[3 * i + x] - gsl_vector_get(p, (size_t)x)) / gsl_vector_get(p, (size_t)x + 3);
            nrm += t * t;
        }
        gsl_vector_set(f, i, sqrt(nrm) - 1);
    }
    return GSL_SUCCESS;
}

static int sphere_df(const gsl_vector *p, void *data, gsl_matrix *J)
{
    const fit_data *d = data;
    for (size_t i = 0; i < d->n; i++) {
        double t[3], nrm = 0;
        for (int x = 0; x < 3; x++) {
            t[x] = (d->v[3 * i + x] - gsl_vector_get(p, (size_t)x)) / gsl_vector_get(p, (size_t)x + 3);
            nrm += t[x] * t[x];
        }
        nrm = sqrt(nrm);
        for (int x = 0; x < 3; x++) {
            double sx = gsl_vector_get(p, (size_t)x + 3);
            gsl_matrix_set(J, i, (size_t)x, -t[x] / nrm / sx);
            gsl_matrix_set(J, i, (size_t)x + 3, -t[x] * t[x] / nrm / sx);
        }
    }
    return GSL_SUCCESS;
}

/* Levenberg-Marquardt refinement (GSL multifit_nlinear); 0 if it failed. se[6]: standard
 * errors of the parameters from the Jacobian at the solution and the residual variance. */
static int sphere_refine(const double *v, size_t n, double off[3], double gain[3], double se[6])
{
    fit_data d = {v, n};
    gsl_multifit_nlinear_fdf fdf = {.f = sphere_f, .df = sphere_df, .fvv = NULL, .n = n, .p = 6, .params = &d};
    gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, n, 6);
    gsl_vector *p0 = gsl_vector_alloc(6);
    int ok = 0, info;
    if (w && p0) {
        for (int x = 0; x < 3; x++) {
            gsl_vector_set(p0, (size_t)x, off[x]);
            gsl_vector_set(p0, (size_t)x + 3, gain[x]);
        }
        if (gsl_multifit_nlinear_init(p0, &fdf, w) == GSL_SUCCESS &&
            gsl_multifit_nlinear_driver(500, 1e-12, 1e-12, 1e-12, NULL, NULL, &info, w) == GSL_SUCCESS) {
            const gsl_vector *p = gsl_multifit_nlinear_position(w);
            for (int x = 0; x < 3; x++) {
                off[x] = gsl_vector_get(p, (size_t)x);
                gain[x] = gsl_vector_get(p, (size_t)x + 3);
            }
            gsl_matrix *cov = gsl_matrix_alloc(6, 6);
            const gsl_vector *res = gsl_multifit_nlinear_residual(w);
            double ssr;
            gsl_blas_ddot(res, res, &ssr);
            double s2 = ssr / (double)(n > 6 ? n - 6 : 1);
            if (cov && gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(w), 0.0, cov) == GSL_SUCCESS) {
                for (int k = 0; k < 6; k++) se[k] = sqrt(fmax(0, gsl_matrix_get(cov, (size_t)k, (size_t)k) * s2));
                ok = 1;
            }
            gsl_matrix_free(cov);
        }
    }
    gsl_vector_free(p0);
    if (w) gsl_multifit_nlinear_free(w);
    return ok;
}

plm_status plm_calibrate_fit(const double *v, size_t n, const plm_detect_cfg *cfg, plm_calibration *out)
{
    memset(out, 0, sizeof *out);
    for (int x = 0; x < 3; x++) out->gain[x] = 1;
    out->windows = n;
    out->error_before_g = out->error_after_g = NAN;
    if (n < 10) {
        snprintf(out->reason, sizeof out->reason, "not applied: %zu still 10-s windows, need 10", n);
        return PLM_OK;
    }
    double e0 = 0;
    for (size_t i = 0; i < n; i++) e0 += fabs(sqrt(v[3 * i] * v[3 * i] + v[3 * i + 1] * v[3 * i + 1] + v[3 * i + 2] * v[3 * i + 2]) - 1);
    out->error_before_g = e0 / (double)n;
    int covered = 1;
    char miss[64] = "";
    for (int x = 0; x < 3; x++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            lo = fmin(lo, v[3 * i + x]);
            hi = fmax(hi, v[3 * i + x]);
        }
        if (lo > -cfg->calib_cover_g || hi < cfg->calib_cover_g) {
            covered = 0;
            size_t len = strlen(miss);
            snprintf(miss + len, sizeof miss - len, "%s%c", len ? "," : "", "xyz"[x]);
        }
    }
    /* raw = gain * true + offset: regress raw on the nearest sphere point, per axis */
    double off[3] = {0, 0, 0}, gain[3] = {1, 1, 1}, err = out->error_before_g;
    for (int it = 0; it < 1000; it++) {
        double sx[3] = {0}, sy[3] = {0}, sxx[3] = {0}, sxy[3] = {0}, e = 0;
        for (size_t i = 0; i < n; i++) {
            double t[3], nrm = 0;
            for (int x = 0; x < 3; x++) {
                t[x] = (v[3 * i + x] - off[x]) / gain[x];
                nrm += t[x] * t[x];
            }
            nrm = sqrt(nrm);
            e += fabs(nrm - 1);
            for (int x = 0; x < 3; x++) {
                double c = t[x] / nrm, r = v[3 * i + x];
                sx[x] += c;
                sy[x] += r;
                sxx[x] += c * c;
                sxy[x] += c * r;
            }
        }
        double prev = err;
        err = e / (double)n;
        for (int x = 0; x < 3; x++) {
            double den = (double)n * sxx[x] - sx[x] * sx[x];
            if (fabs(den) < 1e-12) continue;
            gain[x] = ((double)n * sxy[x] - sx[x] * sy[x]) / den;
            off[x] = (sy[x] - gain[x] * sx[x]) / (double)n;
        }
        if (it > 0 && fabs(prev - err) < 1e-12) break;
    }
    double o2[3], g2[3], se[6] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY, INFINITY};
    memcpy(o2, off, sizeof off);
    memcpy(g2, gain, sizeof gain);
    if (sphere_refine(v, n, o2, g2, se) && g2[0] > 0.5 && g2[1] > 0.5 && g2[2] > 0.5 && g2[0] < 2 && g2[1] < 2 && g2[2] < 2) {
        memcpy(off, o2, sizeof off);
        memcpy(gain, g2, sizeof gain);
    }
    double e1 = 0;
    for (size_t i = 0; i < n; i++) {
        double nrm = 0;
        for (int x = 0; x < 3; x++) {
            double t = (v[3 * i + x] - off[x]) / gain[x];
            nrm += t * t;
        }
        e1 += fabs(sqrt(nrm) - 1);
    }
    out->error_after_g = e1 / (double)n;
    memcpy(out->offset_g, off, sizeof off);
    memcpy(out->gain, gain, sizeof gain);
    double worst_se = 0;
    for (int k = 0; k < 6; k++) worst_se = fmax(worst_se, se[k]);
    out->worst_se = worst_se;
    if (!covered)
        snprintf(out->reason, sizeof out->reason, "not applied: still postures do not cover axis %s beyond +-%g g", miss,
                 cfg->calib_cover_g);
    else if (!(worst_se <= cfg->calib_max_se))
        snprintf(out->reason, sizeof out->reason,
                 "not applied: the postures do not pin the fit down (standard error %.4f > %g)", worst_se, cfg->calib_max_se);
    else if (!(out->error_after_g < out->error_before_g))
        snprintf(out->reason, sizeof out->reason, "not applied: the fit does not lower the error");
    else if (!(out->error_after_g < cfg->calib_max_error_g))
        snprintf(out->reason, sizeof out->reason, "not applied: error after the fit %.4f g is above %g g", out->error_after_g,
                 cfg->calib_max_error_g);
    else {
        out->applied = 1;
        snprintf(out->reason, sizeof out->reason, "applied: error %.4f -> %.4f g over %zu still windows", out->error_before_g,
                 out->error_after_g, n);
    }
    if (!out->applied)
        for (int x = 0; x < 3; x++) out->offset_g[x] = 0, out->gain[x] = 1;
    return PLM_OK;
}

/* ---------- life cycle ---------- */

static plm_status check_cfg(const plm_detect_cfg *c, double fs)
{
    if (!(fs > 0)) PLM_FAIL(PLM_EINVAL, "detect: fs_hz=%g must be > 0", fs);
    if (!(c->env_window_s > 0) || !(c->floor_max_s > 0) || !(c->floor_min_s > 0) || !(c->quiet_s > 0) ||
        !(c->rot_window_s > 0) || !(c->calib_window_s > 0) || !(c->nonwear_step_s > 0) ||
        !(c->nonwear_window_s >= c->nonwear_step_s) || !(c->flat_s > 0))
        PLM_FAIL(PLM_EINVAL, "detect: every window must be > 0 s");
    if (!(c->hi_min_g > 0) || !(c->hi_factor >= 0) || !(c->lo_fraction > 0 && c->lo_fraction <= 1) || !(c->despike_g > 0) ||
        !(c->ceiling_g > 0) || !(c->rot_lo_deg_s > 0 && c->rot_hi_deg_s >= c->rot_lo_deg_s))
        PLM_FAIL(PLM_EINVAL, "detect: thresholds must be > 0 (lo_fraction in (0, 1], rot_hi >= rot_lo)");
    if (c->floor_min_s * fs > 1e8) PLM_FAIL(PLM_EINVAL, "detect: floor_min_s=%g is too long", c->floor_min_s);
    return PLM_OK;
}

plm_status plm_detector_create(const plm_detect_cfg *cfg, double fs_hz, int nchan, const uint8_t *chan_leg,
                               double full_scale_g, plm_detector **out)
{
    *out = NULL;
    plm_status st = check_cfg(cfg, fs_hz);
    if (st) return st;
    if (nchan < 1 || nchan > 6) PLM_FAIL(PLM_EINVAL, "detect: %d channels, expected 1 .. 6", nchan);
    plm_detector *d = calloc(1, sizeof *d);
    if (!d) PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
    d->cfg = *cfg;
    d->fs = fs_hz;
    d->full_scale_g = full_scale_g;
    d->clip_g = isfinite(full_scale_g) ? cfg->clip_fraction * full_scale_g : INFINITY;
    d->nchan = nchan;
    d->gap_start = -1;
    for (int c = 0; c < nchan; c++) {
        int l = chan_leg[c] == PLM_LEG_RIGHT;
        if (chan_leg[c] != PLM_LEG_LEFT && chan_leg[c] != PLM_LEG_RIGHT) {
            free(d);
            PLM_FAIL(PLM_EINVAL, "detect: channel %d has no leg", c + 1);
        }
        plm_leg *L = &d->legs[l];
        if (L->nax == 3) {
            free(d);
            PLM_FAIL(PLM_EINVAL, "detect: more than 3 channels on one leg");
        }
        L->ch[L->nax++] = c;
        L->leg = chan_leg[c];
    }
    if (!d->legs[0].nax) { /* only a right leg: keep it in slot 0 */
        d->legs[0] = d->legs[1];
        memset(&d->legs[1], 0, sizeof d->legs[1]);
    }
    d->nlegs = d->legs[1].nax ? 2 : 1;
    for (int l = 0; l < d->nlegs; l++)
        if (d->legs[l].nax == 2) {
            free(d);
            PLM_FAIL(PLM_EINVAL, "detect: a leg needs 1 or 3 channels");
        }
    d->h = (int64_t)llround(cfg->env_window_s * fs_hz / 2);
    d->hm = (int64_t)llround(cfg->floor_max_s * fs_hz / 2);
    d->hb = (int64_t)llround(cfg->floor_min_s * fs_hz / 2);
    d->W = (int64_t)llround(cfg->rot_window_s * fs_hz);
    if (d->W < 1) d->W = 1;
    d->Q = (int64_t)llround(cfg->quiet_s * fs_hz);
    if (d->Q < 1) d->Q = 1;
    d->M = d->Q;
    d->flat_n = (int64_t)llround(cfg->flat_s * fs_hz);
    d->blk_len = (int64_t)llround(cfg->nonwear_step_s * fs_hz);
    d->cw_len = (int64_t)llround(cfg->calib_window_s * fs_hz);
    d->sec_len = (int64_t)llround(fs_hz) > 0 ? (int64_t)llround(fs_hz) : 1;
    d->grav_len = 30 * d->sec_len;
    if (d->blk_len < 1) d->blk_len = 1;
    if (d->cw_len < 2) d->cw_len = 2;
    double th = cfg->rot_hi_deg_s * cfg->rot_window_s * M_PI / 180, tl = cfg->rot_lo_deg_s * cfg->rot_window_s * M_PI / 180;
    d->rot_hi2 = th < M_PI / 2 ? sin(th) * sin(th) : 1;
    d->rot_lo2 = tl < M_PI / 2 ? sin(tl) * sin(tl) : 1;
    if ((st = plm_filter_create(&cfg->filter, fs_hz, nchan, &d->filter))) {
        free(d);
        return st;
    }
    size_t ntaps;
    plm_filter_taps(d->filter, &ntaps);
    d->S = 4096;
    d->fout_cap = plm_filter_max_out(d->filter, d->S);
    /* ring: from the newest raw sample back to the oldest one still needed */
    int64_t span = d->fout_cap + d->S + (int64_t)ntaps + d->h + d->hm + d->hb + d->W + d->M + 64;
    size_t ring = 1024;
    while ((int64_t)ring < span) ring *= 2;
    d->rmask = ring - 1;
    d->raw = malloc(plm__mul(plm__mul(ring, (size_t)nchan), sizeof *d->raw));
    d->gap = calloc(ring, 1);
    d->fin = malloc(plm__mul((size_t)(d->S * nchan), sizeof *d->fin));
    d->fout = malloc(plm__mul((size_t)(d->fout_cap * nchan), sizeof *d->fout));
    int ok = d->raw && d->gap && d->fin && d->fout;
    for (int l = 0; l < d->nlegs && ok; l++) {
        plm_leg *L = &d->legs[l];
        L->e2 = calloc(ring, sizeof *L->e2);
        L->env = calloc(ring, sizeof *L->env);
        L->flags = calloc(ring, 1);
        L->mring = calloc((size_t)d->M, 1);
        L->clip_start = -1;
        L->last_below = L->last_below_rot = -1;
        ok = L->e2 && L->env && L->flags && L->mring && dq_init(&L->dmax, (size_t)(2 * d->hm + 4)) &&
             dq_init(&L->dmin, (size_t)(2 * d->hb + 4));
    }
    if (!ok) {
        plm_detector_destroy(d);
        PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
    }
    d->res.lm.fs_hz = fs_hz;
    *out = d;
    return PLM_OK;
}

static double union_length(plm_interval *v, size_t n, uint8_t kind)
{
    /* intervals of one kind: sort a copy by onset and merge */
    int64_t total = 0, cur_a = 0, cur_b = -1;
    plm_interval *w = malloc((n ? n : 1) * sizeof *w);
    if (!w) return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i].kind == kind) w[m++] = v[i];
    for (size_t a = 1; a < m; a++)
        for (size_t b = a; b > 0 && w[b].onset < w[b - 1].onset; b--) {
            plm_interval t = w[b];
            w[b] = w[b - 1];
            w[b - 1] = t;
        }
    for (size_t i = 0; i < m; i++) {
        if (w[i].onset > cur_b) {
            if (cur_b > cur_a) total += cur_b - cur_a;
            cur_a = w[i].onset;
            cur_b = w[i].end;
        } else if (w[i].end > cur_b) cur_b = w[i].end;
    }
    if (cur_b > cur_a) total += cur_b - cur_a;
    free(w);
    return (double)total;
}

static plm_status nonwear(plm_detector *d, plm_leg *L)
{
    const plm_detect_cfg *c = &d->cfg;
    size_t per = (size_t)llround(c->nonwear_window_s / c->nonwear_step_s);
    double cosflat = cos(c->nonwear_flat_deg * M_PI / 180);
    for (size_t b0 = 0; b0 + per <= L->nblk; b0++) {
        int64_t n = 0;
        double s[3] = {0}, s2[3] = {0}, lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
        for (size_t b = b0; b < b0 + per; b++) {
            n += L->blk_n[b];
            for (int x = 0; x < 3; x++) {
                s[x] += L->blk[b][x][0];
                s2[x] += L->blk[b][x][1];
                lo[x] = fmin(lo[x], L->blk[b][x][2]);
                hi[x] = fmax(hi[x], L->blk[b][x][3]);
            }
        }
        if (n < 2) continue;
        int still = 1;
        double m[3], nrm = 0, big = 0;
        for (int x = 0; x < 3; x++) {
            m[x] = s[x] / (double)n;
            double sd = sqrt(fmax(0, s2[x] / (double)n - m[x] * m[x]));
            if (sd >= c->nonwear_sd_g || hi[x] - lo[x] >= c->nonwear_range_g) still = 0;
            nrm += m[x] * m[x];
            big = fmax(big, fabs(m[x]));
        }
        if (!still || !(big / sqrt(nrm) >= cosflat)) continue;
        int64_t a = (int64_t)b0 * d->blk_len, e = a + n;
        int moved = 0;
        for (size_t i = 0; i < d->res.lm.n && !moved; i++) {
            const plm_lm *lm = &d->res.lm.v[i];
            moved = lm->leg == L->leg && lm->onset < e && lm->end > a;
        }
        if (!moved) {
            plm_status st = add_interval(&d->res, a, e, PLM_QC_NONWEAR, L->leg);
            if (st) return st;
        }
    }
    return PLM_OK;
}

plm_status plm_detector_finish(plm_detector *d, plm_detect_result *out)
{
    plm_status st;
    memset(out, 0, sizeof *out);
    if (d->n_in >= 1) { /* the last sample has no right neighbour: kept as it is */
        double v[6];
        for (int c = 0; c < d->nchan; c++) v[c] = d->dsp[c][1];
        if ((st = clean_sample(d, v, v))) return st;
    }
    if ((st = flush_stage(d))) return st;
    int64_t got;
    if ((st = plm_filter_process(d->filter, NULL, 0, 0, d->fout, d->fout_cap, &got))) return st;
    if ((st = handle_filtered(d, got))) return st;
    for (int l = 0; l < d->nlegs; l++)
        if ((st = leg_finish(d, &d->legs[l]))) return st;
    if (d->gap_start >= 0 && (st = add_interval(&d->res, d->gap_start, d->n_in, PLM_QC_DROPOUT, 0))) return st;
    for (int l = 0; l < d->nlegs; l++) {
        plm_leg *L = &d->legs[l];
        if (L->clip_start >= 0 && (st = add_interval(&d->res, L->clip_start, d->n_in, PLM_QC_CLIPPING, L->leg))) return st;
        if (L->flat_run + 1 >= d->flat_n && L->flat_run &&
            (st = add_interval(&d->res, L->flat_start, d->n_in, PLM_QC_DROPOUT, L->leg)))
            return st;
        if (L->nax == 3) {
            if ((st = nonwear(d, L))) return st;
            int slot = L->leg == PLM_LEG_RIGHT;
            /* the fit needs a few thousand postures, not every 10 s of a week: thin evenly */
            size_t stride = (L->ncal + CALIB_FIT_MAX - 1) / CALIB_FIT_MAX, m = 0;
            for (size_t i = 0; stride > 1 && i < L->ncal; i += stride, m++) memmove(L->cal + 3 * m, L->cal + 3 * i, 3 * sizeof *L->cal);
            if ((st = plm_calibrate_fit(L->cal, stride > 1 ? m : L->ncal, &d->cfg, &d->res.calib[slot]))) return st;
            d->res.calib[slot].windows = L->ncal;
        }
    }
    /* the fitted gains rescale peaks and areas (the band-pass already removed offsets) */
    for (size_t i = 0; i < d->res.lm.n; i++) {
        plm_lm *m = &d->res.lm.v[i];
        const plm_calibration *c = &d->res.calib[m->leg == PLM_LEG_RIGHT];
        if (!c->applied) continue;
        double g = (c->gain[0] + c->gain[1] + c->gain[2]) / 3;
        m->peak_g /= g;
        m->area_g_s /= g;
    }
    for (int k = 1; k <= 3; k++) d->res.excluded_s[k] = union_length(d->res.qc, d->res.nqc, (uint8_t)k) / d->fs;
    d->res.nlegs = d->nlegs;
    size_t nsec = SIZE_MAX, ngrav = SIZE_MAX;
    for (int l = 0; l < d->nlegs; l++) {
        plm_leg *L = &d->legs[l];
        if (L->sec_n && !push_float(&L->sec, &L->nsec, &L->capsec, (float)(L->sec_sum / (double)L->sec_n)))
            PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
        for (int x = 0; x < 3 && L->g_n; x++)
            if (!push_float(&L->grav, &L->ngrav, &L->capgrav, (float)(x < L->nax ? L->gsum[x] / (double)L->g_n : 0)))
                PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
        if (L->nsec < nsec) nsec = L->nsec;
        if (L->ngrav / 3 < ngrav) ngrav = L->ngrav / 3;
        d->res.sec_e2[l] = L->sec;
        d->res.grav[l] = L->grav;
        d->res.leg_of[l] = L->leg;
        L->sec = L->grav = NULL;
    }
    d->res.nsec = nsec == SIZE_MAX ? 0 : nsec;
    d->res.ngrav = ngrav == SIZE_MAX ? 0 : ngrav;
    d->res.frames = d->n_in;
    *out = d->res;
    memset(&d->res, 0, sizeof d->res);
    return PLM_OK;
}

void plm_detect_result_clear(plm_detect_result *r)
{
    if (!r) return;
    free(r->lm.v);
    free(r->qc);
    for (int l = 0; l < 2; l++) {
        free(r->sec_e2[l]);
        free(r->grav[l]);
    }
    memset(r, 0, sizeof *r);
}

void plm_detector_destroy(plm_detector *d)
{
    if (!d) return;
    plm_filter_destroy(d->filter);
    for (int l = 0; l < 2; l++) {
        plm_leg *L = &d->legs[l];
        free(L->e2);
        free(L->env);
        free(L->flags);
        free(L->mring);
        dq_free(&L->dmax);
        dq_free(&L->dmin);
        free(L->blk);
        free(L->blk_n);
        free(L->cal);
        free(L->sec);
        free(L->grav);
    }
    free(d->raw);
    free(d->gap);
    free(d->fin);
    free(d->fout);
    plm_detect_result_clear(&d->res);
    free(d);
}
