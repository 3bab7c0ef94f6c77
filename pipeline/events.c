/* events.c -- read and write the events CSV (onset_s,duration_s,type[,leg]). */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/csv.h"
#include "plm/events.h"
#include "plm/types.h"
#include "internal.h"

static const struct {
    const char *name;
    plm_event_type type;
} names[] = {{"lm", PLM_EV_LM},         {"arousal", PLM_EV_AROUSAL},       {"apnea", PLM_EV_APNEA},
             {"hypopnea", PLM_EV_HYPOPNEA}, {"w", PLM_EV_W},             {"n1", PLM_EV_N1},
             {"n2", PLM_EV_N2},         {"n3", PLM_EV_N3},                 {"r", PLM_EV_R},
             {"lights_off", PLM_EV_LIGHTS_OFF}, {"lights_on", PLM_EV_LIGHTS_ON}};

static int parse_leg(const char *s)
{
    char b[16];
    size_t k = 0;
    for (; *s && k + 1 < sizeof b; s++)
        if (!isspace((unsigned char)*s)) b[k++] = (char)tolower((unsigned char)*s);
    b[k] = '\0';
    if (!strcmp(b, "l") || !strcmp(b, "1") || !strcmp(b, "left")) return PLM_LEG_LEFT;
    if (!strcmp(b, "r") || !strcmp(b, "2") || !strcmp(b, "right")) return PLM_LEG_RIGHT;
    if (!strcmp(b, "b") || !strcmp(b, "3") || !strcmp(b, "both")) return PLM_LEG_BOTH;
    return k ? -1 : 0;
}

static int parse_num(const char *s, double *v)
{
    char *end;
    while (isspace((unsigned char)*s)) s++;
    *v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    return end != s && !*end && isfinite(*v);
}

void plm_event_list_clear(plm_event_list *l)
{
    if (!l) return;
    free(l->v);
    memset(l, 0, sizeof *l);
}

plm_status plm_events_read_csv(const char *path, plm_event_list *out)
{
    memset(out, 0, sizeof *out);
    plm_csv *c = NULL;
    plm_status st = plm_csv_open(path, &c);
    if (st) return st;
    char **f;
    size_t nf, line;
    int col[4] = {-1, -1, -1, -1};
    static const char *const want[4] = {"onset_s", "duration_s", "type", "leg"};
    st = plm_csv_next(c, &f, &nf, &line);
    if (st == PLM_ENODATA) st = plm__fail(PLM_EFORMAT, "%s: empty file (expected a header onset_s,duration_s,type[,leg])", path);
    if (st) goto fail;
    for (size_t i = 0; i < nf; i++)
        for (int k = 0; k < 4; k++) {
            char b[32];
            plm__strlcpy(b, f[i], sizeof b);
            for (char *p = b; *p; p++) *p = (char)tolower((unsigned char)*p);
            if (!strcmp(b, want[k])) col[k] = (int)i;
        }
    for (int k = 0; k < 3; k++)
        if (col[k] < 0) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: missing column '%s' (need onset_s,duration_s,type[,leg])", path, line, want[k]);
            goto fail;
        }
    while ((st = plm_csv_next(c, &f, &nf, &line)) == PLM_OK) {
        plm_event e = {0};
        if ((size_t)col[0] >= nf || (size_t)col[1] >= nf || (size_t)col[2] >= nf) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: %zu fields, too few", path, line, nf);
            goto fail;
        }
        char t[32];
        size_t k = 0;
        for (const char *p = f[col[2]]; *p && k + 1 < sizeof t; p++)
            if (!isspace((unsigned char)*p)) t[k++] = (char)tolower((unsigned char)*p);
        t[k] = '\0';
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
            if (!strcmp(t, names[i].name)) e.type = names[i].type;
        if (!e.type) {
            if (!strstr(out->unknown_types, t) && strlen(out->unknown_types) + k + 2 < sizeof out->unknown_types) {
                if (out->unknown_types[0]) strcat(out->unknown_types, ",");
                strcat(out->unknown_types, t);
            }
            continue;
        }
        if (!parse_num(f[col[0]], &e.onset_s) || e.onset_s < 0) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: onset_s '%s' is not a number of seconds >= 0", path, line, f[col[0]]);
            goto fail;
        }
        if (!f[col[1]][0]) e.duration_s = 0;
        else if (!parse_num(f[col[1]], &e.duration_s) || e.duration_s < 0) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: duration_s '%s' is not a number of seconds >= 0", path, line, f[col[1]]);
            goto fail;
        }
        int leg = col[3] >= 0 && (size_t)col[3] < nf ? parse_leg(f[col[3]]) : 0;
        if (leg < 0) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: leg '%s' is not L, R or B", path, line, f[col[3]]);
            goto fail;
        }
        if (e.type == PLM_EV_LM && !leg) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: an lm row needs its leg (L or R)", path, line);
            goto fail;
        }
        e.leg = e.type == PLM_EV_LM ? (uint8_t)leg : 0;
        if (out->n == out->cap) {
            size_t ncap = out->cap ? 2 * out->cap : 256;
            plm_event *v = realloc(out->v, plm__mul(ncap, sizeof *v));
            if (!v) {
                st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
                goto fail;
            }
            out->v = v;
            out->cap = ncap;
        }
        out->v[out->n++] = e;
    }
    if (st != PLM_ENODATA) goto fail;
    plm_csv_destroy(c);
    return PLM_OK;
fail:
    plm_csv_destroy(c);
    plm_event_list_clear(out);
    return st;
}

plm_status plm_events_write_lm_csv(const char *path, const double *onset_s, const double *offset_s, const uint8_t *leg,
                                   size_t n)
{
    FILE *f = fopen(path, "w");
    if (!f) PLM_FAIL(PLM_EIO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "onset_s,duration_s,type,leg\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%.6f,%.6f,lm,%s\n", onset_s[i], offset_s[i] - onset_s[i],
                leg[i] == PLM_LEG_LEFT ? "L" : leg[i] == PLM_LEG_RIGHT ? "R" : "B");
    if (fclose(f) != 0) PLM_FAIL(PLM_EIO, "%s: write error", path);
    return PLM_OK;
}
