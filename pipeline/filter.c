/* filter.c -- Kaiser-windowed FIR band-pass applied by FFTW overlap-save, delay removed. */
#define _DEFAULT_SOURCE
#include <fftw3.h>
#include <gsl/gsl_sf_bessel.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "plm/filter.h"
#include "internal.h"

static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

/* A finished design: its taps, their spectrum and the FFT plans of its size. Designs are made
 * once per process for each (rate, band, transition, attenuation) and shared by every filter
 * that asks for the same (a study's recordings, a recording's legs): the design loop and FFTW's
 * planning then cost once, not per filter. FFTW_ESTIMATE plans of one size are the same plan, and
 * they run on each filter's own arrays (fftw_execute_dft_*, safe from several threads), so the
 * outputs are the same bits as with a plan of the filter's own. */
typedef struct {
    double fs_hz, lo_hz, hi_hz, df, a; /* what it was made for */
    size_t ntaps, L;
    double *taps;                      /* ntaps */
    fftw_complex *H;                   /* L/2 + 1: response of the taps, scaled by 1/L */
    fftw_plan fwd, inv;
} design_t;

enum { MAX_DESIGNS = 16 }; /* beyond this many different ones, a filter keeps its own */
static pthread_mutex_t design_lock = PTHREAD_MUTEX_INITIALIZER;
static design_t *designs[MAX_DESIGNS]; /* reachable for the life of the process */
static int ndesigns;

struct plm_filter {
    int nchan;
    double fs_hz, lo_hz, hi_hz;
    size_t ntaps;
    double *taps;          /* the design's */
    int64_t delay;         /* (ntaps - 1) / 2 */
    size_t L, B;           /* FFT size, new samples per segment (L - ntaps + 1) */
    double *time;          /* fftw_malloc, L */
    fftw_complex *spec;    /* fftw_malloc, L/2 + 1 */
    const design_t *d;     /* shared, or own (not in the table) */
    design_t *own;
    double *seg;           /* per channel: L samples of the current segment (history + new) */
    size_t fill;           /* new samples in the current segment (0 .. B) */
    int started;           /* first sample seen (history filled with it) */
    int64_t in_count;      /* frames pushed so far */
    int64_t out_count;     /* frames returned so far */
    int64_t skip;          /* leading outputs still to drop (the delay) */
    double *last;          /* per channel: last input value, for the end extension */
    int finished;
};

plm_filter_cfg plm_filter_cfg_default(void)
{
    plm_filter_cfg c = {.pass_lo_hz = 2.0, .pass_hi_hz = 9.0, .transition_hz = 1.5, .atten_db = 60.0};
    return c;
}

/* Kaiser window beta for attenuation A dB. */
static double kaiser_beta(double a)
{
    if (a > 50) return 0.1102 * (a - 8.7);
    if (a >= 21) return 0.5842 * pow(a - 21, 0.4) + 0.07886 * (a - 21);
    return 0;
}

static double sinc_lp(double fc, double m) /* ideal low-pass, cut-off fc (cycles/sample), at lag m */
{
    return m == 0 ? 2 * fc : sin(2 * M_PI * fc * m) / (M_PI * m);
}

double plm_filter_response(const plm_filter *f, double f_hz)
{
    double re = 0, im = 0, w = 2 * M_PI * f_hz / f->fs_hz;
    for (size_t k = 0; k < f->ntaps; k++) {
        re += f->taps[k] * cos(w * (double)k);
        im -= f->taps[k] * sin(w * (double)k);
    }
    return hypot(re, im);
}

/* Taps of length f->ntaps: (ideal low-pass at hi - ideal low-pass at lo) x Kaiser window,
 * then zero DC gain by subtracting the scaled window. */
static void make_taps(plm_filter *f, double a, double df, double *w)
{
    size_t N = f->ntaps;
    double beta = kaiser_beta(a), i0b = gsl_sf_bessel_I0(beta), c = (double)(N - 1) / 2;
    double f1 = (f->lo_hz - df / 2) / f->fs_hz, f2 = (f->hi_hz + df / 2) / f->fs_hz, sh = 0, sw = 0;
    for (size_t k = 0; k < N; k++) {
        double m = (double)k - c, r = m / c;
        w[k] = gsl_sf_bessel_I0(beta * sqrt(fmax(0, 1 - r * r))) / i0b;
        f->taps[k] = (sinc_lp(f2, m) - sinc_lp(f1, m)) * w[k];
        sh += f->taps[k];
        sw += w[k];
    }
    for (size_t k = 0; k < N; k++) f->taps[k] -= sh / sw * w[k];
}

/* Kaiser's length formula is approximate: lengthen until the spectral mask holds
 * (stopband <= -a dB, passband ripple <= 10^(-a/20)), checked on an FFT grid of at
 * most 0.005 Hz spacing. Returns 0 if FFTW fails. */
static int design(plm_filter *f, double a, double df)
{
    double delta = pow(10, -a / 20);
    size_t nmax = f->ntaps * 2, M = 1024;
    while (M < 16 * nmax || (double)M < f->fs_hz / 0.005) M *= 2;
    double *t = fftw_malloc(M * sizeof *t);
    fftw_complex *sp = fftw_malloc((M / 2 + 1) * sizeof *sp);
    fftw_plan p = NULL;
    if (t && sp) {
        pthread_mutex_lock(&planner_lock);
        p = fftw_plan_dft_r2c_1d((int)M, t, sp, FFTW_ESTIMATE);
        pthread_mutex_unlock(&planner_lock);
    }
    if (!p) {
        fftw_free(t);
        fftw_free(sp);
        return 0;
    }
    for (;;) {
        make_taps(f, a, df, f->time);
        memset(t, 0, M * sizeof *t);
        memcpy(t, f->taps, f->ntaps * sizeof *t);
        fftw_execute(p);
        double worst_pass = 0, worst_stop = 0;
        for (size_t k = 0; k <= M / 2; k++) {
            double fr = (double)k * f->fs_hz / (double)M, m = hypot(sp[k][0], sp[k][1]);
            if (fr >= f->lo_hz && fr <= f->hi_hz) worst_pass = fmax(worst_pass, fabs(m - 1));
            if (fr <= f->lo_hz - df || fr >= f->hi_hz + df) worst_stop = fmax(worst_stop, m);
        }
        if ((worst_stop <= delta && worst_pass <= delta) || f->ntaps + 2 > nmax) break;
        f->ntaps += 2 * (1 + f->ntaps / 50);
        f->delay = (int64_t)(f->ntaps - 1) / 2;
        f->skip = f->delay;
    }
    pthread_mutex_lock(&planner_lock);
    fftw_destroy_plan(p);
    pthread_mutex_unlock(&planner_lock);
    fftw_free(t);
    fftw_free(sp);
    return 1;
}

plm_status plm_filter_create(const plm_filter_cfg *cfg, double fs_hz, int nchan, plm_filter **out)
{
    *out = NULL;
    if (!(fs_hz > 0) || nchan < 1 || nchan > 64) PLM_FAIL(PLM_EINVAL, "filter: fs_hz=%g, nchan=%d invalid", fs_hz, nchan);
    double df = cfg->transition_hz, a = cfg->atten_db, lo = cfg->pass_lo_hz, hi = cfg->pass_hi_hz;
    if (!(df > 0) || !(a >= 21 && a <= 120)) PLM_FAIL(PLM_EINVAL, "filter: transition_hz=%g must be > 0 and atten_db=%g 21 .. 120", df, a);
    if (hi > fs_hz / 2 - df) hi = fs_hz / 2 - df; /* keep the upper stopband below Nyquist */
    if (hi <= lo + df && lo + 2.1 * df > fs_hz / 2 && fs_hz / 2 > lo) { /* slow recordings: narrower transitions */
        df = (fs_hz / 2 - lo) / 2.1;
        hi = fs_hz / 2 - df;
    }
    if (!(lo > df) || !(hi > lo + df))
        PLM_FAIL(PLM_EINVAL, "filter: passband %g .. %g Hz does not fit at fs=%g Hz with %g Hz transitions", lo, hi, fs_hz, df);
    double nt = ceil((a - 8) / (2.285 * 2 * M_PI * df / fs_hz)) + 1;
    if (nt > 1 << 22) PLM_FAIL(PLM_EINVAL, "filter: %g taps is too many (widen transition_hz)", nt);
    size_t N = (size_t)nt | 1;
    plm_filter *f = calloc(1, sizeof *f);
    if (!f) PLM_FAIL(PLM_ENOMEM, "filter: out of memory");
    f->nchan = nchan;
    f->fs_hz = fs_hz;
    f->lo_hz = lo;
    f->hi_hz = hi;
    size_t L = 1024;
    while (L < 8 * N) L *= 2; /* room for the design loop to double N */
    f->L = L;
    f->seg = calloc((size_t)nchan * L, sizeof *f->seg);
    f->last = calloc((size_t)nchan, sizeof *f->last);
    f->time = fftw_malloc(L * sizeof *f->time);
    f->spec = fftw_malloc((L / 2 + 1) * sizeof *f->spec);
    if (!f->seg || !f->last || !f->time || !f->spec) {
        plm_filter_destroy(f);
        PLM_FAIL(PLM_ENOMEM, "filter: out of memory");
    }
    pthread_mutex_lock(&design_lock);
    for (int i = 0; i < ndesigns && !f->d; i++) {
        const design_t *g = designs[i];
        if (g->fs_hz == fs_hz && g->lo_hz == lo && g->hi_hz == hi && g->df == df && g->a == a && g->L == L) f->d = g;
    }
    if (!f->d) { /* a new design: lengthened until the mask holds, then its spectrum and plans */
        design_t *g = calloc(1, sizeof *g);
        f->ntaps = N;
        f->taps = malloc(2 * N * sizeof *f->taps);
        int ok = g && f->taps && (g->H = fftw_malloc((L / 2 + 1) * sizeof *g->H)) && design(f, a, df);
        if (ok) {
            *g = (design_t){fs_hz, lo, hi, df, a, f->ntaps, L, f->taps, g->H, NULL, NULL};
            f->taps = NULL;
            pthread_mutex_lock(&planner_lock);
            g->fwd = fftw_plan_dft_r2c_1d((int)L, f->time, f->spec, FFTW_ESTIMATE);
            g->inv = fftw_plan_dft_c2r_1d((int)L, f->spec, f->time, FFTW_ESTIMATE);
            pthread_mutex_unlock(&planner_lock);
            ok = g->fwd && g->inv;
        }
        free(f->taps);
        if (g && ok) {
            memset(f->time, 0, L * sizeof *f->time);
            memcpy(f->time, g->taps, g->ntaps * sizeof *g->taps);
            fftw_execute_dft_r2c(g->fwd, f->time, f->spec);
            for (size_t k = 0; k <= L / 2; k++) {
                g->H[k][0] = f->spec[k][0] / (double)L;
                g->H[k][1] = f->spec[k][1] / (double)L;
            }
            if (ndesigns < MAX_DESIGNS) designs[ndesigns++] = g;
            else f->own = g;
            f->d = g;
        } else {
            f->own = g; /* freed with the filter */
            pthread_mutex_unlock(&design_lock);
            plm_filter_destroy(f);
            PLM_FAIL(PLM_ENOMEM, "filter: out of memory or no FFTW plan of size %zu", L);
        }
    }
    pthread_mutex_unlock(&design_lock);
    f->ntaps = f->d->ntaps;
    f->taps = f->d->taps;
    f->delay = (int64_t)(f->ntaps - 1) / 2;
    f->skip = f->delay;
    f->B = L - f->ntaps + 1;
    *out = f;
    return PLM_OK;
}

const double *plm_filter_taps(const plm_filter *f, size_t *n)
{
    *n = f->ntaps;
    return f->taps;
}

void plm_filter_band(const plm_filter *f, double *lo, double *hi)
{
    *lo = f->lo_hz;
    *hi = f->hi_hz;
}

void plm_filter_segment(const plm_filter *f, size_t *fft_size, size_t *new_per_segment)
{
    *fft_size = f->L;
    *new_per_segment = f->B;
}

int64_t plm_filter_max_out(const plm_filter *f, int64_t n) { return n + (int64_t)f->B + f->delay; }

/* Filter the full segment of every channel; emit its B outputs (less skipped/beyond-end ones). */
static void run_segment(plm_filter *f, double *y, int64_t y_cap, int64_t *ny, int64_t limit)
{
    size_t L = f->L, N = f->ntaps, B = f->B;
    int64_t first = -1, count = 0;
    for (int c = 0; c < f->nchan; c++) {
        double *seg = f->seg + (size_t)c * L;
        memcpy(f->time, seg, L * sizeof *f->time);
        fftw_execute_dft_r2c(f->d->fwd, f->time, f->spec);
        const fftw_complex *H = f->d->H;
        for (size_t k = 0; k <= L / 2; k++) {
            double re = f->spec[k][0] * H[k][0] - f->spec[k][1] * H[k][1];
            double im = f->spec[k][0] * H[k][1] + f->spec[k][1] * H[k][0];
            f->spec[k][0] = re;
            f->spec[k][1] = im;
        }
        fftw_execute_dft_c2r(f->d->inv, f->spec, f->time);
        /* valid outputs are time[N-1 .. L-1] */
        int64_t k0 = 0, n = (int64_t)B;
        if (f->skip > 0) k0 = f->skip < n ? f->skip : n;
        int64_t avail = limit - f->out_count;
        if (n - k0 > avail) n = k0 + (avail > 0 ? avail : 0);
        for (int64_t k = k0; k < n; k++) y[(size_t)c * (size_t)y_cap + (size_t)(*ny + k - k0)] = f->time[N - 1 + (size_t)k];
        first = k0;
        count = n - k0;
        /* keep the last N-1 samples as the next segment's history */
        memmove(seg, seg + B, (N - 1) * sizeof *seg);
    }
    if (first >= 0) {
        f->skip -= first;
        *ny += count;
        f->out_count += count;
    }
    f->fill = 0;
}

plm_status plm_filter_process(plm_filter *f, const double *x, int64_t n, int64_t x_cap, double *y, int64_t y_cap,
                              int64_t *ny)
{
    *ny = 0;
    if (f->finished) PLM_FAIL(PLM_EINVAL, "filter: process after the end of the stream");
    size_t L = f->L, N = f->ntaps, B = f->B;
    if (!x) { /* end: extend with the last value until every input has its output */
        f->finished = 1;
        if (!f->started) return PLM_OK;
        while (f->out_count < f->in_count) {
            for (int c = 0; c < f->nchan; c++) {
                double *seg = f->seg + (size_t)c * L;
                for (size_t k = f->fill; k < B; k++) seg[N - 1 + k] = f->last[c];
            }
            f->fill = B;
            run_segment(f, y, y_cap, ny, f->in_count);
        }
        return PLM_OK;
    }
    if (y_cap < plm_filter_max_out(f, n)) PLM_FAIL(PLM_EINVAL, "filter: output capacity %lld too small", (long long)y_cap);
    if (!f->started && n > 0) { /* history = the first value repeated */
        for (int c = 0; c < f->nchan; c++)
            for (size_t k = 0; k < N - 1; k++) f->seg[(size_t)c * L + k] = x[(size_t)c * (size_t)x_cap];
        f->started = 1;
    }
    int64_t i = 0;
    while (i < n) {
        int64_t take = (int64_t)(B - f->fill);
        if (take > n - i) take = n - i;
        for (int c = 0; c < f->nchan; c++) {
            memcpy(f->seg + (size_t)c * L + N - 1 + f->fill, x + (size_t)c * (size_t)x_cap + (size_t)i,
                   (size_t)take * sizeof(double));
            f->last[c] = x[(size_t)c * (size_t)x_cap + (size_t)(i + take - 1)];
        }
        f->fill += (size_t)take;
        i += take;
        f->in_count += take;
        if (f->fill == B) run_segment(f, y, y_cap, ny, INT64_MAX);
    }
    return PLM_OK;
}

void plm_filter_destroy(plm_filter *f)
{
    if (!f) return;
    design_t *g = f->own;
    if (g) {
        pthread_mutex_lock(&planner_lock);
        if (g->fwd) fftw_destroy_plan(g->fwd);
        if (g->inv) fftw_destroy_plan(g->inv);
        pthread_mutex_unlock(&planner_lock);
        free(g->taps);
        fftw_free(g->H);
        free(g);
    }
    fftw_free(f->time);
    fftw_free(f->spec);
    free(f->seg);
    free(f->last);
    free(f);
}
