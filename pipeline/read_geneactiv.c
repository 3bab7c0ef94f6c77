/* read_geneactiv.c -- the GENEActiv .bin backend (../shared/docs/formats.md 2; GGIRread).
 *
 * The file is text: a header of "Key:value" lines (calibration gain and offset per axis, the
 * rate, the time zone), then pages of 300 samples, each a few "Key:value" lines (sequence
 * number, page time) and one line of 3,600 hex digits. Pages are streamed one at a time: a
 * 750-MB file is never held in memory. Open reads the header, the first page and the file's
 * last few kilobytes (the last complete page): the frame count and the observed rate come from
 * the first and last page's sequence numbers and times, not from the header's page count, which
 * lies in cut files. A page whose sequence number skips is a gap (NaN frames); a page cut short
 * ends the recording with a warning. Times: each page's own time plus i / the nominal rate.
 */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "read_internal.h"

enum { SPP = 300, HEXLEN = 12 * SPP, LINE = 8192 };

typedef struct {
    int seq;
    double t;   /* page time: local-clock seconds since 1970 */
    int ok;
    double temp_c;
} page_info;

typedef struct {
    FILE *f;
    double gain[3], offset[3], lux, volts;
    double fs_nominal;
    int seq0;                 /* the first complete page's sequence number */
    double t0;                /* local-clock time of frame 0 */
    int64_t stop_frame;
    double page[3 * SPP];     /* the current page in g */
    double light[SPP];        /* its light in lux */
    double page_temp, lux_per_volt;
    int page_seq;             /* its sequence number, or -1 */
    double page_t;            /* its time */
    int eof;
    char line[LINE];
} ga;

/* "2013-05-30 10:12:54:500" -> local-clock seconds; NAN when malformed. */
static double parse_time(const char *s)
{
    int y, mo, d, h, mi, sec, ms = 0;
    if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d:%3d", &y, &mo, &d, &h, &mi, &sec, &ms) < 6 || mo < 1 || mo > 12 || d < 1 ||
        d > 31 || h > 23 || mi > 59 || sec > 60 || ms < 0 || ms > 999)
        return NAN;
    return (double)(plm__days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) + ms / 1000.0;
}

static char *chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = '\0';
    return s;
}

/* The value of "key:value" when line starts with key, else NULL. */
static const char *value_of(const char *line, const char *key)
{
    size_t k = strlen(key);
    return !strncmp(line, key, k) && line[k] == ':' ? line + k + 1 : NULL;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Read the next page's key lines and its hex line from f into g->page. 1: a whole page; 0: the
 * end (or a page cut short: *cut set). */
static int next_page(ga *g, FILE *f, int *cut, page_info *pi)
{
    *cut = 0;
    memset(pi, 0, sizeof *pi);
    pi->seq = -1;
    pi->t = NAN;
    pi->temp_c = NAN;
    int in_page = 0;
    while (fgets(g->line, LINE, f)) {
        chomp(g->line);
        const char *v;
        if (!strcmp(g->line, "Recorded Data")) {
            in_page = 1;
            continue;
        }
        if (!in_page) continue;
        if ((v = value_of(g->line, "Sequence Number"))) pi->seq = atoi(v);
        else if ((v = value_of(g->line, "Page Time"))) pi->t = parse_time(v);
        else if ((v = value_of(g->line, "Temperature"))) pi->temp_c = strtod(v, NULL);
        else if (!strchr(g->line, ':') && strlen(g->line) > 0) { /* the hex line */
            if (strlen(g->line) != HEXLEN) {
                *cut = 1;
                return 0;
            }
            for (int i = 0; i < SPP; i++) {
                const char *h = g->line + 12 * i;
                int d[12];
                for (int k = 0; k < 12; k++)
                    if ((d[k] = hexval((unsigned char)h[k])) < 0) {
                        *cut = 1;
                        return 0;
                    }
                int raw[3];
                for (int a = 0; a < 3; a++) {
                    raw[a] = d[3 * a] << 8 | d[3 * a + 1] << 4 | d[3 * a + 2];
                    if (raw[a] >= 2048) raw[a] -= 4096;
                    g->page[3 * i + a] = ((double)raw[a] * 100 - g->offset[a]) / g->gain[a];
                }
                g->light[i] = (double)((d[9] << 8 | d[10] << 4 | d[11]) >> 2) * g->lux_per_volt;
            }
            pi->ok = pi->seq >= 0 && isfinite(pi->t);
            if (!pi->ok) *cut = 1;
            return pi->ok;
        }
    }
    *cut = in_page;
    return 0;
}

/* The last complete page in the file's final bytes: 1 found, 0 none, -1 a read error (errno). */
static int last_page(ga *g, const char *path, off_t size, page_info *out)
{
    off_t from = size > 24000 ? size - 24000 : 0;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int found = 0, cut;
    page_info pi;
    if (fseeko(f, from, SEEK_SET) == 0)
        while (next_page(g, f, &cut, &pi)) {
            *out = pi;
            found = 1;
        }
    int e = errno;
    if (ferror(f)) found = -1;
    fclose(f);
    errno = e;
    return found;
}

static plm_status open_geneactiv(plm_reader *r)
{
    plm_reader_info *info = &r->info;
    ga *g = calloc(1, sizeof *g);
    if (!g) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    r->state = g;
    g->f = fopen(r->path, "rb");
    if (!g->f) PLM_FAIL(PLM_EIO, "%s: cannot open", r->path);
    int have = 0, tz_ok = 0, tz_min = 0;
    long header_pages = -1;
    for (int a = 0; a < 3; a++) g->gain[a] = NAN, g->offset[a] = NAN;
    off_t page_start = 0;
    for (int n = 0; n < 200; n++) {
        off_t at = ftello(g->f);
        if (!fgets(g->line, LINE, g->f)) {
            if (ferror(g->f)) PLM_FAIL(PLM_EIO, "%s: read error in the header: %s", r->path, strerror(errno));
            break;
        }
        chomp(g->line);
        const char *v;
        if (!strcmp(g->line, "Recorded Data")) {
            page_start = at;
            have = 1;
            break;
        }
        if ((v = value_of(g->line, "Device Unique Serial Code"))) plm__strlcpy(info->serial, v, sizeof info->serial);
        else if ((v = value_of(g->line, "Measurement Frequency"))) g->fs_nominal = strtod(v, NULL);
        else if ((v = value_of(g->line, "Number of Pages"))) header_pages = strtol(v, NULL, 10);
        else if ((v = value_of(g->line, "Lux"))) g->lux = strtod(v, NULL);
        else if ((v = value_of(g->line, "Volts"))) g->volts = strtod(v, NULL);
        else if ((v = value_of(g->line, "Time Zone"))) {
            int hh = 0, mm = 0;
            char sign = '+';
            if (sscanf(v, "GMT %c%d:%d", &sign, &hh, &mm) >= 2 && (sign == '+' || sign == '-') && hh >= 0 && hh <= 14 && mm >= 0 && mm < 60) {
                tz_ok = 1;
                tz_min = (sign == '-' ? -1 : 1) * (hh * 60 + mm);
            }
        } else
            for (int a = 0; a < 3; a++) {
                char k[16];
                snprintf(k, sizeof k, "%c gain", 'x' + a);
                if ((v = value_of(g->line, k))) g->gain[a] = strtod(v, NULL);
                snprintf(k, sizeof k, "%c offset", 'x' + a);
                if ((v = value_of(g->line, k))) g->offset[a] = strtod(v, NULL);
            }
    }
    if (!have) PLM_FAIL(PLM_EFORMAT, "%s: GENEActiv header without a \"Recorded Data\" page", r->path);
    for (int a = 0; a < 3; a++)
        if (!(g->gain[a] > 0) || !isfinite(g->offset[a]))
            PLM_FAIL(PLM_EFORMAT, "%s: GENEActiv header lacks the %c gain or offset (Calibration Data)", r->path, 'x' + a);
    if (!(g->fs_nominal >= 1 && g->fs_nominal <= 1000))
        PLM_FAIL(PLM_EFORMAT, "%s: GENEActiv measurement frequency %g Hz is not plausible", r->path, g->fs_nominal);
    g->lux_per_volt = g->volts > 0 && isfinite(g->lux) ? g->lux / g->volts : NAN;
    info->has_temperature = info->has_light = 1;
    /* the first and the last complete pages */
    if (fseeko(g->f, page_start, SEEK_SET) != 0) PLM_FAIL(PLM_EIO, "%s: cannot seek", r->path);
    page_info first, last = {0, NAN, 0, NAN};
    int cut;
    if (!next_page(g, g->f, &cut, &first)) {
        if (ferror(g->f)) PLM_FAIL(PLM_EIO, "%s: read error in the first page: %s", r->path, strerror(errno));
        PLM_FAIL(PLM_EFORMAT, "%s: the first GENEActiv page is incomplete or malformed", r->path);
    }
    if (fseeko(g->f, 0, SEEK_END) != 0) PLM_FAIL(PLM_EIO, "%s: cannot seek", r->path);
    off_t size = ftello(g->f);
    int have_last = last_page(g, r->path, size, &last);
    if (have_last < 0) PLM_FAIL(PLM_EIO, "%s: read error near the end: %s", r->path, strerror(errno));
    if (!have_last || last.seq < first.seq) last = first;
    if ((double)(last.seq - first.seq) * SPP / g->fs_nominal > (last.t - first.t) + 600)
        PLM_FAIL(PLM_EFORMAT, "%s: page sequence numbers %d .. %d do not fit the page times (%.0f s apart)", r->path,
                 first.seq, last.seq, last.t - first.t);
    g->seq0 = first.seq;
    int64_t npages = (int64_t)(last.seq - first.seq) + 1;
    g->stop_frame = npages * SPP;
    double span = last.t - first.t;
    info->fs_nominal_hz = g->fs_nominal;
    /* page times carry the clock's error but jitter by up to half a second: over 10 minutes or more
     * they give the rate better than the header's rounded figure (85.7 for 85.714 Hz) */
    info->fs_hz = npages > 1 && span >= 600 ? (double)(npages - 1) * SPP / span : g->fs_nominal;
    if (fabs(info->fs_hz / g->fs_nominal - 1) > 0.05) { /* page times that cannot be the clock's: trust the header */
        plm__read_warn(info, "page times give %.3f Hz for a nominal %g Hz; the nominal rate is used", info->fs_hz,
                       g->fs_nominal);
        info->fs_hz = g->fs_nominal;
    }
    info->frames = info->frames_header = g->stop_frame;
    if (header_pages >= 0 && header_pages != npages) {
        info->truncated = header_pages > npages;
        plm__read_warn(info, "the header says %ld pages, the file holds %lld%s", header_pages, (long long)npages,
                       header_pages > npages ? ": read as far as it goes" : "");
        if (header_pages > npages && header_pages < INT64_MAX / SPP) info->frames_header = (int64_t)header_pages * SPP;
    }
    g->t0 = first.t;
    info->family = PLM_FORMAT_GENEACTIV;
    plm__strlcpy(info->format, "GENEActiv .bin", sizeof info->format);
    plm__strlcpy(info->device, "GENEActiv", sizeof info->device);
    info->full_scale_g = 8;
    plm__strlcpy(info->full_scale_source, "geneactiv", sizeof info->full_scale_source);
    static const char *const ax[3] = {"x", "y", "z"};
    plm_status st = plm__read_three_axes(r, ax);
    if (st || (st = plm__read_start_local(r, g->t0, tz_ok, tz_min * 60, "geneactiv"))) return st;
    /* back to the first page */
    if (fseeko(g->f, page_start, SEEK_SET) != 0) PLM_FAIL(PLM_EIO, "%s: cannot seek", r->path);
    g->page_seq = -1;
    return PLM_OK;
}

static plm_status read_geneactiv(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got)
{
    ga *g = r->state;
    const plm_reader_info *info = &r->info;
    int64_t n = 0;
    while (n < cap && r->pos + n < g->stop_frame) {
        int64_t j = r->pos + n;
        int64_t page_no = j / SPP, in_page = j % SPP; /* page_no: pages after the first */
        int want_seq = g->seq0 + (int)page_no;
        if (g->page_seq < want_seq && !g->eof) { /* load pages until one at or after want_seq */
            page_info pi;
            int cut;
            errno = 0;
            if (!next_page(g, g->f, &cut, &pi)) {
                if (ferror(g->f)) /* the disk or share failed: not the file's end */
                    PLM_FAIL(PLM_EIO, "%s: read error after sequence number %d: %s", r->path, g->page_seq,
                             strerror(errno ? errno : EIO));
                g->eof = 1;
                if (cut) plm__read_warn(&r->info, "the page after sequence number %d is cut short: read up to there",
                                        g->page_seq);
                r->info.frames = j; /* the stream ends here */
                r->info.truncated = 1;
                break;
            }
            if (pi.seq < want_seq) continue;
            if (pi.seq > want_seq) { /* pages missing: a gap */
                plm_status st = plm__read_add_gap(r, (double)(page_no * SPP) / info->fs_hz,
                                                  (double)((pi.seq - want_seq) * SPP) / info->fs_hz,
                                                  "missing pages (sequence jumps)");
                if (st) return st;
                r->info.gap_frames += (int64_t)(pi.seq - want_seq) * SPP;
            }
            g->page_seq = pi.seq;
            g->page_t = pi.t;
            g->page_temp = pi.temp_c;
        }
        if (g->page_seq != want_seq) { /* inside a gap */
            for (int ch = 0; ch < info->nchan; ch++) x[(size_t)ch * (size_t)cap + (size_t)n] = NAN;
            if (t_s) t_s[n] = (double)j / info->fs_hz;
            if (aux && aux->temperature_c) aux->temperature_c[n] = NAN;
            if (aux && aux->light) aux->light[n] = NAN;
            n++;
            continue;
        }
        for (int64_t i = in_page; i < SPP && n < cap; i++, n++) {
            for (int ch = 0; ch < info->nchan; ch++)
                x[(size_t)ch * (size_t)cap + (size_t)n] = g->page[3 * i + info->chan_file[ch]];
            if (t_s) t_s[n] = g->page_t - g->t0 + (double)i / g->fs_nominal;
            if (aux && aux->temperature_c) aux->temperature_c[n] = g->page_temp;
            if (aux && aux->light) aux->light[n] = g->light[i];
        }
    }
    *got = n;
    return PLM_OK;
}

static void close_geneactiv(plm_reader *r)
{
    ga *g = r->state;
    if (!g) return;
    if (g->f) fclose(g->f);
    free(g);
}

static int sniff_geneactiv(const unsigned char *b, size_t n)
{
    static const char id[] = "Device Identity";
    if (n < sizeof id - 1 || memcmp(b, id, sizeof id - 1)) return 0;
    for (size_t i = 0; i + 9 <= n; i++)
        if (!memcmp(b + i, "GENEActiv", 9)) return 1;
    return 0;
}

const plm__backend plm__backend_geneactiv = {"geneactiv", sniff_geneactiv, open_geneactiv, read_geneactiv,
                                             close_geneactiv};
