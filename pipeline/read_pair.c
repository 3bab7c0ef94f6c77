/* read_pair.c -- a recording made of two files, one device per ankle (plm_read_cfg.right_path).
 *
 * Each file is opened by its own backend and read at its own rate, by its own sample times. One
 * of them, the axis (the higher nominal rate; the left when equal), gives the frames: frame i is
 * its sample, unchanged. The other leg is interpolated at that sample's time from the other
 * file's samples around it, placed by the other file's own times: a Kaiser-windowed sinc
 * (32 taps, beta 8: amplitude within 1e-4 up to 0.3 x the rate; widened by the rate ratio when
 * the other file is more than 10 % faster, so that it is low-passed first). The weights are normalised to sum
 * 1, so a still leg keeps its gravity exactly; a tap on a missing (NaN) sample makes the frame
 * missing, so a gap grows by 16 samples on each side. Within 16 samples of a file's end the
 * kernel holds the end sample.
 * The recording is the overlap: it starts at the first axis sample at or after both files'
 * first samples and ends at the last one at or before both files' last samples.
 *
 * Memory: one block of the axis file and a window of block + kernel frames of the other. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_sf_bessel.h>
#include "read_internal.h"

#define LOBES 16      /* kernel half-width in samples of the slower file */
#define BETA 8.0      /* Kaiser window shape */
#define TABLE_PER 512 /* kernel table points per sample */
#define PHASES 1024   /* fractions of a sample in the weight table (equal or slower other file) */

typedef struct {
    plm_reader *sub[2];    /* left, right */
    int ax, ot;            /* the axis side and the other (0 left, 1 right) */
    int nch[2];            /* channels each delivers (1 or 3) */
    double rel[2];         /* a side's t_s plus rel = seconds from the recording's start */
    int64_t skip;          /* axis frames before the start, still to drop */
    int half;              /* kernel half-width in taps */
    double stretch;        /* kernel stretch, >= 1 (the other file's rate over the axis's) */
    double *kern;          /* the kernel at x = k / TABLE_PER, k = 0 .. LOBES * TABLE_PER + 1 */
    double *poly;          /* stretch 1: normalised weights of the 2 half taps at f = i / PHASES,
                              i = 0 .. PHASES; else NULL */
    double *w;             /* the current weights (2 half) */
    /* the axis file: one block */
    double *ab, *at;
    int64_t acap;
    /* the other file: a window of frames [obase, obase + on) with their times ou */
    double *ob, *ou, *tmpx, *tmpt;
    int64_t ocap, on, obase, j;
    int oeof;
    size_t gaps_seen[2];
} pair_state;

/* The windowed sinc at |x| < LOBES (0 beyond), from the table (linear between its points). */
static double kernel(const double *kern, double x)
{
    x = fabs(x) * TABLE_PER;
    if (x >= LOBES * TABLE_PER) return 0.0;
    int k = (int)x;
    double f = x - k;
    return kern[k] + (kern[k + 1] - kern[k]) * f;
}

static double *kernel_table(void)
{
    int n = LOBES * TABLE_PER + 2;
    double *t = malloc(sizeof(double) * (size_t)n), i0b = gsl_sf_bessel_I0(BETA);
    if (!t) return NULL;
    for (int k = 0; k < n; k++) {
        double x = (double)k / TABLE_PER, r = x / LOBES;
        double sinc = k ? sin(M_PI * x) / (M_PI * x) : 1.0;
        t[k] = r < 1 ? sinc * gsl_sf_bessel_I0(BETA * sqrt(1 - r * r)) / i0b : 0.0;
    }
    return t;
}

static double secs_between(const plm_time *a, const plm_time *b) /* b - a */
{
    return (double)(b->utc_s - a->utc_s) + (double)(b->nsec - a->nsec) * 1e-9;
}

static const char *const side_name[2] = {"left", "right"};

/* The sides' new gaps, on the recording's time axis, clipped to it. */
static plm_status take_gaps(plm_reader *r, pair_state *p)
{
    double dur = (double)r->info.frames / r->info.fs_hz;
    for (int s = 0; s < 2; s++) {
        size_t n;
        const plm_gap *g = plm_reader_gaps(p->sub[s], &n);
        for (; p->gaps_seen[s] < n; p->gaps_seen[s]++) {
            const plm_gap *q = &g[p->gaps_seen[s]];
            double on = q->onset_s + p->rel[s], end = on + q->duration_s;
            if (end <= 0 || on >= dur) continue;
            if (on < 0) on = 0;
            if (end > dur) end = dur;
            plm_status st = plm__read_add_gap(r, on, end - on, q->reason);
            if (st) return st;
            r->gaps[r->n_gaps - 1].leg = s ? PLM_LEG_RIGHT : PLM_LEG_LEFT;
            r->info.gap_frames += (int64_t)llround((end - on) * r->info.fs_hz);
        }
        if (plm_reader_get_info(p->sub[s])->truncated) r->info.truncated = 1;
    }
    return PLM_OK;
}

/* Make frames up to index `want` (absolute) of the other file present in the window, keeping
 * `keep_from` and after. Returns 1 if present, 0 if the file ended before it. */
static plm_status other_fill(plm_reader *r, pair_state *p, int64_t want, int64_t keep_from, int *have)
{
    int n = p->nch[p->ot];
    while (want >= p->obase + p->on && !p->oeof) {
        if (keep_from > p->obase) { /* slide the window */
            int64_t drop = keep_from - p->obase;
            if (drop > p->on) drop = p->on;
            for (int c = 0; c < n; c++)
                memmove(p->ob + c * p->ocap, p->ob + c * p->ocap + drop, (size_t)(p->on - drop) * sizeof *p->ob);
            memmove(p->ou, p->ou + drop, (size_t)(p->on - drop) * sizeof *p->ou);
            p->on -= drop;
            p->obase += drop;
        }
        int64_t room = p->ocap - p->on, got;
        if (room <= 0) PLM_FAIL(PLM_EFORMAT, "%s: internal error: interpolation window full", r->path);
        plm_status st = plm_reader_read_t(p->sub[p->ot], p->tmpx, p->tmpt, room, &got);
        if (st) return st;
        if (!got) {
            p->oeof = 1;
            break;
        }
        for (int c = 0; c < n; c++) memcpy(p->ob + c * p->ocap + p->on, p->tmpx + c * room, (size_t)got * sizeof *p->ob);
        for (int64_t i = 0; i < got; i++) p->ou[p->on + i] = p->tmpt[i] + p->rel[p->ot];
        p->on += got;
    }
    *have = want < p->obase + p->on;
    return PLM_OK;
}

/* The kernel's weights, normalised to sum 1, for the taps d = -half + 1 .. half at fraction f
 * (0 <= f <= 1) into w, evaluated tap by tap. */
static void eval_weights(const pair_state *p, double f, double *w)
{
    int nt = 2 * p->half;
    double sum = 0;
    for (int t = 0; t < nt; t++) sum += w[t] = kernel(p->kern, (t - p->half + 1 - f) / p->stretch);
    for (int t = 0; t < nt; t++) w[t] /= sum;
}

/* The same into p->w: from the phase table, linear between its two nearest phases, when the kernel
 * is not stretched; else evaluated. */
static void weights(pair_state *p, double f)
{
    int nt = 2 * p->half;
    if (!p->poly) {
        eval_weights(p, f, p->w);
        return;
    }
    double x = f * PHASES;
    int ip = (int)x;
    if (ip >= PHASES) ip = PHASES - 1;
    double g = x - ip;
    const double *w0 = p->poly + (size_t)ip * (size_t)nt, *w1 = w0 + nt;
    for (int t = 0; t < nt; t++) p->w[t] = w0[t] + g * (w1[t] - w0[t]);
}

/* The other leg at time u into out[0..n). Returns 1 in *past when u is after its last sample. A
 * missing (NaN) sample under the kernel makes the value NaN (0 x NaN is NaN). */
static plm_status other_at(plm_reader *r, pair_state *p, double u, double *out, int *past)
{
    int n = p->nch[p->ot], have;
    plm_status st;
    *past = 0;
    for (;;) { /* j: the last sample at or before u */
        if (p->j + 1 >= p->obase + p->on) {
            if ((st = other_fill(r, p, p->j + 1, p->j - p->half - 1, &have))) return st;
            if (!have) break;
        }
        if (!(p->ou[p->j + 1 - p->obase] <= u)) break;
        p->j++;
    }
    if (p->j + p->half >= p->obase + p->on && !p->oeof &&
        (st = other_fill(r, p, p->j + p->half, p->j - p->half - 1, &have)))
        return st;
    int64_t last = p->obase + p->on - 1;
    double tj = p->ou[p->j - p->obase];
    double period = p->j < last ? p->ou[p->j + 1 - p->obase] - tj : (p->j > p->obase ? tj - p->ou[p->j - 1 - p->obase] : 0);
    if (p->j == last && p->oeof && u - tj > 0.5 * period) {
        *past = 1;
        return PLM_OK;
    }
    double f = period > 0 ? (u - tj) / period : 0;
    if (f < 0) f = 0; /* only before the first sample, by less than a sample (the start is the overlap) */
    if (f > 1) f = 1;
    weights(p, f);
    int nt = 2 * p->half;
    int64_t k0 = p->j - p->half + 1;
    for (int c = 0; c < n; c++) {
        const double *src = p->ob + (size_t)c * (size_t)p->ocap;
        double acc = 0;
        if (k0 >= p->obase && k0 + nt - 1 <= last) {
            src += k0 - p->obase;
            double a4[4] = {0, 0, 0, 0}; /* four running sums: independent, so they pipeline */
            int t = 0;
            for (; t + 4 <= nt; t += 4)
                for (int q = 0; q < 4; q++) a4[q] += p->w[t + q] * src[t + q];
            for (; t < nt; t++) a4[0] += p->w[t] * src[t];
            acc = (a4[0] + a4[1]) + (a4[2] + a4[3]);
        } else { /* near the file's first or last sample: that sample held */
            for (int t = 0; t < nt; t++) {
                int64_t k = k0 + t < p->obase ? p->obase : k0 + t > last ? last : k0 + t;
                acc += p->w[t] * src[k - p->obase];
            }
        }
        out[c] = acc;
    }
    return PLM_OK;
}

static plm_status pair_read(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got)
{
    (void)aux;
    pair_state *p = r->state;
    int na = p->nch[p->ax], no = p->nch[p->ot];
    int ca = p->ax ? p->nch[0] : 0, co = p->ot ? p->nch[0] : 0; /* first output channel of each */
    int64_t want = r->info.frames - r->pos;
    if (want > cap) want = cap;
    int64_t done = 0;
    plm_status st = PLM_OK;
    while (done < want) {
        int64_t n = want - done;
        if (n > p->acap) n = p->acap;
        int64_t g;
        if ((st = plm_reader_read_t(p->sub[p->ax], p->ab, p->at, n, &g))) return st;
        if (!g) break;
        int64_t i0 = 0;
        if (p->skip) { /* the axis file's frames before the other file began */
            i0 = g < p->skip ? g : p->skip;
            p->skip -= i0;
        }
        int past = 0;
        for (int64_t i = i0; i < g; i++) {
            double u = p->at[i] + p->rel[p->ax], v[3];
            if ((st = other_at(r, p, u, v, &past))) return st;
            if (past) break;
            for (int c = 0; c < na; c++) x[(ca + c) * cap + done] = p->ab[c * n + i];
            for (int c = 0; c < no; c++) x[(co + c) * cap + done] = v[c];
            if (t_s) t_s[done] = u;
            done++;
        }
        if (past) {
            /* the other file ended a sample early: the recording ends with it */
            r->info.frames = r->info.frames_header = r->pos + done;
            break;
        }
    }
    *got = done;
    return take_gaps(r, p);
}

static void pair_close(plm_reader *r)
{
    pair_state *p = r->state;
    if (!p) return;
    for (int s = 0; s < 2; s++) plm_reader_destroy(p->sub[s]);
    free(p->ab);
    free(p->at);
    free(p->ob);
    free(p->ou);
    free(p->tmpx);
    free(p->tmpt);
    free(p->kern);
    free(p->poly);
    free(p->w);
    free(p);
    r->state = NULL;
}

const plm__backend plm__backend_pair = {"two files", NULL, NULL, pair_read, pair_close};

/* The side's warnings, each prefixed with its leg. */
static void side_warnings(plm_reader_info *info, int s, const char *w)
{
    while (*w) {
        const char *e = strstr(w, "; ");
        int len = e ? (int)(e - w) : (int)strlen(w);
        plm__read_warn(info, "%s%s file: %.*s", info->warnings[0] ? "; " : "", side_name[s], len, w);
        w += len;
        if (e) w += 2;
    }
}

plm_status plm__read_open_pair(plm_reader *r, const char *right_path)
{
    pair_state *p = calloc(1, sizeof *p);
    if (!p) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    r->state = p;
    r->be = &plm__backend_pair;
    plm_read_cfg c = r->cfg;
    c.right_path = NULL;
    if (c.channels && *c.channels)
        PLM_FAIL(PLM_EINVAL, "%s: a channel map cannot be given with a second file (each file holds one leg)", r->path);
    c.channels = NULL;
    const char *paths[2] = {r->path, right_path};
    const plm_reader_info *in[2];
    plm_status st;
    for (int s = 0; s < 2; s++) {
        if ((st = plm_reader_open(paths[s], &c, &p->sub[s]))) return st;
        in[s] = plm_reader_get_info(p->sub[s]);
        if (in[s]->legs == PLM_LEG_BOTH)
            PLM_FAIL(PLM_EFORMAT, "%s: holds both legs (%d channels); with a second file each file holds one leg",
                     paths[s], in[s]->nchan);
        if (!in[s]->has_start)
            PLM_FAIL(PLM_EFORMAT,
                     "%s: no start time in the file: the two files of a recording are aligned by their own times",
                     paths[s]);
        p->nch[s] = in[s]->nchan;
    }
    double fn[2];
    for (int s = 0; s < 2; s++) fn[s] = in[s]->fs_nominal_hz > 0 ? in[s]->fs_nominal_hz : in[s]->fs_hz;
    p->ax = fn[1] > fn[0];
    p->ot = !p->ax;
    const plm_reader_info *A = in[p->ax], *O = in[p->ot];
    double ratio = O->fs_hz / A->fs_hz;
    if (ratio > 8 || ratio < 1.0 / 8)
        PLM_FAIL(PLM_EFORMAT, "%s and %s: sample rates %g and %g Hz differ more than 8-fold", paths[0], paths[1],
                 in[0]->fs_hz, in[1]->fs_hz);
    /* a faster other file is low-passed to the axis rate by stretching the kernel; within 10 %
     * (two clocks' error) what would alias lies above 0.45 x the rate, and the table is used */
    p->stretch = ratio > 1.1 ? ratio : 1;
    p->half = (int)ceil(LOBES * p->stretch);
    /* times in seconds from the left file's first sample */
    double s0[2] = {0, secs_between(&in[0]->start, &in[1]->start)};
    double e0[2];
    for (int s = 0; s < 2; s++) e0[s] = s0[s] + (double)(in[s]->frames - 1) / in[s]->fs_hz;
    double sa = s0[p->ax], so = s0[p->ot];
    int64_t k0 = so > sa ? (int64_t)ceil((so - sa) * A->fs_hz - 1e-6) : 0;
    int64_t kmax = (int64_t)floor((e0[p->ot] - sa) * A->fs_hz + 1e-6);
    if (kmax > A->frames - 1) kmax = A->frames - 1;
    if (kmax < k0) {
        char a[2][48];
        for (int s = 0; s < 2; s++) plm_time_format_local(&in[s]->start, ' ', a[s], sizeof a[s]);
        PLM_FAIL(PLM_EFORMAT, "%s (from %s, %.0f s) and %s (from %s, %.0f s) do not overlap in time", paths[0], a[0],
                 e0[0] - s0[0], paths[1], a[1], e0[1] - s0[1]);
    }
    double T = sa + (double)k0 / A->fs_hz; /* the recording's start, from the left's first sample */
    p->skip = k0;
    for (int s = 0; s < 2; s++) p->rel[s] = s0[s] - T;

    plm_reader_info *info = &r->info;
    info->family = PLM_FORMAT_PAIR;
    int fl[2];
    for (int s = 0; s < 2; s++) { /* "CWA (packed 10-bit, ...)" -> "CWA" */
        const char *b = strstr(in[s]->format, " (");
        fl[s] = b ? (int)(b - in[s]->format) : (int)strlen(in[s]->format);
        if (fl[s] > 24) fl[s] = 24;
    }
    snprintf(info->format, sizeof info->format, "two files: %.*s (left) + %.*s (right)", fl[0], in[0]->format, fl[1],
             in[1]->format);
    info->fs_hz = A->fs_hz;
    info->fs_nominal_hz = A->fs_nominal_hz;
    info->frames = info->frames_header = kmax - k0 + 1;
    info->file_channels = p->nch[0] + p->nch[1];
    info->nchan = info->file_channels;
    info->labels[0] = '\0';
    for (int s = 0, k = 0; s < 2; s++) {
        const char *l = in[s]->labels;
        for (int i = 0; i < p->nch[s]; i++, k++) {
            info->chan_file[k] = k;
            info->chan_leg[k] = s ? PLM_LEG_RIGHT : PLM_LEG_LEFT;
            info->chan_scale_g[k] = in[s]->chan_scale_g[i];
            const char *e = strchr(l, ',');
            int len = e ? (int)(e - l) : (int)strlen(l);
            size_t at = strlen(info->labels);
            snprintf(info->labels + at, sizeof info->labels - at, "%s%c:%.*s", k ? "," : "", s ? 'R' : 'L', len, l);
            l = e ? e + 1 : l + len;
        }
    }
    info->legs = PLM_LEG_BOTH;
    plm__read_canonical_map(info);
    info->is_float = in[0]->is_float && in[1]->is_float;
    /* one full scale for the clipping check: the smaller (a file of floats has none) */
    double fs0 = in[0]->full_scale_g, fs1 = in[1]->full_scale_g;
    info->full_scale_g = isnan(fs0) ? fs1 : isnan(fs1) ? fs0 : fs0 < fs1 ? fs0 : fs1;
    snprintf(info->full_scale_source, sizeof info->full_scale_source, "%s",
             info->full_scale_g == fs0 ? in[0]->full_scale_source : in[1]->full_scale_source);
    info->has_start = 1;
    info->start = in[0]->start;
    double w = floor(T);
    info->start.utc_s += (int64_t)w;
    info->start.nsec += (int32_t)llround((T - w) * 1e9);
    while (info->start.nsec >= 1000000000) info->start.nsec -= 1000000000, info->start.utc_s++;
    plm__strlcpy(info->start_source, in[0]->start_source, sizeof info->start_source);
    snprintf(info->device, sizeof info->device, "%.22s + %.22s", in[0]->device[0] ? in[0]->device : in[0]->format,
             in[1]->device[0] ? in[1]->device : in[1]->format);
    snprintf(info->serial, sizeof info->serial, "%.22s + %.22s", in[0]->serial[0] ? in[0]->serial : "-",
             in[1]->serial[0] ? in[1]->serial : "-");
    info->zone_known = in[0]->zone_known && in[1]->zone_known;
    info->nsides = 2;
    for (int s = 0; s < 2; s++) {
        info->side[s].path = p->sub[s]->path;
        info->side[s].info = in[s];
        info->side[s].offset_s = s0[s] - T;
        info->side[s].skipped_frames =
            s == p->ax ? k0 : (T > s0[s] ? (int64_t)ceil((T - s0[s]) * in[s]->fs_hz - 1e-6) : 0);
        side_warnings(info, s, in[s]->warnings);
    }
    if (!info->zone_known && in[0]->zone_known != in[1]->zone_known)
        plm__read_warn(info, "%sonly one of the two files says its time zone: set the manifest column timezone, "
                             "else the two may be hours apart", info->warnings[0] ? "; " : "");
    if (isfinite(fs0) && isfinite(fs1) && fs0 != fs1)
        plm__read_warn(info, "%sthe two devices' full scales differ (%g and %g g): clipping is flagged at the smaller",
                       info->warnings[0] ? "; " : "", fs0, fs1);

    p->acap = r->cfg.block_frames;
    p->ocap = p->acap + 2 * (int64_t)p->half + 4;
    p->ab = malloc(plm__mul(plm__mul((size_t)p->acap, (size_t)p->nch[p->ax]), sizeof(double)));
    p->at = malloc(plm__mul((size_t)p->acap, sizeof(double)));
    p->ob = malloc(plm__mul(plm__mul((size_t)p->ocap, (size_t)p->nch[p->ot]), sizeof(double)));
    p->ou = malloc(plm__mul((size_t)p->ocap, sizeof(double)));
    p->tmpx = malloc(plm__mul(plm__mul((size_t)p->ocap, (size_t)p->nch[p->ot]), sizeof(double)));
    p->tmpt = malloc(plm__mul((size_t)p->ocap, sizeof(double)));
    p->kern = kernel_table();
    p->w = malloc(sizeof(double) * 2 * (size_t)p->half);
    if (p->kern && p->stretch == 1 && (p->poly = malloc(sizeof(double) * 2 * LOBES * (PHASES + 1))))
        for (int i = 0; i <= PHASES; i++) eval_weights(p, (double)i / PHASES, p->poly + (size_t)i * 2 * LOBES);
    if (!p->kern || !p->w || (p->stretch == 1 && !p->poly) || !p->ab || !p->at || !p->ob || !p->ou || !p->tmpx ||
        !p->tmpt)
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    return take_gaps(r, p);
}
