/* sleepwake.c -- Cole-Kripke, Webster rescoring, Sadeh and Oakley epoch classifiers. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plm/sleepwake.h"
#include "internal.h"

plm_ck_cfg plm_ck_cfg_default(void)
{
    plm_ck_cfg c = {.weights = {4.64, 6.87, 3.75, 5.07, 16.19, 5.84, 4.024}, .scale = 0.243, .threshold = 0.5};
    return c;
}

static double at(const double *a, size_t n, ptrdiff_t i) { return i < 0 || (size_t)i >= n ? 0.0 : a[i]; }

plm_status plm_cole_kripke(const double *a, size_t n, const plm_ck_cfg *c, uint8_t *sleep)
{
    if (!(c->scale > 0)) PLM_FAIL(PLM_EINVAL, "cole-kripke: scale must be > 0");
    for (size_t t = 0; t < n; t++) {
        double d = 0;
        for (int k = -4; k <= 2; k++) d += c->weights[k + 4] * at(a, n, (ptrdiff_t)t + k);
        sleep[t] = c->scale * d < c->threshold;
    }
    return PLM_OK;
}

void plm_webster_rescore(uint8_t *s, size_t n, int surrounded)
{
    size_t wake = 0;
    for (size_t t = 0; t < n; t++) {
        if (!s[t]) {
            wake++;
            continue;
        }
        size_t k = wake >= 15 ? 4 : wake >= 10 ? 3 : wake >= 4 ? 1 : 0;
        for (size_t j = t; j < t + k && j < n; j++) s[j] = 0; /* later epochs, now wake, count as wake */
        wake = 0;
    }
    if (!surrounded) return;
    /* short sleep runs inside long wake: <= 6 epochs within >= 15 on both sides, <= 10 within >= 20 */
    size_t t = 0, prev_wake = 0;
    while (t < n) {
        size_t u = t;
        while (u < n && s[u] == s[t]) u++;
        if (!s[t]) prev_wake = u - t;
        else if (u < n) {
            size_t v = u;
            while (v < n && !s[v]) v++;
            size_t next_wake = v - u, len = u - t;
            if ((len <= 6 && prev_wake >= 15 && next_wake >= 15) || (len <= 10 && prev_wake >= 20 && next_wake >= 20)) {
                for (size_t j = t; j < u; j++) s[j] = 0;
                /* the run joins the wake around it */
                size_t w = t;
                while (w > 0 && !s[w - 1]) w--;
                prev_wake = u - w;
                t = u;
                continue;
            }
        }
        t = u;
    }
}

plm_status plm_sadeh(const double *a, size_t n, uint8_t *sleep)
{
    for (size_t t = 0; t < n; t++) {
        double sum = 0;
        int nat = 0, cnt = 0;
        for (ptrdiff_t k = -5; k <= 5; k++) {
            ptrdiff_t i = (ptrdiff_t)t + k;
            if (i < 0 || (size_t)i >= n) continue;
            sum += a[i];
            cnt++;
            nat += a[i] >= 50 && a[i] < 100;
        }
        double m6 = 0, v6 = 0;
        int c6 = 0;
        for (ptrdiff_t k = -5; k <= 0; k++) {
            ptrdiff_t i = (ptrdiff_t)t + k;
            if (i < 0) continue;
            m6 += a[i];
            c6++;
        }
        m6 /= c6;
        for (ptrdiff_t k = -5; k <= 0; k++) {
            ptrdiff_t i = (ptrdiff_t)t + k;
            if (i < 0) continue;
            v6 += (a[i] - m6) * (a[i] - m6);
        }
        double sd6 = c6 > 1 ? sqrt(v6 / (c6 - 1)) : 0;
        double ps = 7.601 - 0.065 * (sum / cnt) - 1.08 * nat - 0.056 * sd6 - 0.703 * log(a[t] + 1);
        sleep[t] = ps >= 0;
    }
    return PLM_OK;
}

plm_status plm_oakley(const double *a, size_t n, double threshold, uint8_t *sleep)
{
    static const double w[9] = {0.04, 0.04, 0.2, 0.2, 2, 0.2, 0.2, 0.04, 0.04};
    if (!(threshold > 0)) PLM_FAIL(PLM_EINVAL, "oakley: threshold must be > 0");
    for (size_t t = 0; t < n; t++) {
        double s = 0;
        for (int k = -4; k <= 4; k++) s += w[k + 4] * at(a, n, (ptrdiff_t)t + k);
        sleep[t] = !(s > threshold);
    }
    return PLM_OK;
}
