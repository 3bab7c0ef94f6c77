/* store_read.c -- reading a results file back (writing: store.c). Every file is opened read-only
 * through plm__h5_open_ro. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "store_internal.h"

/* Rows [first, first + cap) of a 1-D compound table (cap 0: to the end) into rows of rowsize
 * bytes: into buf when given (cap rows long), else a malloc'd *rows. init, when given, fills the
 * rows first: HDF5 leaves members that the file lacks (an older layout) alone. *total: the
 * table's length. */
static plm_status read_rows(const char *path, const char *dset, size_t rowsize, const field *f, size_t nf,
                            void (*init)(void *rows, size_t n), size_t first, size_t cap, void *buf, void **rows,
                            size_t *n, size_t *total)
{
    if (rows) *rows = NULL;
    *n = 0;
    if (total) *total = 0;
    hid_t file = plm__h5_open_ro(path);
    if (file < 0) return PLM_EIO;
    plm_status st = PLM_OK;
    void *out = buf;
    hid_t ds = H5Dopen2(file, dset, H5P_DEFAULT), sp = H5I_INVALID_HID, ms = H5I_INVALID_HID, mt = H5I_INVALID_HID;
    if (ds < 0) {
        st = plm__fail(PLM_EFORMAT, "%s: no %s", path, dset);
        goto done;
    }
    sp = H5Dget_space(ds);
    hsize_t dims[1] = {0};
    H5Sget_simple_extent_dims(sp, dims, NULL);
    if (total) *total = (size_t)dims[0];
    size_t count = first < dims[0] ? (size_t)dims[0] - first : 0;
    if (cap && count > cap) count = cap;
    if (!out && !(out = calloc(count ? count : 1, rowsize))) {
        st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (!count) goto done;
    mt = plm__h5_compound(rowsize, f, nf);
    hsize_t start[1] = {first}, cnt[1] = {count};
    ms = H5Screate_simple(1, cnt, NULL);
    if (mt < 0 || ms < 0) {
        st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    if (init) init(out, count);
    if (H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, cnt, NULL) < 0 || H5Dread(ds, mt, ms, sp, H5P_DEFAULT, out) < 0) {
        st = plm__fail(PLM_EIO, "%s: cannot read %s", path, dset);
        goto done;
    }
    *n = count;
done:
    if (st && out != buf) free(out);
    else if (rows && out != buf) *rows = out;
    if (mt >= 0) H5Tclose(mt);
    if (ms >= 0) H5Sclose(ms);
    if (sp >= 0) H5Sclose(sp);
    if (ds >= 0) H5Dclose(ds);
    H5Fclose(file);
    return st;
}

/* A whole table into malloc'd rows. */
static plm_status read_table(const char *path, const char *dset, size_t rowsize, const field *f, size_t nf,
                             void (*init)(void *rows, size_t n), void **rows, size_t *n)
{
    return read_rows(path, dset, rowsize, f, nf, init, 0, 0, NULL, rows, n, NULL);
}

plm_status plm_store_read_lm_leg(const char *path, const char *recording, plm_span **out, size_t *n, char *rec_out,
                                 size_t rec_n)
{
    *out = NULL;
    *n = 0;
    char **ids = NULL, dsname[1200];
    size_t nid = 0;
    plm_status st = PLM_OK;
    if (!recording) { /* the file must hold exactly one */
        if ((st = plm_store_list_recordings(path, &ids, &nid))) return st;
        if (nid != 1) st = plm__fail(PLM_EINVAL, "%s: %s; name the recording (--recording ID)", path,
                                     nid ? "holds several recordings" : "holds no recording");
        else recording = ids[0];
    }
    lmleg_rec *rows = NULL;
    if (!st) {
        if (rec_out) plm__strlcpy(rec_out, recording, rec_n);
        snprintf(dsname, sizeof dsname, "/recordings/%s/lm_leg", recording);
        st = read_table(path, dsname, sizeof *rows, plm__lmleg_fields, plm__lmleg_nfields, NULL, (void **)&rows, n);
        if (st == PLM_EFORMAT) st = plm__fail(st, "%s: no %s (run actiplm detect or run first)", path, dsname);
    }
    if (!st && !(*out = calloc(*n ? *n : 1, sizeof **out))) st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
    for (size_t i = 0; !st && i < *n; i++) (*out)[i] = (plm_span){rows[i].onset_s, rows[i].offset_s, rows[i].leg};
    if (st) *n = 0;
    free(rows);
    for (size_t i = 0; i < nid; i++) free(ids[i]);
    free(ids);
    return st;
}

/* Every field unknown, strings NULL (set to owned "" after reading when the file lacks them). */
static void nights_unknown(void *rows, size_t n)
{
    plm_night *r = rows;
    for (size_t i = 0; i < n; i++) {
        plm_night_init(&r[i], NULL, NULL, NULL, -1);
        for (size_t k = 0; k < plm_night_nfields; k++)
            if (plm_night_fields[k].type == PLM_NF_STR) *(char **)((char *)&r[i] + plm_night_fields[k].offset) = NULL;
    }
}

plm_status plm_store_read_nights(const char *path, plm_night **rows, size_t *n)
{
    field nf[PLM__NIGHT_MAXF];
    size_t nnf = plm__night_fields(nf);
    plm_status st = read_table(path, "/nights", sizeof **rows, nf, nnf, nights_unknown, (void **)rows, n);
    if (st == PLM_EFORMAT) return plm__fail(st, "%s: no /nights table (not an actiplm results file?)", path);
    for (size_t i = 0; !st && i < *n; i++)
        for (size_t k = 0; k < plm_night_nfields; k++) {
            char **p = (char **)((char *)&(*rows)[i] + plm_night_fields[k].offset);
            if (plm_night_fields[k].type == PLM_NF_STR && !*p && !(*p = plm__strdup(""))) {
                plm_nights_free(*rows, *n);
                *rows = NULL;
                *n = 0;
                PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
            }
        }
    return st;
}

static void stats_unknown(void *rows, size_t n)
{
    plm_stat_row *r = rows;
    for (size_t i = 0; i < n; i++) r[i].hedges_g = r[i].hedges_g_ci_low = r[i].hedges_g_ci_high = NAN;
}

plm_status plm_store_read_stats(const char *path, plm_stat_row **rows, size_t *n)
{
    return read_table(path, "/stats", sizeof **rows, plm__stat_fields, plm__stat_nfields, stats_unknown, (void **)rows, n);
}

plm_status plm_store_read_lm(const char *path, const char *id, plm_lm_row **rows, size_t *n)
{
    char name[1100];
    snprintf(name, sizeof name, "/recordings/%s/lm", id);
    return read_table(path, name, sizeof **rows, plm__lm_fields, plm__lm_nfields, NULL, (void **)rows, n);
}

plm_status plm_store_list_recordings(const char *path, char ***ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    hid_t f = plm__h5_open_ro(path);
    if (f < 0) return PLM_EIO;
    hid_t g = H5Gopen2(f, "recordings", H5P_DEFAULT);
    H5G_info_t gi;
    plm_status st = PLM_OK;
    if (g < 0 || H5Gget_info(g, &gi) < 0) {
        st = plm__fail(PLM_EFORMAT, "%s: no /recordings", path);
        goto done;
    }
    *ids = calloc(gi.nlinks ? gi.nlinks : 1, sizeof **ids);
    if (!*ids) {
        st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
        goto done;
    }
    for (hsize_t i = 0; i < gi.nlinks; i++) { /* creation order: the manifest's order */
        ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
        if (len < 0 || !((*ids)[i] = malloc((size_t)len + 1))) {
            st = plm__fail(PLM_EIO, "%s: cannot list /recordings", path);
            goto done;
        }
        H5Lget_name_by_idx(g, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, i, (*ids)[i], (size_t)len + 1, H5P_DEFAULT);
        (*n)++;
    }
done:
    if (st && *ids) {
        for (size_t i = 0; i < *n; i++) free((*ids)[i]);
        free(*ids);
        *ids = NULL;
        *n = 0;
    }
    if (g >= 0) H5Gclose(g);
    H5Fclose(f);
    return st;
}

/* Read attribute name of object in the file at path as mtype into out (PLM_ENODATA if absent). */
static plm_status read_attr(const char *path, const char *object, const char *name, hid_t mtype, void *out)
{
    hid_t f = plm__h5_open_ro(path);
    if (f < 0) return PLM_EIO;
    plm_status st = PLM_OK;
    hid_t o = H5Oopen(f, object, H5P_DEFAULT), a = H5I_INVALID_HID;
    if (o < 0 || H5Aexists(o, name) <= 0) st = plm__fail(PLM_ENODATA, "%s: %s has no attribute %s", path, object, name);
    else if ((a = H5Aopen(o, name, H5P_DEFAULT)) < 0 || H5Aread(a, mtype, out) < 0)
        st = plm__fail(PLM_EIO, "%s: cannot read %s of %s", path, name, object);
    if (a >= 0) H5Aclose(a);
    if (o >= 0) H5Oclose(o);
    H5Fclose(f);
    return st;
}

plm_status plm_store_read_attr_str(const char *path, const char *object, const char *name, char *buf, size_t n)
{
    buf[0] = '\0';
    hid_t t = plm__h5_str_type();
    char *v = NULL;
    plm_status st = read_attr(path, object, name, t, &v);
    H5Tclose(t);
    if (!st) plm__strlcpy(buf, v ? v : "", n);
    free(v);
    return st;
}

plm_status plm_store_read_attr_i64(const char *path, const char *object, const char *name, int64_t *value)
{
    return read_attr(path, object, name, H5T_NATIVE_INT64, value);
}

plm_status plm_store_read_failures(const char *path, plm_failure **rows, size_t *n)
{
    return read_table(path, "/failures", sizeof **rows, plm__failure_fields, plm__failure_nfields, NULL, (void **)rows, n);
}

plm_status plm_store_read_shard_rows(const char *path, plm_shard_row **rows, size_t *n)
{
    plm_status st = read_table(path, "/shard", sizeof **rows, plm__shard_fields, plm__shard_nfields, NULL, (void **)rows, n);
    if (st == PLM_EFORMAT) { /* a shard of no rows has no /shard table */
        *n = 0;
        *rows = calloc(1, sizeof **rows);
        return *rows ? PLM_OK : plm__fail(PLM_ENOMEM, "%s: out of memory", path);
    }
    return st;
}


static plm_status read_rec_table(const char *path, const char *id, const char *name, size_t rowsize, const field *f,
                                 size_t nf, void **rows, size_t *n)
{
    char dset[1100];
    snprintf(dset, sizeof dset, "/recordings/%s/%s", id, name);
    return read_table(path, dset, rowsize, f, nf, NULL, rows, n);
}

plm_status plm_store_read_epochs(const char *path, const char *id, plm_epoch_row **rows, size_t *n)
{
    return read_rec_table(path, id, "epochs", sizeof **rows, plm__epoch_fields, plm__epoch_nfields, (void **)rows, n);
}

plm_status plm_store_read_qc(const char *path, const char *id, plm_qc_row **rows, size_t *n)
{
    return read_rec_table(path, id, "qc", sizeof **rows, plm__qc_fields, plm__qc_nfields, (void **)rows, n);
}

void plm_qc_rows_free(plm_qc_row *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) free(rows[i].kind);
    free(rows);
}

plm_status plm_store_read_imi_histogram(const char *path, const char *id, plm_imi_bin **rows, size_t *n)
{
    return read_rec_table(path, id, "imi_histogram", sizeof **rows, plm__hist_fields, plm__hist_nfields, (void **)rows, n);
}

plm_status plm_store_read_activity(const char *path, const char *id, size_t first, size_t cap, plm_activity_row *rows,
                                   size_t *got, size_t *total)
{
    char dset[1100];
    snprintf(dset, sizeof dset, "/recordings/%s/activity", id);
    if (!cap) {
        *got = 0;
        return PLM_OK;
    }
    return read_rows(path, dset, sizeof *rows, plm__activity_fields, plm__activity_nfields, NULL, first, cap, rows, NULL,
                     got, total);
}

plm_status plm_store_read_attr_f64(const char *path, const char *object, const char *name, double *value)
{
    return read_attr(path, object, name, H5T_NATIVE_DOUBLE, value);
}

typedef struct {
    const char *prefix;
    void (*fn)(void *user, const char *name, const char *value);
    void *user;
} text_ctx;

static herr_t attr_text(hid_t loc, const char *name, const H5A_info_t *info, void *arg)
{
    (void)info;
    text_ctx *c = arg;
    if (strncmp(name, c->prefix, strlen(c->prefix))) return 0;
    plm__attr_value v;
    if (plm__h5_attr_value(loc, name, &v) == PLM_OK) {
        char buf[64 * 26] = "";
        if (v.kind == 's') c->fn(c->user, name, v.str ? v.str : "");
        else if (v.kind == 'i') snprintf(buf, sizeof buf, "%lld", (long long)v.i), c->fn(c->user, name, buf);
        else {
            for (size_t k = 0; k < v.nf; k++) {
                size_t at = strlen(buf);
                snprintf(buf + at, sizeof buf - at, "%s%.15g", k ? ", " : "", v.f[k]);
            }
            c->fn(c->user, name, buf);
        }
    }
    free(v.str);
    return 0;
}

plm_status plm_store_root_attrs_text(const char *path, const char *prefix, void (*fn)(void *user, const char *name, const char *value),
                                     void *user)
{
    hid_t f = plm__h5_open_ro(path);
    if (f < 0) return PLM_EIO;
    text_ctx c = {prefix ? prefix : "", fn, user};
    hsize_t idx = 0;
    herr_t rc = H5Aiterate_by_name(f, "/", H5_INDEX_NAME, H5_ITER_INC, &idx, attr_text, &c, H5P_DEFAULT);
    H5Fclose(f);
    return rc < 0 ? plm__fail(PLM_EIO, "%s: cannot read the root attributes", path) : PLM_OK;
}
