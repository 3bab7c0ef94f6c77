/* plm/simulate.h -- synthetic sleep studies with ground truth.
 *
 * No public ankle recording with scored leg movements exists, so actiplm
 * makes its own oracle. A study is subjects x {control, magnesium} x nights
 * recordings of 3-axis sensors on one or both ankles, modelled on the
 * physics of domain.md section 2:
 *  - gravity rotated by posture: sitting and walking before lights-off and
 *    after lights-on, lying in bed, posture changes a few times per hour;
 *  - PLM series in sleep (onset-to-onset intervals mostly 15-40 s, 4-30
 *    movements, durations 0.5-5 s) on one or both legs, each movement a small
 *    dorsiflexion rotation of the shank plus 1-8 Hz acceleration of tens to
 *    hundreds of mg; isolated movements; clusters of movements in wake;
 *  - arousals tied to some PLMS and a few spontaneous ones;
 *  - the sensor strapped at a random orientation (its axes need not follow
 *    the shank), offset and gain errors per axis, white noise, slow drift,
 *    rare single-sample spikes, 1/256 g quantisation and clipping at full
 *    scale; optionally a removed sensor lying flat on a table;
 *  - a condition effect: magnesium nights have fewer PLMS and a higher sleep
 *    efficiency (the direction of Hornyak et al., Sleep 1998).
 * The truth (docs/simulate.md) is built so that the WASM 2016 rules score
 * exactly the generated PLMs: every series member is 10-90 s from its
 * neighbours, every other movement is > 90 s from any other movement or
 * < 10 s from the one before (wake clusters), all durations are CLM-valid.
 *
 * Deterministic: the same cfg (seed included) gives byte-identical files.
 * Streaming: samples are synthesised and written in blocks, so memory does
 * not grow with the recording's length.
 * Ownership: cfg strings are borrowed. Thread safety: reentrant (the time
 * zone conversions lock, see timeutil.h).
 */
#ifndef PLM_SIMULATE_H
#define PLM_SIMULATE_H

#include <stdint.h>
#include "status.h"

typedef struct {
    int subjects;             /* 1 .. 10000, default 6 */
    int nights;               /* nights per condition, 1 .. 30, default 1 */
    double fs_hz;             /* 10 .. 1000, default 50 */
    uint64_t seed;            /* default 1998 */
    int legs;                 /* 1 (left only, 3 channels) or 2 (6 channels), default 2 */
    double noise_mg;          /* white noise SD per axis, default 3 mg */
    double drift_mg;          /* slow drift amplitude per axis, default 5 mg */
    double spike_rate_per_h;  /* single-sample glitches per leg, default 1 per hour */
    double offset_max_mg;     /* calibration offsets uniform in +-, default 30 mg */
    double gain_err_max;      /* calibration gains uniform in 1 +-, default 0.02 */
    double full_scale_g;      /* clipping level and WAV full scale, default 8 g */
    double control_plms_per_h;   /* mean PLMS index, control nights, default 33 */
    double control_plms_sd;      /* between-subject SD, default 16 */
    double magnesium_plms_ratio; /* magnesium/control PLMS ratio, default 0.65 */
    double control_se_pct;       /* mean sleep efficiency, control, default 75 */
    double control_se_sd;        /* default 10 */
    double magnesium_se_gain_pct;/* mean SE gain on magnesium, default 10 */
    const char *timezone;     /* IANA zone of the clock times, default "Europe/Berlin" */
    const char *first_night;  /* date of subject 1's first control night, "YYYY-MM-DD";
                                 default "2024-03-28" (subject 3 sleeps through the
                                 spring clock change) */
    int flac;                 /* 1: write FLAC instead of WAV (no bext; start in manifest) */
    double nonwear_min;       /* the sensor lies flat on a table for the first M minutes
                                 (capped at 10 min before lights-off); default 0 */
    int preset;               /* PLM_SIM_DEFAULT or PLM_SIM_HARD (docs/simulate.md): log-normal
                                 LM amplitudes down to 8 mg, noise 3-8 mg per night, slow
                                 dorsiflexions, twitches, sparse wake movement */
    int float_wav;            /* 1: 32-bit float WAV in g (no quantisation, no full scale) */
    int no_tilt;              /* 1: movements other than slow dorsiflexions and posture changes
                                 only shake the leg (no 1-6 deg tilt): vibration alone must find them */
} plm_sim_cfg;

enum { PLM_SIM_DEFAULT = 0, PLM_SIM_HARD = 1 };

plm_sim_cfg plm_sim_cfg_default(void);

/* Progress callback (may be NULL): called after each recording. */
typedef void (*plm_sim_progress)(void *user, int done, int total, const char *recording);

/* Write a study into dir (created if missing): manifest.csv, recordings/,
 * truth/. Errors: PLM_EINVAL (cfg), PLM_EIO (cannot write). */
plm_status plm_simulate_study(const plm_sim_cfg *cfg, const char *dir, plm_sim_progress progress, void *user);

#endif
