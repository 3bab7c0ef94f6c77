/* manifest.c -- read and check the study manifest (CSV, one row per recording). */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/csv.h"
#include "plm/manifest.h"
#include "internal.h"

enum { C_SUBJECT, C_CONDITION, C_PATH, C_RECORDING, C_NIGHT, C_LIGHTS_OFF, C_LIGHTS_ON, C_FULL_SCALE,
       C_CHANNELS, C_START, C_TIMEZONE, C_ANNOTATIONS, C_PATH_RIGHT, C_KNOWN };
static const char *const known[C_KNOWN] = {"subject", "condition", "path", "recording", "night",
                                           "lights_off", "lights_on", "full_scale_g", "channels",
                                           "start", "timezone", "annotations", "path_right"};

static char *trimmed_dup(const char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) n--;
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static char *join_path(const char *dir, const char *rel)
{
    if (rel[0] == '/' || !dir[0] || !strcmp(dir, ".")) return plm__strdup(rel);
    size_t a = strlen(dir), b = strlen(rel);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, rel, b + 1);
    return p;
}

static char *file_stem(const char *path)
{
    const char *base = plm__basename(path);
    char *s = plm__strdup(base);
    if (!s) return NULL;
    char *dot = strrchr(s, '.');
    if (dot && dot != s) *dot = '\0';
    return s;
}

static void row_error(const plm_manifest *m, plm_manifest_row *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void row_error(const plm_manifest *m, plm_manifest_row *r, const char *fmt, ...)
{
    if (r->error) return; /* keep the first */
    char msg[768], full[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(full, sizeof full, "%s:%zu: %s", m->path, r->line, msg);
    r->error = plm__strdup(full);
}

static void row_clear(plm_manifest_row *r, size_t nextra)
{
    free(r->subject);
    free(r->condition);
    free(r->path_given);
    free(r->path);
    free(r->path_right_given);
    free(r->path_right);
    free(r->recording);
    free(r->channels);
    free(r->start);
    free(r->timezone);
    free(r->annotations);
    if (r->extra_values)
        for (size_t i = 0; i < nextra; i++) free(r->extra_values[i]);
    free(r->extra_values);
    free(r->error);
    memset(r, 0, sizeof *r);
}

void plm_manifest_clear(plm_manifest *m)
{
    if (!m) return;
    for (size_t i = 0; i < m->nrows; i++) row_clear(&m->rows[i], m->nextra);
    free(m->rows);
    for (size_t i = 0; i < m->nextra; i++) free(m->extra_names[i]);
    free(m->extra_names);
    free(m->path);
    free(m->dir);
    memset(m, 0, sizeof *m);
}

/* Fill one row from its fields; problems go to r->error. */
static plm_status fill_row(plm_manifest *m, plm_manifest_row *r, char **f, size_t nf, const int *col,
                           const int *extra_col, size_t ncols)
{
    if (nf != ncols) row_error(m, r, "has %zu fields, the header has %zu", nf, ncols);
    char *v[C_KNOWN] = {0};
    plm_status st = PLM_OK;
    for (int k = 0; k < C_KNOWN; k++) {
        if (col[k] < 0 || (size_t)col[k] >= nf) continue;
        v[k] = trimmed_dup(f[col[k]]);
        if (!v[k]) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto done;
        }
    }
    r->extra_values = calloc(m->nextra ? m->nextra : 1, sizeof *r->extra_values);
    if (!r->extra_values) {
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < m->nextra; i++) {
        r->extra_values[i] = plm__strdup((size_t)extra_col[i] < nf ? f[extra_col[i]] : "");
        if (!r->extra_values[i]) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto done;
        }
    }
    r->full_scale_g = NAN;
    r->night = -1;
#define TAKE(dst, k) do { if (v[k] && *v[k]) { dst = v[k]; v[k] = NULL; } } while (0)
    TAKE(r->subject, C_SUBJECT);
    TAKE(r->condition, C_CONDITION);
    TAKE(r->path_given, C_PATH);
    TAKE(r->path_right_given, C_PATH_RIGHT);
    TAKE(r->recording, C_RECORDING);
    TAKE(r->channels, C_CHANNELS);
    TAKE(r->start, C_START);
    TAKE(r->timezone, C_TIMEZONE);
#undef TAKE
    if (!r->subject) row_error(m, r, "empty subject");
    if (!r->condition) row_error(m, r, "empty condition");
    if (!r->path_given) {
        row_error(m, r, "empty path");
    } else {
        r->path = join_path(m->dir, r->path_given);
        if (!r->path) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (r->path_right_given) {
        r->path_right = join_path(m->dir, r->path_right_given);
        if (!r->path_right) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto done;
        }
        if (r->path && !strcmp(r->path, r->path_right))
            row_error(m, r, "path_right names the same file as path (one file per ankle)");
        if (r->channels)
            row_error(m, r, "channels cannot be given with path_right (each file holds one leg)");
    }
    if (!r->recording && r->path_given) {
        r->recording = file_stem(r->path_given);
        if (!r->recording) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto done;
        }
    }
    if (r->recording && (strchr(r->recording, '/') || !strcmp(r->recording, ".") || !strcmp(r->recording, "..")))
        row_error(m, r, "recording id '%s' may not contain '/' or be '.' or '..'", r->recording);
    if (v[C_NIGHT] && *v[C_NIGHT]) {
        char *end;
        long n = strtol(v[C_NIGHT], &end, 10);
        if (*end || n < 0 || n > 100000) row_error(m, r, "night '%s' is not a whole number >= 0", v[C_NIGHT]);
        else r->night = (int)n;
    }
    if (v[C_FULL_SCALE] && *v[C_FULL_SCALE]) {
        char *end;
        double g = strtod(v[C_FULL_SCALE], &end);
        if (*end || !(g > 0) || !isfinite(g)) row_error(m, r, "full_scale_g '%s' is not a positive number of g", v[C_FULL_SCALE]);
        else r->full_scale_g = g;
    }
    if (r->timezone && plm_time_check_zone(r->timezone) != PLM_OK) row_error(m, r, "%s", plm_last_error());
    if (r->start) {
        plm_time t;
        if (plm_time_parse_iso(r->start, r->timezone, &t) != PLM_OK) row_error(m, r, "start: %s", plm_last_error());
    }
    if (v[C_LIGHTS_OFF] && plm_tspec_parse(v[C_LIGHTS_OFF], &r->lights_off) != PLM_OK)
        row_error(m, r, "lights_off: %s", plm_last_error());
    if (v[C_LIGHTS_ON] && plm_tspec_parse(v[C_LIGHTS_ON], &r->lights_on) != PLM_OK)
        row_error(m, r, "lights_on: %s", plm_last_error());
    if (r->lights_off.kind == PLM_TSPEC_SECONDS && r->lights_on.kind == PLM_TSPEC_SECONDS &&
        r->lights_on.seconds <= r->lights_off.seconds)
        row_error(m, r, "lights_on (%g s) is not after lights_off (%g s)", r->lights_on.seconds, r->lights_off.seconds);
    if (v[C_ANNOTATIONS] && *v[C_ANNOTATIONS]) {
        r->annotations = join_path(m->dir, v[C_ANNOTATIONS]);
        if (!r->annotations) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto done;
        }
    }
done:
    for (int k = 0; k < C_KNOWN; k++) free(v[k]);
    return st;
}

plm_status plm_manifest_read(const char *path, plm_manifest *out)
{
    memset(out, 0, sizeof *out);
    plm_csv *csv = NULL;
    int *extra_col = NULL;
    plm_status st = plm_csv_open(path, &csv);
    if (st) return st;
    out->path = plm__strdup(path);
    const char *slash = strrchr(path, '/');
    out->dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : plm__strdup(".");
    if (!out->path || !out->dir) {
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto fail;
    }
    char **f;
    size_t nf, line;
    st = plm_csv_next(csv, &f, &nf, &line);
    if (st == PLM_ENODATA) {
        st = plm__fail(PLM_EFORMAT, "%s: empty manifest (no header row)", path);
        goto fail;
    }
    if (st) goto fail;
    int col[C_KNOWN];
    for (int k = 0; k < C_KNOWN; k++) col[k] = -1;
    size_t ncols = nf;
    extra_col = calloc(nf ? nf : 1, sizeof *extra_col);
    out->extra_names = calloc(nf ? nf : 1, sizeof *out->extra_names);
    if (!extra_col || !out->extra_names) {
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nf; i++) {
        char *name = trimmed_dup(f[i]);
        if (!name) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto fail;
        }
        for (char *p = name; *p; p++) *p = (char)tolower((unsigned char)*p);
        int k;
        for (k = 0; k < C_KNOWN; k++)
            if (!strcmp(name, known[k])) break;
        int dup = k < C_KNOWN ? col[k] >= 0 : 0;
        for (size_t j = 0; j < out->nextra && !dup; j++) dup = !strcmp(out->extra_names[j], name);
        if (dup || !*name) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: %s column '%s'", path, line, *name ? "duplicate" : "unnamed", name);
            free(name);
            goto fail;
        }
        if (k < C_KNOWN) {
            col[k] = (int)i;
            free(name);
        } else {
            extra_col[out->nextra] = (int)i;
            out->extra_names[out->nextra++] = name;
        }
    }
    for (int k = C_SUBJECT; k <= C_PATH; k++)
        if (col[k] < 0) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: missing required column '%s' (need subject, condition, path)",
                           path, line, known[k]);
            goto fail;
        }
    size_t cap = 0;
    for (;;) {
        st = plm_csv_next(csv, &f, &nf, &line);
        if (st == PLM_ENODATA) break;
        if (st) goto fail;
        if (!plm__grow((void **)&out->rows, &cap, out->nrows + 1, sizeof *out->rows, 16)) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto fail;
        }
        plm_manifest_row *r = &out->rows[out->nrows++];
        memset(r, 0, sizeof *r);
        r->line = line;
        st = fill_row(out, r, f, nf, col, extra_col, ncols);
        if (st) goto fail;
    }
    st = PLM_OK;
    if (!out->nrows) {
        st = plm__fail(PLM_EFORMAT, "%s: no recordings listed (only a header row)", path);
        goto fail;
    }
    /* duplicate ids and default night numbers */
    for (size_t i = 0; i < out->nrows; i++) {
        plm_manifest_row *r = &out->rows[i];
        int nth = 1;
        for (size_t j = 0; j < i; j++) {
            plm_manifest_row *q = &out->rows[j];
            if (r->recording && q->recording && !strcmp(r->recording, q->recording))
                row_error(out, r, "duplicate recording id '%s' (first on line %zu)", r->recording, q->line);
            if (r->subject && q->subject && r->condition && q->condition && !strcmp(r->subject, q->subject) &&
                !strcmp(r->condition, q->condition))
                nth++;
        }
        if (r->night < 0) r->night = nth;
    }
    plm_csv_destroy(csv);
    free(extra_col);
    return PLM_OK;
fail:
    plm_csv_destroy(csv);
    free(extra_col);
    plm_manifest_clear(out);
    return st;
}
