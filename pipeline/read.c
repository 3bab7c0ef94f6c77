/* read.c -- the reader: backend selection by content, channel layouts, the common entry points
 * (the formats: read_sndfile.c, read_edf.c, read_cwa.c, read_geneactiv.c, read_gt3x.c). */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "read_internal.h"

plm_read_cfg plm_read_cfg_default(void)
{
    plm_read_cfg c = {.full_scale_g = NAN, .channels = NULL, .timezone = NULL, .block_frames = 32768, .right_path = NULL};
    return c;
}


/* ---------- channel layout ---------- */

void plm__read_canonical_map(plm_reader_info *info)
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
    plm__read_canonical_map(info);
    return PLM_OK;
}

plm_status plm__read_default_layout(const int *usable, int nu, plm_reader_info *info)
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
    plm__read_canonical_map(info);
    return PLM_OK;
}

/* ---------- helpers of the devices' backends ---------- */

int64_t plm__days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400, doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

plm_status plm__read_three_axes(plm_reader *r, const char *const names[3])
{
    plm_reader_info *info = &r->info;
    info->file_channels = 3;
    plm_status st;
    if (r->cfg.channels && *r->cfg.channels) st = plm_read_parse_channel_map(r->cfg.channels, 3, info);
    else {
        int usable[3] = {0, 1, 2};
        st = plm__read_default_layout(usable, 3, info);
    }
    if (st) {
        plm__error_prefix(r->path);
        return st;
    }
    info->labels[0] = '\0';
    for (int i = 0; i < info->nchan; i++) {
        size_t len = strlen(info->labels);
        snprintf(info->labels + len, sizeof info->labels - len, "%s%s", i ? "," : "", names[info->chan_file[i]]);
        info->chan_scale_g[i] = 1.0; /* the backends deliver g */
    }
    return PLM_OK;
}

plm_status plm__read_start_local(plm_reader *r, double local_s, int file_zone, int32_t file_offset_s, const char *source)
{
    plm_reader_info *info = &r->info;
    double whole = floor(local_s);
    int32_t nsec = (int32_t)llround((local_s - whole) * 1e9);
    if (nsec > 999999999) nsec = 999999999;
    if (file_zone && !r->cfg.timezone) { /* the file's own offset */
        info->start.utc_s = (int64_t)whole - file_offset_s;
        info->start.nsec = nsec;
        info->start.offset_s = file_offset_s;
        info->zone_known = 1;
    } else {
        int64_t days = (int64_t)floor(whole / 86400), sod = (int64_t)whole - days * 86400;
        int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097, doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1, mo = mp < 10 ? mp + 3 : mp - 9,
                y = yoe + era * 400 + (mo <= 2);
        plm_status st = plm_time_from_local((int)y, (int)mo, (int)d, (int)(sod / 3600), (int)(sod / 60 % 60),
                                            (int)(sod % 60), nsec, r->cfg.timezone, &info->start);
        if (st) {
            plm__error_prefix(r->path);
            return st;
        }
        if (!r->cfg.timezone)
            plm__read_warn(info, "no time zone in the file: times are device-local, read in the machine's zone (set the "
                                 "manifest column timezone)");
    }
    info->has_start = 1;
    plm__strlcpy(info->start_source, source, sizeof info->start_source);
    return PLM_OK;
}

/* ---------- common ---------- */

/* Tried in this order; the first whose sniff accepts the file's first bytes opens it. */
static const plm__backend *const backends[] = {&plm__backend_cwa, &plm__backend_geneactiv, &plm__backend_gt3x,
                                               &plm__backend_edf, &plm__backend_sndfile};

plm_status plm__read_add_gap(plm_reader *r, double onset_s, double duration_s, const char *reason)
{
    if (!plm__grow((void **)&r->gaps, &r->cap_gaps, r->n_gaps + 1, sizeof *r->gaps, 16))
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", r->path);
    r->gaps[r->n_gaps++] = (plm_gap){onset_s, duration_s, reason, 0};
    return PLM_OK;
}

plm_status plm_reader_open(const char *path, const plm_read_cfg *cfg, plm_reader **out)
{
    *out = NULL;
    plm_read_cfg def = plm_read_cfg_default();
    if (!cfg) cfg = &def;
    if (cfg->block_frames < 1 || cfg->block_frames > ((int64_t)1 << 24))
        PLM_FAIL(PLM_EINVAL, "read block_frames=%lld must be 1 .. 16777216", (long long)cfg->block_frames);
    if (cfg->right_path) {
        plm_reader *r = calloc(1, sizeof *r);
        if (!r || !(r->path = plm__strdup(path))) {
            free(r);
            PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
        }
        r->cfg = *cfg;
        plm_status st = plm__read_open_pair(r, cfg->right_path);
        r->cfg.channels = r->cfg.timezone = r->cfg.right_path = NULL;
        if (st) {
            plm_reader_destroy(r);
            return st;
        }
        *out = r;
        return PLM_OK;
    }
    struct stat sb;
    if (stat(path, &sb) != 0) PLM_FAIL(PLM_EIO, "%s: cannot open: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) PLM_FAIL(PLM_EIO, "%s: is a directory, not a recording", path);
    if (sb.st_size == 0) PLM_FAIL(PLM_ENODATA, "%s: empty file (0 bytes)", path);
    plm_status st = plm_time_check_zone(cfg->timezone);
    if (st) {
        plm__error_prefix(path);
        return st;
    }
    unsigned char head[512];
    size_t nhead = 0;
    FILE *f = fopen(path, "rb");
    if (!f) PLM_FAIL(PLM_EIO, "%s: cannot open: %s", path, strerror(errno));
    nhead = fread(head, 1, sizeof head, f);
    fclose(f);
    plm_reader *r = calloc(1, sizeof *r);
    if (!r) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
    r->cfg = *cfg;
    r->path = plm__strdup(path);
    if (!r->path) {
        free(r);
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < sizeof backends / sizeof *backends && !r->be; i++)
        if (backends[i]->sniff(head, nhead)) r->be = backends[i];
    r->info.zone_known = cfg->timezone != NULL;
    st = r->be->open(r);
    r->cfg.channels = NULL;
    r->cfg.timezone = NULL;
    r->cfg.right_path = NULL;
    if (st) goto fail;
    if (!(r->info.fs_nominal_hz > 0)) r->info.fs_nominal_hz = r->info.fs_hz;
    if (r->info.frames <= 0) {
        st = plm__fail(PLM_ENODATA, "%s: no sample frames", path);
        goto fail;
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

const plm_gap *plm_reader_gaps(const plm_reader *r, size_t *n)
{
    *n = r->n_gaps;
    return r->gaps;
}

plm_status plm_reader_read_aux(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got)
{
    *got = 0;
    if (cap <= 0) PLM_FAIL(PLM_EINVAL, "read capacity %lld must be > 0", (long long)cap);
    if (r->pos >= r->info.frames) return PLM_OK;
    plm_status st = r->be->read(r, x, t_s, aux, cap, got);
    if (!st) r->pos += *got;
    return st;
}

plm_status plm_reader_read_t(plm_reader *r, double *x, double *t_s, int64_t cap, int64_t *got)
{
    return plm_reader_read_aux(r, x, t_s, NULL, cap, got);
}

plm_status plm_reader_read(plm_reader *r, double *x, int64_t cap, int64_t *got)
{
    return plm_reader_read_t(r, x, NULL, cap, got);
}

void plm_reader_destroy(plm_reader *r)
{
    if (!r) return;
    if (r->be && r->be->close) r->be->close(r);
    for (size_t i = 0; i < r->n_ann; i++) free(r->ann[i].text);
    free(r->ann);
    free(r->gaps);
    free(r->path);
    free(r);
}
