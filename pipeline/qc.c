/* qc.c -- quality control flags of the detector's pass (qc.h): clipping, dropout (flat lines) and
 * non-wear per leg, and the interval list they share with the recording-wide gaps. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "qc.h"

plm_status plm__qc_add(plm_detect_result *r, int64_t a, int64_t b, uint8_t kind, uint8_t leg)
{
    if (b <= a) return PLM_OK;
    if (!plm__grow((void **)&r->qc, &r->capqc, r->nqc + 1, sizeof *r->qc, 16)) PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
    r->qc[r->nqc++] = (plm_interval){a, b, kind, leg};
    return PLM_OK;
}

void plm__qc_init(plm__qc_leg *q, int nax, uint8_t leg, const plm_detect_cfg *c, double fs)
{
    memset(q, 0, sizeof *q);
    q->nax = nax;
    q->leg = leg;
    q->clip_start = -1;
    q->flat_n = (int64_t)llround(c->flat_s * fs);
    q->blk_len = (int64_t)llround(c->nonwear_step_s * fs);
    if (q->blk_len < 1) q->blk_len = 1;
}

void plm__qc_free(plm__qc_leg *q)
{
    free(q->blk);
    free(q->blk_n);
    q->blk = NULL;
    q->blk_n = NULL;
}

/* Non-wear step b, created (empty) if new. */
static plm_status step_open(plm__qc_leg *q, size_t b)
{
    if (b < q->nblk) return PLM_OK;
    size_t cap_n = q->capblk; /* two arrays of one capacity */
    if (!plm__grow((void **)&q->blk_n, &cap_n, b + 1, sizeof *q->blk_n, 64) ||
        !plm__grow((void **)&q->blk, &q->capblk, b + 1, sizeof *q->blk, 64))
        PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
    for (; q->nblk <= b; q->nblk++) {
        q->blk_n[q->nblk] = 0;
        for (int x = 0; x < 3; x++) {
            q->blk[q->nblk][x][0] = q->blk[q->nblk][x][1] = 0;
            q->blk[q->nblk][x][2] = INFINITY;
            q->blk[q->nblk][x][3] = -INFINITY;
        }
    }
    return PLM_OK;
}

plm_status plm__qc_block(plm__qc_leg *q, int64_t first, const double *const ax[3], int64_t n, const uint8_t *clip,
                         plm_detect_result *res)
{
    plm_status st;
    /* clipping runs, and flat lines: every axis equal to the previous sample */
    const double *a0 = ax[0], *a1 = q->nax == 3 ? ax[1] : ax[0], *a2 = q->nax == 3 ? ax[2] : ax[0];
    double p0 = q->prev[0], p1 = q->prev[1], p2 = q->prev[2];
    if (q->nax != 3) p1 = p2 = p0; /* one axis: its value stands in for the absent two */
    for (int64_t j = 0; j < n; j++) {
        int64_t i = first + j;
        if (clip[j] != (q->clip_start >= 0)) {
            if (clip[j]) q->clip_start = i;
            else {
                if ((st = plm__qc_add(res, q->clip_start, i, PLM_QC_CLIPPING, q->leg))) return st;
                q->clip_start = -1;
            }
        }
        if (i > 0 && a0[j] == p0 && a1[j] == p1 && a2[j] == p2) {
            if (!q->flat_run) q->flat_start = i - 1;
            q->flat_run++;
        } else {
            if (q->flat_run + 1 >= q->flat_n && (st = plm__qc_add(res, q->flat_start, i, PLM_QC_DROPOUT, q->leg))) return st;
            q->flat_run = 0;
        }
        p0 = a0[j];
        p1 = a1[j];
        p2 = a2[j];
    }
    q->prev[0] = p0;
    q->prev[1] = p1;
    q->prev[2] = p2;
    if (q->nax != 3) return PLM_OK;
    /* non-wear statistics: a stretch within one 15-min step at a time, an axis at a time */
    for (int64_t j = 0; j < n;) {
        int64_t m = q->blk_len - q->blk_pos < n - j ? q->blk_len - q->blk_pos : n - j;
        /* and within one of the 4096-sample stretches the sums were first made in (the detector's
         * stage then): the partial sums, and so the bits, do not depend on the stage size */
        int64_t to = PLM__QC_SUM_STRETCH - (first + j) % PLM__QC_SUM_STRETCH;
        if (m > to) m = to;
        size_t b = q->blk_cur;
        if ((st = step_open(q, b))) return st;
        /* the three axes in one loop: their sums are independent chains of additions, which the
         * processor then overlaps (an axis at a time, each waited for the one before) */
        const double *x0 = ax[0] + j, *x1 = ax[1] + j, *x2 = ax[2] + j;
        double s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0;
        double lo0 = INFINITY, lo1 = INFINITY, lo2 = INFINITY, hi0 = -INFINITY, hi1 = -INFINITY, hi2 = -INFINITY;
        for (int64_t k = 0; k < m; k++) {
            double v0 = x0[k], v1 = x1[k], v2 = x2[k];
            s00 += v0;
            s01 += v1;
            s02 += v2;
            s10 += v0 * v0;
            s11 += v1 * v1;
            s12 += v2 * v2;
            lo0 = v0 < lo0 ? v0 : lo0;
            lo1 = v1 < lo1 ? v1 : lo1;
            lo2 = v2 < lo2 ? v2 : lo2;
            hi0 = v0 > hi0 ? v0 : hi0;
            hi1 = v1 > hi1 ? v1 : hi1;
            hi2 = v2 > hi2 ? v2 : hi2;
        }
        const double s0[3] = {s00, s01, s02}, s1[3] = {s10, s11, s12}, lo[3] = {lo0, lo1, lo2}, hi[3] = {hi0, hi1, hi2};
        for (int x = 0; x < 3; x++) {
            double *sb = q->blk[b][x];
            sb[0] += s0[x];
            sb[1] += s1[x];
            sb[2] = fmin(sb[2], lo[x]);
            sb[3] = fmax(sb[3], hi[x]);
        }
        q->blk_n[b] += m;
        q->blk_pos += m;
        if (q->blk_pos == q->blk_len) {
            q->blk_pos = 0;
            q->blk_cur++;
        }
        j += m;
    }
    return PLM_OK;
}

/* GGIR 2013 on windows of nonwear_window_s in nonwear_step_s steps, plus: gravity within
 * nonwear_flat_deg of a sensor axis and no movement detected on the leg. */
static plm_status nonwear(plm__qc_leg *q, const plm_detect_cfg *c, plm_detect_result *res)
{
    size_t per = (size_t)llround(c->nonwear_window_s / c->nonwear_step_s);
    double cosflat = cos(c->nonwear_flat_deg * M_PI / 180);
    for (size_t b0 = 0; b0 + per <= q->nblk; b0++) {
        int64_t n = 0;
        double s[3] = {0}, s2[3] = {0}, lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
        for (size_t b = b0; b < b0 + per; b++) {
            n += q->blk_n[b];
            for (int x = 0; x < 3; x++) {
                s[x] += q->blk[b][x][0];
                s2[x] += q->blk[b][x][1];
                lo[x] = fmin(lo[x], q->blk[b][x][2]);
                hi[x] = fmax(hi[x], q->blk[b][x][3]);
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
        int64_t a = (int64_t)b0 * q->blk_len, e = a + n;
        int moved = 0;
        for (size_t i = 0; i < res->lm.n && !moved; i++) {
            const plm_lm *lm = &res->lm.v[i];
            moved = lm->leg == q->leg && lm->onset < e && lm->end > a;
        }
        if (!moved) {
            plm_status st = plm__qc_add(res, a, e, PLM_QC_NONWEAR, q->leg);
            if (st) return st;
        }
    }
    return PLM_OK;
}

plm_status plm__qc_finish(plm__qc_leg *q, int64_t n, const plm_detect_cfg *c, plm_detect_result *res)
{
    plm_status st;
    if (q->clip_start >= 0 && (st = plm__qc_add(res, q->clip_start, n, PLM_QC_CLIPPING, q->leg))) return st;
    if (q->flat_run + 1 >= q->flat_n && q->flat_run && (st = plm__qc_add(res, q->flat_start, n, PLM_QC_DROPOUT, q->leg)))
        return st;
    return q->nax == 3 ? nonwear(q, c, res) : PLM_OK;
}

int64_t plm__qc_union(const plm_detect_result *res, uint8_t kind)
{
    /* intervals of one kind: sort a copy by onset and merge */
    const plm_interval *v = res->qc;
    size_t n = res->nqc;
    int64_t total = 0, cur_a = 0, cur_b = -1;
    plm_interval *w = malloc((n ? n : 1) * sizeof *w);
    if (!w) return -1;
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
    return total;
}
