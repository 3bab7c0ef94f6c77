/* figure_internal.h -- the drawing module (figure.c) that plots.c draws every figure with: a cairo
 * canvas (SVG or PNG), a plot area, linear / log / time axes with ticks, the palette, text, and
 * the SVG post-processing that lets several figures live in one HTML page (unique ids) and marks
 * elements with a class (the tests count them). */
#ifndef PLM_FIGURE_INTERNAL_H
#define PLM_FIGURE_INTERNAL_H

#include <cairo.h>
#include "plm/figure.h"
#include "internal.h"

/* Colours: Okabe & Ito's palette (distinct for the common colour-vision deficiencies) with
 * luminances apart enough to survive greyscale printing (left dark blue, right light orange). */
typedef struct {
    double r, g, b;
} fig_rgb;

extern const fig_rgb FIG_INK, FIG_GRID, FIG_MUTED, FIG_LEFT, FIG_RIGHT, FIG_PLM, FIG_CLM, FIG_LM, FIG_SLEEP, FIG_WAKE,
    FIG_OUTSIDE, FIG_QC, FIG_BAR, FIG_BAND, FIG_SUBJECT;

typedef struct {
    double lo, hi; /* data range */
    int log;       /* log10 scale */
} fig_scale;

typedef struct {
    cairo_surface_t *surf;
    cairo_t *cr;
    plm_figure_format fmt;
    int w, h;
    double px0, px1, py0, py1; /* the plot area: x from px0 to px1, y from py1 (bottom) to py0 (top) */
    fig_scale x, y;
    plm_bytes *out;
    plm_bytes svg;             /* cairo's SVG, before post-processing */
    /* SVG post-processing: elements filled or stroked with these colours get these classes */
    struct {
        fig_rgb c;
        int stroke;
        const char *cls;
    } marks[6];
    int nmarks;
} fig_canvas;

/* Start a w x h figure; the plot area inset by the margins (left, right, top, bottom, px). */
plm_status fig_begin(fig_canvas *f, plm_figure_format fmt, int w, int h, const double margins[4], plm_bytes *out);
/* Finish: SVG ids prefixed with id_prefix (may be NULL), classes set, bytes in out; PNG encoded. */
plm_status fig_end(fig_canvas *f, const char *id_prefix);
void fig_abort(fig_canvas *f);

/* Elements drawn with colour c (filled: stroke 0; stroked: 1) get class cls in the SVG. The colour
 * must be used by nothing else in the figure. */
void fig_mark_class(fig_canvas *f, fig_rgb c, int stroke, const char *cls);

double fig_x(const fig_canvas *f, double v); /* data -> pixels */
double fig_y(const fig_canvas *f, double v);

void fig_colour(fig_canvas *f, fig_rgb c, double alpha);
void fig_rect(fig_canvas *f, double x0, double y0, double x1, double y1, fig_rgb c, double alpha); /* pixels, filled */
void fig_line(fig_canvas *f, double x0, double y0, double x1, double y1, fig_rgb c, double width, int dashed);
/* Text at (x, y) px; align -1 left, 0 centre, 1 right; baseline at y; size in px; rotated 90 deg
 * counter-clockwise when vertical. Returns its width (px). */
double fig_text(fig_canvas *f, double x, double y, int align, double size, int vertical, fig_rgb c, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));
/* A legend entry at (x, y): a short thick stroke of c, then the label; returns the x after it. */
double fig_legend(fig_canvas *f, double x, double y, fig_rgb c, const char *label);

/* The axes: frame, ticks with labels and a title. Linear ticks at 1, 2, 5 x 10^k; log ticks at the
 * decades. x as hours of a recording: ticks on the clock hour when clock0_s (seconds after local
 * midnight of the first sample) is finite, labelled hh:00, else hours from the start. */
void fig_axis_y(fig_canvas *f, const char *title, int grid);
void fig_axis_x(fig_canvas *f, const char *title, int grid);
void fig_axis_x_time(fig_canvas *f, double clock0_s, const char *title);
/* A message in the middle of the plot area (no data to draw). */
void fig_empty(fig_canvas *f, const char *msg);

/* Nice tick step for a range and a wanted number of ticks. */
double fig_tick_step(double range, int want);

#endif
