/* plots.c -- the figures of a results file (plm/figure.h), drawn with figure.c. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "figure_internal.h"
#include "plm/nights.h"
#include "plm/store.h"

plm_figure_kind plm_figure_kind_from_name(const char *name)
{
    static const char *const names[] = {"", "activity", "raster", "sleep", "imi", "paired"};
    for (int k = 1; k <= 5; k++)
        if (name && !strcmp(name, names[k])) return (plm_figure_kind)k;
    return 0;
}

/* What a night's figures need from /recordings/<id>. */
typedef struct {
    const char *path, *id;
    char grp[1100];
    double duration_s, lights_off_s, lights_on_s;
    double clock0_s; /* seconds after local midnight of the first sample; NaN when unknown */
} night_info;

static plm_status night_open(const char *path, const char *id, night_info *n)
{
    memset(n, 0, sizeof *n);
    n->path = path;
    n->id = id;
    snprintf(n->grp, sizeof n->grp, "/recordings/%s", id);
    plm_status st = plm_store_read_attr_f64(path, n->grp, "duration_s", &n->duration_s);
    if (st == PLM_ENODATA || st == PLM_EIO) {
        if (st == PLM_EIO) return st;
        PLM_FAIL(PLM_EFORMAT, "%s: no recording '%s' (see /nights for the ids)", path, id);
    }
    if (st) return st;
    if (plm_store_read_attr_f64(path, n->grp, "lights_off_s", &n->lights_off_s)) n->lights_off_s = NAN;
    if (plm_store_read_attr_f64(path, n->grp, "lights_on_s", &n->lights_on_s)) n->lights_on_s = NAN;
    char local[64];
    int hh, mm;
    double ss;
    n->clock0_s = NAN;
    if (!plm_store_read_attr_str(path, n->grp, "start_local", local, sizeof local) && strlen(local) >= 19 &&
        sscanf(local + 11, "%2d:%2d:%lf", &hh, &mm, &ss) == 3)
        n->clock0_s = hh * 3600.0 + mm * 60.0 + ss;
    if (!(n->duration_s > 0)) n->duration_s = 1;
    return PLM_OK;
}

/* Shade what is outside lights off .. on over the plot area. */
static void shade_outside(fig_canvas *f, const night_info *n)
{
    if (isfinite(n->lights_off_s) && n->lights_off_s > 0)
        fig_rect(f, fig_x(f, 0), f->py0, fig_x(f, fmin(n->lights_off_s, n->duration_s)), f->py1, FIG_OUTSIDE, 1);
    if (isfinite(n->lights_on_s) && n->lights_on_s < n->duration_s)
        fig_rect(f, fig_x(f, fmax(n->lights_on_s, 0)), f->py0, fig_x(f, n->duration_s), f->py1, FIG_OUTSIDE, 1);
}

static void lights_lines(fig_canvas *f, const night_info *n)
{
    double t[2] = {n->lights_off_s, n->lights_on_s};
    for (int k = 0; k < 2; k++)
        if (isfinite(t[k]) && t[k] >= 0 && t[k] <= n->duration_s)
            fig_line(f, fig_x(f, t[k]), f->py0, fig_x(f, t[k]), f->py1, FIG_INK, 1, 1);
}

/* ---- activity: min/max of each leg's per-second MAD in each pixel column ---- */

static plm_status draw_activity(fig_canvas *f, const night_info *n)
{
    int npx = (int)(f->px1 - f->px0);
    double *mm = malloc(sizeof(double) * 4 * (size_t)npx); /* per leg: min, max */
    plm_activity_row *rows = malloc(sizeof *rows * 65536);
    plm_qc_row *qc = NULL;
    size_t nqc = 0;
    plm_status st = PLM_OK;
    if (!mm || !rows) {
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < 4 * npx; i++) mm[i] = NAN;
    size_t first = 0, got, total;
    do {
        if ((st = plm_store_read_activity(n->path, n->id, first, 65536, rows, &got, &total))) goto done;
        for (size_t i = 0; i < got; i++) {
            int c = (int)(rows[i].onset_s / n->duration_s * npx);
            if (c < 0 || c >= npx) continue;
            double v[2] = {rows[i].left_mad_g, rows[i].right_mad_g};
            for (int l = 0; l < 2; l++) {
                if (!isfinite(v[l])) continue;
                double x = fmin(fmax(v[l], 1e-3), 1.0), *lo = &mm[(2 * l) * npx + c], *hi = &mm[(2 * l + 1) * npx + c];
                if (!(*lo <= x)) *lo = x;
                if (!(*hi >= x)) *hi = x;
            }
        }
        first += got;
    } while (got);
    f->x = (fig_scale){0, n->duration_s, 0};
    f->y = (fig_scale){1e-3, 1.0, 1};
    shade_outside(f, n);
    if (plm_store_read_qc(n->path, n->id, &qc, &nqc) == PLM_OK)
        for (size_t i = 0; i < nqc; i++)
            fig_rect(f, fig_x(f, qc[i].onset_s), f->py0, fmax(fig_x(f, qc[i].offset_s), fig_x(f, qc[i].onset_s) + 1), f->py1,
                     FIG_QC, 0.35);
    fig_axis_y(f, "activity (g)", 1);
    int any = 0, has[2] = {0, 0};
    for (int l = 1; l >= 0; l--) { /* right under left */
        const double *lo = mm + 2 * l * npx, *hi = mm + (2 * l + 1) * npx;
        for (int c = 0; c < npx;) { /* each run of columns with data: upper edge, then lower edge back */
            if (isnan(lo[c])) {
                c++;
                continue;
            }
            int e = c;
            while (e < npx && !isnan(lo[e])) e++;
            cairo_move_to(f->cr, f->px0 + c, fig_y(f, hi[c]));
            for (int k = c; k < e; k++) cairo_line_to(f->cr, f->px0 + k + 1, fig_y(f, hi[k]));
            for (int k = e - 1; k >= c; k--) cairo_line_to(f->cr, f->px0 + k + (k == e - 1 ? 1 : 0), fig_y(f, lo[k]) + 0.5);
            cairo_close_path(f->cr);
            fig_colour(f, l ? FIG_RIGHT : FIG_LEFT, 0.8);
            cairo_fill(f->cr);
            any = has[l] = 1;
            c = e;
        }
    }
    if (!any) fig_empty(f, "no activity recorded");
    lights_lines(f, n);
    fig_axis_x_time(f, n->clock0_s, NULL);
    double x = f->px0;
    if (has[0]) x = fig_legend(f, x, 15, FIG_LEFT, "left leg");
    if (has[1]) x = fig_legend(f, x, 15, FIG_RIGHT, "right leg");
    x = fig_legend(f, x, 15, FIG_OUTSIDE, "outside lights off-on");
    fig_legend(f, x, 15, FIG_QC, "excluded (QC)");
done:
    free(mm);
    free(rows);
    plm_qc_rows_free(qc, nqc);
    return st;
}

/* ---- raster: one row per hour ---- */

static int raster_rows(double duration_s)
{
    int rows = (int)ceil(duration_s / 3600 - 1e-9);
    return rows > 0 ? rows : 1;
}

static plm_status draw_raster(fig_canvas *f, const night_info *n)
{
    plm_lm_row *lm = NULL;
    size_t nlm = 0;
    plm_status st = plm_store_read_lm(n->path, n->id, &lm, &nlm);
    if (st) return st;
    int rows = raster_rows(n->duration_s);
    double rh = (f->py1 - f->py0) / rows;
    f->x = (fig_scale){0, 60, 0};
    f->y = (fig_scale){0, rows, 0};
    fig_mark_class(f, FIG_PLM, 0, "lm plm");
    fig_mark_class(f, FIG_CLM, 0, "lm clm");
    fig_mark_class(f, FIG_LM, 0, "lm other");
    for (int r = 0; r < rows; r++) { /* outside lights off-on, per row */
        double t0 = r * 3600.0, t1 = t0 + 3600, y0 = f->py0 + r * rh, y1 = y0 + rh;
        double a[2][2] = {{t0, isfinite(n->lights_off_s) ? fmin(t1, n->lights_off_s) : t0},
                          {isfinite(n->lights_on_s) ? fmax(t0, n->lights_on_s) : t1, fmin(t1, n->duration_s)}};
        for (int k = 0; k < 2; k++)
            if (a[k][1] > a[k][0]) fig_rect(f, fig_x(f, (a[k][0] - t0) / 60), y0, fig_x(f, (a[k][1] - t0) / 60), y1, FIG_OUTSIDE, 1);
        if (t1 > n->duration_s) /* after the end */
            fig_rect(f, fig_x(f, (n->duration_s - t0) / 60), y0, fig_x(f, 60), y1, FIG_GRID, 1);
    }
    for (size_t i = 0; i < nlm; i++) {
        int r = (int)floor(lm[i].onset_s / 3600);
        if (r < 0) r = 0;
        if (r >= rows) r = rows - 1;
        double t0 = r * 3600.0, x0 = fig_x(f, (lm[i].onset_s - t0) / 60),
               x1 = fig_x(f, fmin(lm[i].offset_s - t0, 3600) / 60), y0 = f->py0 + r * rh;
        if (x1 - x0 < 1.2) x1 = x0 + 1.2;
        fig_rect(f, x0, y0 + rh * 0.12, x1, y0 + rh * 0.88, lm[i].plm ? FIG_PLM : lm[i].clm ? FIG_CLM : FIG_LM, 1);
    }
    int every = rh >= 11 ? 1 : (int)ceil(11 / rh);
    for (int r = 0; r < rows; r += every) {
        double y = f->py0 + (r + 0.5) * rh + 4;
        if (isfinite(n->clock0_s)) {
            long s = lround(n->clock0_s) + r * 3600L;
            fig_text(f, f->px0 - 6, y, 1, 10, 0, FIG_INK, "%02ld:%02ld", s / 3600 % 24, s / 60 % 60);
        } else {
            fig_text(f, f->px0 - 6, y, 1, 10, 0, FIG_INK, "+%d h", r);
        }
    }
    fig_axis_x(f, "minutes into the hour (each row one hour from the first sample)", 0);
    double x = f->px0;
    x = fig_legend(f, x, 15, FIG_PLM, "PLM (in a series)");
    x = fig_legend(f, x, 15, FIG_CLM, "other CLM");
    x = fig_legend(f, x, 15, FIG_LM, "other LM");
    fig_text(f, f->px1, 15, 1, 11, 0, FIG_INK, "%zu leg movements", nlm);
    free(lm);
    return PLM_OK;
}

/* ---- sleep/wake per epoch ---- */

static plm_status draw_sleep(fig_canvas *f, const night_info *n)
{
    plm_epoch_row *ep = NULL;
    size_t nep = 0;
    plm_status st = plm_store_read_epochs(n->path, n->id, &ep, &nep);
    if (st) return st;
    f->x = (fig_scale){0, n->duration_s, 0};
    f->y = (fig_scale){0, 2, 0};
    shade_outside(f, n);
    double len = nep > 1 ? ep[1].onset_s - ep[0].onset_s : 30;
    double ym = (f->py0 + f->py1) / 2;
    for (size_t i = 0; i < nep;) { /* runs of epochs in one state: one block each */
        size_t e = i + 1;
        while (e < nep && !ep[e].sleep == !ep[i].sleep && ep[e].onset_s - ep[e - 1].onset_s < 1.5 * len) e++;
        double x0 = fig_x(f, ep[i].onset_s), x1 = fig_x(f, ep[e - 1].onset_s + len);
        if (ep[i].sleep) fig_rect(f, x0, ym, x1, f->py1 - 2, FIG_SLEEP, 1);
        else fig_rect(f, x0, f->py0 + 2, x1, ym, FIG_WAKE, 1);
        i = e;
    }
    if (!nep) fig_empty(f, "no epochs scored");
    fig_text(f, f->px0 - 6, (f->py0 + ym) / 2 + 4, 1, 10, 0, FIG_INK, "wake");
    fig_text(f, f->px0 - 6, (ym + f->py1) / 2 + 4, 1, 10, 0, FIG_INK, "sleep");
    lights_lines(f, n);
    fig_axis_x_time(f, n->clock0_s, NULL);
    double x = f->px0;
    x = fig_legend(f, x, 15, FIG_SLEEP, "sleep");
    x = fig_legend(f, x, 15, FIG_WAKE, "wake (30-s epochs, lights off to on)");
    fig_legend(f, x, 15, FIG_OUTSIDE, "outside lights off-on");
    free(ep);
    return PLM_OK;
}

/* ---- IMI histogram ---- */

static plm_status draw_imi(fig_canvas *f, const night_info *n)
{
    plm_imi_bin *b = NULL;
    size_t nb = 0;
    plm_status st = plm_store_read_imi_histogram(n->path, n->id, &b, &nb);
    if (st) return st;
    int32_t top = 0;
    for (size_t i = 0; i < nb; i++) top = b[i].count > top ? b[i].count : top;
    double ymax = top > 0 ? ceil(top / fig_tick_step(top, 4)) * fig_tick_step(top, 4) : 1;
    f->x = (fig_scale){1, 1000, 1};
    f->y = (fig_scale){0, ymax, 0};
    fig_mark_class(f, FIG_BAR, 0, "imi-bar");
    fig_rect(f, fig_x(f, 10), f->py0, fig_x(f, 90), f->py1, FIG_BAND, 0.45);
    fig_axis_y(f, "intervals", 1);
    for (size_t i = 0; i < nb; i++)
        if (b[i].count > 0 && b[i].lo_s >= 1 && b[i].hi_s <= 1000)
            fig_rect(f, fig_x(f, b[i].lo_s) + 0.5, fig_y(f, b[i].count), fig_x(f, b[i].hi_s) - 0.5, f->py1, FIG_BAR, 1);
    if (!top) fig_empty(f, "no intervals between leg movements");
    fig_axis_x(f, "inter-movement interval (s, log scale)", 0);
    double x = f->px0;
    x = fig_legend(f, x, 15, FIG_BAR, "IMI of consecutive LMs in sleep");
    fig_legend(f, x, 15, FIG_BAND, "10-90 s (PLM range)");
    free(b);
    return PLM_OK;
}

/* ---- paired: one outcome per subject, control to treatment ---- */

typedef struct {
    const char *subject;
    double sum[2];
    int n[2];
    int32_t first[2]; /* the lowest night number taken (first-night-only statistics) */
} subj_acc;

static plm_status draw_paired(fig_canvas *f, const char *path, const char *outcome)
{
    const plm_night_field *fd = plm_night_field_find(outcome);
    if (!fd || fd->type == PLM_NF_STR) PLM_FAIL(PLM_EFORMAT, "%s: '%s' is not a numeric /nights column", path, outcome);
    char cond[2][128], nights_rule[16] = "mean";
    plm_store_read_attr_str(path, "/", "param.stats.nights", nights_rule, sizeof nights_rule);
    int first_only = !strcmp(nights_rule, "first"); /* as the statistics were computed */
    if (plm_store_read_attr_str(path, "/", "param.stats.control", cond[0], sizeof cond[0])) strcpy(cond[0], "control");
    if (plm_store_read_attr_str(path, "/", "param.stats.treatment", cond[1], sizeof cond[1])) strcpy(cond[1], "magnesium");
    plm_night *rows = NULL;
    size_t nr = 0;
    plm_status st = plm_store_read_nights(path, &rows, &nr);
    if (st) return st;
    subj_acc *s = calloc(nr ? nr : 1, sizeof *s);
    plm_stat_row *stats = NULL;
    size_t nstats = 0;
    if (!s) {
        plm_nights_free(rows, nr);
        PLM_FAIL(PLM_ENOMEM, "out of memory");
    }
    size_t ns = 0;
    for (int pass = 0; pass < 2; pass++) /* subjects and their first nights; then the values, as the statistics take them */
        for (size_t i = 0; i < nr; i++) {
            int c = !strcmp(rows[i].condition, cond[0]) ? 0 : !strcmp(rows[i].condition, cond[1]) ? 1 : -1;
            if (c < 0) continue;
            size_t k = 0;
            while (k < ns && strcmp(s[k].subject, rows[i].subject)) k++;
            if (!pass) {
                if (k == ns) s[ns++] = (subj_acc){rows[i].subject, {0, 0}, {0, 0}, {INT32_MAX, INT32_MAX}};
                if (rows[i].night < s[k].first[c]) s[k].first[c] = rows[i].night;
                continue;
            }
            const char *base = (const char *)&rows[i] + fd->offset;
            double v = fd->type == PLM_NF_F64 ? *(const double *)base : (double)*(const int32_t *)base;
            if (!isfinite(v) || (first_only && rows[i].night != s[k].first[c])) continue;
            s[k].sum[c] += v;
            s[k].n[c]++;
        }
    double lo = INFINITY, hi = -INFINITY;
    int both = 0;
    for (size_t k = 0; k < ns; k++)
        for (int c = 0; c < 2; c++)
            if (s[k].n[c]) {
                double m = s[k].sum[c] / s[k].n[c];
                lo = fmin(lo, m), hi = fmax(hi, m);
                both += c == 1 && s[k].n[0];
            }
    if (!(hi > lo)) lo = isfinite(lo) ? lo - 1 : 0, hi = isfinite(hi) ? hi + 1 : 1;
    double pad = 0.06 * (hi - lo);
    f->x = (fig_scale){-0.5, 1.5, 0};
    f->y = (fig_scale){lo - pad, hi + pad, 0};
    fig_mark_class(f, FIG_SUBJECT, 1, "subject-line");
    fig_axis_y(f, outcome, 1);
    fig_text(f, fig_x(f, 0), f->py1 + 16, 0, 11, 0, FIG_INK, "%s", cond[0]);
    fig_text(f, fig_x(f, 1), f->py1 + 16, 0, 11, 0, FIG_INK, "%s", cond[1]);
    for (size_t k = 0; k < ns; k++) {
        if (!s[k].n[0] || !s[k].n[1]) continue;
        double y0 = fig_y(f, s[k].sum[0] / s[k].n[0]), y1 = fig_y(f, s[k].sum[1] / s[k].n[1]);
        fig_line(f, fig_x(f, 0), y0, fig_x(f, 1), y1, FIG_SUBJECT, 1.3, 0);
        for (int c = 0; c < 2; c++) {
            fig_colour(f, c ? FIG_PLM : FIG_LEFT, 1);
            cairo_arc(f->cr, fig_x(f, c), c ? y1 : y0, 3, 0, 2 * M_PI);
            cairo_fill(f->cr);
        }
    }
    if (!both) fig_empty(f, "no subject has values for both conditions");
    fig_text(f, f->px0, 15, -1, 11, 0, FIG_INK, "%d subject%s with both conditions (%s)", both, both == 1 ? "" : "s",
             first_only ? "first night" : "nights averaged");
    /* beside it: the mean difference (treatment - control) with its 95 % CI, from /stats */
    double dx0 = f->px1 + 50, dx1 = f->w - 24, d = NAN, dl = NAN, dh = NAN;
    if (plm_store_read_stats(path, &stats, &nstats) == PLM_OK)
        for (size_t i = 0; i < nstats; i++)
            if (!strcmp(stats[i].outcome, outcome)) d = stats[i].diff_mean, dl = stats[i].diff_ci_low, dh = stats[i].diff_ci_high;
    if (isfinite(d) && isfinite(dl) && isfinite(dh)) {
        double a = fmin(fmin(dl, 0), d), b = fmax(fmax(dh, 0), d), p2 = 0.08 * (b - a > 0 ? b - a : 1);
        fig_scale keep = f->y;
        f->y = (fig_scale){a - p2, b + p2, 0};
        double step = fig_tick_step(f->y.hi - f->y.lo, 5);
        cairo_set_line_width(f->cr, 1);
        fig_colour(f, FIG_INK, 1);
        cairo_rectangle(f->cr, dx0, f->py0, dx1 - dx0, f->py1 - f->py0);
        cairo_stroke(f->cr);
        for (double v = ceil(f->y.lo / step - 1e-9) * step; v <= f->y.hi + 1e-9 * step; v += step) {
            double y = fig_y(f, v);
            fig_line(f, dx0 - 4, y, dx0, y, FIG_INK, 1, 0);
            fig_text(f, dx0 - 6, y + 4, 1, 10, 0, FIG_INK, "%g", fabs(v) < 1e-9 * step ? 0.0 : v);
        }
        double xm = (dx0 + dx1) / 2;
        fig_line(f, dx0, fig_y(f, 0), dx1, fig_y(f, 0), FIG_MUTED, 1, 1);
        fig_line(f, xm, fig_y(f, dl), xm, fig_y(f, dh), FIG_INK, 1.6, 0);
        fig_line(f, xm - 6, fig_y(f, dl), xm + 6, fig_y(f, dl), FIG_INK, 1.6, 0);
        fig_line(f, xm - 6, fig_y(f, dh), xm + 6, fig_y(f, dh), FIG_INK, 1.6, 0);
        fig_colour(f, FIG_INK, 1);
        cairo_arc(f->cr, xm, fig_y(f, d), 4, 0, 2 * M_PI);
        cairo_fill(f->cr);
        fig_text(f, xm, f->py1 + 16, 0, 10, 0, FIG_INK, "difference, 95 %% CI");
        f->y = keep;
    } else {
        fig_text(f, (dx0 + dx1) / 2, (f->py0 + f->py1) / 2, 0, 10, 0, FIG_MUTED, "no difference computed");
    }
    free(s);
    plm_nights_free(rows, nr);
    for (size_t i = 0; i < nstats; i++) free((char *)stats[i].outcome);
    free(stats);
    return PLM_OK;
}

plm_status plm_figure_draw(const char *path, const plm_figure_cfg *cfg, plm_bytes *out)
{
    if (!cfg || cfg->kind < PLM_FIGURE_ACTIVITY || cfg->kind > PLM_FIGURE_PAIRED)
        PLM_FAIL(PLM_EINVAL, "unknown figure kind");
    if (cfg->format != PLM_FIGURE_SVG && cfg->format != PLM_FIGURE_PNG) PLM_FAIL(PLM_EINVAL, "figure format: SVG or PNG");
    if (cfg->kind != PLM_FIGURE_PAIRED && (!cfg->recording || !*cfg->recording))
        PLM_FAIL(PLM_EINVAL, "this figure is of one night: name the recording");
    night_info n;
    plm_status st = PLM_OK;
    if (cfg->kind != PLM_FIGURE_PAIRED && (st = night_open(path, cfg->recording, &n))) return st;
    int w = cfg->width > 0 ? cfg->width : cfg->kind == PLM_FIGURE_PAIRED ? 480 : cfg->kind == PLM_FIGURE_IMI ? 460 : 900;
    int h = cfg->height;
    if (h <= 0) {
        if (cfg->kind == PLM_FIGURE_RASTER) {
            int rows = raster_rows(n.duration_s);
            h = 60 + rows * (rows <= 24 ? 14 : rows <= 72 ? 7 : 4);
        } else {
            h = cfg->kind == PLM_FIGURE_SLEEP ? 130 : cfg->kind == PLM_FIGURE_ACTIVITY ? 230 : 300;
        }
    }
    static const double margins[] = {58, 14, 26, 36};
    double m[4] = {margins[0], margins[1], margins[2], margins[3]};
    if (cfg->kind == PLM_FIGURE_PAIRED) m[1] = 150; /* the difference panel */
    fig_canvas f;
    if ((st = fig_begin(&f, cfg->format, w, h, m, out))) return st;
    switch (cfg->kind) {
    case PLM_FIGURE_ACTIVITY: st = draw_activity(&f, &n); break;
    case PLM_FIGURE_RASTER: st = draw_raster(&f, &n); break;
    case PLM_FIGURE_SLEEP: st = draw_sleep(&f, &n); break;
    case PLM_FIGURE_IMI: st = draw_imi(&f, &n); break;
    case PLM_FIGURE_PAIRED: st = draw_paired(&f, path, cfg->outcome ? cfg->outcome : "plms_index"); break;
    }
    if (st) {
        fig_abort(&f);
        return st;
    }
    return fig_end(&f, cfg->id_prefix);
}
