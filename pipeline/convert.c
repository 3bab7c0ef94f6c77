/* convert.c -- a recording's decoded signal as HDF5, WAV, FLAC and CSV (plm/convert.h). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plm/convert.h"
#include "plm/csv.h"
#include "internal.h"

enum { BLOCK = 16384 };

typedef struct {
    char final[4200], tmp[4300];
} out_path;

static void paths(out_path *p, const char *base, const char *ext)
{
    snprintf(p->final, sizeof p->final, "%s%s", base, ext);
    snprintf(p->tmp, sizeof p->tmp, "%s.tmp-%ld", p->final, (long)getpid());
}

static plm_status commit(out_path *p)
{
    if (rename(p->tmp, p->final) != 0) {
        unlink(p->tmp);
        PLM_FAIL(PLM_EIO, "%s: cannot move into place: %s", p->final, strerror(errno));
    }
    return PLM_OK;
}

/* ---- HDF5: accel_g N x 3 and time_unix_s N, extended block by block ---- */

typedef struct {
    out_path p;
    hid_t f, acc, t, gyro, temp, light;
    hsize_t n;
} h5w;

static hid_t ext_dataset(hid_t f, const char *name, int rank, hsize_t cols)
{
    hsize_t dims[2] = {0, cols}, maxd[2] = {H5S_UNLIMITED, cols}, chunk[2] = {BLOCK, cols};
    hid_t sp = H5Screate_simple(rank, dims, maxd), pl = H5Pcreate(H5P_DATASET_CREATE), d = H5I_INVALID_HID;
    if (sp >= 0 && pl >= 0 && H5Pset_chunk(pl, rank, chunk) >= 0 && H5Pset_obj_track_times(pl, 0) >= 0)
        d = H5Dcreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
    if (sp >= 0) H5Sclose(sp);
    if (pl >= 0) H5Pclose(pl);
    return d;
}

static plm_status h5_append(h5w *w, hid_t d, int rank, hsize_t cols, const double *v, hsize_t n)
{
    hsize_t size[2] = {w->n + n, cols}, start[2] = {w->n, 0}, count[2] = {n, cols};
    hid_t fs = H5I_INVALID_HID, ms = H5I_INVALID_HID;
    plm_status st = PLM_OK;
    if (H5Dset_extent(d, size) < 0 || (fs = H5Dget_space(d)) < 0 ||
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 || (ms = H5Screate_simple(rank, count, NULL)) < 0 ||
        H5Dwrite(d, H5T_NATIVE_DOUBLE, ms, fs, H5P_DEFAULT, v) < 0)
        st = plm__fail(PLM_EIO, "%s: HDF5 write error", w->p.final);
    if (fs >= 0) H5Sclose(fs);
    if (ms >= 0) H5Sclose(ms);
    return st;
}

static plm_status h5_attr_str(hid_t f, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = H5I_INVALID_HID;
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int ok = (a = H5Acreate2(f, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 && H5Awrite(a, t, &v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return ok ? PLM_OK : plm__fail(PLM_EIO, "HDF5 attribute %s", name);
}

static plm_status h5_attr_f64(hid_t f, const char *name, double v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = H5Acreate2(f, name, H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_DOUBLE, &v) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(sp);
    return ok ? PLM_OK : plm__fail(PLM_EIO, "HDF5 attribute %s", name);
}

typedef struct {
    double onset_s, duration_s;
    const char *reason;
    uint8_t leg;
} gap_rec;

static plm_status h5_finish(h5w *w, plm_reader *r, const char *src)
{
    const plm_reader_info *in = plm_reader_get_info(r);
    char utc[48] = "";
    if (in->has_start) plm_time_format_utc(&in->start, utc, sizeof utc);
    plm_status st;
    if ((st = h5_attr_f64(w->f, "fs_hz", in->fs_hz)) || (st = h5_attr_f64(w->f, "fs_nominal_hz", in->fs_nominal_hz)) ||
        (st = h5_attr_str(w->f, "start_utc", utc)) || (st = h5_attr_str(w->f, "device", in->device)) ||
        (st = h5_attr_str(w->f, "serial", in->serial)) || (st = h5_attr_str(w->f, "format", in->format)) ||
        (st = h5_attr_str(w->f, "source_path", src)))
        return st;
    for (int k = 0; k < in->nsides; k++) { /* two files: each one's rate, offset and path */
        const plm_reader_side *sd = &in->side[k];
        char name[32];
        const char *leg = k ? "right" : "left";
        snprintf(name, sizeof name, "%s_fs_hz", leg);
        if ((st = h5_attr_f64(w->f, name, sd->info->fs_hz))) return st;
        snprintf(name, sizeof name, "%s_offset_s", leg);
        if ((st = h5_attr_f64(w->f, name, sd->offset_s))) return st;
        snprintf(name, sizeof name, "%s_source_path", leg);
        if ((st = h5_attr_str(w->f, name, sd->path))) return st;
    }
    size_t ng;
    const plm_gap *g = plm_reader_gaps(r, &ng);
    gap_rec *rows = calloc(ng ? ng : 1, sizeof *rows);
    if (!rows) PLM_FAIL(PLM_ENOMEM, "out of memory");
    for (size_t k = 0; k < ng; k++) rows[k] = (gap_rec){g[k].onset_s, g[k].duration_s, g[k].reason, g[k].leg};
    hid_t s = H5Tcopy(H5T_C_S1), t = H5Tcreate(H5T_COMPOUND, sizeof(gap_rec));
    H5Tset_size(s, H5T_VARIABLE);
    H5Tinsert(t, "onset_s", offsetof(gap_rec, onset_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "duration_s", offsetof(gap_rec, duration_s), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "reason", offsetof(gap_rec, reason), s);
    H5Tinsert(t, "leg", offsetof(gap_rec, leg), H5T_NATIVE_UINT8);
    hsize_t dims[1] = {ng};
    hid_t sp = H5Screate_simple(1, dims, NULL), d = H5Dcreate2(w->f, "gaps", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = d >= 0 && (!ng || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, rows) >= 0);
    if (d >= 0) H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
    H5Tclose(s);
    free(rows);
    return ok ? PLM_OK : plm__fail(PLM_EIO, "%s: HDF5 error writing gaps", w->p.final);
}

/* ---- WAV/FLAC: a uniform grid at rate_out, linear between the frames' own times ---- */

typedef struct {
    out_path p;
    SNDFILE *sf;
    int flac, nc;
    double full_scale;
    double *buf; /* interleaved frames waiting to be written */
    int nbuf;
} sndw;

typedef struct {
    double rate;
    int64_t k;            /* next grid point */
    int have_prev;
    int nc;               /* channels: 3, or 6 (left then right) */
    double tp, xp[6];     /* the previous input frame */
    sndw *out[2];
    int nout;
    int64_t written;
} grid;

static plm_status grid_emit(grid *g, const double v[3])
{
    for (int o = 0; o < g->nout; o++) {
        sndw *w = g->out[o];
        for (int a = 0; a < w->nc; a++) {
            double x = v[a];
            if (w->flac) x = isfinite(x) ? fmax(-1, fmin(1, x / w->full_scale)) : 0; /* FLAC has no NaN: a gap is 0 */
            w->buf[w->nc * w->nbuf + a] = x;
        }
        if (++w->nbuf == BLOCK) {
            if (sf_writef_double(w->sf, w->buf, BLOCK) != BLOCK) PLM_FAIL(PLM_EIO, "%s: write error", w->p.final);
            w->nbuf = 0;
        }
    }
    g->written++;
    return PLM_OK;
}

static plm_status grid_push(grid *g, double t, const double x[3])
{
    plm_status st;
    for (;;) {
        double tk = (double)g->k / g->rate;
        if (tk > t) break;
        double v[6];
        if (!g->have_prev || t <= g->tp) memcpy(v, x, sizeof(double) * (size_t)g->nc);
        else {
            double f = (tk - g->tp) / (t - g->tp);
            if (f < 0) f = 0;
            for (int a = 0; a < g->nc; a++) v[a] = g->xp[a] + (x[a] - g->xp[a]) * f;
        }
        if ((st = grid_emit(g, v))) return st;
        g->k++;
    }
    g->have_prev = 1;
    g->tp = t;
    memcpy(g->xp, x, sizeof(double) * (size_t)g->nc);
    return PLM_OK;
}

static plm_status snd_open(sndw *w, const char *base, int flac, double rate, const plm_reader_info *in)
{
    paths(&w->p, base, flac ? ".flac" : ".wav");
    w->flac = flac;
    w->nc = in->nchan;
    w->full_scale = isfinite(in->full_scale_g) ? in->full_scale_g : 8;
    SF_INFO si = {.samplerate = (int)rate, .channels = w->nc,
                  .format = flac ? SF_FORMAT_FLAC | SF_FORMAT_PCM_16 : SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    w->sf = sf_open(w->p.tmp, SFM_WRITE, &si);
    if (!w->sf) PLM_FAIL(PLM_EIO, "%s: cannot create: %s", w->p.final, sf_strerror(NULL));
    char cmt[512] = "", local[48] = "";
    if (in->has_start) plm_time_format_local(&in->start, ' ', local, sizeof local);
    if (flac && local[0]) snprintf(cmt, sizeof cmt, "Time: %.23s\n", local);
    for (int c = 1; c <= w->nc; c++) {
        size_t len = strlen(cmt);
        snprintf(cmt + len, sizeof cmt - len, "Scale-%d: %g\n", c, w->full_scale);
    }
    if (sf_set_string(w->sf, SF_STR_COMMENT, cmt) != 0) PLM_FAIL(PLM_EIO, "%s: cannot write the comment", w->p.final);
    if (!flac && local[0]) { /* the start in the bext chunk, to the sample (time_reference) */
        SF_BROADCAST_INFO bi;
        memset(&bi, 0, sizeof bi);
        snprintf(bi.description, sizeof bi.description, "actiplm convert");
        memcpy(bi.originator, "actiplm convert", 15);
        memcpy(bi.origination_date, local, 10);
        memcpy(bi.origination_time, local + 11, 8);
        int hh, mi, ss, ms = 0;
        sscanf(local + 11, "%2d:%2d:%2d.%3d", &hh, &mi, &ss, &ms);
        uint64_t tref = (uint64_t)llround(((double)(hh * 3600 + mi * 60 + ss) + ms / 1000.0) * rate);
        bi.time_reference_low = (uint32_t)tref;
        bi.time_reference_high = (uint32_t)(tref >> 32);
        bi.version = 1;
        if (sf_command(w->sf, SFC_SET_BROADCAST_INFO, &bi, sizeof bi) != SF_TRUE)
            PLM_FAIL(PLM_EIO, "%s: cannot write the bext chunk", w->p.final);
    }
    w->buf = malloc(sizeof(double) * (size_t)w->nc * BLOCK);
    if (!w->buf) PLM_FAIL(PLM_ENOMEM, "out of memory");
    return PLM_OK;
}

static plm_status snd_close(sndw *w)
{
    plm_status st = PLM_OK;
    if (w->nbuf && sf_writef_double(w->sf, w->buf, w->nbuf) != w->nbuf) st = plm__fail(PLM_EIO, "%s: write error", w->p.final);
    if (sf_close(w->sf) != 0 && !st) st = plm__fail(PLM_EIO, "%s: write error on close", w->p.final);
    w->sf = NULL;
    return st ? st : commit(&w->p);
}

plm_status plm_convert(const char *path, const plm_read_cfg *cfg, const char *base, unsigned outputs,
                       plm_convert_result *res)
{
    memset(res, 0, sizeof *res);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    plm_reader *r = NULL;
    plm_status st = plm_reader_open(path, cfg, &r);
    if (st) return st;
    const plm_reader_info *in = plm_reader_get_info(r);
    if (in->nchan != 3 && in->nchan != 6) {
        plm_reader_destroy(r);
        PLM_FAIL(PLM_EINVAL, "%s: %d channels: convert writes x, y, z of one leg or of both (set --channels, e.g. R=4,5,6)",
                 path, in->nchan);
    }
    const int nc = in->nchan;
    int order[6]; /* left's channels, then right's */
    for (int c = 0, k = 0; c < 2 * nc; c++)
        if ((in->chan_leg[c % nc] == PLM_LEG_RIGHT) == (c >= nc)) order[k++] = c % nc;
    h5w hw = {.f = H5I_INVALID_HID, .acc = H5I_INVALID_HID, .t = H5I_INVALID_HID, .gyro = H5I_INVALID_HID,
              .temp = H5I_INVALID_HID, .light = H5I_INVALID_HID};
    plm_aux aux = {NULL, NULL, NULL};
    sndw sw[2];
    memset(sw, 0, sizeof sw);
    FILE *csv = NULL;
    out_path cp;
    grid gr = {.rate = round(in->fs_nominal_hz > 0 ? in->fs_nominal_hz : in->fs_hz), .nc = nc};
    double *x = malloc(sizeof(double) * 6 * BLOCK), *t = malloc(sizeof(double) * BLOCK),
           *rows = malloc(sizeof(double) * 6 * BLOCK), *tu = malloc(sizeof(double) * BLOCK);
    if (!x || !t || !rows || !tu) {
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto done;
    }
    if (outputs & PLM_CONVERT_H5) {
        paths(&hw.p, base, ".h5");
        hw.f = H5Fcreate(hw.p.tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        if (hw.f < 0 || (hw.acc = ext_dataset(hw.f, "accel_g", 2, (hsize_t)nc)) < 0 || (hw.t = ext_dataset(hw.f, "time_unix_s", 1, 1)) < 0 ||
            (in->has_gyro && (hw.gyro = ext_dataset(hw.f, "gyro_dps", 2, 3)) < 0) ||
            (in->has_temperature && (hw.temp = ext_dataset(hw.f, "temperature_c", 1, 1)) < 0) ||
            (in->has_light && (hw.light = ext_dataset(hw.f, "light", 1, 1)) < 0)) {
            st = plm__fail(PLM_EIO, "%s: cannot create", hw.p.final);
            goto done;
        }
        if ((in->has_gyro && !(aux.gyro_dps = malloc(sizeof(double) * 6 * BLOCK))) ||
            (in->has_temperature && !(aux.temperature_c = malloc(sizeof(double) * BLOCK))) ||
            (in->has_light && !(aux.light = malloc(sizeof(double) * BLOCK)))) {
            st = plm__fail(PLM_ENOMEM, "out of memory");
            goto done;
        }
    }
    for (int o = 0; o < 2; o++)
        if (outputs & (o ? PLM_CONVERT_FLAC : PLM_CONVERT_WAV)) {
            if ((st = snd_open(&sw[o], base, o, gr.rate, in))) goto done;
            gr.out[gr.nout++] = &sw[o];
        }
    if (outputs & PLM_CONVERT_CSV) {
        paths(&cp, base, ".csv");
        if (!(csv = fopen(cp.tmp, "w"))) {
            st = plm__fail(PLM_EIO, "%s: cannot create: %s", cp.final, strerror(errno));
            goto done;
        }
        fprintf(csv, nc == 3 ? "time_unix_s,x_g,y_g,z_g\n"
                             : "time_unix_s,left_x_g,left_y_g,left_z_g,right_x_g,right_y_g,right_z_g\n");
    }
    double t0 = in->has_start ? (double)in->start.utc_s + in->start.nsec * 1e-9 : 0;
    for (;;) {
        int64_t got = 0;
        if ((st = plm_reader_read_aux(r, x, t, &aux, BLOCK, &got))) goto done;
        if (!got) break;
        for (int64_t i = 0; i < got; i++) {
            double *v = rows + nc * i;
            for (int a = 0; a < nc; a++) v[a] = x[(size_t)order[a] * BLOCK + (size_t)i];
            tu[i] = t0 + t[i];
            if (gr.nout && (st = grid_push(&gr, t[i], v))) goto done;
            if (csv) {
                char num[32];
                fprintf(csv, "%.6f", tu[i]);
                for (int a = 0; a < nc; a++) fprintf(csv, ",%s", plm_csv_number(v[a], num));
                fprintf(csv, "\n");
            }
        }
        if (hw.f >= 0) {
            if ((st = h5_append(&hw, hw.acc, 2, (hsize_t)nc, rows, (hsize_t)got)) || (st = h5_append(&hw, hw.t, 1, 1, tu, (hsize_t)got)))
                goto done;
            if (aux.gyro_dps) { /* planar -> rows, in the second half of the buffer */
                double *gr3 = aux.gyro_dps + 3 * BLOCK;
                for (int64_t i = 0; i < got; i++)
                    for (int a = 0; a < 3; a++) gr3[3 * i + a] = aux.gyro_dps[(size_t)a * BLOCK + (size_t)i];
                if ((st = h5_append(&hw, hw.gyro, 2, 3, gr3, (hsize_t)got))) goto done;
            }
            if ((aux.temperature_c && (st = h5_append(&hw, hw.temp, 1, 1, aux.temperature_c, (hsize_t)got))) ||
                (aux.light && (st = h5_append(&hw, hw.light, 1, 1, aux.light, (hsize_t)got))))
                goto done;
            hw.n += (hsize_t)got;
        }
        res->frames_in += got;
    }
    if (hw.f >= 0) {
        if ((st = h5_finish(&hw, r, path))) goto done;
        H5Dclose(hw.acc);
        H5Dclose(hw.t);
        hw.acc = hw.t = H5I_INVALID_HID;
        hid_t *extra[3] = {&hw.gyro, &hw.temp, &hw.light};
        for (int k = 0; k < 3; k++)
            if (*extra[k] >= 0) H5Dclose(*extra[k]), *extra[k] = H5I_INVALID_HID;
        herr_t rc = H5Fclose(hw.f);
        hw.f = H5I_INVALID_HID;
        if (rc < 0) {
            st = plm__fail(PLM_EIO, "%s: write error", hw.p.final);
            goto done;
        }
        if ((st = commit(&hw.p))) goto done;
    }
    for (int o = 0; o < 2; o++)
        if (sw[o].sf && (st = snd_close(&sw[o]))) goto done;
    if (csv) {
        int bad = ferror(csv);
        bad |= fclose(csv) != 0;
        csv = NULL;
        if (bad) {
            st = plm__fail(PLM_EIO, "%s: write error", cp.final);
            goto done;
        }
        if ((st = commit(&cp))) goto done;
    }
    res->frames_out = gr.nout ? gr.written : 0;
    res->rate_out_hz = gr.nout ? gr.rate : 0;
done:
    if (hw.acc >= 0) H5Dclose(hw.acc);
    if (hw.t >= 0) H5Dclose(hw.t);
    if (hw.gyro >= 0) H5Dclose(hw.gyro);
    if (hw.temp >= 0) H5Dclose(hw.temp);
    if (hw.light >= 0) H5Dclose(hw.light);
    free(aux.gyro_dps);
    free(aux.temperature_c);
    free(aux.light);
    if (hw.f >= 0) {
        H5Fclose(hw.f);
        unlink(hw.p.tmp);
    }
    for (int o = 0; o < 2; o++) {
        if (sw[o].sf) {
            sf_close(sw[o].sf);
            unlink(sw[o].p.tmp);
        }
        free(sw[o].buf);
    }
    if (csv) {
        fclose(csv);
        unlink(cp.tmp);
    }
    free(x);
    free(t);
    free(rows);
    free(tu);
    plm_reader_destroy(r);
    return st;
}
