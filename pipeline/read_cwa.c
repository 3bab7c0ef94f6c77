/* read_cwa.c -- the Axivity CWA backend (AX3 packed and unpacked, AX6): byte layout in
 * ../shared/docs/formats.md 1 (openmovement cwa.h, omconvert).
 *
 * Open scans every block once: checksums, sequence ids and the first and last time anchors. That
 * gives the observed rate (anchors, not the nominal rate), the frame count and every gap before
 * a sample is delivered; memory stays a few blocks, whatever the file's length.
 * Frames: frame j of the stream is sample j - k * spb of the block k blocks after the first one
 * (spb samples a block, from the sequence ids), so a corrupt or missing block is spb NaN frames
 * and the frames after it keep their place. Times: a block's anchor (packed timestamp + fraction,
 * at its timestamp offset) and the next block's give each sample its time; across a gap, and for
 * the last block, the observed rate does. The clock has no zone: start is read in cfg.timezone.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "read_internal.h"

enum { BLK = 512, HDR = 1024, MAXS = 120 };

typedef struct {
    int ok;            /* "AX", length 508, checksum good */
    uint32_t session, seq;
    double t;          /* anchor: device-clock seconds (days since 1970 x 86400 + time of day + fraction) */
    double off;        /* sample index within the block that t refers to */
    int count;         /* samples in the block */
    int axes;          /* 3 (accel) or 6 (gyro x, y, z then accel x, y, z) */
    int packed;        /* 1: 32-bit packed, 0: int16 */
    int rate_code;
    double hz;         /* nominal rate of the block */
    int accel_shift;   /* int16 accel: g = v / 2^(8 + accel_shift) */
    double gyro_range; /* AX6: dps at full scale, 8000 / 2^G */
    double temp_c, light;
} block;

typedef struct {
    FILE *f;
    int64_t nblocks;          /* data blocks in the file */
    int64_t first, last;      /* file index of the first and last readable block */
    uint32_t seq0;            /* of the first readable block */
    int64_t lead;             /* unreadable blocks before the first readable one (NaN frames) */
    int spb;                  /* samples a block */
    double t0;                /* device-clock time of frame 0 */
    double fs;                /* observed rate */
    int64_t next_file;        /* file index of the next block to read */
    int64_t frame_of_cur;     /* stream frame of sample 0 of cur */
    block cur, nxt;
    int have_cur, have_nxt;
    unsigned char raw[BLK], rawn[BLK];
    int have_prev;            /* the block before cur was readable: its anchor */
    double prev_a, prev_t;    /* anchor: stream frame and device-clock time */
    uint32_t prev_seq;
    int decoded;              /* acc holds cur's samples */
    int exhausted;            /* no readable block left: the rest is a gap */
    double acc[3 * MAXS], gyro[3 * MAXS];
    int64_t stop_frame;       /* frames: the stream's length */
} cwa;

static uint16_t u16(const unsigned char *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t u32(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* Days from 1970-01-01 of a proleptic Gregorian date. */
static double packed_time(uint32_t v, int *ok)
{
    int y = (int)((v >> 26) & 0x3f) + 2000, mo = (int)((v >> 22) & 0x0f), d = (int)((v >> 17) & 0x1f);
    int h = (int)((v >> 12) & 0x1f), mi = (int)((v >> 6) & 0x3f), s = (int)(v & 0x3f);
    *ok = mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 60;
    return (double)(plm__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s);
}

/* Parse and check one 512-byte data block. */
static void parse_block(const unsigned char *b, block *k)
{
    memset(k, 0, sizeof *k);
    if (b[0] != 'A' || b[1] != 'X' || u16(b + 2) != 508) return;
    uint16_t sum = 0;
    for (int i = 0; i < BLK; i += 2) sum = (uint16_t)(sum + u16(b + i));
    k->rate_code = b[24];
    if (sum != 0 || !(k->rate_code & 0x0F)) return; /* bad checksum; rate code 0: the old format, no checksum */
    k->session = u32(b + 6);
    k->seq = u32(b + 10);
    int tok;
    k->t = packed_time(u32(b + 14), &tok);
    k->hz = 3200.0 / (double)(1 << (15 - (k->rate_code & 0x0F)));
    k->axes = b[25] >> 4;
    k->packed = (b[25] & 0x0F) == 0;
    k->count = u16(b + 28);
    int bytes = k->packed ? 4 : 2 * k->axes;
    if (!tok || (k->axes != 3 && k->axes != 6) || (k->packed && k->axes != 3) || (!k->packed && (b[25] & 0x0F) != 2) ||
        k->count < 1 || k->count * bytes > 480)
        return;
    k->off = (int16_t)u16(b + 26);
    uint16_t frac = u16(b + 4);
    if (frac & 0x8000) { /* the firmware's fractional second: undo its shim (formats.md 1) */
        int f = (frac & 0x7FFF) << 1;
        k->t += f / 65536.0;
        k->off += floor(f * k->hz / 65536.0);
    }
    k->accel_shift = u16(b + 18) >> 13;
    k->gyro_range = 8000.0 / (double)(1 << ((u16(b + 18) >> 10) & 7));
    k->light = u16(b + 18) & 0x3FF;
    k->temp_c = (u16(b + 20) & 0x3FF) * 75.0 / 256 - 50; /* formats.md 1 */
    k->ok = 1;
}

/* Samples of a block in g: accel[3 * i + axis]; AX6 gyroscope in dps into gyro (NaN without). */
static void decode(const unsigned char *b, const block *k, double *accel, double *gyro)
{
    const unsigned char *p = b + 30;
    for (int i = 0; i < k->count; i++) {
        if (k->packed) {
            uint32_t v = u32(p + 4 * i);
            int e = (int)(v >> 30);
            for (int a = 0; a < 3; a++) {
                int32_t c = (int32_t)((v >> (10 * a)) & 0x3FF);
                if (c & 0x200) c -= 0x400;
                accel[3 * i + a] = (double)(c * (1 << e)) / 256.0;
            }
        } else {
            const unsigned char *s = p + 2 * k->axes * i + (k->axes == 6 ? 6 : 0);
            double div = (double)(1 << (8 + k->accel_shift));
            for (int a = 0; a < 3; a++) accel[3 * i + a] = (int16_t)u16(s + 2 * a) / div;
        }
        for (int a = 0; a < 3; a++)
            gyro[3 * i + a] = k->axes == 6 ? (int16_t)u16(p + 2 * k->axes * i + 2 * a) * k->gyro_range / 32768 : NAN;
    }
}

/* The other sensors of frame n (gyro NULL: none). */
static void aux_put(plm_aux *aux, int64_t cap, int64_t n, const double *gyro, double temp_c, double light)
{
    for (int a = 0; aux->gyro_dps && a < 3; a++) aux->gyro_dps[(size_t)a * (size_t)cap + (size_t)n] = gyro ? gyro[a] : NAN;
    if (aux->temperature_c) aux->temperature_c[n] = temp_c;
    if (aux->light) aux->light[n] = light;
}

static int read_block(cwa *c, int64_t k, unsigned char *raw)
{
    if (fseeko(c->f, (off_t)HDR + (off_t)k * BLK, SEEK_SET) != 0) return 0;
    return fread(raw, 1, BLK, c->f) == BLK;
}

/* Stream frame of a block's sample 0: blocks after the first readable one by sequence id. */
static int64_t frame_of(const cwa *c, const block *k)
{
    return (c->lead + (int64_t)(k->seq - c->seq0)) * c->spb;
}

static plm_status open_cwa(plm_reader *r)
{
    plm_reader_info *info = &r->info;
    cwa *c = calloc(1, sizeof *c);
    if (!c) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    r->state = c;
    c->f = fopen(r->path, "rb");
    if (!c->f) PLM_FAIL(PLM_EIO, "%s: cannot open", r->path);
    unsigned char h[HDR];
    if (fread(h, 1, HDR, c->f) != HDR) PLM_FAIL(PLM_EFORMAT, "%s: CWA header cut short (under 1024 bytes)", r->path);
    if (fseeko(c->f, 0, SEEK_END) != 0) PLM_FAIL(PLM_EIO, "%s: cannot seek", r->path);
    off_t size = ftello(c->f);
    c->nblocks = (size - HDR) / BLK;
    if ((size - HDR) % BLK) plm__read_warn(info, "the file ends inside a block (%lld bytes left over)", (long long)((size - HDR) % BLK));
    uint32_t id = u16(h + 5), hi = u16(h + 11);
    if (hi != 0xFFFF) id |= hi << 16;
    info->family = PLM_FORMAT_CWA;
    snprintf(info->device, sizeof info->device, "Axivity %s", h[4] == 0x64 ? "AX6" : "AX3");
    snprintf(info->serial, sizeof info->serial, "%u", id);
    /* the scan: the first and last readable blocks, and the gaps between */
    block k, first = {0}, prev = {0}; /* prev: the last readable block so far */
    int64_t bad_run = 0, old_format = 0;
    c->first = c->last = -1;
    unsigned char *raw = c->raw;
    if (fseeko(c->f, HDR, SEEK_SET) != 0) PLM_FAIL(PLM_EIO, "%s: cannot seek", r->path);
    for (int64_t i = 0; i < c->nblocks; i++) {
        if (fread(raw, 1, BLK, c->f) != BLK) {
            if (ferror(c->f)) PLM_FAIL(PLM_EIO, "%s: read error at block %lld: %s", r->path, (long long)i, strerror(errno));
            break;
        }
        parse_block(raw, &k);
        /* a sequence jump must fit the time between the blocks (a hostile id must not make a
         * years-long gap): else it is another recording */
        int jump_ok = c->first < 0 || !k.ok || k.seq <= prev.seq ||
                      (double)(k.seq - prev.seq - 1) * c->spb / k.hz <= k.t - prev.t + 10;
        if (k.ok && c->first >= 0 && (k.session != first.session || k.seq <= prev.seq || k.axes != first.axes ||
                                      k.packed != first.packed || k.rate_code != first.rate_code || !jump_ok)) {
            plm__read_warn(info, "block %lld starts another recording (a new session or format, or a sequence id that does not fit the time); read up to there",
                           (long long)i);
            break;
        }
        if (!k.ok) {
            bad_run++;
            old_format += raw[0] == 'A' && raw[1] == 'X' && !(raw[24] & 0x0F);
            continue;
        }
        if (c->first < 0) {
            first = k;
            c->first = i;
            c->lead = bad_run;
            c->seq0 = k.seq;
            c->spb = k.packed ? 120 : 480 / (2 * k.axes);
            /* unreadable blocks before the first readable one: NaN frames at the start (gaps in frames for now) */
            if (bad_run) {
                plm_status st = plm__read_add_gap(r, 0, (double)(bad_run * c->spb), "corrupt block (checksum)");
                if (st) return st;
            }
        } else if (k.seq != prev.seq + 1) { /* corrupt or missing blocks between prev and k */
            plm_status st = plm__read_add_gap(r, (double)(frame_of(c, &prev) + c->spb), (double)(k.seq - prev.seq - 1) * c->spb,
                                              (int64_t)(k.seq - prev.seq - 1) == i - c->last - 1 ? "corrupt block (checksum)"
                                                                                                : "missing blocks (sequence jumps)");
            if (st) return st;
        }
        bad_run = 0;
        prev = k;
        c->last = i;
    }
    if (!c->nblocks)
        PLM_FAIL(PLM_EFORMAT, "%s: a CWA header and no whole data block (%lld bytes after it)", r->path,
                 (long long)(size - HDR));
    if (c->first < 0 && old_format == c->nblocks)
        PLM_FAIL(PLM_EFORMAT, "%s: the old CWA format (rate code 0, no checksums) is not supported", r->path);
    if (c->first < 0)
        PLM_FAIL(PLM_EFORMAT, "%s: no readable CWA data block (%lld blocks, every one fails its checksum or format checks)",
                 r->path, (long long)c->nblocks);
    int64_t trail = bad_run; /* unreadable blocks after the last readable one: NaN frames at the end */
    /* the observed rate from the first and last anchors */
    double n01 = (double)(frame_of(c, &prev) - frame_of(c, &first)) + prev.off - first.off;
    c->fs = prev.t > first.t && n01 > 0 ? n01 / (prev.t - first.t) : first.hz;
    c->t0 = first.t - ((double)frame_of(c, &first) + first.off) / first.hz; /* as read_cwa places frame 0 */
    c->stop_frame = frame_of(c, &prev) + (trail ? c->spb : prev.count);
    if (trail) {
        plm_status st = plm__read_add_gap(r, (double)c->stop_frame, (double)(trail * c->spb), "corrupt block (checksum)");
        if (st) return st;
        c->stop_frame += trail * c->spb;
    }
    info->fs_hz = c->fs;
    info->fs_nominal_hz = first.hz;
    info->frames = info->frames_header = c->stop_frame;
    for (size_t g = 0; g < r->n_gaps; g++) { /* frames -> seconds */
        r->gaps[g].onset_s /= c->fs;
        r->gaps[g].duration_s /= c->fs;
        info->gap_frames += (int64_t)llround(r->gaps[g].duration_s * c->fs);
    }
    snprintf(info->format, sizeof info->format, "CWA (%s, %s)", first.packed ? "packed 10-bit" : "16-bit",
             first.axes == 6 ? "accelerometer + gyroscope" : "accelerometer");
    info->is_float = 0;
    info->full_scale_g = (double)(16 >> (first.rate_code >> 6));
    plm__strlcpy(info->full_scale_source, "cwa", sizeof info->full_scale_source);
    if (first.axes == 6) plm__strlcpy(info->dropped, "gyroscope x, y, z (actiplm convert writes them)", sizeof info->dropped);
    info->has_gyro = first.axes == 6;
    info->has_temperature = info->has_light = 1;
    static const char *const ax[3] = {"Accel-X", "Accel-Y", "Accel-Z"};
    plm_status st = plm__read_three_axes(r, ax);
    if (st || (st = plm__read_start_local(r, c->t0, 0, 0, "cwa"))) return st; /* the device clock has no zone */
    c->next_file = c->first;
    return PLM_OK;
}

/* Make cur the next readable block (and nxt the one after it, for the local rate). */
static int advance(cwa *c)
{
    c->have_prev = c->have_cur;
    if (c->have_cur) {
        c->prev_a = (double)c->frame_of_cur + c->cur.off;
        c->prev_t = c->cur.t;
        c->prev_seq = c->cur.seq;
    }
    if (c->have_nxt) {
        c->cur = c->nxt;
        memcpy(c->raw, c->rawn, BLK);
        c->have_cur = 1;
    } else {
        c->have_cur = 0;
        while (c->next_file <= c->last && !c->have_cur) {
            if (!read_block(c, c->next_file++, c->raw)) return 0;
            parse_block(c->raw, &c->cur);
            c->have_cur = c->cur.ok;
        }
        if (!c->have_cur) return 1;
    }
    c->have_nxt = 0;
    while (c->next_file <= c->last && !c->have_nxt) {
        if (!read_block(c, c->next_file++, c->rawn)) return 0;
        parse_block(c->rawn, &c->nxt);
        c->have_nxt = c->nxt.ok;
    }
    c->frame_of_cur = frame_of(c, &c->cur);
    c->decoded = 0;
    return 1;
}

static plm_status read_cwa(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got)
{
    cwa *c = r->state;
    const plm_reader_info *info = &r->info;
    int64_t n = 0;
    while (n < cap && r->pos + n < c->stop_frame) {
        int64_t j = r->pos + n; /* the stream frame to deliver */
        while (!c->exhausted && (!c->have_cur || c->frame_of_cur + c->cur.count <= j)) {
            if (!advance(c))
                PLM_FAIL(PLM_EIO, "%s: read error at block %lld: %s", r->path, (long long)(c->next_file - 1),
                         ferror(c->f) ? strerror(errno) : "the file became shorter while it was read");
            c->exhausted = !c->have_cur;
        }
        if (c->exhausted || j < c->frame_of_cur) { /* a gap: NaN frames at the observed rate */
            for (int ch = 0; ch < info->nchan; ch++) x[(size_t)ch * (size_t)cap + (size_t)n] = NAN;
            if (aux) aux_put(aux, cap, n, NULL, NAN, NAN);
            if (t_s) t_s[n] = (double)j / c->fs;
            n++;
            continue;
        }
        if (!c->decoded) {
            decode(c->raw, &c->cur, c->acc, c->gyro);
            c->decoded = 1;
        }
        /* times: linear between consecutive anchors (the previous block's, this one's, the next
         * one's); beyond them, the nearest interval's rate; with no neighbour, the observed rate */
        double a = (double)c->frame_of_cur + c->cur.off, ta = c->cur.t;
        int prev = c->have_prev && c->prev_seq + 1 == c->cur.seq && c->cur.t > c->prev_t;
        int next = c->have_nxt && c->nxt.seq == c->cur.seq + 1 && c->nxt.t > c->cur.t;
        double fs_before = prev ? (a - c->prev_a) / (ta - c->prev_t) : c->fs;
        double fs_after = next ? ((double)frame_of(c, &c->nxt) + c->nxt.off - a) / (c->nxt.t - ta) : fs_before;
        if (!prev) fs_before = c->cur.hz; /* before the first anchor: the nominal rate */
        for (int64_t i = j - c->frame_of_cur; i < c->cur.count && n < cap; i++, n++) {
            for (int ch = 0; ch < info->nchan; ch++)
                x[(size_t)ch * (size_t)cap + (size_t)n] = c->acc[3 * i + info->chan_file[ch]];
            double k = (double)(c->frame_of_cur + i);
            if (t_s) t_s[n] = ta + (k - a) / (k < a ? fs_before : fs_after) - c->t0;
            if (aux) aux_put(aux, cap, n, c->gyro + 3 * i, c->cur.temp_c, c->cur.light);
        }
    }
    *got = n;
    return PLM_OK;
}

static void close_cwa(plm_reader *r)
{
    cwa *c = r->state;
    if (!c) return;
    if (c->f) fclose(c->f);
    free(c);
}

static int sniff_cwa(const unsigned char *b, size_t n)
{
    return n >= 4 && b[0] == 'M' && b[1] == 'D' && u16(b + 2) >= 508;
}

const plm__backend plm__backend_cwa = {"cwa", sniff_cwa, open_cwa, read_cwa, close_cwa};
