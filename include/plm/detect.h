/* plm/detect.h -- leg-movement detection, quality control and calibration, streaming.
 *
 * One pass over the samples (fed in blocks of any size, in order) does:
 *  1. Gaps: NaN/Inf samples hold the last finite value and are flagged.
 *  2. Despiking: an isolated single-sample excursion larger than despike_g
 *     from both neighbours (which agree with each other) is replaced by their
 *     mean, so glitches never become movements.
 *  3. Band-pass per axis (plm/filter.h, default 2-9 Hz with 1.5-Hz transitions,
 *     gravity removed), group delay compensated; per leg the norm of the
 *     filtered axes. Why not 0.5 Hz: a sharp low edge rings for seconds on the
 *     orientation step of every dorsiflexion, which moved onsets ~1.4 s early
 *     and offsets ~3 s late on simulated nights (docs/validation.md); slow
 *     movements are caught by the orientation channel (6) instead.
 *  4. Envelope: centred moving RMS over env_window_s (0.15 s, as Moore 2014).
 *  5. Noise floor b: centred 60-s running minimum of the 0.5-s running maximum
 *     of the envelope (the MATPLM construction, domain.md 2.4 step 4).
 *  6. Orientation channel: the angle between the mean acceleration vectors of
 *     the rot_window_s before and after each sample (slow dorsiflexions rotate
 *     the sensor even when they shake it little), as a rate in deg/s.
 *  7. Dual thresholds (domain.md 2.4 step 5): T_hi = max(hi_min_g, hi_factor b),
 *     T_lo = lo_fraction T_hi. A movement starts where the envelope exceeds
 *     b + T_hi or the rotation exceeds rot_hi_deg_s; it ends at the start of the first
 *     stretch of >= quiet_s below b + T_lo (and below rot_lo_deg_s). No
 *     detection where b exceeds ceiling_g (e.g. walking) or in gaps.
 *  8. Morphology: kept only if some quiet_s-long window inside it has its
 *     median envelope above b + T_lo (computerised-scoring criterion, WASM 2016).
 *  9. Held dorsiflexion: a movement that tilts the leg by >= hold_tilt_deg and
 *     one that, within hold_max_s, brings it back to where it started (the
 *     leg held still in between) are joined into one movement (flag
 *     PLM_LM_HELD): the muscle is active through the hold although the sensor
 *     is still.
 * Onset (first sample above b + T_hi, as the EMG rules' 8-uV rise; for a
 * movement started by rotation alone, where the rotation began) and end are
 * sample indices; peak and area are kept. The morphology window may include
 * the rise above b + T_lo just before the onset.
 *
 * Quality control (flags stored as intervals): clipping (|x| >= clip_fraction
 * of the full scale), dropout (gaps, and flat lines: every axis unchanged for
 * flat_s), non-wear (GGIR 2013: in a 60-min window every axis has SD < 13 mg
 * and range < 50 mg; and, so that a still sleeping leg is not taken for a
 * removed sensor, gravity lies within nonwear_flat_deg of a sensor axis, as
 * for a device lying flat on a table, and no movement was detected).
 *
 * Calibration (van Hees et al., J Appl Physiol 2014; GGIR g.calibrate): still
 * 10-s windows (SD < 13 mg on every axis) are fitted to the unit sphere,
 * offset and gain per axis: GGIR's iterated per-axis least squares as a start,
 * refined by Levenberg-Marquardt (GSL multifit_nlinear) on |(raw - offset) /
 * gain| - 1. Applied only when
 * every axis is covered (values below -calib_cover_g and above +calib_cover_g),
 * the postures pin every parameter down (standard error from the fit's
 * covariance <= calib_max_se) and the fit lowers the error below
 * calib_max_error_g; the errors before and after are recorded. The band-pass removes offsets and the gains are within
 * a few percent of one, so detection runs in the same pass on the
 * uncalibrated axes; the fitted gains rescale each movement's peak and area.
 *
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
#include "filter.h"
#include "status.h"
#include "types.h"

typedef struct {
    plm_filter_cfg filter;
    double despike_g;        /* isolated single-sample jump that is a glitch; default 0.5 g */
    double env_window_s;     /* envelope RMS window; default 0.15 s */
    double floor_max_s;      /* running-max window of the floor; default 0.5 s */
    double floor_min_s;      /* running-min window of the floor; default 60 s */
    double hi_min_g;         /* smallest high threshold above the floor; default 0.015 g */
    double hi_factor;        /* high threshold as a multiple of the floor; default 1.0 */
    double lo_fraction;      /* low threshold = lo_fraction x high; default 0.25 (8/2 uV ratio) */
    double quiet_s;          /* quiet time that ends a movement, and the morphology window; default 0.5 s */
    double ceiling_g;        /* no detection while the floor is above this; default 0.1 g */
    double rot_window_s;     /* orientation-change half window; default 0.25 s */
    double rot_hi_deg_s;     /* rotation rate that starts a movement; default 20 deg/s */
    double rot_lo_deg_s;     /* rotation rate that keeps it going; default 5 deg/s */
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
    double offset_g[3], gain[3];     /* calibrated = gain * (raw + offset)... see calibrate */
    double error_before_g, error_after_g;
    size_t windows;                  /* still windows used */
    double worst_se;                 /* largest standard error of the six fitted parameters */
    int applied;
    char reason[160];                /* why it was or was not applied */
} plm_calibration;

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
