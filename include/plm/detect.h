/* plm/detect.h -- leg-movement detection, quality control and calibration, streaming.
 *
 * One pass over the samples (fed in blocks of any size, in order) does:
 *  1. Gaps: NaN/Inf samples hold the last finite value and are flagged.
 *  2. Despiking: an isolated single-sample excursion larger than despike_g
 *     from both neighbours (which agree with each other) is replaced by their
 *     mean, so glitches never become movements.
 *  3. Vibration channel: band-pass per axis (plm/filter.h, default 2-9 Hz with
 *     1.5-Hz transitions, gravity removed), group delay compensated; per leg
 *     the norm of the filtered axes; its envelope is a centred moving RMS over
 *     env_window_s (0.15 s, Moore 2014). Why not 0.5 Hz: a sharp low edge rings
 *     for seconds on every orientation step; slow movements are the tilt
 *     channel's (4).
 *  4. Tilt channel: the distance (g) between the mean acceleration vector over
 *     tilt_window_s around the sample and the posture before it (per-axis median
 *     of 0.5-s block means over tilt_ref_s, ending tilt_gap_s before), or the
 *     posture after it, whichever is nearer. A dorsiflexion that tilts the
 *     sensor a few degrees and returns differs from both (3 deg is ~50 mg); a
 *     posture change only while it happens; a still leg, whatever its posture,
 *     not at all.
 *  5. Noise floors, per channel and leg, estimated over minutes: centred
 *     running minimum (floor_min_s, 60 s) of block maxima (blocks of floor_max_s,
 *     0.5 s, for the vibration envelope; running maxima over tilt_floor_max_s,
 *     2 s, on 0.5-s blocks for the tilt) -- the MATPLM construction, domain.md
 *     2.4 step 4, at block rate (a floor changes over minutes).
 *  6. Activity: a = max((env - b) / T_hi, (tilt - bt) / T_tilt), with
 *     T_hi = max(hi_min_g, hi_factor b) and T_tilt = max(tilt_min_g,
 *     tilt_factor bt): each channel's excess over its own floor in units of
 *     its high threshold. A movement starts where a > 1 and ends at the start
 *     of the first stretch of >= quiet_s with a <= lo_fraction. No detection
 *     where b exceeds ceiling_g (e.g. walking) or in gaps.
 *  7. Onset: backtrack from the high crossing to where a last was at or below
 *     onset_fraction (where the activity left the floor, the accelerometer
 *     analogue of the EMG onset), at most backtrack_max_s; then both ends are
 *     trimmed to where a reaches peak_fraction (5 %) of the movement's peak, so the
 *     filter's and envelope's skirts of a large movement do not widen it. A
 *     movement that builds up slowly is invisible at first: the onset moves back
 *     to where its rise, extrapolated from half the peak with the filter's and
 *     envelope's own step response (measured at creation) taken out, starts
 *     (1.69 x the 10-50 % rise, as for a raised-cosine rise from zero).
 *  8. Width: kept only if at least min_width_s of samples have a >= width_fraction
 *     of the movement's peak (0.42 s at a quarter). A twitch (< 0.5 s) smeared
 *     past 0.5 s at low thresholds stays narrower there; a 0.5-s movement, even
 *     one that rises and falls as a Hann window, is about 0.45 s wide.
 *  9. Held dorsiflexion: a movement that tilts the leg by >= hold_tilt_deg and
 *     one that, within hold_max_s, brings it back to where it started (the
 *     leg held still in between, longer than the posture windows) are joined
 *     into one movement (flag PLM_LM_HELD).
 * Every smoothing window holds at least 5 (envelope) or 8 (tilt) samples and
 * each running maximum spans several of them, so the floors sit alike in the
 * noise at 10 Hz and at 100 Hz. Onset and end are sample indices; peak (of the
 * envelope) and area above the floor are kept.
 *
 * Quality control (flags stored as intervals): clipping (|x| >= clip_fraction
 * of the full scale), dropout (gaps, and flat lines: every axis unchanged for
 * flat_s), non-wear (GGIR 2013: in a 60-min window every axis has SD < 13 mg
 * and range < 50 mg; and, so that a still sleeping leg is not taken for a
 * removed sensor, gravity lies within nonwear_flat_deg of a sensor axis, as
 * for a device lying flat on a table, and no movement was detected).
 *
 * Calibration (plm/calibrate.h, calibrate.c): still 10-s windows (SD < 13 mg on
 * every axis) collected in the same pass are fitted to the unit sphere. The
 * band-pass removes offsets, the tilt channel compares a leg with itself, and the gains are within
 * a few percent of one, so detection runs in the same pass on the
 * uncalibrated axes; the fitted gains rescale each movement's peak and area.
 *
 * Quality control is qc.c's, calibration calibrate.c's; detect.c holds the
 * detection state machine.
 * Memory is bounded by the filter's FFT size and the 60-s floor window, never
 * by the recording's length (the calibration keeps at most calib_max_windows
 * window means, and fits an even thinning of them to 10,000). Output is
 * identical whatever the block sizes fed in.
 * Ownership: plm_detector owns its buffers; plm_detect_result is the caller's,
 * freed by plm_detect_result_clear. Thread safety: one detector per thread.
 */
#ifndef PLM_DETECT_H
#define PLM_DETECT_H

#include <stddef.h>
#include <stdint.h>
#include "calibrate.h"
#include "filter.h"
#include "status.h"
#include "types.h"

typedef struct {
    plm_filter_cfg filter;
    double despike_g;        /* isolated single-sample jump that is a glitch; default 0.5 g */
    double env_window_s;     /* envelope RMS window; default 0.15 s */
    double floor_max_s;      /* running-max window of the floor; default 0.5 s */
    double floor_min_s;      /* running-min window of the floor; default 60 s */
    double hi_min_g;         /* smallest high threshold above the floor; default 0.003 g */
    double hi_factor;        /* high threshold as a multiple of the floor; default 1.0 */
    double lo_fraction;      /* low threshold = lo_fraction x high; default 0.25 (8/2 uV ratio) */
    double quiet_s;          /* quiet time that ends a movement; default 0.5 s */
    double ceiling_g;        /* no detection while the floor is above this; default 0.1 g */
    double tilt_window_s;    /* tilt channel: mean-vector window; default 0.25 s */
    double tilt_ref_s;       /* postures before and after: median over this long; default 5 s */
    double tilt_gap_s;       /* ... starting this far from the sample; default 0.5 s */
    double tilt_factor;      /* tilt high threshold as a multiple of its floor; default 1.5 */
    double tilt_min_g;       /* smallest tilt high threshold; default 0.004 g */
    double tilt_floor_max_s; /* running-max window of the tilt floor; default 2 s */
    double onset_fraction;   /* onset: where the activity last was below this fraction of the
                                high threshold; default 0.5 */
    double peak_fraction;    /* both ends trimmed to where the activity reaches this fraction
                                of the movement's peak; default 0.05 */
    double backtrack_max_s;  /* onset at most this far before the high crossing; default 1 s */
    double width_fraction;   /* width test level, fraction of the movement's peak; default 0.25 */
    double min_width_s;      /* a movement is at least this wide at that level; default 0.42 s */
    double hold_max_s;       /* longest hold joined into one movement; default 10 s */
    double hold_tilt_deg;    /* tilt that makes a hold; default 5 deg */
    double clip_fraction;    /* clipping flag at this fraction of the full scale; default 0.98 */
    double flat_s;           /* dropout flag for unchanged samples this long; default 1 s */
    double nonwear_window_s; /* default 3600 s */
    double nonwear_step_s;   /* default 900 s */
    double nonwear_sd_g;     /* default 0.013 g */
    double nonwear_range_g;  /* default 0.050 g */
    double nonwear_flat_deg; /* default 10 deg */
    double calib_window_s;   /* default 10 s */
    double calib_sd_g;       /* default 0.013 g */
    double calib_cover_g;    /* default 0.3 g */
    double calib_max_error_g;/* default 0.01 g */
    double calib_max_se;     /* largest standard error of any fitted offset (g) or gain; default 0.002 */
    size_t calib_max_windows;/* default 200000 */
} plm_detect_cfg;

plm_detect_cfg plm_detect_cfg_default(void);

enum { PLM_QC_NONWEAR = 1, PLM_QC_CLIPPING = 2, PLM_QC_DROPOUT = 3 };

/* A flagged interval [onset, end) in samples; leg 0 = the whole recording. */
typedef struct {
    int64_t onset, end;
    uint8_t kind, leg;
} plm_interval;

typedef struct {
    plm_lm_list lm;                  /* per-leg movements, in onset order per leg */
    plm_interval *qc;
    size_t nqc, capqc;
    plm_calibration calib[2];        /* [0] left, [1] right; windows == 0 if the leg is absent */
    int64_t frames;
    int64_t despiked;                /* samples replaced as glitches */
    double excluded_s[4];            /* by kind (index PLM_QC_*), merged over legs */
    /* low-rate traces for sleep/wake and time in bed (4 B per second and leg):
     * sec_e2[l][s]: mean squared band-passed norm over second s of leg l (g^2);
     * grav[l][3 e + x]: mean raw acceleration of axis x over 30-s epoch e (g) */
    size_t nsec, ngrav;
    float *sec_e2[2];
    float *grav[2];
    int nlegs;
    uint8_t leg_of[2];               /* PLM_LEG_* of slot 0 and 1 */
} plm_detect_result;

typedef struct plm_detector plm_detector;

/* nchan 1 .. 6 channels with chan_leg[c] in {PLM_LEG_LEFT, PLM_LEG_RIGHT}
 * (1 or 3 per leg); full_scale_g NaN when unknown (no clipping flags). */
plm_status plm_detector_create(const plm_detect_cfg *cfg, double fs_hz, int nchan, const uint8_t *chan_leg,
                               double full_scale_g, plm_detector **out);

/* Work on up to `threads` threads (before the first push): with two legs and threads >= 2, the
 * right leg's filter, envelope, tilt and decisions run on a worker thread beside the left's. The
 * results are the same bytes whatever the number. Without a thread to be had it stays on one. */
plm_status plm_detector_set_threads(plm_detector *d, int threads);

/* Feed n frames, planar x[c * x_cap + i], in g. */
plm_status plm_detector_push(plm_detector *d, const double *x, int64_t n, int64_t x_cap);

/* End of the recording: flush, calibrate, and move the results into *out
 * (cleared first). The detector cannot be fed afterwards. */
plm_status plm_detector_finish(plm_detector *d, plm_detect_result *out);

void plm_detector_destroy(plm_detector *d);

void plm_detect_result_clear(plm_detect_result *r);

/* Sphere fit of still-window means v[3*i..] (n windows): the lower-level step
 * of the calibration, exposed for tests. */
plm_status plm_calibrate_fit(const double *v, size_t n, const plm_detect_cfg *cfg, plm_calibration *out);

#endif
