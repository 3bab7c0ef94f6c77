/* events.c -- read and write the events CSV (onset_s,duration_s,type[,leg]). */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
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
        if (!plm__grow((void **)&out->v, &out->cap, out->n + 1, sizeof *out->v, 256)) {
            st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
            goto fail;
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

int plm_event_type_from_text(const char *text, uint8_t *leg)
{
    char t[128];
    size_t k = 0;
    for (const char *p = text; *p && k + 1 < sizeof t; p++) t[k++] = (char)tolower((unsigned char)*p);
    t[k] = '\0';
    *leg = 0;
    if (strstr(t, "lights off") || strstr(t, "lights_off") || strstr(t, "lightsoff")) return PLM_EV_LIGHTS_OFF;
    if (strstr(t, "lights on") || strstr(t, "lights_on") || strstr(t, "lightson")) return PLM_EV_LIGHTS_ON;
    if (strstr(t, "arousal")) return PLM_EV_AROUSAL;
    if (strstr(t, "hypopn")) return PLM_EV_HYPOPNEA;
    if (strstr(t, "apnea") || strstr(t, "apnoea")) return PLM_EV_APNEA;
    if (strstr(t, "limb movement") || strstr(t, "leg movement") || !strncmp(t, "lm", 2) || strstr(t, " lm")) {
        *leg = strstr(t, "left") || strstr(t, " l)") || !strcmp(t, "lm l") ? PLM_LEG_LEFT
             : strstr(t, "right") || strstr(t, " r)") || !strcmp(t, "lm r") ? PLM_LEG_RIGHT : PLM_LEG_BOTH;
        return PLM_EV_LM;
    }
    const char *st = strstr(t, "stage");
    const char *v = st ? st + 5 : t;
    while (*v == ' ' || *v == ':' || *v == '_') v++;
    if (st || !strcmp(t, "w") || !strcmp(t, "n1") || !strcmp(t, "n2") || !strcmp(t, "n3") || !strcmp(t, "r") ||
        !strcmp(t, "wake") || !strcmp(t, "rem")) {
        if (!strcmp(v, "w") || !strcmp(v, "wake") || !strcmp(v, "0")) return PLM_EV_W;
        if (!strcmp(v, "n1") || !strcmp(v, "1") || !strcmp(v, "s1")) return PLM_EV_N1;
        if (!strcmp(v, "n2") || !strcmp(v, "2") || !strcmp(v, "s2")) return PLM_EV_N2;
        if (!strcmp(v, "n3") || !strcmp(v, "3") || !strcmp(v, "4") || !strcmp(v, "s3") || !strcmp(v, "s4")) return PLM_EV_N3;
        if (!strcmp(v, "r") || !strcmp(v, "rem") || !strcmp(v, "5")) return PLM_EV_R;
    }
    return 0;
}

plm_status plm_events_add_annotations(plm_event_list *l, const int64_t *onset, const int64_t *duration,
                                      const char *const *text, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t leg;
        int type = plm_event_type_from_text(text[i], &leg);
        if (!type) {
            size_t k = strlen(text[i]);
            if (k < 40 && !strstr(l->unknown_types, text[i]) && strlen(l->unknown_types) + k + 2 < sizeof l->unknown_types) {
                if (l->unknown_types[0]) strcat(l->unknown_types, ",");
                strcat(l->unknown_types, text[i]);
            }
            continue;
        }
        if (!plm__grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v, 256))
            PLM_FAIL(PLM_ENOMEM, "annotations: out of memory");
        l->v[l->n++] = (plm_event){plm_100ns_to_s(onset[i]), duration[i] > 0 ? plm_100ns_to_s(duration[i]) : 0,
                                   (plm_event_type)type, leg};
    }
    return PLM_OK;
}


plm_status plm_events_read_file(const char *path, plm_event_list *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) PLM_FAIL(PLM_EIO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char b[8] = {0};
    size_t got = fread(b, 1, 8, f);
    fclose(f);
    int edf = got == 8 && (!memcmp(b, "0       ", 8) || (b[0] == 0xFF && !memcmp(b + 1, "BIOSEMI", 7)));
    if (!edf) return plm_events_read_csv(path, out);
    struct edf_hdr_struct *hdr = calloc(1, sizeof *hdr);
    if (!hdr) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
    plm__edf_lock();
    int rc = edfopen_file_readonly(path, hdr, EDFLIB_READ_ALL_ANNOTATIONS);
    plm__edf_unlock();
    if (rc < 0) {
        free(hdr);
        PLM_FAIL(PLM_EFORMAT, "%s: not a readable EDF+ annotations file", path);
    }
    plm_status st = PLM_OK;
    for (long long i = 0; i < hdr->annotations_in_file && !st; i++) {
        struct edf_annotation_struct a;
        if (edf_get_annotation(hdr->handle, (int)i, &a) != 0) break;
        int64_t on = a.onset, du = a.duration_l >= 0 ? a.duration_l : -1;
        const char *t = a.annotation;
        st = plm_events_add_annotations(out, &on, &du, &t, 1);
    }
    plm__edf_lock();
    edfclose_file(hdr->handle);
    plm__edf_unlock();
    free(hdr);
    if (st) plm_event_list_clear(out);
    return st;
}
