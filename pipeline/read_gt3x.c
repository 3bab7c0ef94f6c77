/* read_gt3x.c -- the ActiGraph .gt3x backend (../shared/docs/formats.md 3): a zip read in place
 * with libzip, streaming, never extracted.
 *
 * info.txt gives the rate, the scale ("Acceleration Scale", else by serial prefix: 341 counts/g
 * for NEO, CLE, MRA; 256 for MOS, TAS), the start and last sample time (.NET ticks of local wall
 * time) and the zone. Two layouts:
 * - current: log.bin, records 0x1E, type, u32 time (s), u16 size, payload, checksum (NOT of the XOR
 *   of header and payload). ACTIVITY2 (0x1A, int16 x, y, z) and ACTIVITY (0x00, 12-bit y, x, z
 *   packed most significant bit first) hold one second each; a record's samples sit at its time
 *   + i / rate. Frame j is at start + j / rate; seconds without a record (idle sleep mode, events
 *   0x08/0x09; or a record failing its checksum) are NaN frames, reported as gaps.
 * - older: activity.bin, one stream of 12-bit y, x, z samples from the start.
 */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include "read_internal.h"

enum { BUF = 1 << 17, INFO_MAX = 1 << 16 };

typedef struct {
    zip_t *z;
    zip_file_t *f;
    int log;                 /* 1: log.bin records; 0: activity.bin stream */
    double rate, scale;
    int64_t start_s;         /* local wall seconds of frame 0 */
    unsigned char *buf;
    size_t len, at;          /* bytes in buf, next byte */
    int eof;
    char ioerr[160];         /* why the zip stream failed to read ("": it did not; not its end, not a damaged record) */
    /* the current record's samples (log.bin), or the packed stream's bit reader */
    double rec[3 * 256];
    int rec_n;               /* samples in rec */
    int64_t rec_frame;       /* frame of rec[0] */
    int idle;                /* an idle-sleep event was seen since the last activity record */
    int64_t bad_records;
    int64_t gap_from;        /* first frame of the gap being delivered, -1 when none */
} gt3x;

static int64_t ticks_to_s(const char *v)
{
    long long t = strtoll(v, NULL, 10);
    return t / 10000000 - 62135596800LL;
}

/* Fill the buffer so that at least need bytes are available from at; 0 when the entry ends first. */
static int want(gt3x *g, size_t need)
{
    if (g->len - g->at >= need) return 1;
    memmove(g->buf, g->buf + g->at, g->len - g->at);
    g->len -= g->at;
    g->at = 0;
    while (!g->eof && g->len < need) {
        zip_int64_t k = zip_fread(g->f, g->buf + g->len, BUF - g->len);
        if (k < 0) { /* a failed read of the file itself, or damaged compressed data (read as the end) */
            zip_error_t *e = zip_file_get_error(g->f);
            int ze = zip_error_code_zip(e);
            /* EOF: fewer bytes than the zip's directory promised could be read (libzip's layers
             * report a failed read below them so) */
            if (ze == ZIP_ER_READ || ze == ZIP_ER_SEEK || ze == ZIP_ER_EOF || ze == ZIP_ER_MEMORY)
                plm__strlcpy(g->ioerr, zip_error_strerror(e), sizeof g->ioerr);
        }
        if (k <= 0) g->eof = 1;
        else g->len += (size_t)k;
    }
    return g->len >= need;
}

static int sext12(int v) { return v >= 2048 ? v - 4096 : v; }

/* 12-bit packed y, x, z samples, most significant bit first, from p (n samples). */
static void unpack12(const unsigned char *p, int n, double scale, double *out)
{
    for (int i = 0; i < n; i++) {
        int v[3];
        for (int a = 0; a < 3; a++) {
            size_t bit = (size_t)(36 * i + 12 * a), byte = bit / 8;
            int w = p[byte] << 8 | p[byte + 1];
            v[a] = bit % 8 ? w & 0x0FFF : w >> 4;
        }
        out[3 * i + 0] = sext12(v[1]) / scale; /* x */
        out[3 * i + 1] = sext12(v[0]) / scale; /* y */
        out[3 * i + 2] = sext12(v[2]) / scale; /* z */
    }
}

/* The next activity record of log.bin into rec (skipping the others); 0 at the end. */
static int next_record(gt3x *g)
{
    for (;;) {
        if (!want(g, 1)) return 0;
        if (g->buf[g->at] != 0x1E) { /* stray bytes between records */
            g->at++;
            continue;
        }
        if (!want(g, 8)) return 0;
        const unsigned char *h = g->buf + g->at;
        int type = h[1];
        int64_t ts = (int64_t)((uint32_t)h[2] | (uint32_t)h[3] << 8 | (uint32_t)h[4] << 16 | (uint32_t)h[5] << 24);
        size_t size = (size_t)(h[6] | h[7] << 8);
        if (!want(g, 9 + size)) return 0;
        h = g->buf + g->at;
        unsigned char x = 0;
        for (size_t i = 0; i < 8 + size; i++) x ^= h[i];
        int ok = (unsigned char)~x == h[8 + size];
        const unsigned char *p = h + 8;
        g->at += 9 + size;
        if (!ok) {
            g->bad_records++;
            continue;
        }
        if (type == 0x03 && size >= 1 && (p[0] == 0x08 || p[0] == 0x09)) g->idle = 1;
        if (type == 0x1A && size >= 6) {
            int n = (int)(size / 6);
            if (n > 256) n = 256;
            for (int i = 0; i < n; i++)
                for (int a = 0; a < 3; a++) g->rec[3 * i + a] = (int16_t)(p[6 * i + 2 * a] | p[6 * i + 2 * a + 1] << 8) / g->scale;
            g->rec_n = n;
        } else if (type == 0x00 && size > 1) {
            int n = (int)(size * 8 / 36);
            if (n > 256) n = 256;
            unpack12(p, n, g->scale, g->rec);
            g->rec_n = n;
        } else continue;
        g->rec_frame = (int64_t)llround((double)(ts - g->start_s) * g->rate);
        return 1;
    }
}

static plm_status open_gt3x(plm_reader *r)
{
    plm_reader_info *info = &r->info;
    gt3x *g = calloc(1, sizeof *g);
    if (!g) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    r->state = g;
    g->gap_from = -1;
    int err = 0;
    g->z = zip_open(r->path, ZIP_RDONLY, &err);
    if (!g->z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        plm_status code = err == ZIP_ER_READ || err == ZIP_ER_SEEK || err == ZIP_ER_OPEN ? PLM_EIO : PLM_EFORMAT;
        plm__fail(code, "%s: %s: %s", r->path,
                  code == PLM_EIO ? "read error" : "a zip file that libzip cannot open", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return code;
    }
    zip_stat_t zs;
    if (zip_stat(g->z, "info.txt", 0, &zs) != 0)
        PLM_FAIL(PLM_EFORMAT, "%s: a zip without info.txt: not an ActiGraph .gt3x (supported: WAV/FLAC and what "
                              "libsndfile reads, EDF/BDF, Axivity CWA, GENEActiv .bin, ActiGraph .gt3x)", r->path);
    if (!(zs.valid & ZIP_STAT_SIZE) || zs.size > INFO_MAX)
        PLM_FAIL(PLM_EFORMAT, "%s: info.txt claims %llu bytes: not a GT3X info.txt", r->path, (unsigned long long)zs.size);
    char *text = calloc(1, (size_t)zs.size + 1);
    zip_file_t *f = zip_fopen(g->z, "info.txt", 0);
    zip_int64_t got = text && f ? zip_fread(f, text, zs.size) : -1;
    if (f) zip_fclose(f);
    if (got < 0) {
        free(text);
        PLM_FAIL(PLM_EFORMAT, "%s: info.txt cannot be read from the zip (read error or damaged)", r->path);
    }
    int64_t last_s = -1, tz_s = 0;
    int tz_ok = 0;
    char type[37] = ""; /* "ActiGraph " and this fit info.device */
    g->scale = NAN;
    g->start_s = -1;
    for (char *line = strtok(text, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        const char *v = colon + 1;
        while (*v == ' ') v++;
        if (!strcmp(line, "Sample Rate")) g->rate = strtod(v, NULL);
        else if (!strcmp(line, "Acceleration Scale")) g->scale = strtod(v, NULL);
        else if (!strcmp(line, "Serial Number")) plm__strlcpy(info->serial, v, sizeof info->serial);
        else if (!strcmp(line, "Device Type")) plm__strlcpy(type, v, sizeof type);
        else if (!strcmp(line, "Start Date")) g->start_s = ticks_to_s(v);
        else if (!strcmp(line, "Last Sample Time")) last_s = ticks_to_s(v);
        else if (!strcmp(line, "Stop Date") && last_s < 0) last_s = ticks_to_s(v);
        else if (!strcmp(line, "TimeZone")) {
            int hh = 0, mm = 0, ss = 0;
            char sign = v[0] == '-' ? '-' : '+';
            if (sscanf(v + (v[0] == '-' || v[0] == '+'), "%d:%d:%d", &hh, &mm, &ss) >= 2 && hh >= 0 && hh <= 14 && mm >= 0 && mm < 60 && ss >= 0 && ss < 60) {
                tz_ok = 1;
                tz_s = (sign == '-' ? -1 : 1) * (hh * 3600 + mm * 60 + ss);
            }
        }
    }
    free(text);
    if (!(g->rate >= 1 && g->rate <= 1000))
        PLM_FAIL(PLM_EFORMAT, "%s: info.txt sample rate %g Hz is not plausible", r->path, g->rate);
    if (g->start_s < 0) PLM_FAIL(PLM_EFORMAT, "%s: info.txt has no Start Date", r->path);
    if (!(g->scale > 0)) { /* by serial prefix (formats.md 3) */
        if (!strncmp(info->serial, "NEO", 3) || !strncmp(info->serial, "CLE", 3) || !strncmp(info->serial, "MRA", 3))
            g->scale = 341;
        else if (!strncmp(info->serial, "MOS", 3) || !strncmp(info->serial, "TAS", 3)) g->scale = 256;
        else
            PLM_FAIL(PLM_EFORMAT, "%s: no Acceleration Scale in info.txt and serial '%s' does not tell it", r->path,
                     info->serial);
    }
    g->log = zip_stat(g->z, "log.bin", 0, &zs) == 0;
    if (!g->log && zip_stat(g->z, "activity.bin", 0, &zs) != 0)
        PLM_FAIL(PLM_EFORMAT, "%s: a .gt3x with neither log.bin nor activity.bin", r->path);
    g->f = zip_fopen(g->z, g->log ? "log.bin" : "activity.bin", 0);
    g->buf = malloc(BUF);
    if (!g->f || !g->buf) PLM_FAIL(PLM_EIO, "%s: cannot read %s from the zip", r->path, g->log ? "log.bin" : "activity.bin");
    if (g->log) {
        if (last_s <= g->start_s) PLM_FAIL(PLM_EFORMAT, "%s: info.txt has no Last Sample Time after its Start Date", r->path);
        info->frames = (int64_t)llround((double)(last_s - g->start_s) * g->rate);
    } else {
        if (!(zs.valid & ZIP_STAT_SIZE)) PLM_FAIL(PLM_EFORMAT, "%s: activity.bin has no size", r->path);
        info->frames = (int64_t)(zs.size * 8 / 36);
        if (last_s > g->start_s && (double)info->frames > (double)(last_s - g->start_s) * g->rate * 1.01 + g->rate)
            plm__read_warn(info, "activity.bin holds %lld samples, more than Start to Stop Date at %g Hz",
                           (long long)info->frames, g->rate);
    }
    if ((double)info->frames > 62.0 * 86400 * g->rate) /* longer than any device records in one go */
        PLM_FAIL(PLM_EFORMAT, "%s: %.0f days from Start Date to the last sample: not plausible for one recording", r->path,
                 (double)info->frames / g->rate / 86400);
    info->frames_header = info->frames;
    info->family = PLM_FORMAT_GT3X;
    snprintf(info->format, sizeof info->format, "GT3X (%s)", g->log ? "log.bin records" : "activity.bin, older layout");
    snprintf(info->device, sizeof info->device, "ActiGraph %s", type[0] ? type : "GT3X");
    info->fs_hz = info->fs_nominal_hz = g->rate;
    info->full_scale_g = g->log ? 8 : 6; /* ACTIVITY2 devices +-8 g; the 12-bit GT3X+ +-6 g */
    plm__strlcpy(info->full_scale_source, "gt3x", sizeof info->full_scale_source);
    static const char *const ax[3] = {"x", "y", "z"};
    plm_status st = plm__read_three_axes(r, ax);
    if (st || (st = plm__read_start_local(r, (double)g->start_s, tz_ok, (int32_t)tz_s, "gt3x"))) return st;
    g->rec_frame = -1;
    return PLM_OK;
}

/* Close a gap [gap_from, end) that has been delivered as NaN: report it. */
static plm_status end_gap(plm_reader *r, gt3x *g, int64_t end)
{
    if (g->gap_from < 0 || end <= g->gap_from) return PLM_OK;
    plm_status st = plm__read_add_gap(r, (double)g->gap_from / g->rate, (double)(end - g->gap_from) / g->rate,
                                      g->idle ? "idle sleep mode" : "no activity records");
    r->info.gap_frames += end - g->gap_from;
    g->gap_from = -1;
    g->idle = 0;
    return st;
}

static plm_status read_gt3x(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got)
{
    (void)aux;
    gt3x *g = r->state;
    const plm_reader_info *info = &r->info;
    int64_t n = 0;
    plm_status st;
    if (!g->log) { /* activity.bin: a plain stream of 4.5-byte samples */
        unsigned char p[9 * 2];
        double s[3 * 2];
        while (n < cap && r->pos + n < info->frames) {
            int64_t j = r->pos + n;
            /* samples come in pairs of 9 bytes; an odd frame starts mid-byte */
            int64_t pair = j / 2;
            if (g->rec_frame != pair) {
                size_t need = 2 * pair + 1 < info->frames ? 9 : 5; /* an odd last sample: 36 bits in 5 bytes */
                if (!want(g, need)) break;
                memset(p, 0, sizeof p);
                memcpy(p, g->buf + g->at, need);
                g->at += need;
                unpack12(p, 2, g->scale, s);
                memcpy(g->rec, s, sizeof s);
                g->rec_frame = pair;
            }
            for (int ch = 0; ch < info->nchan; ch++)
                x[(size_t)ch * (size_t)cap + (size_t)n] = g->rec[3 * (j % 2) + info->chan_file[ch]];
            if (t_s) t_s[n] = (double)j / g->rate;
            n++;
        }
        if (g->ioerr[0]) PLM_FAIL(PLM_EIO, "%s: read error in activity.bin: %s", r->path, g->ioerr);
        if (r->pos + n < info->frames && n < cap) {
            r->info.frames = r->pos + n;
            r->info.truncated = 1;
            plm__read_warn(&r->info, "activity.bin ended after %lld samples", (long long)(r->pos + n));
        }
        *got = n;
        return PLM_OK;
    }
    while (n < cap && r->pos + n < info->frames) {
        int64_t j = r->pos + n;
        while (g->rec_frame < 0 || g->rec_frame + g->rec_n <= j) { /* the next record at or after j */
            if (!next_record(g)) {
                g->rec_frame = INT64_MAX;
                g->rec_n = 0;
                break;
            }
        }
        if (j < g->rec_frame) { /* no record covers j: a gap */
            if (g->gap_from < 0) g->gap_from = j;
            for (int ch = 0; ch < info->nchan; ch++) x[(size_t)ch * (size_t)cap + (size_t)n] = NAN;
            if (t_s) t_s[n] = (double)j / g->rate;
            n++;
            continue;
        }
        if ((st = end_gap(r, g, j))) return st;
        for (int64_t i = j - g->rec_frame; i < g->rec_n && n < cap && r->pos + n < info->frames; i++, n++) {
            for (int ch = 0; ch < info->nchan; ch++)
                x[(size_t)ch * (size_t)cap + (size_t)n] = g->rec[3 * i + info->chan_file[ch]];
            if (t_s) t_s[n] = (double)(g->rec_frame + i) / g->rate;
        }
    }
    if (g->ioerr[0]) PLM_FAIL(PLM_EIO, "%s: read error in log.bin: %s", r->path, g->ioerr);
    if (r->pos + n >= info->frames && (st = end_gap(r, g, info->frames))) return st;
    if (r->pos + n >= info->frames && g->bad_records) {
        plm__read_warn(&r->info, "%lld log.bin records failed their checksum (their seconds are gaps)",
                       (long long)g->bad_records);
        g->bad_records = 0;
    }
    *got = n;
    return PLM_OK;
}

static void close_gt3x(plm_reader *r)
{
    gt3x *g = r->state;
    if (!g) return;
    if (g->f) zip_fclose(g->f);
    if (g->z) zip_discard(g->z);
    free(g->buf);
    free(g);
}

/* A zip (local file header); open checks that it holds info.txt. */
static int sniff_gt3x(const unsigned char *b, size_t n)
{
    return n >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
}

const plm__backend plm__backend_gt3x = {"gt3x", sniff_gt3x, open_gt3x, read_gt3x, close_gt3x};
