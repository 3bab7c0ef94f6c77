/* read_sndfile.c -- the libsndfile backend: WAV, W64, RF64, FLAC, AIFF, CAF, ... (and the
 * Axivity omconvert WAV convention in the INFO comment). */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "read_internal.h"

typedef struct {
    SNDFILE *sf;
    double *scratch; /* interleaved frames */
    int64_t scratch_frames;
} sf_state;


/* Axivity (omconvert) comment: "Time: ...", "Channel-N: Accel-X", "Scale-N: 8". */
typedef struct {
    int has_time;
    int y, mo, d, h, mi, s;
    int32_t nsec;
    int nnamed;
    char name[16][24];
    double scale[16];
} axivity_comment;

static int parse_axivity(const char *text, axivity_comment *ax)
{
    memset(ax, 0, sizeof *ax);
    for (int i = 0; i < 16; i++) ax->scale[i] = NAN;
    int found = 0;
    const char *p = text;
    while (p && *p) {
        const char *eol = strpbrk(p, "\r\n");
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        char line[128];
        if (len >= sizeof line) len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        int ch;
        char name[24];
        double v;
        int y, mo, d, h, mi, s, consumed = 0;
        if (sscanf(line, "Time: %4d-%2d-%2d %2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) == 6) {
            ax->has_time = 1;
            ax->y = y, ax->mo = mo, ax->d = d, ax->h = h, ax->mi = mi, ax->s = s;
            const char *f = line + consumed;
            if (*f == '.') {
                int k = 0;
                int32_t ns = 0;
                for (f++; isdigit((unsigned char)*f); f++, k++)
                    if (k < 9) ns = ns * 10 + (*f - '0');
                for (; k < 9; k++) ns *= 10;
                ax->nsec = ns;
            }
            found = 1;
        } else if (sscanf(line, "Channel-%d: %23s", &ch, name) == 2 && ch >= 1 && ch <= 16) {
            plm__strlcpy(ax->name[ch - 1], name, sizeof ax->name[0]);
            ax->nnamed++;
            found = 1;
        } else if (sscanf(line, "Scale-%d: %lf", &ch, &v) == 2 && ch >= 1 && ch <= 16) {
            ax->scale[ch - 1] = v;
            found = 1;
        }
        p = eol ? eol + 1 : NULL;
    }
    return found;
}

static int sf_is_float(int format)
{
    int sub = format & SF_FORMAT_SUBMASK;
    return sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_DOUBLE || sub == SF_FORMAT_VORBIS ||
           sub == SF_FORMAT_OPUS;
}

static void sf_format_name(int format, char *buf, size_t n)
{
    SF_FORMAT_INFO fi = {.format = format & SF_FORMAT_TYPEMASK};
    const char *major = "unknown";
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &fi, sizeof fi) == 0) major = fi.name;
    SF_FORMAT_INFO si = {.format = format & SF_FORMAT_SUBMASK};
    const char *sub = "unknown";
    if (sf_command(NULL, SFC_GET_FORMAT_INFO, &si, sizeof si) == 0) sub = si.name;
    snprintf(buf, n, "%s (%s)", major, sub);
}

/* Bytes per frame for PCM-like subtypes, 0 if not fixed. */
static int sf_bytes_per_sample(int format)
{
    switch (format & SF_FORMAT_SUBMASK) {
    case SF_FORMAT_PCM_S8: case SF_FORMAT_PCM_U8: return 1;
    case SF_FORMAT_PCM_16: return 2;
    case SF_FORMAT_PCM_24: return 3;
    case SF_FORMAT_PCM_32: case SF_FORMAT_FLOAT: return 4;
    case SF_FORMAT_DOUBLE: return 8;
    default: return 0;
    }
}

/* libsndfile's parse log says "data : 759972696 (should be 261120)" when the
 * header promises more than the file holds. */
static void sf_check_truncation(plm_reader *r, const SF_INFO *si)
{
    char *log = malloc(16384);
    if (!log) return;
    log[0] = '\0';
    sf_command(((sf_state *)r->state)->sf, SFC_GET_LOG_INFO, log, 16384);
    r->info.frames_header = r->info.frames;
    for (char *p = log; (p = strstr(p, "(should be")) != NULL; p++) {
        char *bol = p;
        while (bol > log && bol[-1] != '\n') bol--;
        while (*bol == ' ') bol++;
        if (strncmp(bol, "data", 4) && strncmp(bol, "SSND", 4)) continue;
        const char *colon = strchr(bol, ':');
        if (!colon || colon > p) continue;
        long long claimed = strtoll(colon + 1, NULL, 10), actual = strtoll(p + 10, NULL, 10);
        if (claimed <= actual) continue;
        int bps = sf_bytes_per_sample(si->format);
        r->info.truncated = 1;
        if (bps) r->info.frames_header = claimed / (bps * si->channels);
        break;
    }
    free(log);
    if (r->info.truncated)
        plm__read_warn(&r->info, "truncated: the header promises %lld frames, the file holds %lld, read as far as it goes",
                    (long long)r->info.frames_header, (long long)r->info.frames);
}

static plm_status open_sndfile(plm_reader *r)
{
    plm_reader_info *info = &r->info;
    sf_state *b = calloc(1, sizeof *b);
    if (!b) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    r->state = b;
    SF_INFO si;
    memset(&si, 0, sizeof si);
    ((sf_state *)r->state)->sf = sf_open(r->path, SFM_READ, &si);
    if (!((sf_state *)r->state)->sf) {
        const char *why = sf_strerror(NULL);
        PLM_FAIL(PLM_EFORMAT,
                 "%s: not a readable recording: %s (supported: WAV, FLAC and the other formats libsndfile reads, "
                 "EDF/EDF+/BDF, Axivity CWA, GENEActiv .bin, ActiGraph .gt3x)",
                 r->path, why);
    }
    info->family = PLM_FORMAT_SNDFILE;
    sf_format_name(si.format, info->format, sizeof info->format);
    info->fs_hz = si.samplerate;
    info->frames = si.frames;
    info->file_channels = si.channels;
    info->is_float = sf_is_float(si.format);
    if (si.samplerate <= 0) PLM_FAIL(PLM_EFORMAT, "%s: sample rate %d Hz is invalid", r->path, si.samplerate);
    sf_check_truncation(r, &si);

    /* Axivity converter convention in the INFO comment */
    const char *comment = sf_get_string(((sf_state *)r->state)->sf, SF_STR_COMMENT);
    axivity_comment ax;
    int has_ax = comment && parse_axivity(comment, &ax);
    int usable[16], nu = 0;
    info->dropped[0] = '\0';
    double file_scale = NAN;
    int scale_conflict = 0;
    for (int c = 0; c < si.channels; c++) {
        int accel = 1;
        if (has_ax && ax.nnamed && c < 16) accel = !strncmp(ax.name[c], "Accel-", 6);
        else if (has_ax && ax.nnamed) accel = 0;
        if (!accel) {
            size_t len = strlen(info->dropped);
            snprintf(info->dropped + len, sizeof info->dropped - len, "%s%d (%s)", len ? ", " : "", c + 1,
                     c < 16 && ax.name[c][0] ? ax.name[c] : "aux");
            continue;
        }
        if (nu < 16) usable[nu++] = c;
        if (has_ax && c < 16 && isfinite(ax.scale[c])) {
            if (isfinite(file_scale) && file_scale != ax.scale[c]) scale_conflict = 1;
            file_scale = ax.scale[c];
        }
    }
    if (scale_conflict) PLM_FAIL(PLM_EFORMAT, "%s: channels have different Scale-N values in the WAV comment", r->path);

    plm_status st;
    if (r->cfg.channels && *r->cfg.channels) st = plm_read_parse_channel_map(r->cfg.channels, si.channels, info);
    else st = plm__read_default_layout(usable, nu, info);
    if (st) {
        plm__error_prefix(r->path);
        return st;
    }
    char labels[256] = "";
    for (int c = 0; c < info->nchan; c++) {
        int fc = info->chan_file[c];
        size_t len = strlen(labels);
        if (has_ax && fc < 16 && ax.name[fc][0])
            snprintf(labels + len, sizeof labels - len, "%s%s", c ? "," : "", ax.name[fc]);
        else
            snprintf(labels + len, sizeof labels - len, "%schannel-%d", c ? "," : "", fc + 1);
    }
    plm__strlcpy(info->labels, labels, sizeof info->labels);

    /* units */
    if (info->is_float) {
        info->full_scale_g = NAN;
        for (int c = 0; c < info->nchan; c++) info->chan_scale_g[c] = 1.0;
    } else {
        double fs_g = r->cfg.full_scale_g;
        if (isfinite(fs_g)) {
            plm__strlcpy(info->full_scale_source, "manifest", sizeof info->full_scale_source);
            if (isfinite(file_scale) && file_scale != fs_g)
                plm__read_warn(info, "manifest full_scale_g %g overrides the file's Scale %g", fs_g, file_scale);
        } else if (isfinite(file_scale)) {
            fs_g = file_scale;
            /* omconvert names its channels too; our simulator writes only the Scale-N lines */
            plm__strlcpy(info->full_scale_source, ax.nnamed ? "axivity" : "comment", sizeof info->full_scale_source);
        } else {
            PLM_FAIL(PLM_EFORMAT,
                     "%s: integer samples and no full scale known: set the manifest column full_scale_g "
                     "(actiplm info: --full-scale-g)",
                     r->path);
        }
        if (!(fs_g > 0) || fs_g > 1000) PLM_FAIL(PLM_EFORMAT, "%s: full scale %g g is not plausible", r->path, fs_g);
        info->full_scale_g = fs_g;
        for (int c = 0; c < info->nchan; c++) info->chan_scale_g[c] = fs_g; /* libsndfile normalises to +-1 */
    }

    /* start time: Axivity comment, else BWF bext */
    if (has_ax && ax.has_time) {
        st = plm_time_from_local(ax.y, ax.mo, ax.d, ax.h, ax.mi, ax.s, ax.nsec, r->cfg.timezone, &info->start);
        if (st) {
            plm__error_prefix(r->path);
            return st;
        }
        info->has_start = 1;
        plm__strlcpy(info->start_source, ax.nnamed ? "axivity" : "comment", sizeof info->start_source);
    } else {
        SF_BROADCAST_INFO bi;
        memset(&bi, 0, sizeof bi);
        if (sf_command(((sf_state *)r->state)->sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi) == SF_TRUE) {
            int y, mo, d, h = 0, mi = 0, s = 0;
            char date[11], tim[9];
            memcpy(date, bi.origination_date, 10);
            date[10] = '\0';
            memcpy(tim, bi.origination_time, 8);
            tim[8] = '\0';
            if (sscanf(date, "%4d%*c%2d%*c%2d", &y, &mo, &d) == 3 &&
                sscanf(tim, "%2d%*c%2d%*c%2d", &h, &mi, &s) >= 2) {
                uint64_t tref = ((uint64_t)bi.time_reference_high << 32) | bi.time_reference_low;
                int32_t nsec = 0;
                if (tref && info->fs_hz > 0) { /* samples since midnight: finer than the time string */
                    double sec = (double)tref / info->fs_hz;
                    h = (int)(sec / 3600);
                    mi = (int)(fmod(sec, 3600) / 60);
                    s = (int)fmod(sec, 60);
                    nsec = (int32_t)((sec - floor(sec)) * 1e9);
                }
                if (plm_time_from_local(y, mo, d, h, mi, s, nsec, r->cfg.timezone, &info->start) == PLM_OK) {
                    info->has_start = 1;
                    plm__strlcpy(info->start_source, "bext", sizeof info->start_source);
                } else {
                    plm__read_warn(info, "bext origination time '%s %s' ignored: %s", date, tim, plm_last_error());
                }
            }
        }
    }
    sf_command(((sf_state *)r->state)->sf, SFC_SET_NORM_DOUBLE, NULL, SF_TRUE);
    return PLM_OK;
}

static plm_status read_sndfile(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got)
{
    (void)aux;
    sf_state *b = r->state;
    const plm_reader_info *info = &r->info;
    int64_t want = info->frames - r->pos;
    if (want > cap) want = cap;
    if (!b->scratch) { /* interleaved frames of one read */
        b->scratch_frames = r->cfg.block_frames;
        b->scratch = malloc(plm__mul(plm__mul((size_t)b->scratch_frames, (size_t)info->file_channels), sizeof(double)));
        if (!b->scratch) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    }
    int64_t done = 0;
    while (done < want) {
        int64_t chunk = want - done;
        if (chunk > b->scratch_frames) chunk = b->scratch_frames;
        sf_count_t k = sf_readf_double(b->sf, b->scratch, chunk);
        if (k < 0) PLM_FAIL(PLM_EIO, "%s: read error: %s", r->path, sf_strerror(b->sf));
        if (k == 0) break; /* shorter than announced (or an I/O error: below) */
        int nf = info->file_channels;
        for (int c = 0; c < info->nchan; c++) {
            const double *src = b->scratch + info->chan_file[c];
            double *dst = x + (size_t)c * (size_t)cap + (size_t)done;
            double g = info->chan_scale_g[c];
            for (sf_count_t i = 0; i < k; i++) dst[i] = src[(size_t)i * (size_t)nf] * g;
        }
        done += k;
    }
    if (done < want && sf_error(b->sf) == SF_ERR_SYSTEM) /* the disk or share failed: not the file's end */
        PLM_FAIL(PLM_EIO, "%s: read error after frame %lld: %s", r->path, (long long)(r->pos + done), sf_strerror(b->sf));
    if (done < want) {
        r->info.truncated = 1;
        r->info.frames = r->pos + done;
    }
    for (int64_t i = 0; t_s && i < done; i++) t_s[i] = plm_samples_to_s(r->pos + i, info->fs_hz);
    *got = done;
    return PLM_OK;
}

static void close_sndfile(plm_reader *r)
{
    sf_state *b = r->state;
    if (!b) return;
    if (b->sf) sf_close(b->sf);
    free(b->scratch);
    free(b);
}

/* Anything libsndfile opens: the last resort, so it claims every file. */
static int sniff_sndfile(const unsigned char *head, size_t n)
{
    (void)head;
    (void)n;
    return 1;
}

const plm__backend plm__backend_sndfile = {"sndfile", sniff_sndfile, open_sndfile, read_sndfile, close_sndfile};
