/* plm/read.h -- streaming reader of leg-accelerometer recordings.
 *
 * Formats, chosen by content (never by extension): Axivity CWA (AX3, AX6),
 * GENEActiv .bin, ActiGraph .gt3x, EDF, EDF+ and BDF(+) through EDFlib, and
 * everything libsndfile opens (WAV, W64, RF64, FLAC, AIFF, CAF, ...). Samples
 * come out in blocks as planar doubles in g: x[c * cap + i] is channel c,
 * frame i.
 *
 * Units: floating-point sound files hold g. Integer sound files hold
 * fractions of a full scale: g = sample / 2^(bits-1) * full_scale_g, the full
 * scale coming from plm_read_cfg.full_scale_g (the manifest column) or from
 * the Axivity converter's WAV comment (ICMT "Scale-N: 8"). EDF signals are
 * converted from their physical dimension (g, mg, m/s2) to g.
 *
 * Channels: 1 = one axis or magnitude, 3 = one leg (x, y, z), 6 = left
 * x, y, z then right x, y, z; cfg.channels ("L=1,2,3;R=4,5,6", "R=1,2,3",
 * 1-based file channels) overrides. A single leg is taken as the left one
 * unless the map says R. Axivity auxiliary channels are dropped.
 *
 * Two files, one device per ankle (cfg.right_path): each file is read at its own rate and by
 * its own sample times (one leg each: 1 or 3 channels). The recording is the stretch both
 * cover: frame i is the faster file's sample (the left's if equal) and the other leg is
 * interpolated (Kaiser-windowed sinc, 32 taps at equal rates) at that sample's time, read off the
 * other file's own sample times, so that a movement of both legs stays simultaneous whatever
 * the two clocks' rates and start times. Channels are left then right; info.side[] describes
 * each file and its offset; gaps name the leg. cfg.channels must then be NULL.
 *
 * Time: the start comes from the file where it has one (BWF bext, the
 * Axivity comment, the EDF header); those are local times, read in
 * cfg.timezone. A truncated file (header promises more than exists) is read
 * as far as it goes and flagged in info.truncated with a warning.
 *
 * Ownership: plm_reader owns its file handle and buffers; info and
 * annotations returned by the accessors belong to the reader.
 * Thread safety: one reader per thread; EDFlib itself keeps a process-wide
 * handle table, so EDF files are opened and closed under a library mutex.
 */
#ifndef PLM_READ_H
#define PLM_READ_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "timeutil.h"
#include "types.h"

#define PLM_READ_MAX_CHANNELS 6

typedef struct {
    double full_scale_g;   /* full scale of integer data in g; NaN = from the file */
    const char *channels;  /* channel map or NULL for the default by channel count */
    const char *timezone;  /* IANA zone of local times in the file; NULL = machine's */
    int64_t block_frames;  /* frames per read; 1 .. 2^24, default 32768 */
    const char *right_path; /* NULL, or the right ankle's own file: the recording is then two
                               files, path the left leg's, right_path the right's (see below) */
} plm_read_cfg;

plm_read_cfg plm_read_cfg_default(void);

typedef enum {
    PLM_FORMAT_SNDFILE = 1,
    PLM_FORMAT_EDF = 2,
    PLM_FORMAT_CWA = 3,       /* Axivity AX3/AX6 .cwa */
    PLM_FORMAT_GENEACTIV = 4, /* GENEActiv .bin */
    PLM_FORMAT_GT3X = 5,      /* ActiGraph .gt3x (zip) */
    PLM_FORMAT_PAIR = 6       /* two files, one device per ankle (cfg.right_path) */
} plm_format_family;

/* One file of a two-file recording. */
typedef struct {
    const char *path;            /* owned by the reader */
    const struct plm_reader_info_s *info; /* the file's own description (format, device, serial, rates,
                                             start, warnings), as if opened alone */
    double offset_s;             /* its first sample's time minus the recording's first sample's:
                                    <= 0 when it started before the other */
    int64_t skipped_frames;      /* its frames before the recording's start (outside the overlap) */
} plm_reader_side;

typedef struct plm_reader_info_s {
    plm_format_family family;
    char format[64];          /* e.g. "WAV (PCM 16-bit)", "EDF+", "BDF" */
    double fs_hz;
    int64_t frames;           /* frames that can be read */
    int64_t frames_header;    /* frames the header promises (== frames unless truncated) */
    int file_channels;        /* channels in the file (EDF: data signals) */
    int nchan;                /* channels delivered: 1, 3 or 6 */
    int chan_file[PLM_READ_MAX_CHANNELS];     /* 0-based file channel of each */
    uint8_t chan_leg[PLM_READ_MAX_CHANNELS];  /* PLM_LEG_LEFT or PLM_LEG_RIGHT */
    double chan_scale_g[PLM_READ_MAX_CHANNELS]; /* g per unit read from the file */
    uint8_t legs;             /* mask of legs present */
    char channel_map[64];     /* canonical map, "L=1,2,3;R=4,5,6" */
    char labels[256];         /* labels of the delivered channels, comma separated */
    char dropped[128];        /* dropped file channels, e.g. "4 (aux)" */
    int is_float;             /* samples stored as floating point (g) */
    double full_scale_g;      /* NaN for floating-point data */
    char full_scale_source[16]; /* "manifest", "axivity" (omconvert comment), "comment" (Scale-N lines), "edf", "" */
    int has_start;
    plm_time start;           /* valid when has_start */
    char start_source[16];    /* "bext", "axivity", "edf" */
    int truncated;
    char warnings[512];       /* "; "-separated, "" if none */
    /* devices' own formats (CWA, GENEActiv, GT3X); "" or equal to fs_hz for the others */
    char device[48];          /* e.g. "Axivity AX3", "GENEActiv", "ActiGraph GT3X+" */
    char serial[48];          /* device id or serial number */
    double fs_nominal_hz;     /* the rate the device was set to; fs_hz is the rate observed from the
                                 file's own sample times (they differ by the device clock's error) */
    int zone_known;           /* 1: local times were read in a zone the file or the caller gave;
                                 0: device-local clock read in the machine's zone */
    int64_t gap_frames;       /* frames delivered as NaN for missing or corrupt data */
    int has_gyro, has_temperature, has_light; /* other sensors plm_reader_read_aux gives */
    int nsides;               /* 2 for a two-file recording (side[0] left, side[1] right), else 0 */
    plm_reader_side side[2];
} plm_reader_info;

/* The other sensors of a device, per frame (any pointer may be NULL): gyro_dps planar like x
 * (3 * cap: x, y, z in degrees per second; AX6), temperature_c (cap; CWA per block, GENEActiv per
 * page), light (cap; GENEActiv in lux = raw x Lux / Volts of its header, CWA the raw 10-bit value).
 * Filled only for the sensors info.has_* names (NaN in gaps); the others are left alone. */
typedef struct {
    double *gyro_dps, *temperature_c, *light;
} plm_aux;

/* A stretch the device did not record, or whose data failed its checksum: delivered as NaN
 * frames so that frame i stays at about start + i / fs_hz. */
typedef struct {
    double onset_s, duration_s;  /* from info.start */
    const char *reason;          /* e.g. "corrupt block (checksum)", "missing blocks", "idle sleep mode" */
    uint8_t leg;                 /* two-file recordings: the leg (PLM_LEG_*) whose file has the gap; else 0 */
} plm_gap;

/* An EDF+ annotation: onset and duration in 100-ns ticks from the first
 * sample (EDFlib's integer clock); duration -1 when absent. */
typedef struct {
    int64_t onset_100ns;
    int64_t duration_100ns;
    char *text;
} plm_annotation;

typedef struct plm_reader plm_reader;

/* Open path. Errors: PLM_EIO (missing or unreadable), PLM_EFORMAT (not a
 * recording, unknown layout, integer data without a full scale, bad channel
 * map), PLM_EINVAL (bad cfg). The detail names the file and the reason. */
plm_status plm_reader_open(const char *path, const plm_read_cfg *cfg, plm_reader **out);

const plm_reader_info *plm_reader_get_info(const plm_reader *r);

/* EDF+ annotations (empty for other formats). */
const plm_annotation *plm_reader_annotations(const plm_reader *r, size_t *n);

/* Read up to cap frames into x (nchan * cap doubles, planar, g). *got = 0 at
 * the end. A read error after the header is PLM_EIO. */
plm_status plm_reader_read(plm_reader *r, double *x, int64_t cap, int64_t *got);

/* The same, and each frame's time in t_s (cap doubles): seconds from info.start, from the file's
 * own sample times where the format has them (CWA block anchors, GENEActiv page times, GT3X
 * record times), else frame / fs_hz. NaN frames of a gap get their expected times. */
plm_status plm_reader_read_t(plm_reader *r, double *x, double *t_s, int64_t cap, int64_t *got);

/* The same with the other sensors (plm_aux). */
plm_status plm_reader_read_aux(plm_reader *r, double *x, double *t_s, plm_aux *aux, int64_t cap, int64_t *got);

/* Gaps found (CWA: all of them, known at open; others: those read so far). Owned by the reader. */
const plm_gap *plm_reader_gaps(const plm_reader *r, size_t *n);

void plm_reader_destroy(plm_reader *r);

/* Parse a channel map against nfile channels into info's chan_* fields. */
plm_status plm_read_parse_channel_map(const char *map, int nfile, plm_reader_info *info);

#endif
