/* detect.c -- streaming leg-movement detector with quality flags and calibration. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <pthread.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/detect.h"
#include "internal.h"
#include "prof.h"
#include "qc.h"

plm_detect_cfg plm_detect_cfg_default(void)
{
    plm_detect_cfg c = {
        .filter = plm_filter_cfg_default(), .despike_g = 0.5, .env_window_s = 0.15, .floor_max_s = 0.5,
        .floor_min_s = 60, .hi_min_g = 0.006, .hi_factor = 2.0, .lo_fraction = 0.5, .quiet_s = 0.5,
        .ceiling_g = 0.1, .tilt_window_s = 0.25, .tilt_ref_s = 5, .tilt_gap_s = 0.5, .tilt_factor = 1.5,
        .tilt_min_g = 0.004, .tilt_floor_max_s = 2, .backtrack_max_s = 1.0, .onset_fraction = 0.5, .peak_fraction = 0.05, .width_fraction = 0.25, .min_width_s = 0.42, .hold_max_s = 10,
        .hold_tilt_deg = 5, .clip_fraction = 0.98,
        .flat_s = 1.0, .nonwear_window_s = 3600, .nonwear_step_s = 900, .nonwear_sd_g = 0.013,
        .nonwear_range_g = 0.050, .nonwear_flat_deg = 10, .calib_window_s = 10, .calib_sd_g = 0.013,
        .calib_cover_g = 0.3, .calib_max_error_g = 0.01, .calib_max_se = 0.002, .calib_max_windows = 200000};
    return c;
}

#define MIN_ENV_HALF 2    /* envelope window of at least 5 samples */
#define MIN_TILT_WINDOW 8 /* tilt mean over at least 8 samples */

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

/* A posture window of the tilt channel: the block means it holds, sorted per axis. */
typedef struct postwin {
    double v[3][256];
    int m;
} postwin;

enum { F_GAP = 1 };

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
    /* envelope ring and its floor, by sample index */
    double *env, *bfl;
    uint8_t *flags;
    deque dmin;          /* floor blocks' largest envelopes, for their running min */
    double eb_max;       /* largest envelope of the current floor block */
    int64_t e_blk, e_pos, n_mx, n_b; /* floor block of the next envelope, place in it; blocks done, floors done */
    /* tilt channel: running sum of raw over [t_lo, t_hi), block-mean cache, posture medians */
    double tsum[3];
    int64_t t_lo, t_hi;
    double *bm;          /* block means, 3 per slot */
    int64_t *bm_id;      /* block index held by a slot (-1: none) */
    int64_t med_blk;     /* block whose posture windows are filled (-1 none, -2 refill) */
    postwin win[2];      /* block means before and after, sorted */
    double pre[3], post[3];
    int has_pre, has_post;
    double *tilt;        /* tilt deviation ring, by sample index */
    deque tmax, tmin;
    int64_t n_t, n_tblk, n_tmx, n_tb; /* tilt samples; tilt blocks pushed, max-ready, floor-ready */
    double tb_max;       /* largest tilt of the current block */
    int64_t t_blk, t_pos; /* block of the next tilt sample and its place in it */
    int64_t t_skip;      /* samples since the tilt was last computed */
    double t_last;       /* that value */
    /* events */
    int active;
    int64_t onset, last_active, last_floor, quiet;
    double peak, area, pend_peak, pend_area;
    float *act;          /* normalised activity of the current movement (first act_cap samples) */
    size_t nact, act_cap;
    int64_t act_from, prev_end; /* sample of act[0]; end of the last movement kept */
    double act_peak;
    /* the last movement, held back in case the next one ends its hold */
    int has_pending;
    plm_lm pending;
    double pend_pre[3], pend_post[3], cur_pre[3];
    plm__qc_leg qc;      /* quality control (qc.c) */
    plm__still still;    /* still windows for the calibration (calibrate.c) */
    /* the leg's own filter and scratch, so that the legs of a stage can run on two threads */
    plm_filter *filter;
    double *fout, *e2s;  /* filtered samples of the stage (fout_cap per axis); their e2 */
    uint8_t *bad;        /* per staged sample: clipped or gap */
    int64_t n_f;         /* filtered samples so far */
    /* what the leg found: movements (with the order they were found in: lm_key) and QC intervals,
     * joined into the detector's result at the end */
    plm_detect_result part;
    int64_t *lm_key;
    size_t lm_keycap;
    int finishing;       /* leg_finish is running */
} plm_leg;

struct plm_detector {
    plm_detect_cfg cfg;
    double fs, full_scale_g;
    int nchan, nlegs;
    plm_leg legs[2];
    plm_filter *filter;
    int64_t h, hm, hb, W, Q, sec_len, grav_len;
    int64_t F, hbf;          /* envelope floor blocks (samples), floor_min_s half window in blocks */
    int64_t B, GB, PB, D;    /* tilt: posture block (samples), gap and posture window (blocks), lag (samples) */
    int64_t hmt, hmtb, hbb;  /* tilt floor: running-max half window (samples, blocks), running-min (blocks) */
    int64_t BT, MW;          /* samples: longest backtrack, narrowest movement */
    double inv_w;            /* 1 / W */
    int64_t TR;              /* the tilt (a 0.25-s mean) is computed every TR samples, W / 12 */
    double step_delay, step_rise; /* samples: a sudden start's half-height delay and 10-50 % rise in the envelope */
    size_t bmask;
    double clip_g;           /* |x| at or above this is clipped; INFINITY without a full scale */
    /* raw ring (despiked), gap ring */
    double *raw;
    uint8_t *gap;
    void *arena;             /* raw, gap and the legs' rings, one allocation */
    size_t rmask;
    int64_t n_in, n_clean, n_filt;
    double last_finite[6], dsp[6][2]; /* despike window: values at n_in-2, n_in-1 */
    int64_t gap_start;
    /* filter staging */
    double *fin, *fout;
    uint8_t *clip;           /* per staged sample and leg: clipped */
    uint8_t *nf;             /* per input sample of a chunk: a channel not finite (scratch) */
    int chan_slot[6];        /* leg slot (d->legs) of each channel */
    int srow[6];             /* stage row of each channel: 3 x its leg slot + its axis */
    int64_t S, fin_n, fout_cap;
    plm_detect_result res;
    /* two threads: leg 1's share of each stage runs on a worker while this thread does leg 0's */
    int threaded, job, job_final, quit;
    plm_status job_st;
    char job_err[1024];
    pthread_t worker;
    pthread_mutex_t mu;
    pthread_cond_t cv;
};

static plm_status push_lm(plm_detect_result *r, plm_lm m)
{
    plm_lm_list *l = &r->lm;
    if (!plm__grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, 256)) PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
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

/* The order a movement was found in, whichever thread found it: in the stream, the tilt sample
 * whose block completed (legs in step, left slot first); at the end, after every streamed one, leg
 * by leg. plm_detector_finish sorts the legs' movements by it: the list is the same with one
 * thread or two. */
static plm_status flush_pending(plm_leg *L)
{
    if (!L->has_pending) return PLM_OK;
    L->has_pending = 0;
    plm_lm_list *l = &L->part.lm;
    if (!plm__grow((void **)&L->lm_key, &L->lm_keycap, l->n + 1, sizeof *L->lm_key, 256))
        PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
    L->lm_key[l->n] = L->finishing ? INT64_MAX : L->n_t;
    return push_lm(&L->part, L->pending);
}

/* Width test: samples of the movement whose activity reaches width_fraction of its peak. A twitch
 * (< 0.5 s) smeared by the filter and the envelope stays short at half height. */
static int wide_enough(const plm_detector *d, const plm_leg *L)
{
    if ((int64_t)L->nact >= (int64_t)L->act_cap) return 1;
    double lvl = d->cfg.width_fraction * L->act_peak;
    int64_t n = 0;
    for (size_t i = (size_t)(L->onset - L->act_from); i < L->nact; i++) n += L->act[i] >= lvl;
    return n >= d->MW;
}

static plm_status finalize(plm_detector *d, plm_leg *L)
{
    L->active = 0;
    if (!wide_enough(d, L)) return PLM_OK;
    /* a large movement's filter and envelope skirts reach the low thresholds early and late: trim
     * both ends to where the activity reaches peak_fraction of its peak */
    int64_t on = L->act_from, end = L->last_active + 1;
    size_t nb = L->nact < L->act_cap ? L->nact : L->act_cap;
    double lvl = d->cfg.peak_fraction * L->act_peak;
    size_t p0 = (size_t)(L->onset - L->act_from), i0 = p0, i1 = nb;
    while (i0 < nb && L->act[i0] < lvl) i0++;
    while (i1 > i0 + 1 && L->act[i1 - 1] < lvl && L->nact <= L->act_cap) i1--;
    if (i0 < nb) {
        /* the onset from the rise: where the activity first reaches half its peak, less the delay a
         * sudden start shows there (the filter's and envelope's own, from their step response at
         * creation), less what a movement that builds up adds: its own 10-50 % rise (the step's
         * removed in quadrature) times 1.69, as for a raised-cosine rise from zero. Only ever earlier
         * than the trimmed onset: a movement that starts sharply keeps that. */
        size_t j5 = p0;
        while (j5 < nb && L->act[j5] < 0.5 * L->act_peak) j5++;
        size_t j1 = j5;
        while (j1 > 0 && L->act[j1 - 1] >= 0.1 * L->act_peak) j1--;
        double rise = (double)(j5 - j1), own2 = rise * rise - d->step_rise * d->step_rise;
        double back = d->step_delay + (own2 > 0 ? 1.69 * sqrt(own2) : 0), kk = (double)j5 - back;
        size_t ie = kk <= 0 ? 0 : (size_t)llround(kk);
        if (ie < i0) i0 = ie;
    }
    if (i0 < nb) {
        on += (int64_t)i0;
        if (L->nact <= L->act_cap) end = L->act_from + (int64_t)i1;
    } else on = L->onset;
    plm_lm m = {.onset = on, .end = end, .leg = L->leg, .peak_g = L->peak, .area_g_s = L->area / d->fs};
    L->prev_end = end;
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
    plm_status st = flush_pending(L);
    if (st) return st;
    L->pending = m;
    L->has_pending = 1;
    memcpy(L->pend_pre, L->cur_pre, sizeof L->cur_pre);
    memcpy(L->pend_post, post, sizeof post);
    return PLM_OK;
}

static void act_push(plm_leg *L, double a)
{
    if (a > L->act_peak) L->act_peak = a;
    if (L->nact < L->act_cap) L->act[L->nact] = (float)a;
    if (L->nact <= L->act_cap) L->nact++;
}

/* Decide sample k: env with its floor b, tilt deviation with its floor bt. The activity is the larger
 * of the two channels' excess over their floors, each in units of its high threshold. */
static plm_status decide(plm_detector *d, plm_leg *L, int64_t k, double bt)
{
    const plm_detect_cfg *c = &d->cfg;
    size_t slot = (size_t)k & d->rmask;
    double env = L->env[slot], b = L->bfl[slot], tv = L->tilt[slot];
    uint8_t fl = L->flags[slot];
    double thi = plm__fmax(c->hi_min_g, c->hi_factor * b), tthi = plm__fmax(c->tilt_min_g, c->tilt_factor * bt);
    int usable = !(fl & F_GAP) && b <= c->ceiling_g;
    double a = (env - b) / thi;
    if (L->nax == 3) a = plm__fmax(a, (tv - bt) / tthi);
    if (!usable) a = 0;
    int hi = a > 1, lo = a > c->lo_fraction;
    if (L->active) {
        if (lo) {
            L->last_active = k;
            L->quiet = 0;
            if (env > L->peak) L->peak = env;
            if (env > b) L->area += env - b;
            act_push(L, a);
        } else if (++L->quiet >= d->Q) {
            /* the trailing quiet samples are not part of the movement */
            L->nact = L->nact > (size_t)(d->Q - 1) ? L->nact - (size_t)(d->Q - 1) : 0;
            plm_status st = finalize(d, L);
            if (st) return st;
            L->last_floor = k;
            L->pend_peak = L->pend_area = 0;
        } else act_push(L, a);
        return PLM_OK;
    }
    if (a <= c->onset_fraction) L->last_floor = k;
    if (a <= 0) {
        L->pend_peak = L->pend_area = 0;
        return PLM_OK;
    }
    if (env > L->pend_peak) L->pend_peak = env;
    if (env > b) L->pend_area += env - b;
    if (hi) {
        /* the movement starts where the activity last left its floor (the accelerometer analogue of
         * the EMG onset), at most backtrack_max_s before the high-threshold crossing */
        int64_t on = L->last_floor + 1;
        if (on < k - d->BT) on = k - d->BT;
        L->active = 1;
        L->onset = on;
        if (L->nax == 3) mean_vec(d, L, on - d->W, on, L->cur_pre);
        L->last_active = k;
        L->quiet = 0;
        L->peak = L->pend_peak;
        L->area = L->pend_area;
        L->nact = 0;
        L->act_peak = 0;
        /* the activity from backtrack_max_s before the crossing (not before the last movement's end):
         * the rise before the onset found here tells how the movement built up (finalize) */
        int64_t from = k - d->BT > L->prev_end ? k - d->BT : L->prev_end;
        if (from > on) from = on;
        L->act_from = from;
        for (int64_t i = from; i <= k; i++) { /* the rise, recomputed from the rings */
            size_t s = (size_t)i & d->rmask;
            double bi = L->bfl[s], ai = (L->env[s] - bi) / plm__fmax(c->hi_min_g, c->hi_factor * bi);
            if (L->nax == 3) ai = plm__fmax(ai, (L->tilt[s] - bt) / tthi);
            if (i < on) { /* before the onset: kept for the rise, not for the peak */
                if (L->nact < L->act_cap) L->act[L->nact] = (float)ai;
                L->nact++;
            } else act_push(L, ai);
        }
    }
    return PLM_OK;
}

/* ---- envelope floor: centred running min of the running max ---- */

/* The envelope floor runs on floor blocks of F samples (floor_max_s): block j's value is its
 * largest envelope, its floor the centred running min of those over floor_min_s, written to
 * every sample of the block (samples below n). */
static void env_floor_ready(plm_detector *d, plm_leg *L, int64_t j2, int64_t n)
{
    double b = dq_front(&L->dmin, j2 - d->hbf);
    int64_t k1 = (j2 + 1) * d->F < n ? (j2 + 1) * d->F : n;
    for (int64_t k = j2 * d->F; k < k1; k++) L->bfl[(size_t)k & d->rmask] = b;
    L->n_b = j2 + 1;
}

static void env_block_done(plm_detector *d, plm_leg *L, int64_t j)
{
    dq_push(&L->dmin, j, L->eb_max, -1);
    L->eb_max = 0;
    L->n_mx = j + 1;
    if (j >= d->hbf) env_floor_ready(d, L, j - d->hbf, INT64_MAX);
}

/* ---- tilt channel: how far the 0.25-s mean vector is from the posture before and after ---- */

/* Mean of block bi (samples [bi B, (bi+1) B) clamped to n known), cached; 0 if empty. */
static int block_mean(plm_detector *d, plm_leg *L, int64_t bi, int64_t n, double out[3])
{
    int64_t a = bi * d->B, b = a + d->B;
    if (b > n) b = n;
    if (bi < 0 || b <= a) return 0;
    size_t s = (size_t)bi & d->bmask;
    if (L->bm_id[s] != bi || b - a < d->B) {
        /* the three axes in one loop: independent chains of additions, overlapped */
        const size_t stride = d->rmask + 1;
        const double *r0 = d->raw + (size_t)L->ch[0] * stride, *r1 = d->raw + (size_t)L->ch[1] * stride,
                     *r2 = d->raw + (size_t)L->ch[2] * stride;
        double s0 = 0, s1 = 0, s2 = 0;
        for (int64_t i = a; i < b; i++) {
            size_t k = RING(d, i);
            s0 += r0[k];
            s1 += r1[k];
            s2 += r2[k];
        }
        L->bm[3 * s] = s0 / (double)(b - a);
        L->bm[3 * s + 1] = s1 / (double)(b - a);
        L->bm[3 * s + 2] = s2 / (double)(b - a);
        L->bm_id[s] = b - a == d->B ? bi : -1;
    }
    memcpy(out, &L->bm[3 * s], 3 * sizeof *out);
    return 1;
}

static void win_insert(postwin *w, const double mv[3])
{
    for (int x = 0; x < 3; x++) {
        int i = w->m;
        while (i > 0 && w->v[x][i - 1] > mv[x]) {
            w->v[x][i] = w->v[x][i - 1];
            i--;
        }
        w->v[x][i] = mv[x];
    }
    w->m++;
}

static void win_remove(postwin *w, const double mv[3])
{
    for (int x = 0; x < 3; x++) {
        double *v = w->v[x];
        int i = 0;
        while (i < w->m && v[i] != mv[x]) i++;
        for (; i < w->m - 1; i++) v[i] = v[i + 1]; /* a few values: no call to memmove */
    }
    w->m--;
}

/* Fill w with the block means of blocks [b0, b1). */
static void win_fill(plm_detector *d, plm_leg *L, postwin *w, int64_t b0, int64_t b1, int64_t n)
{
    w->m = 0;
    for (int64_t bi = b0; bi < b1 && w->m < 256; bi++) {
        double mv[3];
        if (block_mean(d, L, bi, n, mv)) win_insert(w, mv);
    }
}

/* Replace old by new: the same array as win_remove then win_insert (the values sorted; equal
 * values are the same bits, so which of them moves does not matter). Positions by counting, no
 * search loop whose exit the branch predictor has to guess. 0 if old is not there. */
static int win_replace(postwin *w, const double old[3], const double nw[3])
{
    const int m = w->m;
    int at[3], to[3];
    for (int x = 0; x < 3; x++) {
        const double *v = w->v[x];
        const double o = old[x], nv = nw[x];
        int lt = 0, le = 0;
        for (int k = 0; k < m; k++) {
            lt += v[k] < o;
            le += v[k] <= nv;
        }
        if (lt == m || v[lt] != o) return 0;
        at[x] = lt;                 /* old's first place */
        to[x] = le - (o <= nv);     /* new's place once old is gone */
    }
    for (int x = 0; x < 3; x++) {
        double *v = w->v[x];
        int i = at[x], j = to[x];
        for (; i < j; i++) v[i] = v[i + 1]; /* a few values: no call to memmove */
        for (; i > j; i--) v[i] = v[i - 1];
        v[j] = nw[x];
    }
    return 1;
}

/* Slide w by one block: block out leaves, block in enters. */
static void win_slide(plm_detector *d, plm_leg *L, postwin *w, int64_t out, int64_t in, int64_t n)
{
    double mo[3], mi[3];
    if (w->m && block_mean(d, L, out, n, mo)) {
        int have_in = block_mean(d, L, in, n, mi);
        if (have_in && win_replace(w, mo, mi)) return;
        win_remove(w, mo);
        if (have_in) win_insert(w, mi);
        return;
    }
    if (w->m < 256 && block_mean(d, L, in, n, mi)) win_insert(w, mi);
}

static int win_median(const postwin *w, double out[3])
{
    if (!w->m) return 0;
    for (int x = 0; x < 3; x++) out[x] = w->m % 2 ? w->v[x][w->m / 2] : 0.5 * (w->v[x][w->m / 2 - 1] + w->v[x][w->m / 2]);
    return 1;
}

/* The tilt floor runs on posture blocks (a floor changes over minutes): block j's floor is the
 * centred running min of the running max of the block maxima; then its samples are decided. */
static plm_status tilt_floor_ready(plm_detector *d, plm_leg *L, int64_t j2, int64_t n)
{
    double bt = dq_front(&L->tmin, j2 - d->hbb);
    L->n_tb = j2 + 1;
    int64_t k1 = (j2 + 1) * d->B < n ? (j2 + 1) * d->B : n;
    const plm_detect_cfg *c = &d->cfg;
    const double ceiling = c->ceiling_g, onset_fraction = c->onset_fraction;
    const int tilt = L->nax == 3;
    for (int64_t k = j2 * d->B; k < k1; k++) {
        if (!L->active && onset_fraction >= 0) {
            /* at rest, nothing above its floor: decide's activity is <= 0 exactly when neither
             * channel exceeds its floor (the thresholds it divides by are > 0), so no division */
            size_t slot = (size_t)k & d->rmask;
            double b = L->bfl[slot];
            if ((L->flags[slot] & F_GAP) || !(b <= ceiling) || (L->env[slot] <= b && (!tilt || L->tilt[slot] <= bt))) {
                L->last_floor = k;
                L->pend_peak = L->pend_area = 0;
                continue;
            }
        }
        plm_status st = decide(d, L, k, bt);
        if (st) return st;
    }
    return PLM_OK;
}

static plm_status tilt_max_ready(plm_detector *d, plm_leg *L, int64_t j1, int64_t n)
{
    double mx = dq_front(&L->tmax, j1 - d->hmtb);
    L->n_tmx = j1 + 1;
    dq_push(&L->tmin, j1, mx, -1);
    if (j1 >= d->hbb) return tilt_floor_ready(d, L, j1 - d->hbb, n);
    return PLM_OK;
}

static plm_status push_tilt_block(plm_detector *d, plm_leg *L, int64_t j, int64_t n)
{
    dq_push(&L->tmax, j, L->tb_max, +1);
    L->tb_max = 0;
    L->n_tblk = j + 1;
    if (j >= d->hmtb) return tilt_max_ready(d, L, j - d->hmtb, n);
    return PLM_OK;
}

/* Distance (g) of the mean vector m from the nearer of the postures before and after that exist. */
static inline double posture_distance(const double m[3], const double pre[3], const double post[3], int has_pre, int has_post)
{
    double dp = INFINITY;
    if (has_pre) {
        double e0 = m[0] - pre[0], e1 = m[1] - pre[1], e2 = m[2] - pre[2];
        dp = e0 * e0 + e1 * e1 + e2 * e2;
    }
    if (has_post) {
        double e0 = m[0] - post[0], e1 = m[1] - post[1], e2 = m[2] - post[2], sq = e0 * e0 + e1 * e1 + e2 * e2;
        if (sq < dp) dp = sq;
    }
    return sqrt(dp);
}

/* Tilt deviation of sample q, n samples known: min over the postures before and after of the distance
 * (g) between the mean vector around q and that posture. A tilt that returns differs from both; a
 * posture change only while it happens. */
static plm_status emit_tilt(plm_detector *d, plm_leg *L, int64_t q, int64_t n)
{
    double tv = 0;
    if (L->nax == 3) {
        int64_t half = d->W / 2, a = q - half < 0 ? 0 : q - half, b = q - half + d->W > n ? n : q - half + d->W;
        size_t stride = d->rmask + 1;
        if (a == L->t_lo + 1 && b == L->t_hi + 1 && L->t_hi > 0) { /* steady state: one in, one out */
            size_t in = RING(d, b - 1), out = RING(d, a - 1);
            for (int x = 0; x < 3; x++) {
                const double *r = d->raw + (size_t)L->ch[x] * stride;
                L->tsum[x] += r[in] - r[out];
            }
        } else {
            if (L->t_hi <= a || b < L->t_lo || b - a < 1 || L->t_hi == 0) { /* (re)start the running sum */
                L->tsum[0] = L->tsum[1] = L->tsum[2] = 0;
                L->t_lo = L->t_hi = a;
            }
            for (int x = 0; x < 3; x++) {
                const double *r = d->raw + (size_t)L->ch[x] * stride;
                for (int64_t i = L->t_hi; i < b; i++) L->tsum[x] += r[RING(d, i)];
                for (int64_t i = L->t_lo; i < a; i++) L->tsum[x] -= r[RING(d, i)];
            }
        }
        L->t_lo = a;
        L->t_hi = b;
        int64_t bq = L->t_blk;
        int64_t p0 = bq - d->GB - d->PB, f0 = bq + d->GB + 1; /* first blocks of the windows */
        int changed = 1;
        if (q >= n - (d->GB + d->PB + 2) * d->B) { /* the last blocks may be partial: refill */
            win_fill(d, L, &L->win[0], p0, p0 + d->PB, n);
            win_fill(d, L, &L->win[1], f0, f0 + d->PB, n);
            L->med_blk = -2;
        } else if (bq == L->med_blk + 1 && L->med_blk >= 0) { /* one block on */
            win_slide(d, L, &L->win[0], p0 - 1, p0 + d->PB - 1, n);
            win_slide(d, L, &L->win[1], f0 - 1, f0 + d->PB - 1, n);
            L->med_blk = bq;
        } else if (bq != L->med_blk) {
            win_fill(d, L, &L->win[0], p0, p0 + d->PB, n);
            win_fill(d, L, &L->win[1], f0, f0 + d->PB, n);
            L->med_blk = bq;
        } else changed = 0;
        if (changed) {
            L->has_pre = win_median(&L->win[0], L->pre);
            L->has_post = win_median(&L->win[1], L->post);
        }
        if (!changed && ++L->t_skip < d->TR && q < n - d->TR) /* computed every TR samples (0.01-0.02 s) */
            tv = L->t_last;
        else {
            L->t_skip = 0;
            if (b > a && (L->has_pre || L->has_post)) {
                double inv = b - a == d->W ? d->inv_w : 1.0 / (double)(b - a);
                const double m[3] = {L->tsum[0] * inv, L->tsum[1] * inv, L->tsum[2] * inv};
                tv = posture_distance(m, L->pre, L->post, L->has_pre, L->has_post);
            }
            L->t_last = tv;
        }
    }
    L->tilt[(size_t)q & d->rmask] = tv;
    L->n_t = q + 1;
    if (tv > L->tb_max) L->tb_max = tv;
    if (++L->t_pos == d->B) { /* the block of q is complete */
        L->t_pos = 0;
        return push_tilt_block(d, L, L->t_blk++, INT64_MAX);
    }
    return PLM_OK;
}

/* The tilt of samples [q0, q1), all in one posture block: the first by emit_tilt (which moves the
 * posture windows when a block begins), the rest, in the steady state (the 0.25-s window whole and
 * inside the samples known, the windows unchanged), by the same sums kept in registers. */
static plm_status tilt_run(plm_detector *d, plm_leg *L, int64_t q0, int64_t q1, int64_t n)
{
    plm_status st = emit_tilt(d, L, q0, n);
    if (st) return st;
    const int64_t half = d->W / 2, last_q = q1 - 1;
    int steady = L->nax == 3 && q1 - q0 >= 2 && q0 - half >= 0 && L->t_lo == q0 - half && L->t_hi == q0 - half + d->W &&
                 last_q - half + d->W <= n && last_q < n - (d->GB + d->PB + 2) * d->B && last_q < n - d->TR;
    if (!steady) {
        for (int64_t q = q0 + 1; q < q1; q++)
            if ((st = emit_tilt(d, L, q, n))) return st;
        return PLM_OK;
    }
    const size_t stride = d->rmask + 1;
    const double *r0 = d->raw + (size_t)L->ch[0] * stride, *r1 = d->raw + (size_t)L->ch[1] * stride,
                 *r2 = d->raw + (size_t)L->ch[2] * stride;
    double s0 = L->tsum[0], s1 = L->tsum[1], s2 = L->tsum[2], t_last = L->t_last, tb_max = L->tb_max, inv = d->inv_w;
    const double pre[3] = {L->pre[0], L->pre[1], L->pre[2]}, post[3] = {L->post[0], L->post[1], L->post[2]};
    const int has_pre = L->has_pre, has_post = L->has_post;
    int64_t skip = L->t_skip;
    for (int64_t q = q0 + 1; q < q1; q++) {
        int64_t a = q - half;
        size_t in = RING(d, a + d->W - 1), out = RING(d, a - 1);
        s0 += r0[in] - r0[out];
        s1 += r1[in] - r1[out];
        s2 += r2[in] - r2[out];
        double tv = 0;
        if (++skip < d->TR) tv = t_last;
        else {
            skip = 0;
            if (has_pre || has_post) {
                const double m[3] = {s0 * inv, s1 * inv, s2 * inv};
                tv = posture_distance(m, pre, post, has_pre, has_post);
            }
            t_last = tv;
        }
        L->tilt[(size_t)q & d->rmask] = tv;
        if (tv > tb_max) tb_max = tv;
    }
    L->tsum[0] = s0;
    L->tsum[1] = s1;
    L->tsum[2] = s2;
    L->t_lo = last_q - half;
    L->t_hi = last_q - half + d->W;
    L->t_skip = skip;
    L->t_last = t_last;
    L->tb_max = tb_max;
    L->n_t = q1;
    L->t_pos += q1 - q0 - 1;
    if (L->t_pos == d->B) { /* the block is complete */
        L->t_pos = 0;
        return push_tilt_block(d, L, L->t_blk++, INT64_MAX);
    }
    return PLM_OK;
}

/* envelope for index k is ready (n_e samples of e2 known) */
static void emit_env(plm_detector *d, plm_leg *L, int64_t k)
{
    while (L->e2_lo < k - d->h) L->e2sum -= L->e2[(size_t)(L->e2_lo++) & d->rmask];
    double env = sqrt(plm__fmax(0, L->e2sum) / (double)(L->n_e - L->e2_lo));
    size_t slot = (size_t)k & d->rmask;
    L->env[slot] = env;
    L->flags[slot] = d->gap[RING(d, k)] ? F_GAP : 0;
    L->n_env = k + 1;
    if (env > L->eb_max) L->eb_max = env;
    if (++L->e_pos == d->F) {
        L->e_pos = 0;
        env_block_done(d, L, L->e_blk++);
    }
}

static int push_float(float **v, size_t *n, size_t *cap, float x)
{
    if (!plm__grow((void **)v, cap, *n + 1, sizeof **v, 1024)) return 0;
    (*v)[(*n)++] = x;
    return 1;
}

/* got filtered samples of a leg (from index n_filt): the squared norm e2 of its axes, its
 * per-second means, and the centred envelope of every index whose window is now complete. The
 * tilt channel and the decisions follow in handle_filtered. */
static plm_status leg_filtered(plm_detector *d, plm_leg *L, int64_t got)
{
    double *e = L->e2s;
    const size_t cap = (size_t)d->fout_cap;
    const double *y0 = L->fout;
    if (L->nax == 3) {
        const double *y1 = L->fout + cap, *y2 = L->fout + 2 * cap;
        for (int64_t i = 0; i < got; i++) e[i] = y0[i] * y0[i] + y1[i] * y1[i] + y2[i] * y2[i];
    } else
        for (int64_t i = 0; i < got; i++) e[i] = y0[i] * y0[i];
    for (int64_t i = 0; i < got;) { /* per-second means */
        int64_t m = d->sec_len - L->sec_n < got - i ? d->sec_len - L->sec_n : got - i;
        double sum = L->sec_sum;
        for (int64_t k = i; k < i + m; k++) sum += e[k];
        L->sec_sum = sum;
        L->sec_n += m;
        i += m;
        if (L->sec_n == d->sec_len) {
            if (!push_float(&L->sec, &L->nsec, &L->capsec, (float)(L->sec_sum / (double)L->sec_n)))
                PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
            L->sec_sum = 0;
            L->sec_n = 0;
        }
    }
    /* the envelope: the running sum of e2 over the centred window kept in a register (through
     * L->e2sum it made a chain of stores and loads per sample); the same additions and
     * subtractions in the same order as emit_env's */
    const size_t mask = d->rmask;
    double *e2r = L->e2, *envr = L->env, sum = L->e2sum, eb_max = L->eb_max;
    uint8_t *flags = L->flags;
    const uint8_t *gap = d->gap;
    int64_t lo = L->e2_lo, e_pos = L->e_pos;
    const int64_t h = d->h;
    for (int64_t i = 0; i < got; i++) {
        int64_t j = L->n_f + i, k = j - h;
        e2r[(size_t)j & mask] = e[i];
        sum += e[i];
        if (k < 0) continue;
        while (lo < k - h) sum -= e2r[(size_t)(lo++) & mask];
        double env = sqrt(plm__fmax(0, sum) / (double)(j + 1 - lo));
        envr[(size_t)k & mask] = env;
        flags[(size_t)k & mask] = gap[(size_t)k & mask] ? F_GAP : 0;
        if (env > eb_max) eb_max = env;
        if (++e_pos == d->F) {
            e_pos = 0;
            L->eb_max = eb_max;
            env_block_done(d, L, L->e_blk++);
            eb_max = L->eb_max;
        }
    }
    L->e2sum = sum;
    L->eb_max = eb_max;
    L->e2_lo = lo;
    L->e_pos = e_pos;
    L->n_f += got;
    L->n_e = L->n_f;
    if (L->n_e - h > L->n_env) L->n_env = L->n_e - h;
    return PLM_OK;
}

static plm_status leg_finish(plm_detector *d, plm_leg *L)
{
    plm_status st;
    int64_t n = L->n_f;
    L->finishing = 1;
    for (int64_t k = L->n_env; k < n; k++) emit_env(d, L, k);
    int64_t nbf = (n + d->F - 1) / d->F; /* floor blocks, the last one maybe partial */
    if (L->n_mx < nbf) env_block_done(d, L, nbf - 1);
    for (int64_t j = L->n_b; j < nbf; j++) env_floor_ready(d, L, j, n);
    for (int64_t q = L->n_t; q < n; q++)
        if ((st = emit_tilt(d, L, q, n))) return st;
    int64_t nb = (n + d->B - 1) / d->B; /* blocks, the last one maybe partial */
    if (L->n_tblk < nb && (st = push_tilt_block(d, L, nb - 1, n))) return st;
    for (int64_t j = L->n_tmx; j < nb; j++)
        if ((st = tilt_max_ready(d, L, j, n))) return st;
    for (int64_t j = L->n_tb; j < nb; j++)
        if ((st = tilt_floor_ready(d, L, j, n))) return st;
    if (L->active) {
        L->nact = L->nact > (size_t)L->quiet ? L->nact - (size_t)L->quiet : 0;
        if ((st = finalize(d, L))) return st;
    }
    return flush_pending(L);
}

/* ---- filtering ---- */

/* The staged cleaned samples of a leg (fin_n of them, the first being n_clean - fin_n): the 30-s
 * posture trace, quality control, still windows. */
static plm_status leg_block(plm_detector *d, int l)
{
    plm_leg *L = &d->legs[l];
    int64_t n = d->fin_n, first = d->n_clean - n;
    const double *ax[3] = {NULL, NULL, NULL};
    for (int x = 0; x < L->nax; x++) ax[x] = d->fin + (size_t)(3 * l + x) * (size_t)d->S;
    uint8_t *clip = d->clip + (size_t)l * (size_t)d->S, *bad = L->bad;
    for (int64_t j = 0; j < n;) { /* the 30-s mean vectors: a stretch within one 30 s, an axis at a time */
        int64_t m = d->grav_len - L->g_n < n - j ? d->grav_len - L->g_n : n - j;
        if (L->nax == 3) { /* three independent chains of additions in one loop */
            double g0 = L->gsum[0], g1 = L->gsum[1], g2 = L->gsum[2];
            for (int64_t k = j; k < j + m; k++) {
                g0 += ax[0][k];
                g1 += ax[1][k];
                g2 += ax[2][k];
            }
            L->gsum[0] = g0;
            L->gsum[1] = g1;
            L->gsum[2] = g2;
        } else {
            double sum = L->gsum[0];
            for (int64_t k = j; k < j + m; k++) sum += ax[0][k];
            L->gsum[0] = sum;
        }
        L->g_n += m;
        j += m;
        if (L->g_n == d->grav_len) {
            for (int x = 0; x < 3; x++)
                if (!push_float(&L->grav, &L->ngrav, &L->capgrav, (float)(x < L->nax ? L->gsum[x] / (double)L->g_n : 0)))
                    PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
            L->gsum[0] = L->gsum[1] = L->gsum[2] = 0;
            L->g_n = 0;
        }
    }
    for (int64_t j = 0; j < n; j++) bad[j] = clip[j] | d->gap[RING(d, first + j)];
    plm_status st = plm__qc_block(&L->qc, first, ax, n, clip, &L->part);
    PLM_PROF_LAP(PLM_PROF_CLEAN);
    if (st || L->nax != 3) return st;
    st = plm__still_block(&L->still, ax, n, bad);
    PLM_PROF_LAP(PLM_PROF_CALIB);
    return st;
}

/* A leg's share of a stage: the staged samples' checks, its filter, envelope, tilt and decisions;
 * final: the filter's tail and the end of the leg instead. Touches only the leg's own state and
 * reads the shared rings and stage, so the two legs can run at once. */
static plm_status leg_stage(plm_detector *d, int l, int final)
{
    plm_leg *L = &d->legs[l];
    plm_status st;
    int64_t got;
    if (!final && (st = leg_block(d, l))) return st;
    if (final) st = plm_filter_process(L->filter, NULL, 0, 0, L->fout, d->fout_cap, &got);
    else st = plm_filter_process(L->filter, d->fin + (size_t)(3 * l) * (size_t)d->S, d->fin_n, d->S, L->fout, d->fout_cap, &got);
    PLM_PROF_LAP(PLM_PROF_FILTER);
    if (st || (st = leg_filtered(d, L, got))) return st;
    /* the tilt channel runs D samples behind the envelope: it needs the posture after */
    for (int64_t q = L->n_t, q_end = L->n_env - d->D; q < q_end;) {
        int64_t q1 = q + (d->B - L->t_pos); /* to the end of q's posture block */
        if (q1 > q_end) q1 = q_end;
        if ((st = tilt_run(d, L, q, q1, d->n_clean))) return st;
        q = q1;
    }
    st = final ? leg_finish(d, L) : PLM_OK;
    PLM_PROF_LAP(PLM_PROF_DETECT);
    return st;
}

static void *worker_main(void *arg)
{
    plm_detector *d = arg;
    pthread_mutex_lock(&d->mu);
    for (;;) {
        PLM_PROF_LAP(PLM_PROF_WAIT);
        while (!d->job && !d->quit) pthread_cond_wait(&d->cv, &d->mu);
        PLM_PROF_LAP(PLM_PROF_WAIT);
        if (!d->job) break;
        int final = d->job_final;
        pthread_mutex_unlock(&d->mu);
        plm_status st = leg_stage(d, 1, final);
        pthread_mutex_lock(&d->mu);
        d->job_st = st;
        if (st) plm__strlcpy(d->job_err, plm_last_error(), sizeof d->job_err);
        d->job = 0;
        pthread_cond_broadcast(&d->cv);
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

/* Every leg's share of the stage (or of the end), on two threads when there are two legs and the
 * detector has its worker. */
static plm_status run_legs(plm_detector *d, int final)
{
    plm_status st = PLM_OK, st1 = PLM_OK;
    if (d->threaded) {
        pthread_mutex_lock(&d->mu);
        d->job = 1;
        d->job_final = final;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        st = leg_stage(d, 0, final);
        pthread_mutex_lock(&d->mu);
        while (d->job) pthread_cond_wait(&d->cv, &d->mu);
        PLM_PROF_LAP(PLM_PROF_WAIT);
        st1 = d->job_st;
        pthread_mutex_unlock(&d->mu);
        if (!st && st1) PLM_FAIL(st1, "%s", d->job_err);
        return st;
    }
    for (int l = 0; l < d->nlegs && !st; l++) st = leg_stage(d, l, final);
    return st;
}

static plm_status flush_stage(plm_detector *d)
{
    PLM_PROF_LAP(PLM_PROF_CLEAN);
    if (!d->fin_n) return PLM_OK;
    plm_status st = run_legs(d, 0);
    d->fin_n = 0;
    return st;
}

/* One cleaned sample (index d->n_clean) of every channel. */
static plm_status clean_sample(plm_detector *d, const double *v, const double *orig)
{
    int64_t i = d->n_clean;
    for (int c = 0; c < d->nchan; c++) {
        d->raw[(size_t)c * (d->rmask + 1) + RING(d, i)] = v[c];
        d->fin[(size_t)d->srow[c] * (size_t)d->S + (size_t)d->fin_n] = v[c];
    }
    for (int l = 0; l < d->nlegs; l++) {
        const plm_leg *L = &d->legs[l];
        uint8_t clipped = 0;
        for (int x = 0; x < L->nax; x++) clipped |= fabs(orig[L->ch[x]]) >= d->clip_g;
        d->clip[(size_t)l * (size_t)d->S + (size_t)d->fin_n] = clipped;
    }
    d->n_clean++;
    if (++d->fin_n == d->S) return flush_stage(d);
    return PLM_OK;
}

/* Input samples n_in .. n_in+m-1 (m <= S - fin_n) of every channel: missing samples (a channel
 * not finite: the gap ring, dropout intervals) and despiking, which decides sample g-1 once its
 * right neighbour g is known; the cleaned samples go to the raw ring and the stage, a channel at a
 * time. */
static plm_status push_chunk(plm_detector *d, const double *x, int64_t x_cap, int64_t m)
{
    const double thr = d->cfg.despike_g, clip_g = d->clip_g;
    const int64_t g0 = d->n_in, nout = g0 >= 1 ? m : m - 1, k0 = g0 >= 1 ? 0 : 1;
    const size_t pos0 = (size_t)d->fin_n, stride = d->rmask + 1;
    uint8_t *nf = d->nf;
    memset(nf, 0, (size_t)m);
    for (int l = 0; l < d->nlegs && nout > 0; l++) memset(d->clip + (size_t)l * (size_t)d->S + pos0, 0, (size_t)nout);
    int64_t despiked = 0;
    for (int c = 0; c < d->nchan; c++) {
        const double *xc = x + (size_t)c * (size_t)x_cap;
        double *raw = d->raw + (size_t)c * stride, *fin = d->fin + (size_t)d->srow[c] * (size_t)d->S + pos0;
        uint8_t *clip = d->clip + (size_t)d->chan_slot[c] * (size_t)d->S + pos0;
        double last = d->last_finite[c], p2 = d->dsp[c][0], p1 = d->dsp[c][1];
        if (k0) { /* the very first sample: nothing to decide yet */
            double v = xc[0];
            if (!isfinite(v)) {
                nf[0] = 1;
                v = last;
            } else last = v;
            p1 = v;
        }
        for (int64_t k = k0; k < m; k++) {
            int64_t g = g0 + k;
            double v = xc[k];
            if (!isfinite(v)) {
                nf[k] = 1;
                v = last;
            } else last = v;
            /* sample g-1: b between its cleaned left neighbour a and its right neighbour v */
            double a = g >= 2 ? p2 : p1, b = p1, out = b;
            if (g >= 2 && fabs(b - a) > thr && fabs(b - v) > thr && fabs(v - a) < thr / 2) {
                out = (a + v) / 2;
                despiked++;
            }
            raw[(size_t)(g - 1) & d->rmask] = out;
            fin[k - k0] = out; /* stage position of sample g-1 */
            clip[k - k0] |= fabs(b) >= clip_g;
            p2 = out;
            p1 = v;
        }
        d->last_finite[c] = last;
        d->dsp[c][0] = p2;
        d->dsp[c][1] = p1;
    }
    d->res.despiked += despiked;
    for (int64_t k = 0; k < m; k++) {
        int64_t g = g0 + k;
        d->gap[RING(d, g)] = nf[k];
        if (nf[k] && d->gap_start < 0) d->gap_start = g;
        if (!nf[k] && d->gap_start >= 0) {
            plm_status st = plm__qc_add(&d->res, d->gap_start, g, PLM_QC_DROPOUT, 0);
            if (st) return st;
            d->gap_start = -1;
        }
    }
    d->n_in += m;
    d->n_clean += nout;
    d->fin_n += nout;
    return d->fin_n == d->S ? flush_stage(d) : PLM_OK;
}

plm_status plm_detector_push(plm_detector *d, const double *x, int64_t n, int64_t x_cap)
{
    for (int64_t i = 0; i < n;) {
        int64_t m = d->S - d->fin_n < n - i ? d->S - d->fin_n : n - i;
        plm_status st = push_chunk(d, x + i, x_cap, m);
        if (st) return st;
        i += m;
    }
    PLM_PROF_LAP(PLM_PROF_CLEAN);
    return PLM_OK;
}

/* ---------- life cycle ---------- */

static plm_status check_cfg(const plm_detect_cfg *c, double fs)
{
    if (!(fs > 0)) PLM_FAIL(PLM_EINVAL, "detect: fs_hz=%g must be > 0", fs);
    if (!(c->env_window_s > 0) || !(c->floor_max_s > 0) || !(c->floor_min_s > 0) || !(c->quiet_s > 0) ||
        !(c->tilt_window_s > 0) || !(c->tilt_floor_max_s > 0) || !(c->tilt_ref_s > 0 && c->tilt_ref_s <= 20) || !(c->tilt_gap_s >= 0 && c->tilt_gap_s <= 10) ||
        !(c->backtrack_max_s >= 0 && c->backtrack_max_s <= 10) || !(c->min_width_s >= 0 && c->min_width_s <= 10) || !(c->calib_window_s > 0) || !(c->nonwear_step_s > 0) ||
        !(c->nonwear_window_s >= c->nonwear_step_s) || !(c->flat_s > 0))
        PLM_FAIL(PLM_EINVAL, "detect: every window must be > 0 s");
    if (!(c->hi_min_g > 0) || !(c->hi_factor >= 0) || !(c->lo_fraction > 0 && c->lo_fraction <= 1) || !(c->despike_g > 0) ||
        !(c->ceiling_g > 0) || !(c->tilt_min_g > 0) || !(c->tilt_factor >= 0) ||
        !(c->width_fraction >= 0 && c->width_fraction <= 1))
        PLM_FAIL(PLM_EINVAL, "detect: thresholds must be > 0 (lo_fraction in (0, 1], width_fraction in [0, 1])");
    if (c->floor_min_s * fs > 1e8) PLM_FAIL(PLM_EINVAL, "detect: floor_min_s=%g is too long", c->floor_min_s);
    return PLM_OK;
}

/* How a sudden start (a mid-band sinusoid switched on at sample 0) shows in the envelope: the
 * delay from the start to half height and the rise from a tenth to half of it, in samples. */
static void step_response(plm_detector *d, const double *taps, size_t ntaps)
{
    int64_t half = (int64_t)ntaps / 2, n = 2 * half + 4 * d->h + 8, off = half + 2 * d->h + 4;
    double f = sqrt(d->cfg.filter.pass_lo_hz * fmin(d->cfg.filter.pass_hi_hz, 0.4 * d->fs)) / d->fs;
    double *y2 = calloc((size_t)n, sizeof *y2), *env = calloc((size_t)n, sizeof *env);
    d->step_delay = 0;
    d->step_rise = (double)d->h;
    if (!y2 || !env) {
        free(y2);
        free(env);
        return;
    }
    for (int64_t i = 0; i < n; i++) { /* filtered burst, delay removed */
        double y = 0;
        for (size_t k = 0; k < ntaps; k++) {
            int64_t j = i - off + half - (int64_t)k;
            if (j >= 0) y += taps[k] * sin(2 * M_PI * f * (double)j);
        }
        y2[i] = y * y;
    }
    double peak = 0;
    for (int64_t i = d->h; i + d->h < n; i++) {
        double sum = 0;
        for (int64_t k = -d->h; k <= d->h; k++) sum += y2[i + k];
        env[i] = sqrt(sum / (double)(2 * d->h + 1));
        peak = fmax(peak, env[i]);
    }
    int64_t i5 = 0, i1;
    while (i5 < n && env[i5] < 0.5 * peak) i5++;
    i1 = i5;
    while (i1 > 0 && env[i1 - 1] >= 0.1 * peak) i1--;
    if (i5 < n && peak > 0) {
        d->step_delay = (double)(i5 - off);
        d->step_rise = (double)(i5 - i1);
    }
    free(y2);
    free(env);
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
        for (int x = 0; x < d->legs[l].nax; x++) d->chan_slot[d->legs[l].ch[x]] = l;
    for (int l = 0; l < d->nlegs; l++)
        if (d->legs[l].nax == 2) {
            free(d);
            PLM_FAIL(PLM_EINVAL, "detect: a leg needs 1 or 3 channels");
        }
    /* every smoothing window holds enough samples for its noise to be tame (at low rates, 10-20 Hz,
     * a 3-sample envelope or tilt mean made noise bursts), and each floor's running-max window spans
     * several of its channel's windows, so the floor sits as high in the noise at any rate */
    d->h = (int64_t)llround(cfg->env_window_s * fs_hz / 2);
    if (d->h < MIN_ENV_HALF) d->h = MIN_ENV_HALF;
    d->hm = (int64_t)llround(cfg->floor_max_s * fs_hz / 2);
    if (d->hm < 3 * d->h) d->hm = 3 * d->h;
    d->F = 2 * d->hm + 1; /* floor blocks: the running max's window */
    d->hb = (int64_t)llround(cfg->floor_min_s * fs_hz / 2);
    d->W = (int64_t)llround(cfg->tilt_window_s * fs_hz);
    if (d->W < MIN_TILT_WINDOW) d->W = MIN_TILT_WINDOW;
    d->inv_w = 1.0 / (double)d->W;
    d->TR = d->W / 12 > 1 ? d->W / 12 : 1;
    d->Q = (int64_t)llround(cfg->quiet_s * fs_hz);
    if (d->Q < 1) d->Q = 1;
    d->B = (int64_t)llround(0.5 * fs_hz); /* posture blocks of about 0.5 s */
    if (d->B < 1) d->B = 1;
    d->GB = (int64_t)llround(cfg->tilt_gap_s * fs_hz / (double)d->B);
    d->PB = (int64_t)llround(cfg->tilt_ref_s * fs_hz / (double)d->B);
    if (d->PB < 1) d->PB = 1;
    if (d->PB > 256) d->PB = 256;
    d->D = (d->GB + d->PB + 3) * d->B + d->W;
    d->BT = (int64_t)llround(cfg->backtrack_max_s * fs_hz);
    d->hmt = (int64_t)llround(cfg->tilt_floor_max_s * fs_hz / 2);
    if (d->hmt < 4 * d->W) d->hmt = 4 * d->W;
    d->hmtb = (d->hmt + d->B - 1) / d->B; /* the same windows in posture blocks */
    d->hbb = (d->hb + d->B - 1) / d->B;
    d->hbf = (d->hb + d->F - 1) / d->F;
    d->MW = (int64_t)llround(cfg->min_width_s * fs_hz);
    size_t nbm = 16;
    while ((int64_t)nbm < 2 * (d->GB + d->PB) + 8) nbm *= 2;
    d->bmask = nbm - 1;
    d->sec_len = (int64_t)llround(fs_hz) > 0 ? (int64_t)llround(fs_hz) : 1;
    d->grav_len = 30 * d->sec_len;
    for (int l = 0; l < d->nlegs; l++) {
        for (int x = 0; x < d->legs[l].nax; x++) d->srow[d->legs[l].ch[x]] = 3 * l + x;
        if ((st = plm_filter_create(&cfg->filter, fs_hz, d->legs[l].nax, &d->legs[l].filter))) {
            plm_detector_destroy(d);
            return st;
        }
    }
    size_t ntaps;
    const double *taps = plm_filter_taps(d->legs[0].filter, &ntaps);
    step_response(d, taps, ntaps);
    d->S = 16384; /* stage: samples cleaned before the legs filter and decide on them */
    d->fout_cap = plm_filter_max_out(d->legs[0].filter, d->S);
    /* ring: from the newest raw sample back to the oldest one still needed */
    int64_t span = d->fout_cap + d->S + (int64_t)ntaps + d->h + 2 * (d->hm + d->hb + d->hmt) + 2 * d->D + 4 * d->B + d->BT + d->W + d->Q + 64;
    size_t ring = 1024;
    while ((int64_t)ring < span) ring *= 2;
    d->rmask = ring - 1;
    /* the rings in one zeroed arena (6 MB at 50 Hz, 12 at 100 Hz), in 2-MB pages where the
     * kernel gives them on request: first touching 4-kB pages one fault at a time cost a tenth of
     * a night's run */
    size_t nr = (size_t)nchan + (size_t)d->nlegs * 4, bytes = plm__mul(plm__mul(ring, nr), sizeof(double)) + ring * (1 + (size_t)d->nlegs);
    const size_t huge = (size_t)2 << 20;
    bytes = bytes && bytes < SIZE_MAX - huge ? (bytes + huge - 1) / huge * huge : 0;
    d->arena = bytes ? aligned_alloc(huge, bytes) : NULL;
    if (d->arena) {
#ifdef MADV_HUGEPAGE
        madvise(d->arena, bytes, MADV_HUGEPAGE);
#endif
        memset(d->arena, 0, bytes);
        double *a = d->arena;
        d->raw = a;
        a += ring * (size_t)nchan;
        for (int l = 0; l < d->nlegs; l++) {
            plm_leg *L = &d->legs[l];
            L->e2 = a, L->env = a + ring, L->bfl = a + 2 * ring, L->tilt = a + 3 * ring;
            a += 4 * ring;
        }
        uint8_t *b = (uint8_t *)a;
        d->gap = b;
        for (int l = 0; l < d->nlegs; l++) d->legs[l].flags = b + ring * (size_t)(1 + l);
    }
    d->fin = calloc((size_t)(6 * d->S), sizeof *d->fin);
    d->clip = calloc(2 * (size_t)d->S, 1);
    d->nf = calloc((size_t)d->S, 1);
    int ok = d->arena && d->fin && d->clip && d->nf;
    for (int l = 0; l < d->nlegs && ok; l++) {
        plm_leg *L = &d->legs[l];
        L->bm = calloc(3 * nbm, sizeof *L->bm);
        L->bm_id = malloc(nbm * sizeof *L->bm_id);
        L->act_cap = (size_t)llround(30 * fs_hz) + 16; /* longer movements pass the width test anyway */
        L->act = malloc(L->act_cap * sizeof *L->act);
        L->fout = malloc(plm__mul((size_t)(d->fout_cap * L->nax), sizeof *L->fout));
        L->e2s = malloc(plm__mul((size_t)d->fout_cap, sizeof *L->e2s));
        L->bad = calloc((size_t)d->S, 1);
        plm__qc_init(&L->qc, L->nax, L->leg, cfg, fs_hz);
        plm__still_init(&L->still, cfg, fs_hz);
        L->last_floor = -1;
        L->med_blk = -1;
        ok = L->bm && L->bm_id && L->act && L->fout && L->e2s && L->bad &&
             dq_init(&L->dmin, (size_t)(2 * d->hbf + 4)) &&
             dq_init(&L->tmax, (size_t)(2 * d->hmtb + 4)) && dq_init(&L->tmin, (size_t)(2 * d->hbb + 4));
        for (size_t i = 0; L->bm_id && i < nbm; i++) L->bm_id[i] = -1;
    }
    if (!ok) {
        plm_detector_destroy(d);
        PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
    }
    d->res.lm.fs_hz = fs_hz;
    *out = d;
    return PLM_OK;
}

plm_status plm_detector_set_threads(plm_detector *d, int threads)
{
    if (d->threaded || threads < 2 || d->nlegs < 2 || d->n_in) return PLM_OK;
    if (pthread_mutex_init(&d->mu, NULL)) return PLM_OK;
    if (pthread_cond_init(&d->cv, NULL)) {
        pthread_mutex_destroy(&d->mu);
        return PLM_OK;
    }
    if (pthread_create(&d->worker, NULL, worker_main, d)) { /* no thread: one is enough */
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
        return PLM_OK;
    }
    d->threaded = 1;
    return PLM_OK;
}

static int cmp_interval(const void *a, const void *b)
{
    const plm_interval *x = a, *y = b;
    if (x->onset != y->onset) return x->onset < y->onset ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    if (x->leg != y->leg) return x->leg < y->leg ? -1 : 1;
    return (x->kind > y->kind) - (x->kind < y->kind);
}

/* The legs' movements into one list in the order they were found (lm_key, then leg slot) and
 * their QC intervals (sorted later). */
static plm_status join_legs(plm_detector *d)
{
    size_t n = 0;
    for (int l = 0; l < d->nlegs; l++) n += d->legs[l].part.lm.n;
    plm_lm_list *lm = &d->res.lm;
    if (!plm__grow((void **)&lm->v, &lm->cap, lm->n + n, sizeof *lm->v, 256)) PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
    size_t i[2] = {0, 0};
    const plm_lm_list *a = &d->legs[0].part.lm, *b = &d->legs[1].part.lm;
    for (size_t k = 0; k < n; k++) {
        int one = i[0] >= a->n || (i[1] < b->n && d->legs[1].lm_key[i[1]] < d->legs[0].lm_key[i[0]]);
        lm->v[lm->n++] = one ? b->v[i[1]++] : a->v[i[0]++];
    }
    for (int l = 0; l < d->nlegs; l++) {
        const plm_detect_result *p = &d->legs[l].part;
        for (size_t k = 0; k < p->nqc; k++) {
            plm_status st = plm__qc_add(&d->res, p->qc[k].onset, p->qc[k].end, p->qc[k].kind, p->qc[k].leg);
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
    if ((st = flush_stage(d)) || (st = run_legs(d, 1)) || (st = join_legs(d))) return st;
    if (d->gap_start >= 0 && (st = plm__qc_add(&d->res, d->gap_start, d->n_in, PLM_QC_DROPOUT, 0))) return st;
    for (int l = 0; l < d->nlegs; l++) {
        plm_leg *L = &d->legs[l];
        if ((st = plm__qc_finish(&L->qc, d->n_in, &d->cfg, &d->res))) return st;
        PLM_PROF_LAP(PLM_PROF_CLEAN);
        if (L->nax == 3 && (st = plm__still_fit(&L->still, &d->cfg, &d->res.calib[L->leg == PLM_LEG_RIGHT]))) return st;
        PLM_PROF_LAP(PLM_PROF_CALIB);
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
    if (d->res.nqc > 1) /* onset order, whatever found them when */
        qsort(d->res.qc, d->res.nqc, sizeof *d->res.qc, cmp_interval);
    for (int k = 1; k <= 3; k++) {
        int64_t u = plm__qc_union(&d->res, (uint8_t)k);
        d->res.excluded_s[k] = u < 0 ? NAN : plm_samples_to_s(u, d->fs);
    }
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
    if (d->threaded) {
        pthread_mutex_lock(&d->mu);
        d->quit = 1;
        pthread_cond_broadcast(&d->cv);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->worker, NULL);
        pthread_cond_destroy(&d->cv);
        pthread_mutex_destroy(&d->mu);
    }
    for (int l = 0; l < 2; l++) {
        plm_leg *L = &d->legs[l];
        plm_filter_destroy(L->filter);
        free(L->fout);
        free(L->e2s);
        free(L->bad);
        free(L->lm_key);
        plm_detect_result_clear(&L->part);
        free(L->bm);
        free(L->bm_id);
        free(L->act);
        dq_free(&L->dmin);
        dq_free(&L->tmax);
        dq_free(&L->tmin);
        plm__qc_free(&L->qc);
        plm__still_free(&L->still);
        free(L->sec);
        free(L->grav);
    }
    free(d->arena);
    free(d->fin);
    free(d->clip);
    free(d->nf);
    plm_detect_result_clear(&d->res);
    free(d);
}
