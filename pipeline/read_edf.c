/* read_edf.c -- the EDFlib backend: EDF, EDF+, BDF, BDF+ (acceleration signals by unit and label,
 * EDF+ annotations kept for scoring). */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "read_internal.h"

#define G_STANDARD 9.80665

typedef struct {
    int edf;                          /* EDFlib handle, -1 if none */
    int sig[PLM_READ_MAX_CHANNELS];   /* EDF signal of each delivered channel */
} edf_state;


static double unit_to_g(const char *dim)
{
    char u[16];
    size_t k = 0;
    for (const char *p = dim; *p && k + 1 < sizeof u; p++)
        if (!isspace((unsigned char)*p)) u[k++] = (char)tolower((unsigned char)*p);
    u[k] = '\0';
    if (!strcmp(u, "g")) return 1.0;
    if (!strcmp(u, "mg")) return 1e-3;
    if (!strcmp(u, "m/s2") || !strcmp(u, "m/s^2") || !strcmp(u, "m/s\xc2\xb2") || !strcmp(u, "m/s/s") ||
        !strcmp(u, "ms-2") || !strcmp(u, "ms^-2"))
        return 1.0 / G_STANDARD;
    return NAN;
}

static const char *edf_error_text(int code)
{
    switch (code) {
    case EDFLIB_MALLOC_ERROR: return "out of memory";
    case EDFLIB_NO_SUCH_FILE_OR_DIRECTORY: return "no such file";
    case EDFLIB_FILE_CONTAINS_FORMAT_ERRORS:
        return "header is malformed or the file is shorter than its header says (EDFlib refuses it)";
    case EDFLIB_MAXFILES_REACHED: return "too many EDF files open";
    case EDFLIB_FILE_READ_ERROR: return "read error";
    case EDFLIB_FILE_ALREADY_OPENED: return "file already open";
    case EDFLIB_FILETYPE_ERROR: return "not an EDF/BDF file";
    case EDFLIB_FILE_IS_DISCONTINUOUS: return "discontinuous EDF+D is not supported";
    default: return "cannot be opened by EDFlib";
    }
}

/* 0 when the whole file reads without an error, else the errno of the failed read: EDFlib reports a
 * read error during its open as format errors, so a refused file is read through once to tell. */
static int read_fails(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return errno ? errno : EIO;
    char buf[1 << 14];
    errno = 0;
    while (fread(buf, 1, sizeof buf, f) == sizeof buf) {
    }
    int e = ferror(f) ? (errno ? errno : EIO) : 0;
    fclose(f);
    return e;
}

static void trim_copy(char *dst, size_t n, const char *src)
{
    while (isspace((unsigned char)*src)) src++;
    plm__strlcpy(dst, src, n);
    size_t k = strlen(dst);
    while (k && isspace((unsigned char)dst[k - 1])) dst[--k] = '\0';
}

static int cmp_annotation(const void *a, const void *b)
{
    const plm_annotation *x = a, *y = b;
    return x->onset_100ns < y->onset_100ns ? -1 : x->onset_100ns > y->onset_100ns;
}

/* Label tokens: leg (L/R) and axis (x/y/z) of an EDF signal, 0 when absent. */
static void label_leg_axis(const char *label, uint8_t *leg, int *axis)
{
    *leg = 0;
    *axis = 0;
    char tok[24];
    const char *p = label;
    while (*p) {
        size_t k = 0;
        while (*p && !isalnum((unsigned char)*p)) p++;
        while (isalnum((unsigned char)*p)) {
            if (k + 1 < sizeof tok) tok[k++] = (char)tolower((unsigned char)*p);
            p++;
        }
        tok[k] = '\0';
        if (!strcmp(tok, "l") || !strcmp(tok, "left") || !strcmp(tok, "lt")) *leg = PLM_LEG_LEFT;
        else if (!strcmp(tok, "r") || !strcmp(tok, "right") || !strcmp(tok, "rt")) *leg = PLM_LEG_RIGHT;
        else if (k == 1 && tok[0] >= 'x' && tok[0] <= 'z') *axis = tok[0] - 'x' + 1;
    }
}

/* Acceleration channels of an EDF: signals with an acceleration unit (g, mg, m/s2), only
 * those labelled "acc..." when some are; legs and axis order from the labels when every
 * channel names its leg ("Acc R X"), else the layout by count. */
static plm_status edf_find_channels(const struct edf_hdr_struct *hdr, plm_reader_info *info)
{
    int cand[EDFLIB_MAXSIGNALS], nc = 0, nacc = 0;
    for (int i = 0; i < hdr->edfsignals; i++) {
        if (!isfinite(unit_to_g(hdr->signalparam[i].physdimension))) continue;
        cand[nc++] = i;
        char low[24];
        trim_copy(low, sizeof low, hdr->signalparam[i].label);
        for (char *q = low; *q; q++) *q = (char)tolower((unsigned char)*q);
        nacc += strstr(low, "acc") != NULL;
    }
    if (nacc && nacc < nc) { /* keep the ones labelled as acceleration */
        int k = 0;
        for (int j = 0; j < nc; j++) {
            char low[24];
            trim_copy(low, sizeof low, hdr->signalparam[cand[j]].label);
            for (char *q = low; *q; q++) *q = (char)tolower((unsigned char)*q);
            if (strstr(low, "acc")) cand[k++] = cand[j];
        }
        nc = k;
    }
    if (nc == 0)
        PLM_FAIL(PLM_EFORMAT, "no channel has an acceleration unit (g, mg, m/s2); set the manifest column channels");
    if (nc > PLM_READ_MAX_CHANNELS)
        PLM_FAIL(PLM_EFORMAT, "%d acceleration channels: set the manifest column channels, e.g. L=1,2,3;R=4,5,6", nc);
    int by_leg[2][PLM_READ_MAX_CHANNELS], nleg[2] = {0, 0}, axis_of[EDFLIB_MAXSIGNALS] = {0}, labelled = 1;
    for (int j = 0; j < nc; j++) {
        uint8_t leg;
        label_leg_axis(hdr->signalparam[cand[j]].label, &leg, &axis_of[cand[j]]);
        if (!leg) labelled = 0;
        else by_leg[leg - 1][nleg[leg - 1]++] = cand[j];
    }
    if (!labelled || (nleg[0] != 0 && nleg[0] != 1 && nleg[0] != 3) || (nleg[1] != 0 && nleg[1] != 1 && nleg[1] != 3))
        return plm__read_default_layout(cand, nc, info);
    int n = 0;
    for (int l = 0; l < 2; l++) {
        for (int a = 1; a < nleg[l]; a++) /* x, y, z order when the labels say */
            for (int b = a; b > 0 && axis_of[by_leg[l][b]] && axis_of[by_leg[l][b]] < axis_of[by_leg[l][b - 1]]; b--) {
                int t = by_leg[l][b];
                by_leg[l][b] = by_leg[l][b - 1];
                by_leg[l][b - 1] = t;
            }
        for (int a = 0; a < nleg[l]; a++) {
            info->chan_file[n] = by_leg[l][a];
            info->chan_leg[n] = (uint8_t)(l + 1);
            n++;
        }
    }
    info->nchan = n;
    info->legs = (uint8_t)((nleg[0] ? PLM_LEG_LEFT : 0) | (nleg[1] ? PLM_LEG_RIGHT : 0));
    plm__read_canonical_map(info);
    return PLM_OK;
}

static plm_status open_edf(plm_reader *r)
{
    plm_reader_info *info = &r->info;
    edf_state *e = calloc(1, sizeof *e);
    if (!e) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    e->edf = -1;
    r->state = e;
    struct edf_hdr_struct *hdr = calloc(1, sizeof *hdr);
    if (!hdr) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    plm_status st = PLM_OK;
    plm__edf_lock();
    int rc = edfopen_file_readonly(r->path, hdr, EDFLIB_READ_ALL_ANNOTATIONS);
    plm__edf_unlock();
    if (rc < 0) { /* EDFlib's error code is in filetype */
        int io = hdr->filetype == EDFLIB_NO_SUCH_FILE_OR_DIRECTORY || hdr->filetype == EDFLIB_FILE_READ_ERROR, err = 0;
        if (hdr->filetype == EDFLIB_FILE_CONTAINS_FORMAT_ERRORS && (err = read_fails(r->path)))
            st = plm__fail(PLM_EIO, "%s: read error: %s", r->path, strerror(err));
        else st = plm__fail(io ? PLM_EIO : PLM_EFORMAT, "%s: %s", r->path, edf_error_text(hdr->filetype));
        goto done;
    }
    ((edf_state *)r->state)->edf = hdr->handle;
    info->family = PLM_FORMAT_EDF;
    static const char *const names[] = {"EDF", "EDF+", "BDF", "BDF+"};
    plm__strlcpy(info->format, hdr->filetype >= 0 && hdr->filetype <= 3 ? names[hdr->filetype] : "EDF",
                 sizeof info->format);
    info->file_channels = hdr->edfsignals;
    info->is_float = 0;
    info->full_scale_g = NAN;
    plm__strlcpy(info->full_scale_source, "edf", sizeof info->full_scale_source);
    if (r->cfg.channels && *r->cfg.channels) st = plm_read_parse_channel_map(r->cfg.channels, hdr->edfsignals, info);
    else st = edf_find_channels(hdr, info);
    if (st) {
        plm__error_prefix(r->path);
        goto done;
    }
    char labels[256] = "";
    long long spr = -1;
    for (int c = 0; c < info->nchan; c++) {
        const struct edf_param_struct *sp = &hdr->signalparam[info->chan_file[c]];
        double k = unit_to_g(sp->physdimension);
        char lab[24], dim[16];
        trim_copy(lab, sizeof lab, sp->label);
        trim_copy(dim, sizeof dim, sp->physdimension);
        if (!isfinite(k)) {
            st = plm__fail(PLM_EFORMAT, "%s: signal %d (%s) has unit '%s', not an acceleration (g, mg, m/s2)",
                           r->path, info->chan_file[c] + 1, lab, dim);
            goto done;
        }
        if (spr >= 0 && sp->smp_in_datarecord != spr) {
            st = plm__fail(PLM_EFORMAT, "%s: the acceleration signals have different sample rates", r->path);
            goto done;
        }
        spr = sp->smp_in_datarecord;
        info->chan_scale_g[c] = k;
        ((edf_state *)r->state)->sig[c] = info->chan_file[c];
        size_t len = strlen(labels);
        snprintf(labels + len, sizeof labels - len, "%s%s", c ? "," : "", lab);
        double range_g = fmax(fabs(sp->phys_max), fabs(sp->phys_min)) * k;
        if (!isfinite(info->full_scale_g) || range_g > info->full_scale_g) info->full_scale_g = range_g;
    }
    plm__strlcpy(info->labels, labels, sizeof info->labels);
    if (hdr->datarecord_duration <= 0 || spr <= 0) {
        st = plm__fail(PLM_EFORMAT, "%s: data record duration or samples per record is zero", r->path);
        goto done;
    }
    info->fs_hz = (double)spr * EDFLIB_TIME_DIMENSION / (double)hdr->datarecord_duration;
    info->frames = hdr->datarecords_in_file * spr;
    info->frames_header = info->frames;
    st = plm_time_from_local(hdr->startdate_year, hdr->startdate_month, hdr->startdate_day, hdr->starttime_hour,
                             hdr->starttime_minute, hdr->starttime_second,
                             (int32_t)(hdr->starttime_subsecond * 100), r->cfg.timezone, &info->start);
    if (st == PLM_OK) {
        info->has_start = 1;
        plm__strlcpy(info->start_source, "edf", sizeof info->start_source);
    } else {
        plm__read_warn(info, "EDF start time ignored: %s", plm_last_error());
        st = PLM_OK;
    }
    /* annotations, kept for scoring */
    if (hdr->annotations_in_file > 0) {
        size_t na = (size_t)hdr->annotations_in_file;
        r->ann = calloc(na, sizeof *r->ann);
        if (!r->ann) {
            st = plm__fail(PLM_ENOMEM, "%s: out of memory", r->path);
            goto done;
        }
        for (size_t i = 0; i < na; i++) {
            struct edf_annotation_struct a;
            if (edf_get_annotation(((edf_state *)r->state)->edf, (int)i, &a) != 0) break;
            plm_annotation *o = &r->ann[r->n_ann];
            o->onset_100ns = a.onset; /* EDFlib: 100-ns ticks from the start of the file */
            o->duration_100ns = a.duration_l >= 0 ? a.duration_l : -1;
            o->text = plm__strdup(a.annotation);
            if (!o->text) {
                st = plm__fail(PLM_ENOMEM, "%s: out of memory", r->path);
                goto done;
            }
            r->n_ann++;
        }
        /* time order (EDFlib gives file order); ties keep no particular order */
        qsort(r->ann, r->n_ann, sizeof *r->ann, cmp_annotation);
    }
done:
    free(hdr);
    return st;
}

static plm_status read_edf(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got)
{
    (void)aux;
    edf_state *e = r->state;
    const plm_reader_info *info = &r->info;
    int64_t want = info->frames - r->pos;
    if (want > cap) want = cap;
    for (int c = 0; c < info->nchan; c++) {
        double *dst = x + (size_t)c * (size_t)cap;
        int64_t done = 0;
        while (done < want) {
            int chunk = (int)(want - done > (1 << 20) ? (1 << 20) : want - done);
            int k = edfread_physical_samples(e->edf, e->sig[c], chunk, dst + done);
            if (k < 0) PLM_FAIL(PLM_EIO, "%s: EDF read error on signal %d", r->path, e->sig[c] + 1);
            if (k == 0) break;
            done += k;
        }
        if (done != want) PLM_FAIL(PLM_EIO, "%s: EDF signal %d ended early", r->path, e->sig[c] + 1);
        double g = info->chan_scale_g[c];
        for (int64_t i = 0; i < want; i++) dst[i] *= g;
    }
    for (int64_t i = 0; t_s && i < want; i++) t_s[i] = plm_samples_to_s(r->pos + i, info->fs_hz);
    *got = want;
    return PLM_OK;
}

static void close_edf(plm_reader *r)
{
    edf_state *e = r->state;
    if (!e) return;
    if (e->edf >= 0) {
        plm__edf_lock();
        edfclose_file(e->edf);
        plm__edf_unlock();
    }
    free(e);
}

static int sniff_edf(const unsigned char *b, size_t n)
{
    return n >= 8 && (!memcmp(b, "0       ", 8) || (b[0] == 0xFF && !memcmp(b + 1, "BIOSEMI", 7)));
}

const plm__backend plm__backend_edf = {"edf", sniff_edf, open_edf, read_edf, close_edf};
