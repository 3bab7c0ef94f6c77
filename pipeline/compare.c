/* compare.c -- bxb-style one-to-one matching of leg-movement intervals by overlap. */
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plm/compare.h"
#include "plm/types.h"
#include "internal.h"

typedef struct {
    double overlap;
    size_t d, r;
} pair;

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->overlap != y->overlap) return x->overlap > y->overlap ? -1 : 1;
    if (x->r != y->r) return x->r < y->r ? -1 : 1;
    return x->d < y->d ? -1 : x->d > y->d;
}

static int cmp_on(const void *a, const void *b)
{
    const plm_span *x = *(const plm_span *const *)a, *y = *(const plm_span *const *)b;
    return x->onset_s < y->onset_s ? -1 : x->onset_s > y->onset_s;
}

static void finish_stats(plm_match_stats *s, double *on, double *off, size_t n)
{
    s->se = s->ref ? (double)s->tp / (double)s->ref : NAN;
    s->ppv = s->det ? (double)s->tp / (double)s->det : NAN;
    s->f1 = s->ref + s->det ? 2.0 * (double)s->tp / (double)(s->ref + s->det) : NAN;
    s->onset_err_median_s = s->onset_err_p95_s = s->offset_err_median_s = s->offset_err_p95_s = NAN;
    if (!n) return;
    gsl_sort(on, 1, n);
    gsl_sort(off, 1, n);
    s->onset_err_median_s = gsl_stats_median_from_sorted_data(on, 1, n);
    s->onset_err_p95_s = gsl_stats_quantile_from_sorted_data(on, 1, n, 0.95);
    s->offset_err_median_s = gsl_stats_median_from_sorted_data(off, 1, n);
    s->offset_err_p95_s = gsl_stats_quantile_from_sorted_data(off, 1, n, 0.95);
}

/* Events of one leg with onset in the window, sorted by onset. */
static size_t select_leg(const plm_span *v, size_t n, uint8_t leg, double t0, double t1, const plm_span **out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if ((v[i].leg & leg) && v[i].onset_s >= t0 && v[i].onset_s < t1) out[k++] = &v[i];
    qsort(out, k, sizeof *out, cmp_on);
    return k;
}

plm_status plm_compare_spans(const plm_span *det, size_t nd, const plm_span *ref, size_t nr, double t0, double t1,
                             plm_compare_result *out)
{
    memset(out, 0, sizeof *out);
    const plm_span **D = malloc((nd ? nd : 1) * sizeof *D), **R = malloc((nr ? nr : 1) * sizeof *R);
    double *on_all = malloc(((nd + nr) ? 2 * (nd + nr) : 1) * sizeof(double)), *off_all = NULL;
    pair *pairs = NULL;
    char *dused = NULL, *rused = NULL;
    plm_status st = PLM_OK;
    if (!D || !R || !on_all) {
        st = plm__fail(PLM_ENOMEM, "compare: out of memory");
        goto done;
    }
    off_all = on_all + (nd + nr);
    size_t nall = 0;
    for (int l = 1; l <= 2; l++) {
        size_t kd = select_leg(det, nd, (uint8_t)l, t0, t1, D), kr = select_leg(ref, nr, (uint8_t)l, t0, t1, R);
        /* candidate pairs by a sweep over onset-sorted lists */
        size_t np = 0, cap = 0, j0 = 0;
        for (size_t r = 0; r < kr; r++) {
            while (j0 < kd && D[j0]->offset_s <= R[r]->onset_s) j0++; /* ended before every later reference */
            for (size_t d = j0; d < kd && D[d]->onset_s < R[r]->offset_s; d++) {
                double ov = fmin(D[d]->offset_s, R[r]->offset_s) - fmax(D[d]->onset_s, R[r]->onset_s);
                if (ov <= 0) continue;
                if (!plm__grow((void **)&pairs, &cap, np + 1, sizeof *pairs, 256)) {
                    st = plm__fail(PLM_ENOMEM, "compare: out of memory");
                    goto done;
                }
                pairs[np++] = (pair){ov, d, r};
            }
        }
        qsort(pairs, np, sizeof *pairs, cmp_pair);
        free(dused);
        free(rused);
        dused = calloc(kd ? kd : 1, 1);
        rused = calloc(kr ? kr : 1, 1);
        if (!dused || !rused) {
            st = plm__fail(PLM_ENOMEM, "compare: out of memory");
            goto done;
        }
        plm_match_stats *s = &out->leg[l];
        s->ref = kr;
        s->det = kd;
        size_t base = nall;
        for (size_t i = 0; i < np; i++) {
            if (dused[pairs[i].d] || rused[pairs[i].r]) continue;
            dused[pairs[i].d] = rused[pairs[i].r] = 1;
            s->tp++;
            on_all[nall] = fabs(D[pairs[i].d]->onset_s - R[pairs[i].r]->onset_s);
            off_all[nall] = fabs(D[pairs[i].d]->offset_s - R[pairs[i].r]->offset_s);
            nall++;
        }
        s->fn = kr - s->tp;
        s->fp = kd - s->tp;
        double *on_leg = malloc((nall - base ? nall - base : 1) * 2 * sizeof(double));
        if (!on_leg) {
            st = plm__fail(PLM_ENOMEM, "compare: out of memory");
            goto done;
        }
        memcpy(on_leg, on_all + base, (nall - base) * sizeof(double));
        memcpy(on_leg + (nall - base), off_all + base, (nall - base) * sizeof(double));
        finish_stats(s, on_leg, on_leg + (nall - base), nall - base);
        free(on_leg);
        out->leg[0].ref += s->ref;
        out->leg[0].det += s->det;
        out->leg[0].tp += s->tp;
        out->leg[0].fn += s->fn;
        out->leg[0].fp += s->fp;
    }
    finish_stats(&out->leg[0], on_all, off_all, nall);
done:
    free(D);
    free(R);
    free(on_all);
    free(pairs);
    free(dused);
    free(rused);
    return st;
}
