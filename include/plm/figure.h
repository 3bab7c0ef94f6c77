/* plm/figure.h -- figures of a results file (actiplm plot; the report draws the same ones).
 *
 * Kinds:
 *   PLM_FIGURE_ACTIVITY  a night's activity trace per leg (MAD of |a| per second, log scale) over
 *                        the whole recording, reduced to min/max per pixel column; outside lights
 *                        off/on and QC-excluded spans shaded
 *   PLM_FIGURE_RASTER    a night's scored leg movements (/recordings/<id>/lm), one row per hour,
 *                        each movement a mark from onset to offset in the row of its onset: PLMs
 *                        (class "lm plm"), other CLMs ("lm clm"), other movements ("lm other")
 *   PLM_FIGURE_SLEEP     sleep/wake of each 30-s epoch (hypnogram) with lights off/on
 *   PLM_FIGURE_IMI       the IMI histogram (imi_histogram) on a log axis, 10-90 s marked; bars
 *                        of class "imi-bar", height proportional to the count
 *   PLM_FIGURE_PAIRED    one outcome per subject, control to treatment (nights averaged), lines of
 *                        class "subject-line", beside the mean difference with its 95 % CI (/stats)
 * Drawn with cairo: SVG (text as glyph outlines; ids prefixed with cfg.id_prefix so that several
 * figures can share one HTML page) or PNG. Memory: a long recording's activity is read in slices.
 */
#ifndef PLM_FIGURE_H
#define PLM_FIGURE_H

#include <stddef.h>
#include "status.h"

typedef enum {
    PLM_FIGURE_ACTIVITY = 1,
    PLM_FIGURE_RASTER,
    PLM_FIGURE_SLEEP,
    PLM_FIGURE_IMI,
    PLM_FIGURE_PAIRED
} plm_figure_kind;

typedef enum { PLM_FIGURE_SVG = 1, PLM_FIGURE_PNG } plm_figure_format;

/* A growing byte buffer (free with plm_bytes_free). */
typedef struct {
    unsigned char *data;
    size_t n, cap;
} plm_bytes;

void plm_bytes_free(plm_bytes *b);

typedef struct {
    plm_figure_kind kind;
    plm_figure_format format;
    int width, height;      /* pixels; 0: the kind's default */
    const char *recording;  /* the night (every kind but PAIRED) */
    const char *outcome;    /* PAIRED: a /nights column; NULL: plms_index */
    const char *id_prefix;  /* SVG: prefix of every id (letters, digits, '-'); NULL: none */
} plm_figure_cfg;

/* The kind named "activity", "raster", "sleep", "imi", "paired"; 0 if none. */
plm_figure_kind plm_figure_kind_from_name(const char *name);

/* Draw one figure of the results file at path into out (appended). Errors: PLM_EIO (cannot read),
 * PLM_EFORMAT (no such recording or outcome, or the file lacks what the figure needs), PLM_EINVAL
 * (bad cfg), PLM_ENOMEM. */
plm_status plm_figure_draw(const char *path, const plm_figure_cfg *cfg, plm_bytes *out);

/* Free the drawing libraries' process-wide caches (cairo's, fontconfig's), for a program that
 * draws no more (leak checkers then see nothing left). Call once, with no drawing in progress in
 * any thread, e.g. at the end of main. */
void plm_figure_cleanup(void);

#endif
