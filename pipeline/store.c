/* store.c -- writing a results file: tables, recording groups, atomic commit (reading: store_read.c). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "internal.h"
#include "store_internal.h"

struct plm_store {
    char *path, *tmp;
    hid_t file, recordings;
    plm_night *nights;    /* strings owned */
    size_t n_nights, cap_nights;
    failure_rec *failures;
    size_t n_failures, cap_failures;
    stat_rec *stats;
    size_t n_stats, cap_stats;
    lmm_rec *lmms;
    size_t n_lmms, cap_lmms;
    shard_rec *shard;
    size_t n_shard, cap_shard;
    int open_rec;
};

struct plm_store_rec {
    plm_store *store;
    hid_t group, activity;
    hsize_t n_activity;
    char *id;
};

#define HCHECK(expr, what)                                                   \
    do {                                                                      \
        if ((expr) < 0) {                                                     \
            st = plm__fail(PLM_EIO, "%s: HDF5 error: %s", s->path, (what)); \
            goto fail;                                                        \
        }                                                                     \
    } while (0)

hid_t plm__h5_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

hid_t plm__h5_open_ro(const char *path)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        FILE *t = fopen(path, "rb"); /* missing, or unreadable, or not HDF5? */
        if (!t) plm__fail(PLM_EIO, "%s: cannot open: %s", path, strerror(errno));
        else plm__fail(PLM_EIO, "%s: not a readable HDF5 file", path);
        if (t) fclose(t);
    }
    return f;
}

static hid_t obj_plist(hid_t cls)
{
    hid_t p = H5Pcreate(cls);
    if (p >= 0) H5Pset_obj_track_times(p, 0);
    return p;
}

static atomic_uint tmp_counter;

plm_status plm_store_create(const char *path, plm_store **out)
{
    *out = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    plm_store *s = calloc(1, sizeof *s);
    if (!s) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
    s->file = s->recordings = H5I_INVALID_HID;
    plm_status st = PLM_OK;
    hid_t fcpl = H5I_INVALID_HID, gcpl = H5I_INVALID_HID;
    s->path = plm__strdup(path);
    size_t n = strlen(path) + 48;
    s->tmp = malloc(n);
    if (!s->path || !s->tmp) {
        st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
        goto fail;
    }
    snprintf(s->tmp, n, "%s.tmp-%ld-%u", path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1));
    int fd = open(s->tmp, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd < 0) {
        st = plm__fail(PLM_EIO, "%s: cannot write results here: %s", path, strerror(errno));
        free(s->tmp);
        s->tmp = NULL;
        goto fail;
    }
    close(fd);
    fcpl = H5Pcreate(H5P_FILE_CREATE);
    HCHECK(fcpl, "file creation properties");
    HCHECK(H5Pset_link_creation_order(fcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "link order");
    s->file = H5Fcreate(s->tmp, H5F_ACC_TRUNC, fcpl, H5P_DEFAULT);
    HCHECK(s->file, "cannot create the file");
    gcpl = obj_plist(H5P_GROUP_CREATE);
    HCHECK(gcpl, "group properties");
    HCHECK(H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), "link order");
    s->recordings = H5Gcreate2(s->file, "recordings", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    HCHECK(s->recordings, "cannot create /recordings");
    H5Pclose(fcpl);
    H5Pclose(gcpl);
    *out = s;
    return PLM_OK;
fail:
    if (fcpl >= 0) H5Pclose(fcpl);
    if (gcpl >= 0) H5Pclose(gcpl);
    plm_store_destroy(s);
    return st;
}

static hid_t open_loc(plm_store *s, const char *group)
{
    if (!group || !*group || !strcmp(group, "/")) return H5Oopen(s->file, "/", H5P_DEFAULT);
    return H5Oopen(s->file, group, H5P_DEFAULT);
}

/* A scalar attribute (n 0) or a 1-D array of n values. */
static plm_status write_attr(plm_store *s, const char *group, const char *name, hid_t type, const void *val, size_t n)
{
    plm_status st = PLM_OK;
    hid_t loc = open_loc(s, group), space = H5I_INVALID_HID, attr = H5I_INVALID_HID;
    HCHECK(loc, "attribute location");
    if (H5Aexists(loc, name) > 0) H5Adelete(loc, name);
    hsize_t dims[1] = {n};
    space = n ? H5Screate_simple(1, dims, NULL) : H5Screate(H5S_SCALAR);
    HCHECK(space, "dataspace");
    attr = H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    HCHECK(attr, name);
    HCHECK(H5Awrite(attr, type, val), name);
fail:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    if (loc >= 0) H5Oclose(loc);
    return st;
}

plm_status plm_store_attr_str(plm_store *s, const char *group, const char *name, const char *value)
{
    hid_t t = plm__h5_str_type();
    const char *v = value ? value : "";
    plm_status st = write_attr(s, group, name, t, &v, 0);
    H5Tclose(t);
    return st;
}

plm_status plm_store_attr_f64(plm_store *s, const char *group, const char *name, double value)
{
    return write_attr(s, group, name, H5T_NATIVE_DOUBLE, &value, 0);
}

plm_status plm_store_attr_i64(plm_store *s, const char *group, const char *name, int64_t value)
{
    return write_attr(s, group, name, H5T_NATIVE_INT64, &value, 0);
}

plm_status plm_store_attr_f64v(plm_store *s, const char *group, const char *name, const double *v, size_t n)
{
    return write_attr(s, group, name, H5T_NATIVE_DOUBLE, v, n);
}

#define DUP_OR_FAIL(dst, src)                                                  \
    do {                                                                       \
        (dst) = plm__strdup((src) ? (src) : "");                               \
        if (!(dst)) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", s->path);       \
    } while (0)

plm_status plm_store_add_night(plm_store *s, const plm_night *row)
{
    if (!plm__grow((void **)&s->nights, &s->cap_nights, s->n_nights + 1, sizeof *s->nights, 32))
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", s->path);
    plm_night *r = &s->nights[s->n_nights];
    *r = *row;
    for (size_t k = 0; k < plm_night_nfields; k++) /* NULL first, so that clear frees only copies */
        if (plm_night_fields[k].type == PLM_NF_STR) *(char **)((char *)r + plm_night_fields[k].offset) = NULL;
    s->n_nights++;
    for (size_t k = 0; k < plm_night_nfields; k++)
        if (plm_night_fields[k].type == PLM_NF_STR)
            DUP_OR_FAIL(*(char **)((char *)r + plm_night_fields[k].offset), plm_night_text(row, &plm_night_fields[k]));
    return PLM_OK;
}

plm_status plm_store_add_failure(plm_store *s, const char *recording, const char *path, const char *error)
{
    if (!plm__grow((void **)&s->failures, &s->cap_failures, s->n_failures + 1, sizeof *s->failures, 32))
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", s->path);
    failure_rec *r = &s->failures[s->n_failures++];
    memset(r, 0, sizeof *r);
    DUP_OR_FAIL(r->recording, recording);
    DUP_OR_FAIL(r->path, path);
    DUP_OR_FAIL(r->error, error);
    return PLM_OK;
}

plm_status plm_store_add_stat(plm_store *s, const plm_stat_row *row)
{
    if (!plm__grow((void **)&s->stats, &s->cap_stats, s->n_stats + 1, sizeof *s->stats, 32))
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", s->path);
    stat_rec *r = &s->stats[s->n_stats++];
    *r = *row;
    r->outcome = NULL;
    DUP_OR_FAIL(r->outcome, row->outcome);
    return PLM_OK;
}

plm_status plm_store_add_lmm(plm_store *s, const plm_lmm_row *row)
{
    if (!plm__grow((void **)&s->lmms, &s->cap_lmms, s->n_lmms + 1, sizeof *s->lmms, 32))
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", s->path);
    lmm_rec *r = &s->lmms[s->n_lmms++];
    *r = (lmm_rec){NULL, row->n_nights, row->n_subjects, row->estimate, row->se, row->df, row->ci_low, row->ci_high,
                   row->p, row->sd_subject, row->sd_residual};
    r->outcome = plm__strdup(row->outcome ? row->outcome : "");
    if (!r->outcome) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", s->path);
    return PLM_OK;
}

plm_status plm_store_add_shard_row(plm_store *s, int32_t manifest_row, int failed)
{
    if (!plm__grow((void **)&s->shard, &s->cap_shard, s->n_shard + 1, sizeof *s->shard, 32))
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", s->path);
    s->shard[s->n_shard++] = (plm_shard_row){manifest_row, (uint8_t)(failed != 0)};
    return PLM_OK;
}

/* ---------- compound types ---------- */

hid_t plm__h5_compound(size_t size, const field *f, size_t nf)
{
    hid_t t = H5Tcreate(H5T_COMPOUND, size);
    if (t < 0) return t;
    hid_t s = plm__h5_str_type();
    for (size_t i = 0; i < nf; i++) {
        hid_t ft = f[i].type == FT_D ? H5T_NATIVE_DOUBLE
                 : f[i].type == FT_I32 ? H5T_NATIVE_INT32
                 : f[i].type == FT_U8 ? H5T_NATIVE_UINT8 : s;
        H5Tinsert(t, f[i].name, f[i].offset, ft);
    }
    H5Tclose(s);
    return t;
}

#define F(st, name, type) {#name, offsetof(st, name), type}
#define STR FT_STR
#define D FT_D
#define I32 FT_I32
#define U8 FT_U8

const field plm__failure_fields[] = {F(failure_rec, recording, STR), F(failure_rec, path, STR),
                                       F(failure_rec, error, STR)};
const field plm__stat_fields[] = {
    F(stat_rec, outcome, STR), F(stat_rec, n, I32), F(stat_rec, control_mean, D), F(stat_rec, control_sd, D),
    F(stat_rec, treatment_mean, D), F(stat_rec, treatment_sd, D), F(stat_rec, diff_mean, D),
    F(stat_rec, diff_ci_low, D), F(stat_rec, diff_ci_high, D), F(stat_rec, hl_estimate, D),
    F(stat_rec, hl_ci_low, D), F(stat_rec, hl_ci_high, D), F(stat_rec, ttest_p, D), F(stat_rec, wilcoxon_p, D),
    F(stat_rec, cohen_dz, D), F(stat_rec, holm_p, D), F(stat_rec, hedges_g, D), F(stat_rec, hedges_g_ci_low, D),
    F(stat_rec, hedges_g_ci_high, D)};
const field plm__lm_fields[] = {F(plm_lm_row, onset_s, D), F(plm_lm_row, offset_s, D), F(plm_lm_row, leg, U8),
                                  F(plm_lm_row, clm, U8), F(plm_lm_row, plm, U8), F(plm_lm_row, sleep, U8)};
const field plm__epoch_fields[] = {F(plm_epoch_row, onset_s, D), F(plm_epoch_row, sleep, U8)};
const field plm__activity_fields[] = {F(plm_activity_row, onset_s, D), F(plm_activity_row, left_mad_g, D),
                                        F(plm_activity_row, right_mad_g, D)};
static const field lmm_fields[] = {F(lmm_rec, outcome, STR), F(lmm_rec, n_nights, I32), F(lmm_rec, n_subjects, I32),
                                   F(lmm_rec, estimate, D), F(lmm_rec, se, D), F(lmm_rec, df, D), F(lmm_rec, ci_low, D),
                                   F(lmm_rec, ci_high, D), F(lmm_rec, p, D), F(lmm_rec, sd_subject, D),
                                   F(lmm_rec, sd_residual, D)};
const field plm__lmleg_fields[] = {F(lmleg_rec, onset_s, D), F(lmleg_rec, offset_s, D), F(lmleg_rec, leg, U8),
                                     F(lmleg_rec, peak_g, D), F(lmleg_rec, area_g_s, D)};
const field plm__qc_fields[] = {F(qc_rec, onset_s, D), F(qc_rec, offset_s, D), F(qc_rec, kind, STR), F(qc_rec, leg, U8)};
const field plm__hist_fields[] = {F(hist_rec, lo_s, D), F(hist_rec, hi_s, D), F(hist_rec, count, I32)};
const field plm__shard_fields[] = {F(shard_rec, manifest_row, I32), F(shard_rec, failed, U8)};
static const field annot_fields[] = {F(annot_rec, onset_s, D), F(annot_rec, duration_s, D), F(annot_rec, text, STR)};
#define NF(a) (sizeof(a) / sizeof(a[0]))
const size_t plm__failure_nfields = NF(plm__failure_fields), plm__stat_nfields = NF(plm__stat_fields),
             plm__lm_nfields = NF(plm__lm_fields), plm__lmleg_nfields = NF(plm__lmleg_fields),
             plm__shard_nfields = NF(plm__shard_fields), plm__epoch_nfields = NF(plm__epoch_fields),
             plm__activity_nfields = NF(plm__activity_fields), plm__qc_nfields = NF(plm__qc_fields),
             plm__hist_nfields = NF(plm__hist_fields);

/* The /nights fields (plm/nights.h) as this file's field list. */
size_t plm__night_fields(field out[PLM__NIGHT_MAXF])
{
    static const int ft[] = {[PLM_NF_STR] = FT_STR, [PLM_NF_I32] = FT_I32, [PLM_NF_F64] = FT_D};
    size_t n = plm_night_nfields < PLM__NIGHT_MAXF ? plm_night_nfields : PLM__NIGHT_MAXF;
    for (size_t i = 0; i < n; i++)
        out[i] = (field){plm_night_fields[i].name, plm_night_fields[i].offset, ft[plm_night_fields[i].type]};
    return n;
}

/* Create a chunked, extendible 1-D table and write n rows. */
static hid_t write_table(hid_t loc, const char *name, size_t rowsize, const field *f, size_t nf, const void *rows,
                         size_t n)
{
    hid_t mt = plm__h5_compound(rowsize, f, nf), ft = H5I_INVALID_HID, space = H5I_INVALID_HID, dcpl = H5I_INVALID_HID,
          ds = H5I_INVALID_HID;
    if (mt < 0) goto fail;
    ft = H5Tcopy(mt);
    if (ft < 0 || H5Tpack(ft) < 0) goto fail;
    hsize_t dims[1] = {n}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {n < 1 ? 1 : (n > 4096 ? 4096 : n)};
    space = H5Screate_simple(1, dims, maxdims);
    dcpl = obj_plist(H5P_DATASET_CREATE);
    if (space < 0 || dcpl < 0 || H5Pset_chunk(dcpl, 1, chunk) < 0) goto fail;
    ds = H5Dcreate2(loc, name, ft, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) goto fail;
    if (n && H5Dwrite(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) < 0) {
        H5Dclose(ds);
        ds = H5I_INVALID_HID;
    }
fail:
    if (mt >= 0) H5Tclose(mt);
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    return ds;
}

static plm_status table(plm_store *s, hid_t loc, const char *name, size_t rowsize, const field *f, size_t nf,
                        const void *rows, size_t n)
{
    hid_t ds = write_table(loc, name, rowsize, f, nf, rows, n);
    if (ds < 0) PLM_FAIL(PLM_EIO, "%s: HDF5 error writing %s", s->path, name);
    H5Dclose(ds);
    return PLM_OK;
}

/* ---------- recordings ---------- */

plm_status plm_store_recording_begin(plm_store *s, const char *id, plm_store_rec **out)
{
    *out = NULL;
    if (!id || !*id || strchr(id, '/') || !strcmp(id, ".") || !strcmp(id, ".."))
        PLM_FAIL(PLM_EINVAL, "recording id '%s' is not a valid group name", id ? id : "");
    if (H5Lexists(s->recordings, id, H5P_DEFAULT) > 0)
        PLM_FAIL(PLM_EINVAL, "%s: recording '%s' is already in the results", s->path, id);
    plm_store_rec *r = calloc(1, sizeof *r);
    if (!r) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", s->path);
    r->store = s;
    r->activity = H5I_INVALID_HID;
    r->id = plm__strdup(id);
    hid_t gcpl = obj_plist(H5P_GROUP_CREATE);
    r->group = gcpl >= 0 ? H5Gcreate2(s->recordings, id, H5P_DEFAULT, gcpl, H5P_DEFAULT) : H5I_INVALID_HID;
    if (gcpl >= 0) H5Pclose(gcpl);
    if (r->group < 0 || !r->id) {
        free(r->id);
        free(r);
        PLM_FAIL(PLM_EIO, "%s: cannot create group for recording '%s'", s->path, id);
    }
    s->open_rec++;
    *out = r;
    return PLM_OK;
}

plm_status plm_store_rec_append_activity(plm_store_rec *r, const plm_activity_row *rows, size_t n)
{
    plm_store *s = r->store;
    if (!n) return PLM_OK;
    plm_status st = PLM_OK;
    hid_t mt = plm__h5_compound(sizeof *rows, plm__activity_fields, NF(plm__activity_fields));
    hid_t fspace = H5I_INVALID_HID, mspace = H5I_INVALID_HID;
    HCHECK(mt, "activity type");
    if (r->activity < 0) {
        r->activity = write_table(r->group, "activity", sizeof *rows, plm__activity_fields, NF(plm__activity_fields), rows, n);
        HCHECK(r->activity, "writing activity");
        r->n_activity = n;
        goto fail; /* done */
    }
    hsize_t newsize[1] = {r->n_activity + n}, start[1] = {r->n_activity}, count[1] = {n};
    HCHECK(H5Dset_extent(r->activity, newsize), "extending activity");
    fspace = H5Dget_space(r->activity);
    HCHECK(fspace, "activity space");
    HCHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL), "activity selection");
    mspace = H5Screate_simple(1, count, NULL);
    HCHECK(mspace, "activity memory space");
    HCHECK(H5Dwrite(r->activity, mt, mspace, fspace, H5P_DEFAULT, rows), "writing activity");
    r->n_activity += n;
fail:
    if (mt >= 0) H5Tclose(mt);
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    return st;
}

plm_status plm_store_rec_write_lm(plm_store_rec *r, const plm_lm_row *rows, size_t n)
{
    return table(r->store, r->group, "lm", sizeof *rows, plm__lm_fields, NF(plm__lm_fields), rows, n);
}

plm_status plm_store_rec_write_epochs(plm_store_rec *r, const plm_epoch_row *rows, size_t n)
{
    return table(r->store, r->group, "epochs", sizeof *rows, plm__epoch_fields, NF(plm__epoch_fields), rows, n);
}

plm_status plm_store_rec_write_annotations(plm_store_rec *r, const plm_annotation *a, size_t n)
{
    annot_rec *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->store->path);
    for (size_t i = 0; i < n; i++) {
        rows[i].onset_s = plm_100ns_to_s(a[i].onset_100ns);
        rows[i].duration_s = a[i].duration_100ns < 0 ? NAN : plm_100ns_to_s(a[i].duration_100ns);
        rows[i].text = a[i].text ? a[i].text : "";
    }
    plm_status st = table(r->store, r->group, "annotations", sizeof *rows, annot_fields, NF(annot_fields), rows, n);
    free(rows);
    return st;
}

plm_status plm_store_rec_write_lm_leg(plm_store_rec *r, const plm_lm *v, size_t n, double fs_hz)
{
    lmleg_rec *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->store->path);
    for (size_t i = 0; i < n; i++)
        rows[i] = (lmleg_rec){plm_samples_to_s(v[i].onset, fs_hz), plm_samples_to_s(v[i].end, fs_hz), v[i].leg, v[i].peak_g, v[i].area_g_s};
    plm_status st = table(r->store, r->group, "lm_leg", sizeof *rows, plm__lmleg_fields, NF(plm__lmleg_fields), rows, n);
    free(rows);
    return st;
}

plm_status plm_store_rec_write_qc(plm_store_rec *r, const plm_interval *v, size_t n, double fs_hz)
{
    static char *const kinds[] = {"", "nonwear", "clipping", "dropout"};
    qc_rec *rows = calloc(n ? n : 1, sizeof *rows);
    if (!rows) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->store->path);
    for (size_t i = 0; i < n; i++)
        rows[i] = (qc_rec){plm_samples_to_s(v[i].onset, fs_hz), plm_samples_to_s(v[i].end, fs_hz), kinds[v[i].kind <= 3 ? v[i].kind : 0], v[i].leg};
    plm_status st = table(r->store, r->group, "qc", sizeof *rows, plm__qc_fields, NF(plm__qc_fields), rows, n);
    free(rows);
    return st;
}

plm_status plm_store_rec_write_imi_histogram(plm_store_rec *r, const int32_t *counts, size_t nbins)
{
    hist_rec rows[64];
    if (nbins > 64) PLM_FAIL(PLM_EINVAL, "imi histogram: %zu bins, at most 64", nbins);
    for (size_t i = 0; i < nbins; i++)
        rows[i] = (hist_rec){pow(10, 0.15 * (double)i), pow(10, 0.15 * (double)(i + 1)), counts[i]};
    return table(r->store, r->group, "imi_histogram", sizeof *rows, plm__hist_fields, NF(plm__hist_fields), rows, nbins);
}

static void rec_free(plm_store_rec *r)
{
    if (r->activity >= 0) H5Dclose(r->activity);
    if (r->group >= 0) H5Gclose(r->group);
    r->store->open_rec--;
    free(r->id);
    free(r);
}

plm_status plm_store_recording_end(plm_store_rec *r)
{
    plm_store *s = r->store;
    plm_status st = PLM_OK;
    if (r->activity < 0) { /* always present, possibly empty */
        r->activity = write_table(r->group, "activity", sizeof(plm_activity_row), plm__activity_fields,
                                  NF(plm__activity_fields), NULL, 0);
        if (r->activity < 0) st = plm__fail(PLM_EIO, "%s: HDF5 error writing activity", s->path);
    }
    rec_free(r);
    return st;
}

void plm_store_recording_abort(plm_store_rec *r)
{
    if (!r) return;
    plm_store *s = r->store;
    char *id = plm__strdup(r->id);
    rec_free(r);
    if (id) H5Ldelete(s->recordings, id, H5P_DEFAULT);
    free(id);
}

/* ---------- commit ---------- */

static void free_rows(plm_store *s)
{
    plm_nights_free(s->nights, s->n_nights);
    for (size_t i = 0; i < s->n_failures; i++) {
        free(s->failures[i].recording);
        free(s->failures[i].path);
        free(s->failures[i].error);
    }
    for (size_t i = 0; i < s->n_stats; i++) free((char *)s->stats[i].outcome);
    for (size_t i = 0; i < s->n_lmms; i++) free(s->lmms[i].outcome);
    free(s->lmms);
    s->lmms = NULL;
    free(s->shard);
    s->shard = NULL;
    free(s->failures);
    free(s->stats);
    s->nights = NULL;
    s->failures = NULL;
    s->stats = NULL;
}

/* The bytes a copy of the objects under a group will take: its datasets' storage, and 4 KiB per
 * object for headers and links. */
static herr_t add_size(hid_t loc, const char *name, const H5O_info_t *info, void *op)
{
    uint64_t *total = op;
    *total += 4096;
    if (info->type == H5O_TYPE_DATASET) {
        hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
        if (d >= 0) {
            *total += H5Dget_storage_size(d);
            H5Dclose(d);
        }
    }
    return 0;
}

void plm_store_process_init(void) { H5dont_atexit(); }

static _Thread_local int nospace;

int plm__nospace_take(void)
{
    int n = nospace;
    nospace = 0;
    return n;
}

/* Room for need more bytes beside the results being written? HDF5 1.10 can crash (not fail) when a
 * write fails inside H5Ocopy, so a full disk is found out before the copy, not by it. */
static plm_status room_for(const plm_store *s, uint64_t need, const char *what)
{
    struct statvfs v;
    if (!s->tmp || statvfs(s->tmp, &v) != 0) return PLM_OK; /* cannot tell: let the writes say */
    uint64_t avail = (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
    need += need / 4 + (1u << 18); /* the file grows in blocks; its metadata besides */
    nospace = avail < need;
    if (avail < need)
        PLM_FAIL(PLM_EIO, "%s: no space left on the disk to write %s (%.1f MB needed, %.1f MB free)", s->path, what,
                 (double)need / 1e6, (double)avail / 1e6);
    return PLM_OK;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

plm_status plm_store_commit(plm_store *s)
{
    plm_status st = PLM_OK;
    if (s->open_rec) {
        st = plm__fail(PLM_EINTERNAL, "%s: commit with a recording group still open", s->path);
        goto fail;
    }
    field nf[PLM__NIGHT_MAXF];
    size_t nnf = plm__night_fields(nf);
    uint64_t rows = (uint64_t)s->n_nights * sizeof(plm_night) + (uint64_t)s->n_failures * sizeof(failure_rec) +
                    (uint64_t)s->n_stats * sizeof(stat_rec) + (uint64_t)s->n_lmms * sizeof(lmm_rec) +
                    (uint64_t)s->n_shard * sizeof(shard_rec);
    if ((st = room_for(s, rows, "its tables")) || (st = table(s, s->file, "nights", sizeof(plm_night), nf, nnf, s->nights, s->n_nights)) ||
        (st = table(s, s->file, "failures", sizeof(failure_rec), plm__failure_fields, NF(plm__failure_fields), s->failures,
                    s->n_failures)) ||
        (st = table(s, s->file, "stats", sizeof(stat_rec), plm__stat_fields, NF(plm__stat_fields), s->stats, s->n_stats)) ||
        (s->n_lmms && (st = table(s, s->file, "stats_lmm", sizeof(lmm_rec), lmm_fields, NF(lmm_fields), s->lmms, s->n_lmms))) ||
        (s->n_shard && (st = table(s, s->file, "shard", sizeof(shard_rec), plm__shard_fields, NF(plm__shard_fields), s->shard, s->n_shard))))
        goto fail;
    H5Gclose(s->recordings);
    s->recordings = H5I_INVALID_HID;
    herr_t rc = H5Fclose(s->file);
    s->file = H5I_INVALID_HID;
    if (rc < 0) {
        st = plm__fail(PLM_EIO, "%s: HDF5 error closing the file (disk full?)", s->path);
        goto fail;
    }
    if (fsync_path(s->tmp) != 0 || rename(s->tmp, s->path) != 0) {
        st = plm__fail(PLM_EIO, "%s: cannot move the results into place: %s", s->path, strerror(errno));
        goto fail;
    }
    free(s->tmp);
    s->tmp = NULL;
    char *dir = plm__strdup(s->path);
    if (dir) {
        char *slash = strrchr(dir, '/');
        if (slash) {
            *slash = '\0';
            fsync_path(slash == dir ? "/" : dir);
        } else fsync_path(".");
        free(dir);
    }
fail:
    plm_store_destroy(s);
    return st;
}

void plm_store_destroy(plm_store *s)
{
    if (!s) return;
    if (s->recordings >= 0) H5Gclose(s->recordings);
    if (s->file >= 0) H5Fclose(s->file);
    if (s->tmp) unlink(s->tmp);
    free_rows(s);
    free(s->tmp);
    free(s->path);
    free(s);
}

plm_status plm_store_import_recording(plm_store *s, const char *src_path, const char *id)
{
    if (!id || !*id || strchr(id, '/')) PLM_FAIL(PLM_EINVAL, "recording id '%s' is not a valid group name", id ? id : "");
    if (H5Lexists(s->recordings, id, H5P_DEFAULT) > 0)
        PLM_FAIL(PLM_EINVAL, "%s: recording '%s' is already in the results", s->path, id);
    hid_t src = plm__h5_open_ro(src_path);
    if (src < 0) return PLM_EIO;
    char name[1100], what[1200];
    snprintf(name, sizeof name, "/recordings/%s", id);
    uint64_t need = 0;
    if (H5Ovisit_by_name2(src, name, H5_INDEX_NAME, H5_ITER_NATIVE, add_size, &need, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
        need = 0;
    snprintf(what, sizeof what, "recording '%s'", id);
    plm_status st = room_for(s, need, what);
    if (st) {
        H5Fclose(src);
        return st;
    }
    herr_t rc = H5Ocopy(src, name, s->recordings, id, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(src);
    if (rc < 0) PLM_FAIL(PLM_EIO, "%s: cannot copy recording '%s' from %s", s->path, id, src_path);
    return PLM_OK;
}

/* Copy one scalar attribute (string, integer or floating point) of the source root. */
typedef struct {
    plm_store *s;
    const char *const *skip;
    size_t nskip;
    plm_status st;
} copy_ctx;

plm_status plm__h5_attr_value(hid_t loc, const char *name, plm__attr_value *v)
{
    memset(v, 0, sizeof *v);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : H5I_INVALID_HID;
    H5T_class_t cls = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
    plm_status st = PLM_OK;
    if (cls == H5T_STRING) {
        hid_t mt = plm__h5_str_type();
        v->kind = 's';
        if (!(H5Tis_variable_str(t) > 0 && H5Aread(a, mt, &v->str) >= 0))
            st = plm__fail(PLM_EFORMAT, "root attribute %s: not a variable-length string", name);
        H5Tclose(mt);
    } else if (cls == H5T_INTEGER) {
        v->kind = 'i';
        if (H5Aread(a, H5T_NATIVE_INT64, &v->i) < 0) st = plm__fail(PLM_EIO, "cannot read root attribute %s", name);
    } else if (cls == H5T_FLOAT) {
        hid_t sp = H5Aget_space(a);
        hssize_t np = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
        if (sp >= 0) H5Sclose(sp);
        v->kind = 'f';
        v->nf = np > 0 ? (size_t)np : 0;
        if (np < 1 || np > 64) st = plm__fail(PLM_EFORMAT, "root attribute %s: %lld values", name, (long long)np);
        else if (H5Aread(a, H5T_NATIVE_DOUBLE, v->f) < 0) st = plm__fail(PLM_EIO, "cannot read root attribute %s", name);
    } else {
        st = plm__fail(PLM_EFORMAT, "root attribute %s: unsupported type", name);
    }
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    return st;
}

static herr_t copy_attr(hid_t loc, const char *name, const H5A_info_t *info, void *arg)
{
    (void)info;
    copy_ctx *c = arg;
    for (size_t i = 0; i < c->nskip; i++)
        if (!strcmp(name, c->skip[i])) return 0;
    plm__attr_value v;
    c->st = plm__h5_attr_value(loc, name, &v);
    if (!c->st) {
        if (v.kind == 's') c->st = plm_store_attr_str(c->s, NULL, name, v.str);
        else if (v.kind == 'i') c->st = plm_store_attr_i64(c->s, NULL, name, v.i);
        else c->st = v.nf == 1 ? plm_store_attr_f64(c->s, NULL, name, v.f[0]) : plm_store_attr_f64v(c->s, NULL, name, v.f, v.nf);
    }
    free(v.str);
    return c->st ? -1 : 0;
}

plm_status plm_store_copy_root_attrs(plm_store *s, const char *src_path, const char *const *skip, size_t nskip)
{
    hid_t f = plm__h5_open_ro(src_path);
    if (f < 0) return PLM_EIO;
    copy_ctx c = {s, skip, nskip, PLM_OK};
    hsize_t idx = 0;
    herr_t rc = H5Aiterate_by_name(f, "/", H5_INDEX_NAME, H5_ITER_INC, &idx, copy_attr, &c, H5P_DEFAULT);
    H5Fclose(f);
    if (c.st) {
        char why[512];
        plm__strlcpy(why, plm_last_error(), sizeof why);
        return plm__fail(c.st, "%s: %s", src_path, why);
    }
    if (rc < 0) PLM_FAIL(PLM_EIO, "%s: cannot read the root attributes", src_path);
    return PLM_OK;
}
