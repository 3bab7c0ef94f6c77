/* plm/convert.h -- a recording's decoded signal written as files other tools read (actiplm convert).
 *
 * Outputs, any combination:
 *   PLM_CONVERT_H5   OUT.h5: accel_g (N x 3, g; N x 6 for both legs, left x, y, z then right) and
 *                    time_unix_s (N) of every frame as read, at the
 *                    file's own sample times (no resampling; the layout of ../shared/data's truth
 *                    files), and gyro_dps (N x 3), temperature_c, light where the device has
 *                    them (plm_aux); gaps are NaN rows and are listed in the table gaps (onset_s,
 *                    duration_s, reason, leg: 1 left, 2 right file of a two-file recording, else 0); root attributes fs_hz (observed), fs_nominal_hz, start_utc,
 *                    device, serial, format, source_path (two files: also left_/right_fs_hz,
 *                    _offset_s, _source_path).
 *   PLM_CONVERT_WAV  OUT.wav: 32-bit float WAV in g, resampled (linearly) onto a uniform grid at
 *                    the nominal rate rounded to a whole number of Hz, from the first frame; the
 *                    start in the BWF bext chunk (local time in the reader's zone) and the full
 *                    scale as "Scale-N:" comment lines, where actiplm info reads them back.
 *   PLM_CONVERT_FLAC OUT.flac: the same grid as 16-bit FLAC of the full scale; start and full
 *                    scale in the comment ("Time:", "Scale-N:", the Axivity convention).
 *   PLM_CONVERT_CSV  OUT.csv: time_unix_s,x_g,y_g,z_g of every frame as read (empty cells in gaps);
 *                    both legs: time_unix_s,left_x_g,...,right_z_g.
 * Streaming: memory is a few blocks, whatever the recording's length. Files are written under a
 * temporary name and renamed into place.
 */
#ifndef PLM_CONVERT_H
#define PLM_CONVERT_H

#include "read.h"
#include "status.h"

enum { PLM_CONVERT_H5 = 1, PLM_CONVERT_WAV = 2, PLM_CONVERT_FLAC = 4, PLM_CONVERT_CSV = 8 };

typedef struct {
    int64_t frames_in;       /* frames read */
    int64_t frames_out;      /* frames of the WAV/FLAC grid (0 when neither was asked) */
    double rate_out_hz;      /* the grid's rate */
} plm_convert_result;

/* Convert path (opened with cfg, cfg.right_path for two files; 3 channels of one leg or 6 of
 * both) into out_base plus each asked extension. Errors: those of plm_reader_open/read;
 * PLM_EINVAL for a recording that is not 3 or 6 axes; PLM_EIO when an output cannot be written. */
plm_status plm_convert(const char *path, const plm_read_cfg *cfg, const char *out_base, unsigned outputs,
                       plm_convert_result *res);

#endif
