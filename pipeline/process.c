/* process.c -- one manifest row: read in blocks, checksum, times, store. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/plm.h"
#include "internal.h"
#include "prof.h"

const char *plm_version(void) { return PLM_VERSION_STRING; }

plm_process_cfg plm_process_cfg_default(void)
{
    plm_process_cfg c = {.read = plm_read_cfg_default(), .activity_epoch_s = 1.0, .min_fs_hz = 10.0,
                         .max_fs_hz = 5000.0, .min_duration_s = 300.0,
                         .tib_min_plausible_h = 4.0, .tib_min_plausible_frac = 0.4, .detect = plm_detect_cfg_default(), .night = plm_night_cfg_default(),
                         .threads = 1};
    return c;
}

plm_status plm_sha256_buffer(const void *data, size_t n, char hex[65])
{
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, n, data);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return PLM_OK;
}

plm_status plm_sha256_file(const char *path, char hex[65])
{
    FILE *f = fopen(path, "rb");
    if (!f) PLM_FAIL(PLM_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char *buf = malloc(1 << 16);
    if (!buf) {
        fclose(f);
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
    }
    size_t n;
    while ((n = fread(buf, 1, 1 << 16, f)) > 0) sha256_update(&ctx, n, buf);
    int err = ferror(f);
    fclose(f);
    free(buf);
    if (err) PLM_FAIL(PLM_EIO, "%s: read error", path);
    uint8_t d[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++) snprintf(hex + 2 * i, 3, "%02x", d[i]);
    return PLM_OK;
}

/* The files' SHA-256, computed by a helper thread while the samples are processed. */
typedef struct {
    const char *path[2];
    char *hex[2];
    plm_status st;
    char err[1024];
} sha_job;

static void *sha_main(void *arg)
{
    sha_job *j = arg;
    PLM_PROF_LAP(PLM_PROF_WAIT);
    for (int i = 0; i < 2 && j->path[i] && !j->st; i++)
        if ((j->st = plm_sha256_file(j->path[i], j->hex[i]))) plm__strlcpy(j->err, plm_last_error(), sizeof j->err);
    PLM_PROF_LAP(PLM_PROF_CHECKSUM);
    return NULL;
}

/* Warnings are "; "-separated (the CLI splits them to summarise repeats): one never holds "; ". */
#define warn(res, ...) plm__appendf((res)->warnings, sizeof (res)->warnings, __VA_ARGS__)

/* Per-leg accumulator of one activity epoch. */
typedef struct {
    double *mag;   /* magnitudes of the current epoch */
    int64_t n;     /* samples so far in the epoch */
    int bad;       /* a non-finite sample fell in the epoch */
} leg_acc;

static double mad(const double *v, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) m += v[i];
    m /= (double)n;
    double a = 0;
    for (int64_t i = 0; i < n; i++) a += fabs(v[i] - m);
    return a / (double)n;
}

/* The activity row of one finished epoch; resets the accumulators. */
static plm_activity_row epoch_row(leg_acc acc[2], const int nlegch[2], int64_t epoch_index, int64_t epoch_len, double fs_hz)
{
    plm_activity_row a = {.onset_s = plm_samples_to_s(epoch_index * epoch_len, fs_hz)};
    a.left_mad_g = nlegch[0] && !acc[0].bad && acc[0].n ? mad(acc[0].mag, acc[0].n) : NAN;
    a.right_mad_g = nlegch[1] && !acc[1].bad && acc[1].n ? mad(acc[1].mag, acc[1].n) : NAN;
    acc[0].n = acc[1].n = 0;
    acc[0].bad = acc[1].bad = 0;
    return a;
}

/* The per-second activity trace and what the checks need (finite samples, each channel's range),
 * a block at a time. */
typedef struct {
    int nch, legch[2][3], nlegch[2];
    int64_t cap, epoch_len, in_epoch, epoch_index, finite, nonfinite;
    double fs_hz;
    leg_acc acc[2];
    double *lo;             /* per channel: lowest, then highest finite value */
    unsigned char *seen;
    double *mag[2];         /* per sample of the block: each leg's magnitude */
    uint8_t *fin[2];        /* ... and whether all its axes were finite */
} activity;

static void activity_block(activity *A, const double *block, int64_t got, plm_activity_row *act, size_t *nact_out)
{
    const int64_t cap = A->cap;
    size_t nact = 0;
    for (int l = 0; l < 2; l++) {
        if (!A->nlegch[l]) continue;
        const double *a0 = block + (size_t)A->legch[l][0] * (size_t)cap;
        double *mg = A->mag[l];
        uint8_t *ok = A->fin[l];
        if (A->nlegch[l] == 3) {
            const double *a1 = block + (size_t)A->legch[l][1] * (size_t)cap, *a2 = block + (size_t)A->legch[l][2] * (size_t)cap;
            for (int64_t i = 0; i < got; i++) {
                mg[i] = sqrt(a0[i] * a0[i] + a1[i] * a1[i] + a2[i] * a2[i]);
                ok[i] = isfinite(a0[i]) && isfinite(a1[i]) && isfinite(a2[i]);
            }
        } else
            for (int64_t i = 0; i < got; i++) {
                double ss = 0;
                uint8_t f = 1;
                for (int k = 0; k < A->nlegch[l]; k++) {
                    double v = block[(size_t)A->legch[l][k] * (size_t)cap + (size_t)i];
                    ss += v * v;
                    f &= (uint8_t)isfinite(v);
                }
                mg[i] = sqrt(ss);
                ok[i] = f;
            }
    }
    for (int64_t i = 0; i < got;) { /* a stretch within one epoch */
        int64_t m = A->epoch_len - A->in_epoch < got - i ? A->epoch_len - A->in_epoch : got - i;
        for (int l = 0; l < 2; l++) {
            if (!A->nlegch[l]) continue;
            leg_acc *acc = &A->acc[l];
            for (int64_t k = i; k < i + m; k++) {
                if (A->fin[l][k]) acc->mag[acc->n++] = A->mag[l][k];
                else acc->bad = 1;
            }
        }
        A->in_epoch += m;
        i += m;
        if (A->in_epoch == A->epoch_len) {
            act[nact++] = epoch_row(A->acc, A->nlegch, A->epoch_index, A->epoch_len, A->fs_hz);
            A->in_epoch = 0;
            A->epoch_index++;
        }
    }
    for (int c = 0; c < A->nch; c++) { /* each channel's finite range */
        const double *x = block + (size_t)c * (size_t)cap;
        double lo_c = A->lo[c], hi_c = A->lo[A->nch + c];
        int64_t nfin = 0;
        for (int64_t i = 0; i < got; i++) {
            double v = x[i];
            if (!isfinite(v)) continue;
            nfin++;
            if (!A->seen[c]) lo_c = hi_c = v, A->seen[c] = 1;
            else if (v < lo_c) lo_c = v;
            else if (v > hi_c) hi_c = v;
        }
        A->lo[c] = lo_c;
        A->lo[A->nch + c] = hi_c;
        A->finite += nfin;
        A->nonfinite += got - nfin;
    }
    *nact_out = nact;
}

/* Reading on a helper thread, a block ahead: while the caller works on one buffer the helper
 * decodes the next into the other; with a second core to spare (threads >= 2) it also makes the
 * block's activity rows. */
typedef struct {
    plm_reader *rd;
    int64_t cap;
    double *buf[2];
    int64_t got[2];
    plm_activity_row *rows[2];
    size_t nrows[2];
    activity *act; /* the helper makes the activity rows (NULL: the caller does) */
    int full[2];     /* buffer holds a block (or the end: got 0, or an error) not yet taken */
    plm_status st;   /* the read error, with its message */
    char err[1024];
    int quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
} prefetch;

static void *prefetch_main(void *arg)
{
    prefetch *p = arg;
    PLM_PROF_LAP(PLM_PROF_WAIT);
    for (int s = 0;; s ^= 1) {
        pthread_mutex_lock(&p->mu);
        while (p->full[s] && !p->quit) pthread_cond_wait(&p->cv, &p->mu);
        int quit = p->quit;
        pthread_mutex_unlock(&p->mu);
        PLM_PROF_LAP(PLM_PROF_WAIT);
        if (quit) return NULL;
        int64_t got = 0;
        plm_status st = plm_reader_read(p->rd, p->buf[s], p->cap, &got);
        PLM_PROF_LAP(PLM_PROF_DECODE);
        p->nrows[s] = 0;
        if (!st && got && p->act) activity_block(p->act, p->buf[s], got, p->rows[s], &p->nrows[s]);
        PLM_PROF_LAP(PLM_PROF_ACTIVITY);
        pthread_mutex_lock(&p->mu);
        p->got[s] = st ? 0 : got;
        if (st) {
            p->st = st;
            plm__strlcpy(p->err, plm_last_error(), sizeof p->err);
        }
        p->full[s] = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        if (st || !got) return NULL;
    }
}

static plm_status write_attrs(plm_store *store, const char *grp, const plm_manifest_row *row,
                              const plm_reader_info *info, const plm_process_result *res)
{
    plm_status st;
    char buf[64];
#define S(name, val) if ((st = plm_store_attr_str(store, grp, name, val))) return st
#define N(name, val) if ((st = plm_store_attr_f64(store, grp, name, val))) return st
#define I(name, val) if ((st = plm_store_attr_i64(store, grp, name, val))) return st
    S("source_path", row->path);
    S("sha256", res->sha256);
    S("format", info->format);
    N("fs_hz", info->fs_hz);
    I("frames", res->frames);
    I("frames_header", info->frames_header);
    N("duration_s", res->duration_s);
    I("truncated", info->truncated);
    I("file_channels", info->file_channels);
    S("channel_map", info->channel_map);
    S("channel_labels", info->labels);
    S("dropped_channels", info->dropped);
    N("full_scale_g", info->full_scale_g);
    S("full_scale_source", info->full_scale_source);
    S("subject", row->subject);
    S("condition", row->condition);
    I("night", row->night);
    S("timezone", row->timezone ? row->timezone : "");
    if (res->has_start) {
        plm_time_format_utc(&res->start, buf, sizeof buf);
        S("start_utc", buf);
        plm_time_format_local(&res->start, 'T', buf, sizeof buf);
        S("start_local", buf);
        I("utc_offset_s", res->start.offset_s);
    } else {
        S("start_utc", "");
        S("start_local", "");
    }
    S("start_source", res->start_source);
    N("lights_off_s", res->lights_off_s);
    N("lights_on_s", res->lights_on_s);
    I("nonfinite_samples", res->nonfinite_samples);
    S("annotations_path", row->annotations ? row->annotations : "");
    S("device", info->device);
    S("serial", info->serial);
    N("fs_nominal_hz", info->fs_nominal_hz);
    I("zone_known", info->zone_known);
    I("gap_count", (int64_t)res->gap_count);
    N("gap_s", res->gap_s);
    S("warnings", res->warnings);
    for (int s = 0; s < info->nsides; s++) { /* two files: each one's device, clock and offset */
        const plm_reader_side *sd = &info->side[s];
        const char *leg = s ? "right" : "left";
        char name[48];
#define SIDE(fn, key, val)                                   \
    snprintf(name, sizeof name, "%s_%s", leg, key);          \
    if ((st = fn(store, grp, name, val))) return st
        SIDE(plm_store_attr_str, "source_path", sd->path);
        SIDE(plm_store_attr_str, "sha256", s ? res->sha256_right : res->sha256);
        SIDE(plm_store_attr_str, "format", sd->info->format);
        SIDE(plm_store_attr_str, "device", sd->info->device);
        SIDE(plm_store_attr_str, "serial", sd->info->serial);
        SIDE(plm_store_attr_f64, "fs_hz", sd->info->fs_hz);
        SIDE(plm_store_attr_f64, "fs_nominal_hz", sd->info->fs_nominal_hz);
        plm_time_format_utc(&sd->info->start, buf, sizeof buf);
        SIDE(plm_store_attr_str, "start_utc", buf);
        SIDE(plm_store_attr_f64, "offset_s", sd->offset_s);
        SIDE(plm_store_attr_i64, "frames", sd->info->frames);
#undef SIDE
    }
#undef S
#undef N
#undef I
    return PLM_OK;
}

static plm_status write_night_attrs(plm_store *store, const char *grp, const plm_night_cfg *c, const plm_night_result *n)
{
    const plm_score_result *r = &n->score;
    plm_status st;
    if ((st = plm_store_attr_str(store, grp, "lights_source", n->lights_source)) ||
        (st = plm_store_attr_str(store, grp, "sleep_source", n->sleep_source)) ||
        (st = plm_store_attr_str(store, grp, "rules", plm_ruleset_name(c->score.rules))) ||
        (st = plm_store_attr_str(store, grp, "short_imi", c->score.short_imi == PLM_SHORT_IMI_BREAK ? "break"
                                                           : c->score.short_imi == PLM_SHORT_IMI_STARTS ? "starts" : "skip")))
        return st;
    const struct {
        const char *k;
        double v;
    } a[] = {{"clm_count", r->clm_count}, {"clms_count", r->clms_count}, {"plmw_count", r->plmw_count},
             {"plms_a_count", r->plms_a_count}, {"plmsnr_index", r->plmsnr_index}, {"series_count", r->series_count},
             {"series_mean_len", r->series_mean_len}, {"periodicity_index_wasm", r->pi_wasm},
             {"periodicity_index_ferri", r->pi_ferri}, {"median_imi_s", r->median_imi_s},
             {"ln_imi_mean", r->ln_imi_mean}, {"ln_imi_sd", r->ln_imi_sd}, {"mean_lm_duration_s", r->mean_lm_duration_s},
             {"activity_masked_s", n->masked_s}, {"se_masked_pct", n->se_masked_pct},
             {"se_unmasked_pct", n->se_unmasked_pct}, {"plms_index_masked", n->plms_index_masked},
             {"plms_index_unmasked", n->plms_index_unmasked}, {"rem_h", r->rem_h},
             {"plms_nrem_index", r->plms_nrem_index}, {"plms_rem_index", r->plms_rem_index}};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++)
        if ((st = plm_store_attr_f64(store, grp, a[i].k, a[i].v))) return st;
    return PLM_OK;
}

static plm_status write_detect_attrs(plm_store *store, const char *grp, const plm_detect_result *d)
{
    plm_status st;
    static const char *const legs[2] = {"left", "right"};
    for (int l = 0; l < 2; l++) {
        const plm_calibration *c = &d->calib[l];
        if (!c->windows && !c->reason[0]) continue;
        char name[64];
#define A(key, fn, val)                                                   \
    snprintf(name, sizeof name, "calib_%s_%s", legs[l], key);              \
    if ((st = fn(store, grp, name, val))) return st
        A("applied", plm_store_attr_i64, c->applied);
        A("status", plm_store_attr_str, c->reason);
        A("windows", plm_store_attr_i64, (int64_t)c->windows);
        A("error_before_g", plm_store_attr_f64, c->error_before_g);
        A("error_after_g", plm_store_attr_f64, c->error_after_g);
        A("worst_se", plm_store_attr_f64, c->worst_se);
        for (int x = 0; x < 3; x++) {
            char k1[24], k2[24];
            snprintf(k1, sizeof k1, "offset_%c_g", "xyz"[x]);
            snprintf(k2, sizeof k2, "gain_%c", "xyz"[x]);
            A(k1, plm_store_attr_f64, c->offset_g[x]);
            A(k2, plm_store_attr_f64, c->gain[x]);
        }
#undef A
    }
    if ((st = plm_store_attr_f64(store, grp, "excluded_nonwear_s", d->excluded_s[PLM_QC_NONWEAR])) ||
        (st = plm_store_attr_f64(store, grp, "excluded_clipping_s", d->excluded_s[PLM_QC_CLIPPING])) ||
        (st = plm_store_attr_f64(store, grp, "excluded_dropout_s", d->excluded_s[PLM_QC_DROPOUT])) ||
        (st = plm_store_attr_i64(store, grp, "despiked_samples", d->despiked)))
        return st;
    return PLM_OK;
}

/* One recording on its way through plm_process_recording: what each step needs from the others. */
typedef struct {
    const plm_manifest_row *row;
    const plm_process_cfg *cfg;
    plm_store *store;
    plm_process_result *res;
    plm_reader *rd;
    const plm_reader_info *info;
    plm_detector *det;
    plm_detect_result dres;
    plm_store_rec *rec;
    int64_t finite;            /* finite samples read */
    int flat, zero;            /* every channel held one value; every value was 0 */
    plm_event_list ann;
    int have_ann;
    plm_night_result nres;
    int tib_implausible;
    sha_job sha;
    pthread_t sha_thread;
    int sha_running;
} recording;

/* Wait for the checksums; their error, if any. */
static plm_status join_checksums(recording *r)
{
    if (r->sha_running) {
        pthread_join(r->sha_thread, NULL);
        r->sha_running = 0;
        if (r->sha.st) PLM_FAIL(r->sha.st, "%s", r->sha.err);
    }
    return PLM_OK;
}

/* Open the file, check its rate, checksum it. */
static plm_status open_recording(recording *r)
{
    const plm_manifest_row *row = r->row;
    plm_read_cfg rc = r->cfg->read;
    rc.full_scale_g = row->full_scale_g;
    rc.channels = row->channels;
    rc.timezone = row->timezone;
    rc.right_path = row->path_right;
    plm_status st = plm_reader_open(row->path, &rc, &r->rd);
    if (st) return st;
    r->info = plm_reader_get_info(r->rd);
    if (r->info->fs_hz < r->cfg->min_fs_hz || r->info->fs_hz > r->cfg->max_fs_hz)
        PLM_FAIL(PLM_EFORMAT, "%s: sample rate %g Hz is outside %g .. %g Hz", row->path, r->info->fs_hz,
                 r->cfg->min_fs_hz, r->cfg->max_fs_hz);
    if (r->info->warnings[0]) warn(r->res, "%s", r->info->warnings);
    for (int s = 0; s < r->info->nsides; s++) {
        const plm_reader_info *si = r->info->side[s].info;
        double late = r->info->side[s].offset_s - r->info->side[!s].offset_s;
        size_t at = strlen(r->res->devices);
        snprintf(r->res->devices + at, sizeof r->res->devices - at, "%s%s %s %s, %.4f Hz (nominal %g, %+.2f %%)%s",
                 s ? "; " : "", s ? "right" : "left", si->device[0] ? si->device : si->format, si->serial, si->fs_hz,
                 si->fs_nominal_hz, 100 * (si->fs_hz / si->fs_nominal_hz - 1), s ? ", started " : "");
        if (s) {
            at = strlen(r->res->devices);
            snprintf(r->res->devices + at, sizeof r->res->devices - at, "%.2f s %s the left", fabs(late),
                     late >= 0 ? "after" : "before");
        }
    }
    r->sha = (sha_job){.path = {row->path, row->path_right}, .hex = {r->res->sha256, r->res->sha256_right}};
    if (!pthread_create(&r->sha_thread, NULL, sha_main, &r->sha)) {
        r->sha_running = 1;
        return PLM_OK;
    }
    sha_main(&r->sha); /* no thread: here and now */
    if (r->sha.st) PLM_FAIL(r->sha.st, "%s", r->sha.err);
    return PLM_OK;
}

/* The start (the manifest overrides the file) and lights off/on in seconds from the first sample. */
static plm_status resolve_times(recording *r)
{
    const plm_manifest_row *row = r->row;
    plm_process_result *res = r->res;
    const plm_reader_info *info = r->info;
    plm_status st;
    if (row->start) {
        if ((st = plm_time_parse_iso(row->start, row->timezone, &res->start))) {
            plm__error_prefix(row->path);
            return st;
        }
        res->has_start = 1;
        plm__strlcpy(res->start_source, "manifest", sizeof res->start_source);
        if (info->has_start) {
            double d = (double)(res->start.utc_s - info->start.utc_s) + (res->start.nsec - info->start.nsec) * 1e-9;
            if (fabs(d) > 1.0) warn(res, "manifest start differs from the file's (%s) by %.0f s: the manifest's is used",
                                    info->start_source, d);
        }
    } else if (info->has_start) {
        res->start = info->start;
        res->has_start = 1;
        plm__strlcpy(res->start_source, info->start_source, sizeof res->start_source);
    }
    const plm_time *start = res->has_start ? &res->start : NULL;
    if ((st = plm_tspec_resolve(&row->lights_off, start, row->timezone, 0.0, &res->lights_off_s))) {
        plm__error_prefix("lights_off");
        plm__error_prefix(row->path);
        return st;
    }
    double nb = isfinite(res->lights_off_s) ? res->lights_off_s : 0.0;
    if ((st = plm_tspec_resolve(&row->lights_on, start, row->timezone, nb, &res->lights_on_s))) {
        plm__error_prefix("lights_on");
        plm__error_prefix(row->path);
        return st;
    }
    if (isfinite(res->lights_off_s) && isfinite(res->lights_on_s) && res->lights_on_s <= res->lights_off_s)
        PLM_FAIL(PLM_EFORMAT, "%s: lights_on is not after lights_off", row->path);
    return PLM_OK;
}

/* One pass over the samples, block by block (read a block ahead by a helper thread): the detector,
 * the activity trace (written as it comes) and what the checks need (finite samples, each
 * channel's range). */
static plm_status stream_pass(recording *r)
{
    const plm_process_cfg *cfg = r->cfg;
    const plm_reader_info *info = r->info;
    plm_process_result *res = r->res;
    int64_t cap = cfg->read.block_frames;
    int nch = info->nchan;
    activity A = {.nch = nch, .cap = cap, .fs_hz = info->fs_hz};
    A.epoch_len = (int64_t)llround(cfg->activity_epoch_s * info->fs_hz);
    if (A.epoch_len < 1) A.epoch_len = 1;
    size_t act_cap = (size_t)(cap / A.epoch_len) + 2;
    prefetch pf = {.rd = r->rd, .cap = cap};
    int pf_running = 0, slot = 0;
    for (int s = 0; s < 2; s++) {
        pf.buf[s] = malloc(plm__mul(plm__mul((size_t)cap, (size_t)nch), sizeof(double)));
        pf.rows[s] = malloc(plm__mul(act_cap, sizeof *pf.rows[s]));
    }
    double *block = pf.buf[0];
    for (int l = 0; l < 2; l++) {
        A.acc[l].mag = malloc(plm__mul((size_t)A.epoch_len, sizeof(double)));
        A.mag[l] = malloc(plm__mul((size_t)cap, sizeof(double)));
        A.fin[l] = malloc((size_t)cap);
    }
    A.lo = calloc((size_t)nch, 2 * sizeof *A.lo);
    A.seen = calloc((size_t)nch, 1);
    plm_status st = PLM_OK;
    if (!pf.buf[0] || !pf.buf[1] || !pf.rows[0] || !pf.rows[1] || !A.acc[0].mag || !A.acc[1].mag || !A.lo || !A.seen ||
        !A.mag[0] || !A.mag[1] || !A.fin[0] || !A.fin[1]) {
        st = plm__fail(PLM_ENOMEM, "%s: out of memory", r->row->path);
        goto done;
    }
    for (int c = 0; c < nch; c++) {
        int l = info->chan_leg[c] == PLM_LEG_RIGHT;
        if (A.nlegch[l] < 3) A.legch[l][A.nlegch[l]++] = c;
    }
    if ((st = plm_detector_create(&cfg->detect, info->fs_hz, nch, info->chan_leg, info->full_scale_g, &r->det))) {
        plm__error_prefix(r->row->path);
        goto done;
    }
    if ((st = plm_detector_set_threads(r->det, cfg->threads))) goto done;
    if ((st = plm_store_recording_begin(r->store, r->row->recording, &r->rec))) goto done;
    PLM_PROF_LAP(PLM_PROF_OTHER);
    if (cfg->threads >= 3) pf.act = &A; /* a third thread: on two cores it would only crowd the other two */
    if (!pthread_mutex_init(&pf.mu, NULL)) {
        if (!pthread_cond_init(&pf.cv, NULL)) {
            if (!pthread_create(&pf.th, NULL, prefetch_main, &pf)) pf_running = 1;
            else pthread_cond_destroy(&pf.cv);
        }
        if (!pf_running) pthread_mutex_destroy(&pf.mu);
    }
    if (!pf_running) pf.act = NULL;
    int64_t total = 0;
    for (;;) {
        int64_t got;
        plm_activity_row *act = pf.rows[slot];
        size_t nact = 0;
        if (pf_running) { /* the helper's next block */
            pthread_mutex_lock(&pf.mu);
            while (!pf.full[slot]) pthread_cond_wait(&pf.cv, &pf.mu);
            PLM_PROF_LAP(PLM_PROF_WAIT);
            got = pf.got[slot];
            nact = pf.nrows[slot];
            st = pf.st;
            pthread_mutex_unlock(&pf.mu);
            if (st) {
                st = plm__fail(st, "%s", pf.err);
                goto done;
            }
            block = pf.buf[slot];
        } else if ((st = plm_reader_read(r->rd, block, cap, &got))) goto done;
        PLM_PROF_LAP(PLM_PROF_DECODE);
        if (!got) break;
        if (!pf.act) activity_block(&A, block, got, act, &nact);
        PLM_PROF_LAP(PLM_PROF_ACTIVITY);
        total += got;
        if ((st = plm_detector_push(r->det, block, got, cap))) goto done;
        if ((st = plm_store_rec_append_activity(r->rec, act, nact))) goto done;
        PLM_PROF_LAP(PLM_PROF_HDF5);
        if (pf_running) { /* the buffer back to the helper */
            pthread_mutex_lock(&pf.mu);
            pf.full[slot] = 0;
            pthread_cond_broadcast(&pf.cv);
            pthread_mutex_unlock(&pf.mu);
            slot ^= 1;
        }
    }
    if (A.in_epoch) { /* partial last epoch (the helper has ended: it read the end) */
        plm_activity_row a = epoch_row(A.acc, A.nlegch, A.epoch_index, A.epoch_len, info->fs_hz);
        if ((st = plm_store_rec_append_activity(r->rec, &a, 1))) goto done;
    }
    r->finite = A.finite;
    res->nonfinite_samples = A.nonfinite;
    res->frames = total;
    res->duration_s = plm_samples_to_s(total, info->fs_hz);
    r->flat = r->zero = 1;
    for (int c = 0; c < nch; c++) {
        if (!A.seen[c]) continue;
        r->flat &= A.lo[c] == A.lo[nch + c];
        r->zero &= A.lo[c] == 0 && A.lo[nch + c] == 0;
    }
done:
    if (pf_running) { /* stop the helper (it may be waiting for a buffer) and wait for it */
        pthread_mutex_lock(&pf.mu);
        pf.quit = 1;
        pthread_cond_broadcast(&pf.cv);
        pthread_mutex_unlock(&pf.mu);
        pthread_join(pf.th, NULL);
        pthread_cond_destroy(&pf.cv);
        pthread_mutex_destroy(&pf.mu);
    }
    for (int s = 0; s < 2; s++) {
        free(pf.buf[s]);
        free(pf.rows[s]);
    }
    for (int l = 0; l < 2; l++) {
        free(A.acc[l].mag);
        free(A.mag[l]);
        free(A.fin[l]);
    }
    free(A.lo);
    free(A.seen);
    return st;
}

/* Is there a signal worth scoring, and do the lights fall inside it? */
static plm_status check_signal(recording *r)
{
    const plm_manifest_row *row = r->row;
    plm_process_result *res = r->res;
    r->info = plm_reader_get_info(r->rd); /* truncation and gaps may be found while reading */
    const plm_gap *g = plm_reader_gaps(r->rd, &res->gap_count);
    for (size_t k = 0; k < res->gap_count; k++) res->gap_s += g[k].duration_s;
    if (res->gap_count)
        warn(res, "%zu gap%s, %.1f s in all (%s%s): read as missing samples", res->gap_count, res->gap_count == 1 ? "" : "s",
             res->gap_s, g[0].reason, res->gap_count > 1 ? ", ..." : "");
    if (r->info->truncated && !r->info->warnings[0])
        warn(res, "truncated: the file ended after %lld of %lld frames, read as far as it goes", (long long)res->frames,
             (long long)r->info->frames_header);
    if (!r->finite) PLM_FAIL(PLM_ENODATA, "%s: no finite samples (all NaN or Inf)", row->path);
    if (r->zero)
        PLM_FAIL(PLM_ENODATA, "%s: every sample is zero (no signal: sensor off, or an empty export)", row->path);
    if (r->flat)
        PLM_FAIL(PLM_ENODATA,
                 "%s: flat: every channel holds one value for the whole recording (sensor stuck or not recording)",
                 row->path);
    if (res->duration_s < r->cfg->min_duration_s)
        PLM_FAIL(PLM_ENODATA, "%s: too short to score: %.1f s recorded, at least %g s needed", row->path,
                 res->duration_s, r->cfg->min_duration_s);
    if (res->nonfinite_samples) warn(res, "%lld NaN/Inf samples treated as missing", (long long)res->nonfinite_samples);
    if (isfinite(res->lights_on_s) && res->lights_on_s > res->duration_s)
        warn(res, "lights_on (%.1f s) is after the end of the recording (%.1f s)", res->lights_on_s, res->duration_s);
    if (isfinite(res->lights_off_s) && res->lights_off_s >= res->duration_s)
        PLM_FAIL(PLM_EFORMAT, "%s: lights_off (%.1f s) is after the end of the recording (%.1f s)", row->path,
                 res->lights_off_s, res->duration_s);
    return PLM_OK;
}

/* The detector's result, and what it says about the recording. */
static plm_status finish_detection(recording *r)
{
    plm_process_result *res = r->res;
    plm_status st = plm_detector_finish(r->det, &r->dres);
    if (st) return st;
    for (size_t i = 0; i < r->dres.lm.n; i++) res->lm_count[r->dres.lm.v[i].leg == PLM_LEG_RIGHT]++;
    memcpy(res->calib, r->dres.calib, sizeof res->calib);
    memcpy(res->excluded_s, r->dres.excluded_s, sizeof res->excluded_s);
    if (r->dres.excluded_s[PLM_QC_NONWEAR] > 0) warn(res, "%.0f s flagged as non-wear", r->dres.excluded_s[PLM_QC_NONWEAR]);
    if (r->dres.excluded_s[PLM_QC_CLIPPING] > 0) warn(res, "%.1f s clipped", r->dres.excluded_s[PLM_QC_CLIPPING]);
    return PLM_OK;
}

/* Annotations: the manifest's file, else the recording's own EDF+ annotations. */
static plm_status load_annotations(recording *r)
{
    size_t nann;
    const plm_annotation *rann = plm_reader_annotations(r->rd, &nann);
    plm_status st = PLM_OK;
    if (r->row->annotations) {
        if ((st = plm_events_read_file(r->row->annotations, &r->ann))) return st;
        r->have_ann = 1;
    } else if (nann) {
        for (size_t i = 0; i < nann && !st; i++) {
            const char *t = rann[i].text;
            st = plm_events_add_annotations(&r->ann, &rann[i].onset_100ns, &rann[i].duration_100ns, &t, 1);
        }
        if (st) return st;
        r->have_ann = r->ann.n > 0;
    }
    if (r->ann.unknown_types[0]) warn(r->res, "annotations not used: %s", r->ann.unknown_types);
    return PLM_OK;
}

/* Time in bed, sleep/wake and scoring; where the lights came from, and whether an estimated
 * time in bed can be a night. */
static plm_status analyse_night(recording *r)
{
    plm_process_result *res = r->res;
    const plm_process_cfg *cfg = r->cfg;
    plm_night_result *n = &r->nres;
    plm_status st = plm_night_analyze(&cfg->night, &r->dres, r->info->fs_hz, res->duration_s, res->lights_off_s,
                                      res->lights_on_s, r->have_ann ? &r->ann : NULL, n);
    if (st) {
        plm__error_prefix(r->row->path);
        return st;
    }
    if (!strcmp(n->lights_source, "estimated"))
        warn(res, "lights off/on estimated from the leg: %.0f .. %.0f s", n->lights_off_s, n->lights_on_s);
    else if (!strcmp(n->lights_source, "recording"))
        warn(res, "no lights off/on and none found in the leg: the whole recording is taken as time in bed");
    else if (strcmp(n->lights_source, "manifest"))
        warn(res, "lights off/on from the %s: %.0f .. %.0f s", n->lights_source, n->lights_off_s, n->lights_on_s);
    double tib_h = n->sleep.tib_h;
    r->tib_implausible = !strcmp(n->lights_source, "estimated") &&
                         (tib_h < cfg->tib_min_plausible_h ||
                          (res->duration_s > 6 * 3600 && tib_h * 3600 < cfg->tib_min_plausible_frac * res->duration_s));
    if (r->tib_implausible)
        warn(res, "estimated time in bed %.1f h of a %.1f-h recording is implausible: give lights_off/lights_on", tib_h,
             res->duration_s / 3600);
    res->lights_off_s = n->lights_off_s;
    res->lights_on_s = n->lights_on_s;
    res->lights_source = n->lights_source;
    res->sleep_source = n->sleep_source;
    return PLM_OK;
}

/* The rest of /recordings/<id>: scored movements, epochs, annotations, per-leg detections, QC,
 * the IMI histogram and the attributes; then the group is closed. */
static plm_status write_recording(recording *r)
{
    const plm_score_result *sc = &r->nres.score;
    const plm_night_result *n = &r->nres;
    size_t nann;
    const plm_annotation *rann = plm_reader_annotations(r->rd, &nann);
    plm_lm_row *lmrows = calloc(sc->n ? sc->n : 1, sizeof *lmrows);
    plm_epoch_row *eprows = calloc(n->nepochs ? n->nepochs : 1, sizeof *eprows);
    plm_status st = PLM_OK;
    if (!lmrows || !eprows) {
        st = plm__fail(PLM_ENOMEM, "%s: out of memory", r->row->path);
        goto done;
    }
    for (size_t i = 0; i < sc->n; i++)
        lmrows[i] = (plm_lm_row){plm_us_to_s(sc->lm[i].onset_us), plm_us_to_s(sc->lm[i].offset_us), sc->lm[i].leg,
                                 sc->lm[i].clm, sc->lm[i].plm, sc->lm[i].sleep};
    for (size_t k = 0; k < n->nepochs; k++)
        eprows[k] = (plm_epoch_row){n->lights_off_s + (double)k * r->cfg->night.score.epoch_s, n->epoch_sleep[k]};
    char grp[1024];
    snprintf(grp, sizeof grp, "/recordings/%s", r->row->recording);
    double fs = r->info->fs_hz;
    if ((st = plm_store_rec_write_lm(r->rec, lmrows, sc->n)) || (st = plm_store_rec_write_epochs(r->rec, eprows, n->nepochs)) ||
        (st = plm_store_rec_write_annotations(r->rec, rann, nann)) ||
        (st = plm_store_rec_write_lm_leg(r->rec, r->dres.lm.v, r->dres.lm.n, fs)) ||
        (st = plm_store_rec_write_qc(r->rec, r->dres.qc, r->dres.nqc, fs)) ||
        (st = plm_store_rec_write_imi_histogram(r->rec, sc->imi_hist, PLM_IMI_BINS)) ||
        (st = write_attrs(r->store, grp, r->row, r->info, r->res)) || (st = write_detect_attrs(r->store, grp, &r->dres)) ||
        (st = write_night_attrs(r->store, grp, &r->cfg->night, n)))
        goto done;
    st = plm_store_recording_end(r->rec);
    r->rec = NULL;
done:
    free(lmrows);
    free(eprows);
    return st;
}

/* The /nights row. */
static plm_status add_night_row(recording *r)
{
    plm_night *nr = &r->res->row;
    plm_night_init(nr, r->row->recording, r->row->subject, r->row->condition, r->row->night);
    plm_night_set_results(nr, &r->nres.score, &r->nres.sleep);
    nr->lights_source = r->nres.lights_source;
    nr->sleep_source = r->nres.sleep_source;
    nr->tib_implausible = r->tib_implausible;
    return plm_store_add_night(r->store, nr);
}

plm_status plm_process_recording(const plm_manifest_row *row, const plm_process_cfg *cfg, plm_store *store,
                                 plm_process_result *res)
{
    memset(res, 0, sizeof *res);
    res->lights_off_s = res->lights_on_s = NAN;
    if (row->error) PLM_FAIL(PLM_EFORMAT, "%s", row->error);
    if (!(cfg->activity_epoch_s > 0)) PLM_FAIL(PLM_EINVAL, "activity_epoch_s=%g must be > 0", cfg->activity_epoch_s);
    recording r;
    memset(&r, 0, sizeof r);
    r.row = row, r.cfg = cfg, r.store = store, r.res = res;
    /* the steps in order, each after the last succeeded; the laps give each one's time to its
     * stage for make bench (stream_pass times its own) */
    static const struct {
        plm_status (*run)(recording *);
        int stage;
    } steps[] = {{open_recording, PLM_PROF_OTHER},     {resolve_times, PLM_PROF_OTHER},  {stream_pass, PLM_PROF_OTHER},
                 {join_checksums, PLM_PROF_WAIT},      {check_signal, PLM_PROF_OTHER},   {finish_detection, PLM_PROF_DETECT},
                 {load_annotations, PLM_PROF_OTHER},   {analyse_night, PLM_PROF_SCORE},  {write_recording, PLM_PROF_HDF5},
                 {add_night_row, PLM_PROF_HDF5}};
    plm_status st = PLM_OK;
    PLM_PROF_LAP(PLM_PROF_OTHER);
    for (size_t i = 0; i < sizeof steps / sizeof *steps && !st; i++) {
        st = steps[i].run(&r);
        PLM_PROF_LAP(steps[i].stage);
    }
    join_checksums(&r); /* after a failure: only wait */
    plm_store_recording_abort(r.rec); /* a failed recording leaves no group behind */
    plm_detector_destroy(r.det);
    plm_detect_result_clear(&r.dres);
    plm_event_list_clear(&r.ann);
    plm_night_result_clear(&r.nres);
    plm_reader_destroy(r.rd);
    return st;
}
