/* calibrate.c -- autocalibration on the unit sphere (plm/calibrate.h), and the detector's
 * collection of still windows for it (qc.h). */
#define _DEFAULT_SOURCE
#include <gsl/gsl_blas.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/calibrate.h"
#include "plm/detect.h"
#include "internal.h"
#include "qc.h"

#define CALIB_FIT_MAX 10000 /* still windows used by the sphere fit (evenly thinned beyond) */
/* GGIR's per-axis iteration rarely settles to 1e-10 g on real postures; it only starts the
 * Levenberg-Marquardt fit, which converges from there (1000 iterations cost 10 % of a night's
 * detection and changed no fitted value beyond 1e-6 g on the validation studies) */
#define CALIB_START_ITER 100

typedef struct {
    const double *v;
    size_t n;
} fit_data;

/* The six parameters, read once per call (not once per window and axis through a call). */
static void params_of(const gsl_vector *p, double o[3], double s[3])
{
    for (int x = 0; x < 3; x++) {
        o[x] = gsl_vector_get(p, (size_t)x);
        s[x] = gsl_vector_get(p, (size_t)x + 3);
    }
}

/* residual_i = |(v_i - o) / s| - 1, parameters (o_x, o_y, o_z, s_x, s_y, s_z) */
static int sphere_f(const gsl_vector *p, void *data, gsl_vector *f)
{
    const fit_data *d = data;
    double o[3], s[3];
    params_of(p, o, s);
    double *out = f->data;
    const size_t stride = f->stride;
    for (size_t i = 0; i < d->n; i++) {
        double nrm = 0;
        for (int x = 0; x < 3; x++) {
            double t = (d->v[3 * i + x] - o[x]) / s[x];
            nrm += t * t;
        }
        out[i * stride] = sqrt(nrm) - 1;
    }
    return GSL_SUCCESS;
}

static int sphere_df(const gsl_vector *p, void *data, gsl_matrix *J)
{
    const fit_data *d = data;
    double o[3], s[3];
    params_of(p, o, s);
    for (size_t i = 0; i < d->n; i++) {
        double t[3], nrm = 0;
        for (int x = 0; x < 3; x++) {
            t[x] = (d->v[3 * i + x] - o[x]) / s[x];
            nrm += t[x] * t[x];
        }
        nrm = sqrt(nrm);
        double *row = J->data + i * J->tda;
        for (int x = 0; x < 3; x++) {
            row[x] = -t[x] / nrm / s[x];
            row[x + 3] = -t[x] * t[x] / nrm / s[x];
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

plm_status plm_calibrate_sphere(const double *v, size_t n, double cover_g, double max_se, double max_error_g,
                                plm_calibration *out)
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
        if (lo > -cover_g || hi < cover_g) {
            covered = 0;
            size_t len = strlen(miss);
            snprintf(miss + len, sizeof miss - len, "%s%c", len ? "," : "", "xyz"[x]);
        }
    }
    /* raw = gain * true + offset: regress raw on the nearest sphere point, per axis */
    double off[3] = {0, 0, 0}, gain[3] = {1, 1, 1}, err = out->error_before_g;
    for (int it = 0; it < CALIB_START_ITER; it++) { /* a start for the Levenberg-Marquardt refinement */
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
        if (it > 0 && fabs(prev - err) < 1e-10) break;
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
                 cover_g);
    else if (!(worst_se <= max_se))
        snprintf(out->reason, sizeof out->reason,
                 "not applied: the postures do not pin the fit down (standard error %.4f > %g)", worst_se, max_se);
    else if (!(out->error_after_g < out->error_before_g))
        snprintf(out->reason, sizeof out->reason, "not applied: the fit does not lower the error");
    else if (!(out->error_after_g < max_error_g))
        snprintf(out->reason, sizeof out->reason, "not applied: error after the fit %.4f g is above %g g", out->error_after_g,
                 max_error_g);
    else {
        out->applied = 1;
        snprintf(out->reason, sizeof out->reason, "applied: error %.4f -> %.4f g over %zu still windows", out->error_before_g,
                 out->error_after_g, n);
    }
    if (!out->applied)
        for (int x = 0; x < 3; x++) out->offset_g[x] = 0, out->gain[x] = 1;
    return PLM_OK;
}

plm_status plm_calibrate_fit(const double *v, size_t n, const plm_detect_cfg *cfg, plm_calibration *out)
{
    return plm_calibrate_sphere(v, n, cfg->calib_cover_g, cfg->calib_max_se, cfg->calib_max_error_g, out);
}

/* ---------- still windows, collected during the detector's pass ---------- */

void plm__still_init(plm__still *w, const plm_detect_cfg *c, double fs)
{
    memset(w, 0, sizeof *w);
    w->len = (int64_t)llround(c->calib_window_s * fs);
    if (w->len < 2) w->len = 2;
    w->sd_g = c->calib_sd_g;
    w->max = c->calib_max_windows;
}

/* The window is complete: keep its mean if every axis was still and no sample was bad. */
static plm_status still_close(plm__still *w)
{
    int still = !w->bad;
    double mean[3];
    for (int x = 0; x < 3; x++) {
        mean[x] = w->cw[x][0] / (double)w->n;
        double var = w->cw[x][1] / (double)w->n - mean[x] * mean[x];
        if (var > w->sd_g * w->sd_g) still = 0;
        w->cw[x][0] = w->cw[x][1] = 0;
    }
    w->n = 0;
    w->bad = 0;
    if (!still || w->ncal >= w->max) return PLM_OK;
    if (!plm__grow((void **)&w->cal, &w->capcal, w->ncal + 1, 3 * sizeof *w->cal, 256))
        PLM_FAIL(PLM_ENOMEM, "detect: out of memory");
    memcpy(w->cal + 3 * w->ncal++, mean, sizeof mean);
    return PLM_OK;
}

plm_status plm__still_block(plm__still *w, const double *const ax[3], int64_t n, const uint8_t *bad)
{
    for (int64_t j = 0; j < n;) { /* a stretch within one window, an axis at a time */
        int64_t m = w->len - w->n < n - j ? w->len - w->n : n - j;
        /* the three axes in one loop: six independent chains of additions the processor overlaps */
        const double *a0 = ax[0], *a1 = ax[1], *a2 = ax[2];
        double s10 = w->cw[0][0], s20 = w->cw[0][1], s11 = w->cw[1][0], s21 = w->cw[1][1], s12 = w->cw[2][0], s22 = w->cw[2][1];
        for (int64_t k = j; k < j + m; k++) {
            s10 += a0[k];
            s20 += a0[k] * a0[k];
            s11 += a1[k];
            s21 += a1[k] * a1[k];
            s12 += a2[k];
            s22 += a2[k] * a2[k];
        }
        w->cw[0][0] = s10;
        w->cw[0][1] = s20;
        w->cw[1][0] = s11;
        w->cw[1][1] = s21;
        w->cw[2][0] = s12;
        w->cw[2][1] = s22;
        uint8_t b = 0;
        for (int64_t k = j; k < j + m; k++) b |= bad[k];
        w->bad |= b;
        w->n += m;
        j += m;
        if (w->n == w->len) {
            plm_status st = still_close(w);
            if (st) return st;
        }
    }
    return PLM_OK;
}

plm_status plm__still_fit(plm__still *w, const plm_detect_cfg *c, plm_calibration *out)
{
    /* the fit needs a few thousand postures, not every 10 s of a week: thin evenly */
    size_t stride = (w->ncal + CALIB_FIT_MAX - 1) / CALIB_FIT_MAX, m = 0;
    for (size_t i = 0; stride > 1 && i < w->ncal; i += stride, m++) memmove(w->cal + 3 * m, w->cal + 3 * i, 3 * sizeof *w->cal);
    plm_status st = plm_calibrate_fit(w->cal, stride > 1 ? m : w->ncal, c, out);
    out->windows = w->ncal;
    return st;
}

void plm__still_free(plm__still *w)
{
    free(w->cal);
    w->cal = NULL;
}
