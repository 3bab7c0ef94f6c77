/* figure.c -- the drawing module: canvas, axes and ticks, palette, text, SVG post-processing
 * (figure_internal.h). The figures themselves are in plots.c. */
#define _DEFAULT_SOURCE
#include <cairo-svg.h>
#include <fontconfig/fontconfig.h>
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "figure_internal.h"

const fig_rgb FIG_INK = {0.13, 0.13, 0.13}, FIG_GRID = {0.88, 0.88, 0.88}, FIG_MUTED = {0.45, 0.45, 0.45},
              FIG_LEFT = {0.0, 0.447, 0.698}, FIG_RIGHT = {0.902, 0.624, 0.0}, FIG_PLM = {0.835, 0.369, 0.0},
              FIG_CLM = {0.337, 0.706, 0.914}, FIG_LM = {0.6, 0.6, 0.6}, FIG_SLEEP = {0.0, 0.62, 0.451},
              FIG_WAKE = {0.941, 0.894, 0.259}, FIG_OUTSIDE = {0.93, 0.93, 0.93}, FIG_QC = {0.8, 0.475, 0.655},
              FIG_BAR = {0.0, 0.447, 0.698}, FIG_BAND = {0.941, 0.894, 0.259}, FIG_SUBJECT = {0.4, 0.4, 0.4};

void plm_bytes_free(plm_bytes *b)
{
    if (!b) return;
    free(b->data);
    memset(b, 0, sizeof *b);
}

static int bytes_add(plm_bytes *b, const void *p, size_t n)
{
    if (!plm__grow((void **)&b->data, &b->cap, b->n + n + 1, 1, 4096)) return 0;
    memcpy(b->data + b->n, p, n);
    b->n += n;
    b->data[b->n] = '\0';
    return 1;
}

static cairo_status_t write_bytes(void *closure, const unsigned char *data, unsigned int n)
{
    return bytes_add(closure, data, n) ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

plm_status fig_begin(fig_canvas *f, plm_figure_format fmt, int w, int h, const double margins[4], plm_bytes *out)
{
    memset(f, 0, sizeof *f);
    if (w < 120 || w > 8000 || h < 80 || h > 20000) PLM_FAIL(PLM_EINVAL, "figure size %d x %d px: 120..8000 x 80..20000", w, h);
    f->fmt = fmt;
    f->w = w;
    f->h = h;
    f->out = out;
    if (fmt == PLM_FIGURE_SVG) {
        f->surf = cairo_svg_surface_create_for_stream(write_bytes, &f->svg, w, h);
        cairo_svg_surface_restrict_to_version(f->surf, CAIRO_SVG_VERSION_1_1);
    } else {
        f->surf = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    }
    f->cr = cairo_create(f->surf);
    if (cairo_status(f->cr) != CAIRO_STATUS_SUCCESS) {
        fig_abort(f);
        PLM_FAIL(PLM_ENOMEM, "cannot create a %d x %d figure", w, h);
    }
    cairo_set_source_rgb(f->cr, 1, 1, 1);
    cairo_paint(f->cr);
    cairo_select_font_face(f->cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    f->px0 = margins[0];
    f->px1 = w - margins[1];
    f->py0 = margins[2];
    f->py1 = h - margins[3];
    f->x = (fig_scale){0, 1, 0};
    f->y = (fig_scale){0, 1, 0};
    return PLM_OK;
}

void fig_abort(fig_canvas *f)
{
    if (f->cr) cairo_destroy(f->cr);
    if (f->surf) cairo_surface_destroy(f->surf);
    f->cr = NULL;
    f->surf = NULL;
    plm_bytes_free(&f->svg);
}

void fig_mark_class(fig_canvas *f, fig_rgb c, int stroke, const char *cls)
{
    if (f->nmarks < (int)(sizeof f->marks / sizeof f->marks[0])) {
        f->marks[f->nmarks].c = c;
        f->marks[f->nmarks].stroke = stroke;
        f->marks[f->nmarks].cls = cls;
        f->nmarks++;
    }
}

/* How cairo writes colour c in a style ("fill:rgb(83.5%,36.9%,0%);"): drawn once on a probe. */
static int colour_token(fig_rgb c, int stroke, char *tok, size_t n)
{
    plm_bytes b = {0};
    cairo_surface_t *s = cairo_svg_surface_create_for_stream(write_bytes, &b, 4, 4);
    cairo_t *cr = cairo_create(s);
    cairo_set_source_rgb(cr, c.r, c.g, c.b);
    cairo_rectangle(cr, 0, 0, 2, 2);
    if (stroke) cairo_stroke(cr);
    else cairo_fill(cr);
    cairo_destroy(cr);
    cairo_surface_destroy(s);
    const char *key = stroke ? ";stroke:rgb(" : ";fill:rgb(";
    const char *p = b.data ? strstr((const char *)b.data, key) : NULL, *e = p ? strchr(p, ')') : NULL;
    int ok = p && e && (size_t)(e - p + 2) < n;
    if (ok) snprintf(tok, n, "%.*s;", (int)(e - p + 1), p);
    plm_bytes_free(&b);
    return ok;
}

/* The SVG with every id and reference prefixed, width/height in px, and the marked classes. */
static plm_status svg_finish(fig_canvas *f, const char *prefix)
{
    char tok[8][96];
    for (int k = 0; k < f->nmarks; k++)
        if (!colour_token(f->marks[k].c, f->marks[k].stroke, tok[k], sizeof tok[k]))
            PLM_FAIL(PLM_EFORMAT, "cannot read cairo's SVG colour syntax");
    const char *s = (const char *)f->svg.data, *end = s + f->svg.n;
    size_t plen = prefix ? strlen(prefix) : 0;
    while (s < end) {
        const char *reps[] = {"id=\"", "href=\"#", "url(#", "pt\"", "<path "};
        const char *best = end;
        int which = -1;
        for (int k = 0; k < 5; k++) {
            const char *q = strstr(s, reps[k]);
            if (q && q < best) best = q, which = k;
        }
        if (!bytes_add(f->out, s, (size_t)(best - s))) goto oom;
        if (which < 0) break;
        size_t rl = strlen(reps[which]);
        if (which <= 2) { /* an id or a reference: prefixed */
            if (!bytes_add(f->out, best, rl) || (plen && !bytes_add(f->out, prefix, plen))) goto oom;
        } else if (which == 3) { /* width="600pt": pixels, as the viewBox */
            if (!bytes_add(f->out, "\"", 1)) goto oom;
        } else { /* <path style="...": a class when its colour is marked */
            const char *gt = strchr(best, '>'), *cls = NULL;
            int mark_fill = 0;
            for (int k = 0; k < f->nmarks && gt; k++) {
                const char *q = strstr(best, tok[k]);
                if (q && q < gt) cls = f->marks[k].cls, mark_fill = !f->marks[k].stroke;
            }
            if (!bytes_add(f->out, best, rl)) goto oom;
            if (cls && (!bytes_add(f->out, "class=\"", 7) || !bytes_add(f->out, cls, strlen(cls)) ||
                        !bytes_add(f->out, "\" ", 2)))
                goto oom;
            const char *sty = best + rl, *se = NULL;
            if (cls && mark_fill && !strncmp(sty, "style=\"", 7) && (se = strchr(sty + 7, '"')) && se < gt) {
                /* a filled mark: its colour as a short attribute instead of cairo's style */
                const char *c0 = strstr(sty, ";fill:") + 6, *c1 = strchr(c0, ';');
                if (!bytes_add(f->out, "fill=\"", 6) || !bytes_add(f->out, c0, (size_t)(c1 - c0)) || !bytes_add(f->out, "\"", 1))
                    goto oom;
                s = se + 1;
                continue;
            }
        }
        s = best + rl;
    }
    return PLM_OK;
oom:
    PLM_FAIL(PLM_ENOMEM, "out of memory writing a figure");
}

/* Numbers with more than two decimals rounded to two (0.01 px is below what any screen or printer
 * shows; cairo writes six), in place. */
static void shorten_numbers(plm_bytes *b)
{
    char *r = (char *)b->data, *w = r, *end = r + b->n;
    while (r < end) {
        if (*r >= '0' && *r <= '9' && (r == (char *)b->data || !(isalnum((unsigned char)r[-1]) || r[-1] == '.'))) {
            char *q = r;
            while (q < end && *q >= '0' && *q <= '9') q++;
            if (q < end && *q == '.' && q + 3 < end && q[1] >= '0' && q[1] <= '9' && q[2] >= '0' && q[2] <= '9' &&
                q[3] >= '0' && q[3] <= '9') {
                char *e = q + 1;
                while (e < end && *e >= '0' && *e <= '9') e++;
                char num[64];
                int neg = r > (char *)b->data && r[-1] == '-';
                double v = strtod(r, NULL);
                int k = snprintf(num, sizeof num, "%.2f", v);
                while (k > 0 && num[k - 1] == '0') k--;
                if (k > 0 && num[k - 1] == '.') k--;
                if (k == 1 && num[0] == '0' && neg && w > (char *)b->data && w[-1] == '-') w--; /* -0 */
                memmove(w, num, (size_t)k);
                w += k;
                r = e;
                continue;
            }
            memmove(w, r, (size_t)(q - r));
            w += q - r;
            r = q;
            continue;
        }
        *w++ = *r++;
    }
    b->n = (size_t)(w - (char *)b->data);
    b->data[b->n] = '\0';
}

plm_status fig_end(fig_canvas *f, const char *id_prefix)
{
    plm_status st = PLM_OK;
    cairo_destroy(f->cr);
    f->cr = NULL;
    if (f->fmt == PLM_FIGURE_SVG) {
        cairo_surface_finish(f->surf);
        if (cairo_surface_status(f->surf) != CAIRO_STATUS_SUCCESS)
            st = plm__fail(PLM_ENOMEM, "cairo: %s", cairo_status_to_string(cairo_surface_status(f->surf)));
        else {
            size_t at = f->out->n;
            st = svg_finish(f, id_prefix);
            if (!st) { /* shorten only what this figure added */
                plm_bytes tail = {f->out->data + at, f->out->n - at, 0};
                shorten_numbers(&tail);
                f->out->n = at + tail.n;
            }
        }
    } else if (cairo_surface_write_to_png_stream(f->surf, write_bytes, f->out) != CAIRO_STATUS_SUCCESS) {
        st = plm__fail(PLM_ENOMEM, "cannot encode the PNG");
    }
    cairo_surface_destroy(f->surf);
    f->surf = NULL;
    plm_bytes_free(&f->svg);
    return st;
}

double fig_x(const fig_canvas *f, double v)
{
    double lo = f->x.lo, hi = f->x.hi;
    if (f->x.log) v = log10(v), lo = log10(lo), hi = log10(hi);
    return f->px0 + (v - lo) / (hi - lo) * (f->px1 - f->px0);
}

double fig_y(const fig_canvas *f, double v)
{
    double lo = f->y.lo, hi = f->y.hi;
    if (f->y.log) v = log10(v), lo = log10(lo), hi = log10(hi);
    return f->py1 - (v - lo) / (hi - lo) * (f->py1 - f->py0);
}

void fig_colour(fig_canvas *f, fig_rgb c, double alpha)
{
    if (alpha >= 1) cairo_set_source_rgb(f->cr, c.r, c.g, c.b);
    else cairo_set_source_rgba(f->cr, c.r, c.g, c.b, alpha);
}

void fig_rect(fig_canvas *f, double x0, double y0, double x1, double y1, fig_rgb c, double alpha)
{
    fig_colour(f, c, alpha);
    cairo_rectangle(f->cr, fmin(x0, x1), fmin(y0, y1), fabs(x1 - x0), fabs(y1 - y0));
    cairo_fill(f->cr);
}

void fig_line(fig_canvas *f, double x0, double y0, double x1, double y1, fig_rgb c, double width, int dashed)
{
    fig_colour(f, c, 1);
    cairo_set_line_width(f->cr, width);
    static const double dash[2] = {4, 3};
    cairo_set_dash(f->cr, dash, dashed ? 2 : 0, 0);
    cairo_move_to(f->cr, x0, y0);
    cairo_line_to(f->cr, x1, y1);
    cairo_stroke(f->cr);
    cairo_set_dash(f->cr, dash, 0, 0);
}

double fig_text(fig_canvas *f, double x, double y, int align, double size, int vertical, fig_rgb c, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cairo_set_font_size(f->cr, size);
    cairo_text_extents_t e;
    cairo_text_extents(f->cr, buf, &e);
    double dx = align < 0 ? 0 : align == 0 ? -e.x_advance / 2 : -e.x_advance;
    fig_colour(f, c, 1);
    cairo_save(f->cr);
    cairo_translate(f->cr, x, y);
    if (vertical) cairo_rotate(f->cr, -M_PI / 2);
    cairo_move_to(f->cr, dx, 0);
    cairo_show_text(f->cr, buf);
    cairo_restore(f->cr);
    return e.x_advance;
}

double fig_legend(fig_canvas *f, double x, double y, fig_rgb c, const char *label)
{
    fig_colour(f, c, 1);
    cairo_set_line_width(f->cr, 7);
    cairo_move_to(f->cr, x, y - 4);
    cairo_line_to(f->cr, x + 12, y - 4);
    cairo_stroke(f->cr);
    return x + 16 + fig_text(f, x + 16, y, -1, 11, 0, FIG_INK, "%s", label) + 14;
}

double fig_tick_step(double range, int want)
{
    if (!(range > 0) || want < 1) return 1;
    double raw = range / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

static void frame(fig_canvas *f)
{
    cairo_set_line_width(f->cr, 1);
    fig_colour(f, FIG_INK, 1);
    cairo_rectangle(f->cr, f->px0, f->py0, f->px1 - f->px0, f->py1 - f->py0);
    cairo_stroke(f->cr);
}

static void tick_label(char *b, size_t n, double v, double step)
{
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    snprintf(b, n, "%.*f", dec, fabs(v) < step * 1e-6 ? 0.0 : v);
}

void fig_axis_y(fig_canvas *f, const char *title, int grid)
{
    char b[32];
    if (f->y.log) {
        for (double d = ceil(log10(f->y.lo) - 1e-9); d <= log10(f->y.hi) + 1e-9; d++) {
            double y = fig_y(f, pow(10, d));
            if (grid) fig_line(f, f->px0, y, f->px1, y, FIG_GRID, 0.8, 0);
            fig_line(f, f->px0 - 4, y, f->px0, y, FIG_INK, 1, 0);
            if (d >= 0) snprintf(b, sizeof b, "%g", pow(10, d));
            else snprintf(b, sizeof b, "%.*f", (int)-d, pow(10, d));
            fig_text(f, f->px0 - 6, y + 4, 1, 10, 0, FIG_INK, "%s", b);
        }
    } else {
        double step = fig_tick_step(f->y.hi - f->y.lo, 5);
        for (double v = ceil(f->y.lo / step - 1e-9) * step; v <= f->y.hi + step * 1e-9; v += step) {
            double y = fig_y(f, v);
            if (grid) fig_line(f, f->px0, y, f->px1, y, FIG_GRID, 0.8, 0);
            fig_line(f, f->px0 - 4, y, f->px0, y, FIG_INK, 1, 0);
            tick_label(b, sizeof b, v, step);
            fig_text(f, f->px0 - 6, y + 4, 1, 10, 0, FIG_INK, "%s", b);
        }
    }
    frame(f);
    if (title) fig_text(f, 13, (f->py0 + f->py1) / 2, 0, 11, 1, FIG_INK, "%s", title);
}

void fig_axis_x(fig_canvas *f, const char *title, int grid)
{
    char b[32];
    if (f->x.log) {
        for (double d = ceil(log10(f->x.lo) - 1e-9); d <= log10(f->x.hi) + 1e-9; d++) {
            double x = fig_x(f, pow(10, d));
            if (grid) fig_line(f, x, f->py0, x, f->py1, FIG_GRID, 0.8, 0);
            fig_line(f, x, f->py1, x, f->py1 + 4, FIG_INK, 1, 0);
            fig_text(f, x, f->py1 + 16, 0, 10, 0, FIG_INK, "%g", pow(10, d));
        }
    } else {
        double step = fig_tick_step(f->x.hi - f->x.lo, 8);
        for (double v = ceil(f->x.lo / step - 1e-9) * step; v <= f->x.hi + step * 1e-9; v += step) {
            double x = fig_x(f, v);
            if (grid) fig_line(f, x, f->py0, x, f->py1, FIG_GRID, 0.8, 0);
            fig_line(f, x, f->py1, x, f->py1 + 4, FIG_INK, 1, 0);
            tick_label(b, sizeof b, v, step);
            fig_text(f, x, f->py1 + 16, 0, 10, 0, FIG_INK, "%s", b);
        }
    }
    frame(f);
    if (title) fig_text(f, (f->px0 + f->px1) / 2, f->h - 6, 0, 11, 0, FIG_INK, "%s", title);
}

void fig_axis_x_time(fig_canvas *f, double clock0_s, const char *title)
{
    /* x is seconds from the first sample; ticks every 1, 2, 3, 6, 12 or 24 h, on the clock hour */
    double span_h = (f->x.hi - f->x.lo) / 3600;
    static const int steps[] = {1, 2, 3, 6, 12, 24};
    int step = 24;
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++)
        if (span_h / steps[k] <= 12) {
            step = steps[k];
            break;
        }
    double off = isfinite(clock0_s) ? clock0_s : 0; /* clock seconds at x = 0 */
    double first = ceil((f->x.lo + off) / (step * 3600.0) - 1e-9) * step * 3600.0 - off;
    for (double v = first; v <= f->x.hi + 1e-6; v += step * 3600.0) {
        double x = fig_x(f, v);
        fig_line(f, x, f->py0, x, f->py1, FIG_GRID, 0.8, 0);
        fig_line(f, x, f->py1, x, f->py1 + 4, FIG_INK, 1, 0);
        if (isfinite(clock0_s)) {
            long hh = lround((v + off) / 3600.0);
            fig_text(f, x, f->py1 + 16, 0, 10, 0, FIG_INK, "%02ld:00", ((hh % 24) + 24) % 24);
        } else {
            fig_text(f, x, f->py1 + 16, 0, 10, 0, FIG_INK, "%g h", fabs(v) < 1 ? 0.0 : v / 3600);
        }
    }
    frame(f);
    if (title) fig_text(f, (f->px0 + f->px1) / 2, f->h - 6, 0, 11, 0, FIG_INK, "%s", title);
}

void fig_empty(fig_canvas *f, const char *msg)
{
    fig_text(f, (f->px0 + f->px1) / 2, (f->py0 + f->py1) / 2, 0, 12, 0, FIG_MUTED, "%s", msg);
}

void plm_figure_cleanup(void)
{
    cairo_debug_reset_static_data();
    FcFini();
}
