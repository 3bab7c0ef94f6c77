/* plm/night.h -- one night from detected movements: time in bed, sleep/wake, PLM scoring.
 *
 * Order (domain.md 1.5, 3): (1) time in bed: lights off/on from the manifest,
 * else from annotations, else estimated from the recording: the shank lying
 * down (its gravity vector more than lying_deg away from the upright
 * direction: the active epoch's direction that the most epochs lie parallel or
 * perpendicular to) for the longest stretch with
 * interruptions under tib_gap_s, at least tib_min_s long; flagged
 * "estimated". (2) Series are found first (they do not depend on sleep
 * state), so that (3) the periodic movements can be masked out of the
 * activity before sleep/wake is classified (domain.md 3.2: otherwise PLMs push
 * sleep epochs toward wake). (4) Sleep/wake per 30-s epoch from lights off:
 * stage annotations when given, else Cole-Kripke on 1-min counts in
 * time-above-threshold mode (seconds whose band-passed RMS, the larger leg,
 * exceeds the night's noise floor by act_thr_g, periodic movements masked)
 * with Webster rescoring; each minute's state goes to its two epochs. (5) Scoring with the states, and
 * the sleep summary (TIB, TST, SE = TST/TIB, SOL to the first sleep epoch,
 * WASO). With actigraphic sleep/wake the other choice of mask_plm is also
 * classified and scored, for the sensitivity figures below.
 * Ownership: plm_night_result is the caller's, freed by plm_night_result_clear.
 */
#ifndef PLM_NIGHT_H
#define PLM_NIGHT_H

#include <stddef.h>
#include <stdint.h>
#include "detect.h"
#include "events.h"
#include "score.h"
#include "sleepwake.h"
#include "status.h"

typedef enum { PLM_SLEEP_COLE_KRIPKE = 0, PLM_SLEEP_SADEH, PLM_SLEEP_OAKLEY } plm_sleep_algo;

typedef struct {
    plm_score_cfg score;
    plm_sleep_algo algo;      /* default Cole-Kripke */
    double sadeh_count_scale; /* counts x this for Sadeh (ActiGraph-count thresholds); default 5 */
    double oakley_threshold;  /* on 30-s counts; default 40 (medium) */
    plm_ck_cfg ck;            /* scale tuned for the band-passed ankle activity, see night.c */
    int webster;              /* 1: Webster rescoring (rules a-e) */
    int mask_plm;             /* 1: periodic movements masked out of the activity */
    double mask_pad_s;        /* masked margin around each periodic movement; default 1 s */
    double lying_deg;         /* default 45 deg */
    double walk_g;            /* epochs this active (RMS g) and upright teach the upright direction; 0.05 g */
    double act_thr_g;         /* a second is active above noise floor + this (RMS g); default 0.02 g */
    double tib_min_s;         /* default 1800 s */
    double tib_gap_s;         /* default 600 s */
} plm_night_cfg;

plm_night_cfg plm_night_cfg_default(void);

typedef struct {
    plm_score_result score;
    plm_sleep_summary sleep;
    double lights_off_s, lights_on_s;
    const char *lights_source; /* "manifest", "annotations", "estimated", "recording" (a literal) */
    const char *sleep_source;  /* "annotations", "actigraphy" (a literal) */
    size_t nepochs;           /* 30-s epochs from lights off */
    uint8_t *epoch_sleep;
    double masked_s;          /* activity time masked as periodic movement */
    double activity_floor_g;  /* noise floor subtracted from the 1-min activity */
    /* Sensitivity check (domain.md 3.2), actigraphic sleep/wake only (NaN with stage annotations):
     * SE and PLMS index with periodic movements masked out of the activity and without; one pair
     * equals sleep.se_pct and score.plms_index, as mask_plm chose. */
    double se_masked_pct, se_unmasked_pct, plms_index_masked, plms_index_unmasked;
} plm_night_result;

/* det: the detector's result for the recording (fs_hz, duration_s its rate and
 * length); lights_*_s: NaN when not given; ann: annotations or NULL. */
plm_status plm_night_analyze(const plm_night_cfg *cfg, const plm_detect_result *det, double fs_hz, double duration_s,
                             double lights_off_s, double lights_on_s, const plm_event_list *ann, plm_night_result *out);

void plm_night_result_clear(plm_night_result *r);

#endif
