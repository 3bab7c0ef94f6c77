/* stats.c -- paired t, exact Wilcoxon signed-rank with ties, Hodges-Lehmann, permutation, effect sizes. */
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_min.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plm/stats.h"
#include "internal.h"

plm_stats_cfg plm_stats_cfg_default(void)
{
    plm_stats_cfg c = {.conf_level = 0.95, .zero = PLM_ZERO_WILCOXON, .exact_max_n = 50, .perm_exact_max_n = 20,
                       .perm_mc = 100000, .seed = 1998};
    return c;
}

/* Mid-ranks of v[0..n) into r. */
static void midranks(const double *v, size_t n, double *r, size_t *idx)
{
    gsl_sort_index(idx, v, 1, n);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[idx[j + 1]] == v[idx[i]]) j++;
        double mid = ((double)i + (double)j) / 2 + 1;
        for (size_t k = i; k <= j; k++) r[idx[k]] = mid;
        i = j + 1;
    }
}

/* Null distribution of the sum of positive ranks: counts by doubled sum 0..tot2. */
static double *signrank_dist(const double *r, size_t n, size_t *tot2)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += (size_t)llround(2 * r[i]);
    double *c = calloc(total + 1, sizeof *c);
    if (!c) return NULL;
    c[0] = 1;
    size_t hi = 0;
    for (size_t i = 0; i < n; i++) {
        size_t w = (size_t)llround(2 * r[i]);
        for (size_t s = hi + 1; s-- > 0;)
            if (c[s] != 0) c[s + w] += c[s];
        hi += w;
    }
    double all = ldexp(1.0, (int)n);
    for (size_t s = 0; s <= total; s++) c[s] /= all;
    *tot2 = total;
    return c;
}

/* exactRankTests::qperm: the smallest statistic whose cumulative probability reaches p (doubled units). */
static double qdist(const double *prob, size_t tot2, double p)
{
    double cs = 0;
    for (size_t s = 0; s <= tot2; s++) {
        if (prob[s] == 0) continue;
        cs += prob[s];
        if (cs >= p * (1 - 1e-12)) return (double)s / 2;
    }
    return (double)tot2 / 2;
}

/* W+ of x - d: mid-ranks of |x - d| (zeros ranked), summed over positive entries. */
static double wplus_shift(const double *x, size_t n, double d, double *tmp, double *r, size_t *idx)
{
    for (size_t i = 0; i < n; i++) tmp[i] = fabs(x[i] - d);
    midranks(tmp, n, r, idx);
    double w = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] - d > 0) w += r[i];
    return w;
}

plm_status plm_stats_paired(const double *control, const double *treatment, size_t n_in, const plm_stats_cfg *cfg,
                            plm_paired_result *out)
{
    memset(out, 0, sizeof *out);
    if (!(cfg->conf_level > 0 && cfg->conf_level < 1)) PLM_FAIL(PLM_EINVAL, "stats: conf_level must be in (0, 1)");
    double *buf = malloc(plm__mul(n_in ? n_in : 1, 8 * sizeof(double)));
    size_t *idx = malloc((n_in ? n_in : 1) * sizeof *idx);
    double *walsh = NULL, *prob = NULL;
    plm_status st = PLM_OK;
    if (!buf || !idx) {
        st = plm__fail(PLM_ENOMEM, "stats: out of memory");
        goto done;
    }
    double *c = buf, *t = buf + n_in, *d = buf + 2 * n_in, *x = buf + 3 * n_in, *r = buf + 4 * n_in, *tmp = buf + 5 * n_in,
           *r2 = buf + 6 * n_in;
    size_t n = 0;
    for (size_t i = 0; i < n_in; i++)
        if (isfinite(control[i]) && isfinite(treatment[i])) {
            c[n] = control[i];
            t[n] = treatment[i];
            d[n] = treatment[i] - control[i];
            n++;
        }
    out->n = n;
    if (n < 2) {
        st = plm__fail(PLM_ENODATA, "stats: %zu complete pairs, need 2", n);
        goto done;
    }
    out->control_mean = gsl_stats_mean(c, 1, n);
    out->control_sd = gsl_stats_sd(c, 1, n);
    out->treatment_mean = gsl_stats_mean(t, 1, n);
    out->treatment_sd = gsl_stats_sd(t, 1, n);
    out->diff_mean = gsl_stats_mean(d, 1, n);
    out->diff_sd = gsl_stats_sd_m(d, 1, n, out->diff_mean);
    out->df = (double)n - 1;
    double se = out->diff_sd / sqrt((double)n), tq = gsl_cdf_tdist_Qinv((1 - cfg->conf_level) / 2, out->df);
    out->diff_ci_low = out->diff_mean - tq * se;
    out->diff_ci_high = out->diff_mean + tq * se;
    out->t = se > 0 ? out->diff_mean / se : NAN;
    out->ttest_p = se > 0 ? 2 * gsl_cdf_tdist_Q(fabs(out->t), out->df) : NAN;
    out->cohen_dz = out->diff_sd > 0 ? out->diff_mean / out->diff_sd : NAN;
    out->hedges_gz = out->cohen_dz * (1 - 3 / (4 * ((double)n - 1) - 1));
    /* signed ranks */
    size_t m = 0;
    double wplus = 0, wminus = 0;
    if (cfg->zero == PLM_ZERO_PRATT) {
        for (size_t i = 0; i < n; i++) tmp[i] = fabs(d[i]);
        midranks(tmp, n, r2, idx);
        for (size_t i = 0; i < n; i++)
            if (d[i] != 0) {
                x[m] = d[i];
                r[m] = r2[i];
                m++;
            }
    } else {
        for (size_t i = 0; i < n; i++)
            if (d[i] != 0) x[m++] = d[i];
        for (size_t i = 0; i < m; i++) tmp[i] = fabs(x[i]);
        midranks(tmp, m, r, idx);
    }
    out->n_ranked = m;
    for (size_t i = 0; i < m; i++) {
        if (x[i] > 0) wplus += r[i];
        else wminus += r[i];
    }
    out->w_plus = wplus;
    out->rank_biserial = wplus + wminus > 0 ? (wplus - wminus) / (wplus + wminus) : NAN;
    size_t tot2 = 0;
    if (m) {
        prob = signrank_dist(r, m, &tot2);
        if (!prob) {
            st = plm__fail(PLM_ENOMEM, "stats: out of memory");
            goto done;
        }
    }
    if (!m) {
        out->wilcoxon_p = 1;
        out->wilcoxon_exact = 1;
    } else if (m <= cfg->exact_max_n) {
        size_t w2 = (size_t)llround(2 * wplus);
        double lo = 0, hi = 0;
        for (size_t s = 0; s <= tot2; s++) {
            if (s <= w2) lo += prob[s];
            if (s >= w2) hi += prob[s];
        }
        double p = 2 * lo <= 1 ? 2 * lo : 2 * hi;
        out->wilcoxon_p = p < 1 ? p : 1;
        out->wilcoxon_exact = 1;
    } else { /* normal approximation, R's wilcox.test(correct = TRUE) */
        double mean = 0, var = 0;
        for (size_t i = 0; i < m; i++) {
            mean += r[i] / 2;
            var += r[i] * r[i] / 4;
        }
        double z = wplus - mean;
        z = (z - (z > 0 ? 0.5 : z < 0 ? -0.5 : 0)) / sqrt(var);
        out->wilcoxon_p = 2 * fmin(gsl_cdf_ugaussian_P(z), gsl_cdf_ugaussian_Q(z));
        out->wilcoxon_exact = 0;
    }
    /* Hodges-Lehmann: median of Walsh averages of the ranked differences, exact CI */
    if (m) {
        size_t nw = m * (m + 1) / 2, k = 0;
        walsh = malloc(nw * 2 * sizeof *walsh);
        if (!walsh) {
            st = plm__fail(PLM_ENOMEM, "stats: out of memory");
            goto done;
        }
        for (size_t i = 0; i < m; i++)
            for (size_t j = i; j < m; j++) walsh[k++] = (x[i] + x[j]) / 2;
        gsl_sort(walsh, 1, nw);
        out->hl_estimate = gsl_stats_median_from_sorted_data(walsh, 1, nw);
        double *w = walsh + nw;
        int ties = 0;
        for (size_t i = 0; i < m && !ties; i++) ties = r[i] != floor(r[i]);
        for (size_t i = 0; i < m && !ties; i++)
            for (size_t j = i + 1; j < m && !ties; j++) ties = r[i] == r[j];
        /* without ties, W+ steps down by one at each Walsh average (exactRankTests does the same) */
        for (size_t q = 0; q < nw; q++) w[q] = ties ? wplus_shift(x, m, walsh[q], tmp, r2, idx) : (double)(nw - q);
        double alpha = 1 - cfg->conf_level, qu = qdist(prob, tot2, alpha / 2), ql = qdist(prob, tot2, 1 - alpha / 2);
        double wmin = INFINITY, wmax = -INFINITY, lci = -INFINITY, uci = INFINITY;
        for (size_t q = 0; q < nw; q++) {
            wmin = fmin(wmin, w[q]);
            wmax = fmax(wmax, w[q]);
        }
        if (qu <= wmin) lci = walsh[nw - 1];
        else
            for (size_t q = 0; q < nw; q++)
                if (w[q] <= qu) {
                    lci = walsh[q];
                    break;
                }
        if (ql >= wmax) uci = walsh[0];
        else
            for (size_t q = nw; q-- > 0;)
                if (w[q] > ql) {
                    uci = walsh[q];
                    break;
                }
        out->hl_ci_low = uci;
        out->hl_ci_high = lci;
    } else {
        out->hl_estimate = out->hl_ci_low = out->hl_ci_high = 0;
    }
    /* sign-flip permutation of mean(d) */
    double obs = fabs(out->diff_mean * (double)n), eps = 1e-9 * (1 + obs);
    if (n <= cfg->perm_exact_max_n) {
        uint64_t count = 0, total = (uint64_t)1 << n;
        for (uint64_t s = 0; s < total; s++) {
            double sum = 0;
            for (size_t i = 0; i < n; i++) sum += (s >> i & 1) ? -d[i] : d[i];
            count += fabs(sum) >= obs - eps;
        }
        out->perm_p = (double)count / (double)total;
        out->perm_exact = 1;
    } else {
        gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
        if (!g) {
            st = plm__fail(PLM_ENOMEM, "stats: out of memory");
            goto done;
        }
        gsl_rng_set(g, (unsigned long)cfg->seed);
        uint64_t count = 0;
        for (size_t b = 0; b < cfg->perm_mc; b++) {
            double sum = 0;
            for (size_t i = 0; i < n; i++) sum += gsl_rng_uniform_int(g, 2) ? -d[i] : d[i];
            count += fabs(sum) >= obs - eps;
        }
        gsl_rng_free(g);
        out->perm_p = ((double)count + 1) / ((double)cfg->perm_mc + 1);
        out->perm_exact = 0;
    }
done:
    free(buf);
    free(idx);
    free(walsh);
    free(prob);
    return st;
}

void plm_stats_holm(const double *p, size_t n, double *adj)
{
    size_t *o = malloc((n ? n : 1) * sizeof *o), k = 0;
    if (!o) {
        for (size_t i = 0; i < n; i++) adj[i] = NAN;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        adj[i] = NAN;
        if (isfinite(p[i])) o[k++] = i;
    }
    for (size_t a = 1; a < k; a++) /* sort the finite ones by p */
        for (size_t b = a; b > 0 && p[o[b]] < p[o[b - 1]]; b--) {
            size_t x = o[b];
            o[b] = o[b - 1];
            o[b - 1] = x;
        }
    double run = 0;
    for (size_t i = 0; i < k; i++) {
        double v = (double)(k - i) * p[o[i]];
        if (v > run) run = v;
        adj[o[i]] = run < 1 ? run : 1;
    }
    free(o);
}

/* Null distribution of the doubled rank sum of a subset of size k of the doubled ranks r2[0..N):
 * prob[s] for s = 0 .. tot2 (malloc'd). */
static double *ranksum_dist(const size_t *r2, size_t N, size_t k, size_t *tot2)
{
    size_t total = 0;
    for (size_t i = 0; i < N; i++) total += r2[i];
    size_t w = total + 1;
    double *dp = calloc((k + 1) * w, sizeof *dp);
    if (!dp) return NULL;
    dp[0] = 1;
    for (size_t i = 0; i < N; i++)
        for (size_t j = (i + 1 < k ? i + 1 : k); j >= 1; j--)
            for (size_t s = total + 1; s-- > r2[i];) {
                double v = dp[(j - 1) * w + s - r2[i]];
                if (v != 0) dp[j * w + s] += v;
            }
    double *prob = malloc(w * sizeof *prob), all = 0;
    if (!prob) {
        free(dp);
        return NULL;
    }
    for (size_t s = 0; s < w; s++) all += dp[k * w + s];
    for (size_t s = 0; s < w; s++) prob[s] = dp[k * w + s] / all;
    free(dp);
    *tot2 = total;
    return prob;
}

/* rank sum (minus nt(nt+1)/2) of the treatment group after shifting it by -d */
static double w_shift(const double *t, size_t nt, const double *c, size_t nc, double d, double *v, double *r, size_t *idx)
{
    for (size_t i = 0; i < nt; i++) v[i] = t[i] - d;
    for (size_t j = 0; j < nc; j++) v[nt + j] = c[j];
    midranks(v, nt + nc, r, idx);
    double s = 0;
    for (size_t i = 0; i < nt; i++) s += r[i];
    return s - (double)nt * ((double)nt + 1) / 2;
}

plm_status plm_stats_unpaired(const double *c_in, size_t nc_in, const double *t_in, size_t nt_in, const plm_stats_cfg *cfg,
                              plm_unpaired_result *out)
{
    memset(out, 0, sizeof *out);
    size_t N_in = nc_in + nt_in;
    double *buf = malloc(plm__mul(N_in ? N_in : 1, 5 * sizeof(double)));
    size_t *idx = malloc((N_in ? N_in : 1) * sizeof *idx), *r2 = malloc((N_in ? N_in : 1) * sizeof *r2);
    double *diffs = NULL, *prob = NULL;
    plm_status st = PLM_OK;
    if (!buf || !idx || !r2) {
        st = plm__fail(PLM_ENOMEM, "stats: out of memory");
        goto done;
    }
    double *c = buf, *t = buf + N_in, *v = buf + 2 * N_in, *r = buf + 3 * N_in, *r_sh = buf + 4 * N_in;
    size_t nc = 0, nt = 0;
    for (size_t i = 0; i < nc_in; i++)
        if (isfinite(c_in[i])) c[nc++] = c_in[i];
    for (size_t i = 0; i < nt_in; i++)
        if (isfinite(t_in[i])) t[nt++] = t_in[i];
    out->n_control = nc;
    out->n_treatment = nt;
    if (nc < 2 || nt < 2) {
        st = plm__fail(PLM_ENODATA, "stats: %zu and %zu values, need 2 per group", nc, nt);
        goto done;
    }
    out->control_mean = gsl_stats_mean(c, 1, nc);
    out->control_sd = gsl_stats_sd(c, 1, nc);
    out->treatment_mean = gsl_stats_mean(t, 1, nt);
    out->treatment_sd = gsl_stats_sd(t, 1, nt);
    double vc = out->control_sd * out->control_sd / (double)nc, vt = out->treatment_sd * out->treatment_sd / (double)nt;
    double se = sqrt(vc + vt);
    out->welch_df = (vc + vt) * (vc + vt) / (vc * vc / ((double)nc - 1) + vt * vt / ((double)nt - 1));
    out->diff_mean = out->treatment_mean - out->control_mean;
    out->welch_t = out->diff_mean / se;
    out->welch_p = 2 * gsl_cdf_tdist_Q(fabs(out->welch_t), out->welch_df);
    double q = gsl_cdf_tdist_Qinv((1 - cfg->conf_level) / 2, out->welch_df);
    out->diff_ci_low = out->diff_mean - q * se;
    out->diff_ci_high = out->diff_mean + q * se;
    /* Hedges' g: the difference over the pooled SD, small-sample corrected; its CI from the
     * large-sample variance of Hedges & Olkin (1985), (n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2)) */
    double dfp = (double)nc + (double)nt - 2;
    double sp = sqrt((((double)nc - 1) * out->control_sd * out->control_sd +
                      ((double)nt - 1) * out->treatment_sd * out->treatment_sd) / dfp);
    double J = 1 - 3 / (4 * dfp - 1);
    out->hedges_g = sp > 0 ? J * out->diff_mean / sp : NAN;
    double vg = ((double)nc + (double)nt) / ((double)nc * (double)nt) +
                out->hedges_g * out->hedges_g / (2 * ((double)nc + (double)nt));
    double zq = gsl_cdf_ugaussian_Qinv((1 - cfg->conf_level) / 2);
    out->hedges_g_ci_low = out->hedges_g - zq * sqrt(vg);
    out->hedges_g_ci_high = out->hedges_g + zq * sqrt(vg);
    /* ranks of (treatment, control) */
    size_t N = nt + nc;
    for (size_t i = 0; i < nt; i++) v[i] = t[i];
    for (size_t j = 0; j < nc; j++) v[nt + j] = c[j];
    midranks(v, N, r, idx);
    double rs = 0;
    int ties = 0;
    for (size_t i = 0; i < nt; i++) rs += r[i];
    for (size_t i = 0; i < N; i++) {
        r2[i] = (size_t)llround(2 * r[i]);
        ties |= r[i] != floor(r[i]);
    }
    for (size_t i = 0; i < N && !ties; i++)
        for (size_t j = i + 1; j < N && !ties; j++) ties = r[i] == r[j];
    double off = (double)nt * ((double)nt + 1) / 2;
    out->w = rs - off;
    size_t tot2 = 0;
    prob = ranksum_dist(r2, N, nt, &tot2);
    if (!prob) {
        st = plm__fail(PLM_ENOMEM, "stats: out of memory");
        goto done;
    }
    if (nt <= cfg->exact_max_n && nc <= cfg->exact_max_n) {
        double expect = (double)nt / (double)N * ((double)N * ((double)N + 1) / 2), ih = rs - expect, p = 0;
        if (ih != 0) {
            for (size_t s2 = 0; s2 <= tot2; s2++) {
                double th = (double)s2 / 2 - expect;
                if (th <= -fabs(ih) + 1e-9 || th >= fabs(ih) - 1e-9) p += prob[s2];
            }
        } else p = 1;
        out->mw_p = p < 1 ? p : 1;
        out->mw_exact = 1;
    } else { /* R's wilcox.test(correct = TRUE) */
        double mean = (double)nt * (double)nc / 2, tie = 0;
        for (size_t i = 0; i < N;) { /* tie groups by sorted order */
            size_t j = i;
            while (j + 1 < N && v[idx[j + 1]] == v[idx[i]]) j++;
            double g = (double)(j - i + 1);
            tie += g * g * g - g;
            i = j + 1;
        }
        double sigma = sqrt((double)nt * (double)nc / 12 * (((double)N + 1) - tie / ((double)N * ((double)N - 1))));
        double z = out->w - mean;
        z = (z - (z > 0 ? 0.5 : z < 0 ? -0.5 : 0)) / sigma;
        out->mw_p = 2 * fmin(gsl_cdf_ugaussian_P(z), gsl_cdf_ugaussian_Q(z));
        out->mw_exact = 0;
    }
    /* Hodges-Lehmann shift and exact CI */
    size_t nd = nt * nc, k = 0;
    diffs = malloc(plm__mul(nd, 2 * sizeof *diffs));
    if (!diffs) {
        st = plm__fail(PLM_ENOMEM, "stats: out of memory");
        goto done;
    }
    for (size_t i = 0; i < nt; i++)
        for (size_t j = 0; j < nc; j++) diffs[k++] = t[i] - c[j];
    gsl_sort(diffs, 1, nd);
    out->hl_shift = gsl_stats_median_from_sorted_data(diffs, 1, nd);
    double *w = diffs + nd;
    for (size_t q2 = 0; q2 < nd; q2++) w[q2] = ties ? w_shift(t, nt, c, nc, diffs[q2], v, r_sh, idx) : (double)(nd - q2);
    double alpha = 1 - cfg->conf_level;
    double qu = qdist(prob, tot2, alpha / 2) - off, ql = qdist(prob, tot2, 1 - alpha / 2) - off;
    double wmin = INFINITY, wmax = -INFINITY, lci = diffs[nd - 1], uci = diffs[0];
    for (size_t q2 = 0; q2 < nd; q2++) {
        wmin = fmin(wmin, w[q2]);
        wmax = fmax(wmax, w[q2]);
    }
    if (qu > wmin)
        for (size_t q2 = 0; q2 < nd; q2++)
            if (w[q2] <= qu) {
                lci = diffs[q2];
                break;
            }
    if (ql < wmax)
        for (size_t q2 = nd; q2-- > 0;)
            if (w[q2] > ql) {
                uci = diffs[q2];
                break;
            }
    out->hl_ci_low = uci;
    out->hl_ci_high = lci;
done:
    free(buf);
    free(idx);
    free(r2);
    free(diffs);
    free(prob);
    return st;
}

typedef struct {
    const double *y;
    const int *subj;
    const uint8_t *tr;
    size_t n;
    int ns;
    double beta[2], A[2][2], Q;
} lmm_data;

/* GLS for variance ratio lam; returns the negative REML profile log-likelihood. */
static double lmm_negll(double loglam, void *p)
{
    lmm_data *d = p;
    double lam = exp(loglam);
    double A[2][2] = {{0, 0}, {0, 0}}, b[2] = {0, 0}, logdet = 0;
    for (int g = 0; g < d->ns; g++) {
        double ni = 0, sx[2] = {0, 0}, sy = 0, sxx[2][2] = {{0, 0}, {0, 0}}, sxy[2] = {0, 0};
        for (size_t i = 0; i < d->n; i++) {
            if (d->subj[i] != g) continue;
            double x[2] = {1, d->tr[i]};
            ni++;
            sy += d->y[i];
            for (int a = 0; a < 2; a++) {
                sx[a] += x[a];
                sxy[a] += x[a] * d->y[i];
                for (int c = 0; c < 2; c++) sxx[a][c] += x[a] * x[c];
            }
        }
        if (!ni) continue;
        double k = lam / (1 + lam * ni); /* V^-1 = I - k J */
        logdet += log(1 + lam * ni);
        for (int a = 0; a < 2; a++) {
            b[a] += sxy[a] - k * sx[a] * sy;
            for (int c = 0; c < 2; c++) A[a][c] += sxx[a][c] - k * sx[a] * sx[c];
        }
    }
    double det = A[0][0] * A[1][1] - A[0][1] * A[1][0];
    if (!(det > 0)) return INFINITY;
    d->beta[0] = (A[1][1] * b[0] - A[0][1] * b[1]) / det;
    d->beta[1] = (A[0][0] * b[1] - A[1][0] * b[0]) / det;
    memcpy(d->A, A, sizeof A);
    double Q = 0;
    for (int g = 0; g < d->ns; g++) {
        double ni = 0, sr = 0, srr = 0;
        for (size_t i = 0; i < d->n; i++) {
            if (d->subj[i] != g) continue;
            double r = d->y[i] - d->beta[0] - d->beta[1] * d->tr[i];
            ni++;
            sr += r;
            srr += r * r;
        }
        if (ni) Q += srr - lam / (1 + lam * ni) * sr * sr;
    }
    d->Q = Q;
    double dfr = (double)d->n - 2;
    return 0.5 * (dfr * log(Q / dfr) + logdet + log(det));
}

plm_status plm_stats_lmm(const double *y_in, const int *subj_in, const uint8_t *tr_in, size_t n_in, double conf_level,
                         plm_lmm_result *out)
{
    memset(out, 0, sizeof *out);
    double *y = malloc((n_in ? n_in : 1) * sizeof *y);
    int *subj = malloc((n_in ? n_in : 1) * sizeof *subj);
    uint8_t *tr = malloc(n_in ? n_in : 1);
    int *map = NULL;
    plm_status st = PLM_OK;
    if (!y || !subj || !tr) {
        st = plm__fail(PLM_ENOMEM, "lmm: out of memory");
        goto done;
    }
    int maxs = -1;
    for (size_t i = 0; i < n_in; i++) maxs = subj_in[i] > maxs ? subj_in[i] : maxs;
    map = malloc((size_t)(maxs + 2) * sizeof *map);
    if (!map) {
        st = plm__fail(PLM_ENOMEM, "lmm: out of memory");
        goto done;
    }
    for (int g = 0; g <= maxs; g++) map[g] = -1;
    size_t n = 0;
    int ns = 0;
    for (size_t i = 0; i < n_in; i++) {
        if (!isfinite(y_in[i]) || subj_in[i] < 0) continue;
        if (map[subj_in[i]] < 0) map[subj_in[i]] = ns++;
        y[n] = y_in[i];
        subj[n] = map[subj_in[i]];
        tr[n] = tr_in[i] ? 1 : 0;
        n++;
    }
    out->n_obs = n;
    out->n_subjects = (size_t)ns;
    if (n < 4 || ns < 2) {
        st = plm__fail(PLM_ENODATA, "lmm: %zu observations of %d subjects, too few", n, ns);
        goto done;
    }
    lmm_data d = {y, subj, tr, n, ns, {0, 0}, {{0, 0}, {0, 0}}, 0};
    /* grid over log ratio, then Brent around the best point */
    double best = INFINITY, bx = -20;
    for (double t = -20; t <= 12; t += 0.25) {
        double v = lmm_negll(t, &d);
        if (v < best) best = v, bx = t;
    }
    if (bx > -20 && bx < 12) {
        gsl_function F = {lmm_negll, &d};
        gsl_min_fminimizer *m = gsl_min_fminimizer_alloc(gsl_min_fminimizer_brent);
        if (m && gsl_min_fminimizer_set(m, &F, bx, bx - 0.25, bx + 0.25) == GSL_SUCCESS) {
            for (int it = 0; it < 200; it++) {
                gsl_min_fminimizer_iterate(m);
                double a = gsl_min_fminimizer_x_lower(m), b = gsl_min_fminimizer_x_upper(m);
                if (gsl_min_test_interval(a, b, 1e-12, 0) == GSL_SUCCESS) break;
            }
            bx = gsl_min_fminimizer_x_minimum(m);
        }
        if (m) gsl_min_fminimizer_free(m);
    }
    lmm_negll(bx, &d);
    double lam = exp(bx), s2 = d.Q / ((double)n - 2);
    double det = d.A[0][0] * d.A[1][1] - d.A[0][1] * d.A[1][0];
    out->estimate = d.beta[1];
    out->se = sqrt(s2 * d.A[0][0] / det);
    out->sd_residual = sqrt(s2);
    out->sd_subject = sqrt(lam * s2);
    int within = 0; /* does treatment vary within some subject? */
    for (int g = 0; g < ns && !within; g++) {
        int seen[2] = {0, 0};
        for (size_t i = 0; i < n; i++)
            if (subj[i] == g) seen[tr[i]] = 1;
        within = seen[0] && seen[1];
    }
    out->df = within ? (double)n - ns - 1 : (double)ns - 2;
    if (!(out->df > 0)) {
        st = plm__fail(PLM_ENODATA, "lmm: no degrees of freedom left");
        goto done;
    }
    double q = gsl_cdf_tdist_Qinv((1 - conf_level) / 2, out->df);
    out->ci_low = out->estimate - q * out->se;
    out->ci_high = out->estimate + q * out->se;
    out->p = 2 * gsl_cdf_tdist_Q(fabs(out->estimate / out->se), out->df);
done:
    free(y);
    free(subj);
    free(tr);
    free(map);
    return st;
}
