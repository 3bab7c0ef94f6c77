/* read_internal.h -- the reader's backend interface (libsndfile's way: one small table of
 * functions per format, one file each: read_sndfile.c, read_edf.c, read_cwa.c,
 * read_geneactiv.c, read_gt3x.c). read.c picks the backend by content, never by extension. */
#ifndef PLM_READ_INTERNAL_H
#define PLM_READ_INTERNAL_H

#include "plm/read.h"
#include "internal.h"

typedef struct plm__backend plm__backend;

struct plm_reader {
    plm_reader_info info;
    plm_read_cfg cfg;            /* channels and timezone are borrowed: valid during open only */
    char *path;
    const plm__backend *be;
    void *state;                 /* the backend's; freed by its close */
    int64_t pos;                 /* frames delivered so far */
    plm_annotation *ann;         /* EDF+ annotations (the EDF backend fills them) */
    size_t n_ann;
    plm_gap *gaps;               /* missing stretches found so far (device formats) */
    size_t n_gaps, cap_gaps;
};

struct plm__backend {
    const char *name;
    /* 1 if the first n bytes of a file (n >= 64 unless the file is shorter) are this format's */
    int (*sniff)(const unsigned char *head, size_t n);
    /* Fill r->info (format, rate, frames, channels, scale, start, device) and r->state. */
    plm_status (*open)(plm_reader *r);
    /* Up to cap frames from r->pos: planar g into x (x[c * cap + i]); when t_s is not NULL, each
     * frame's time in seconds from info.start (or from the first frame); when aux is not NULL, the
     * other sensors the format has (info.has_*). *got 0 at the end. */
    plm_status (*read)(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got);
    void (*close)(plm_reader *r);
};

extern const plm__backend plm__backend_sndfile, plm__backend_edf, plm__backend_cwa, plm__backend_geneactiv,
    plm__backend_gt3x, plm__backend_pair;

/* Open r (path, cfg set) as the left file of a two-file recording whose right file is right_path
 * (read_pair.c). */
plm_status plm__read_open_pair(plm_reader *r, const char *right_path);

#define plm__read_warn(info, ...) plm__appendf((info)->warnings, sizeof (info)->warnings, __VA_ARGS__)

/* info->channel_map from its chan_file/chan_leg ("L=1,2,3;R=4,5,6"). */
void plm__read_canonical_map(plm_reader_info *info);

/* The default layout over usable file channels usable[0..nu) (1, 3 or 6), into info. */
plm_status plm__read_default_layout(const int *usable, int nu, plm_reader_info *info);

/* Days from 1970-01-01 of a proleptic Gregorian date. */
int64_t plm__days_from_civil(int y, int m, int d);

/* The layout of a device's 3 axes (cfg.channels or L=1,2,3), their labels; samples come in g. */
plm_status plm__read_three_axes(plm_reader *r, const char *const names[3]);

/* info.start from a local clock (seconds since 1970 of the device's wall clock): in cfg.timezone
 * when given, else at the file's own UTC offset when it has one (file_zone), else in the machine's
 * zone with a warning. */
plm_status plm__read_start_local(plm_reader *r, double local_s, int file_zone, int32_t file_offset_s, const char *source);

/* Record a gap (onset and length in seconds from the start, reason a literal). */
plm_status plm__read_add_gap(plm_reader *r, double onset_s, double duration_s, const char *reason);

#endif
