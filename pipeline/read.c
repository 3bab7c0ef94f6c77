/* read.c -- libsndfile and EDFlib readers delivering planar g in blocks. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <edflib.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "plm/read.h"
#include "internal.h"

#define G_STANDARD 9.80665

struct plm_reader {
    plm_reader_info info;
    plm_read_cfg cfg;
    char *path;
    SNDFILE *sf;
    int edf; /* EDFlib handle, -1 if none */
    int edf_sig[PLM_READ_MAX_CHANNELS];
    int64_t pos;
    double *scratch; /* interleaved frames (sndfile) */
    int64_t scratch_frames;
    plm_annotation *ann;
    size_t n_ann;
};


plm_read_cfg plm_read_cfg_default(void)
{
    plm_read_cfg c = {.full_scale_g = NAN, .channels = NULL, .timezone = NULL, .block_frames = 32768};
    return c;
}

#define add_warning(info, ...) plm__appendf((info)->warnings, sizeof (info)->warnings, __VA_ARGS__)

/* ---------- channel layout ---------- */

static void canonical_map(plm_reader_info *info)
{
    char *p = info->channel_map;
    size_t left = sizeof info->channel_map;
    p[0] = '\0';
    for (int leg = PLM_LEG_LEFT; leg <= PLM_LEG_RIGHT; leg++) {
        int first = 1;
        for (int c = 0; c < info->nchan; c++) {
            if (info->chan_leg[c] != leg) continue;
            int k = snprintf(p, left, "%s%d", first ? (p == info->channel_map ? (leg == 1 ? "L=" : "R=")
                                                                               : (leg == 1 ? ";L=" : ";R="))
                                                     : ",",
                             info->chan_file[c] + 1);
            if (k < 0 || (size_t)k >= left) return;
            p += k;
            left -= (size_t)k;
            first = 0;
        }
    }
}

plm_status plm_read_parse_channel_map(const char *map, int nfile, plm_reader_info *info)
{
    int n = 0;
    uint8_t legs = 0;
    const char *p = map;
    while (*p) {
        while (isspace((unsigned char)*p)) p++;
        char side = (char)toupper((unsigned char)*p);
        if (side != 'L' && side != 'R')
            PLM_FAIL(PLM_EFORMAT, "channel map '%s': expected L= or R= (e.g. L=1,2,3;R=4,5,6)", map);
        uint8_t leg = side == 'L' ? PLM_LEG_LEFT : PLM_LEG_RIGHT;
        if (legs & leg) PLM_FAIL(PLM_EFORMAT, "channel map '%s': leg %c given twice", map, side);
        legs |= leg;
        p++;
        while (isspace((unsigned char)*p)) p++;
        if (*p++ != '=') PLM_FAIL(PLM_EFORMAT, "channel map '%s': expected '=' after %c", map, side);
        int k = 0;
        for (;;) {
            while (isspace((unsigned char)*p)) p++;
            char *end;
            long v = strtol(p, &end, 10);
            if (end == p) PLM_FAIL(PLM_EFORMAT, "channel map '%s': expected a channel number", map);
            if (v < 1 || v > nfile)
                PLM_FAIL(PLM_EFORMAT, "channel map '%s': channel %ld does not exist (file has %d)", map, v, nfile);
            if (n >= PLM_READ_MAX_CHANNELS) PLM_FAIL(PLM_EFORMAT, "channel map '%s': more than 6 channels", map);
            for (int j = 0; j < n; j++)
                if (info->chan_file[j] == (int)v - 1)
                    PLM_FAIL(PLM_EFORMAT, "channel map '%s': channel %ld used twice", map, v);
            info->chan_file[n] = (int)v - 1;
            info->chan_leg[n] = leg;
            n++;
            k++;
            p = end;
            while (isspace((unsigned char)*p)) p++;
            if (*p == ',') {
                p++;
                continue;
            }
            break;
        }
        if (k != 1 && k != 3)
            PLM_FAIL(PLM_EFORMAT, "channel map '%s': leg %c needs 1 or 3 channels, not %d", map, side, k);
        if (*p == ';') p++;
        else if (*p) PLM_FAIL(PLM_EFORMAT, "channel map '%s': unexpected '%c'", map, *p);
    }
    if (!n) PLM_FAIL(PLM_EFORMAT, "channel map '%s' is empty", map);
    info->nchan = n;
    info->legs = legs;
    canonical_map(info);
    return PLM_OK;
}

/* Default layout over the usable channels usable[0..nu-1]. */
static plm_status default_layout(const int *usable, int nu, plm_reader_info *info)
{
    if (nu != 1 && nu != 3 && nu != 6)
        PLM_FAIL(PLM_EFORMAT,
                 "%d acceleration channels: expected 1, 3 (one leg) or 6 (left then right); "
                 "set the manifest column channels, e.g. L=1,2,3;R=4,5,6",
                 nu);
    for (int c = 0; c < nu; c++) {
        info->chan_file[c] = usable[c];
        info->chan_leg[c] = c < 3 || nu < 6 ? PLM_LEG_LEFT : PLM_LEG_RIGHT;
    }
    info->nchan = nu;
    info->legs = nu == 6 ? PLM_LEG_BOTH : PLM_LEG_LEFT;
    canonical_map(info);
    return PLM_OK;
}

/* ---------- libsndfile ---------- */

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
    sf_command(r->sf, SFC_GET_LOG_INFO, log, 16384);
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
        add_warning(&r->info, "truncated: the header promises %lld frames, the file holds %lld, read as far as it goes",
                    (long long)r->info.frames_header, (long long)r->info.frames);
}

static plm_status open_sndfile(plm_reader *r)
{
    plm_reader_info *info = &r->info;
    SF_INFO si;
    memset(&si, 0, sizeof si);
    r->sf = sf_open(r->path, SFM_READ, &si);
    if (!r->sf) {
        const char *why = sf_strerror(NULL);
        PLM_FAIL(PLM_EFORMAT, "%s: not a readable recording: %s", r->path, why);
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
    const char *comment = sf_get_string(r->sf, SF_STR_COMMENT);
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
    else st = default_layout(usable, nu, info);
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
                add_warning(info, "manifest full_scale_g %g overrides the file's Scale %g", fs_g, file_scale);
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
        plm__strlcpy(info->start_source, "axivity", sizeof info->start_source);
    } else {
        SF_BROADCAST_INFO bi;
        memset(&bi, 0, sizeof bi);
        if (sf_command(r->sf, SFC_GET_BROADCAST_INFO, &bi, sizeof bi) == SF_TRUE) {
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
                    add_warning(info, "bext origination time '%s %s' ignored: %s", date, tim, plm_last_error());
                }
            }
        }
    }
    sf_command(r->sf, SFC_SET_NORM_DOUBLE, NULL, SF_TRUE);
    return PLM_OK;
}

/* ---------- EDFlib ---------- */

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
        return default_layout(cand, nc, info);
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
    canonical_map(info);
    return PLM_OK;
}

static plm_status open_edf(plm_reader *r)
{
    plm_reader_info *info = &r->info;
    struct edf_hdr_struct *hdr = calloc(1, sizeof *hdr);
    if (!hdr) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    plm_status st = PLM_OK;
    plm__edf_lock();
    int rc = edfopen_file_readonly(r->path, hdr, EDFLIB_READ_ALL_ANNOTATIONS);
    plm__edf_unlock();
    if (rc < 0) {
        st = plm__fail(rc == EDFLIB_NO_SUCH_FILE_OR_DIRECTORY ? PLM_EIO : PLM_EFORMAT, "%s: %s", r->path,
                       edf_error_text(hdr->filetype));
        goto done;
    }
    r->edf = hdr->handle;
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
        r->edf_sig[c] = info->chan_file[c];
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
        add_warning(info, "EDF start time ignored: %s", plm_last_error());
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
            if (edf_get_annotation(r->edf, (int)i, &a) != 0) break;
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

/* ---------- common ---------- */

static int sniff_edf(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char b[8] = {0};
    size_t n = fread(b, 1, 8, f);
    fclose(f);
    if (n < 8) return 0;
    return !memcmp(b, "0       ", 8) || (b[0] == 0xFF && !memcmp(b + 1, "BIOSEMI", 7));
}

plm_status plm_reader_open(const char *path, const plm_read_cfg *cfg, plm_reader **out)
{
    *out = NULL;
    plm_read_cfg def = plm_read_cfg_default();
    if (!cfg) cfg = &def;
    if (cfg->block_frames < 1 || cfg->block_frames > ((int64_t)1 << 24))
        PLM_FAIL(PLM_EINVAL, "read block_frames=%lld must be 1 .. 16777216", (long long)cfg->block_frames);
    struct stat sb;
    if (stat(path, &sb) != 0) PLM_FAIL(PLM_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) PLM_FAIL(PLM_EIO, "%s: is a directory, not a recording", path);
    if (sb.st_size == 0) PLM_FAIL(PLM_ENODATA, "%s: empty file (0 bytes)", path);
    plm_status st = plm_time_check_zone(cfg->timezone);
    if (st) {
        plm__error_prefix(path);
        return st;
    }
    plm_reader *r = calloc(1, sizeof *r);
    if (!r) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
    r->edf = -1;
    r->cfg = *cfg; /* channels and timezone are borrowed: used only during open */
    r->path = plm__strdup(path);
    if (!r->path) {
        free(r);
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
    }
    st = sniff_edf(path) ? open_edf(r) : open_sndfile(r);
    r->cfg.channels = NULL;
    r->cfg.timezone = NULL;
    if (st) goto fail;
    if (r->info.frames <= 0) {
        st = plm__fail(PLM_ENODATA, "%s: no sample frames", path);
        goto fail;
    }
    if (r->info.family == PLM_FORMAT_SNDFILE) {
        size_t bytes = plm__mul(plm__mul((size_t)cfg->block_frames, (size_t)r->info.file_channels), sizeof(double));
        r->scratch = bytes ? malloc(bytes) : NULL;
        if (!r->scratch) {
            st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
            goto fail;
        }
        r->scratch_frames = cfg->block_frames;
    }
    *out = r;
    return PLM_OK;
fail:
    plm_reader_destroy(r);
    return st;
}

const plm_reader_info *plm_reader_get_info(const plm_reader *r) { return &r->info; }

const plm_annotation *plm_reader_annotations(const plm_reader *r, size_t *n)
{
    *n = r->n_ann;
    return r->ann;
}

plm_status plm_reader_read(plm_reader *r, double *x, int64_t cap, int64_t *got)
{
    *got = 0;
    if (cap <= 0) PLM_FAIL(PLM_EINVAL, "read capacity %lld must be > 0", (long long)cap);
    int64_t want = r->info.frames - r->pos;
    if (want > cap) want = cap;
    if (want <= 0) return PLM_OK;
    const plm_reader_info *info = &r->info;
    if (info->family == PLM_FORMAT_SNDFILE) {
        int64_t done = 0;
        while (done < want) {
            int64_t chunk = want - done;
            if (chunk > r->scratch_frames) chunk = r->scratch_frames;
            sf_count_t k = sf_readf_double(r->sf, r->scratch, chunk);
            if (k < 0) PLM_FAIL(PLM_EIO, "%s: read error: %s", r->path, sf_strerror(r->sf));
            if (k == 0) break; /* shorter than announced: stop where the data stops */
            int nf = info->file_channels;
            for (int c = 0; c < info->nchan; c++) {
                const double *src = r->scratch + info->chan_file[c];
                double *dst = x + (size_t)c * (size_t)cap + (size_t)done;
                double g = info->chan_scale_g[c];
                for (sf_count_t i = 0; i < k; i++) dst[i] = src[(size_t)i * (size_t)nf] * g;
            }
            done += k;
        }
        if (done < want) {
            r->info.truncated = 1;
            r->info.frames = r->pos + done;
        }
        r->pos += done;
        *got = done;
        return PLM_OK;
    }
    for (int c = 0; c < info->nchan; c++) {
        double *dst = x + (size_t)c * (size_t)cap;
        int64_t done = 0;
        while (done < want) {
            int chunk = (int)(want - done > (1 << 20) ? (1 << 20) : want - done);
            int k = edfread_physical_samples(r->edf, r->edf_sig[c], chunk, dst + done);
            if (k < 0) PLM_FAIL(PLM_EIO, "%s: EDF read error on signal %d", r->path, r->edf_sig[c] + 1);
            if (k == 0) break;
            done += k;
        }
        if (done != want) PLM_FAIL(PLM_EIO, "%s: EDF signal %d ended early", r->path, r->edf_sig[c] + 1);
        double g = info->chan_scale_g[c];
        for (int64_t i = 0; i < want; i++) dst[i] *= g;
    }
    r->pos += want;
    *got = want;
    return PLM_OK;
}

void plm_reader_destroy(plm_reader *r)
{
    if (!r) return;
    if (r->sf) sf_close(r->sf);
    if (r->edf >= 0) {
        plm__edf_lock();
        edfclose_file(r->edf);
        plm__edf_unlock();
    }
    for (size_t i = 0; i < r->n_ann; i++) free(r->ann[i].text);
    free(r->ann);
    free(r->scratch);
    free(r->path);
    free(r);
}
