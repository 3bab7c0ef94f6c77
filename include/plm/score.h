/* plm/score.h -- PLM scoring: bilateral combination, candidate LMs, series, states, indices.
 *
 * Rule sets (domain.md 1.1, 1.5, 1.6): WASM/IRLSSG 2016 (Ferri et al., Sleep Med
 * 2016; default), the AASM manual (2007 onwards) and the legacy rules of the
 * Hornyak 1998 era (Coleman 1982 / ASDA 1993). Every value is a field of
 * plm_score_cfg, written to HDF5 by the caller.
 *
 * Steps (domain.md 1.5): per-leg movements shorter than lm_min_s are dropped,
 * and only those with onset in [lights_off, lights_on) kept; the two legs are
 * combined (WASM: overlapping or < bi_gap_s from one offset to the next onset;
 * AASM/legacy: onsets < bi_onset_s apart); a combined movement is a candidate
 * (CLM) if monolateral and <= lm_max_mono_s, or bilateral, <= lm_max_bi_s,
 * made of <= bi_max_parts parts, none longer than lm_max_mono_s; intervals
 * (IMI) run onset to onset over all combined movements; series are runs of
 * >= min_series CLMs with imi_min_s <= IMI <= imi_max_s. A CLM preceded by a
 * shorter interval: PLM_SHORT_IMI_BREAK (SOMAS reading, WASM default) breaks
 * the run and joins none (except the first movement of the night);
 * PLM_SHORT_IMI_STARTS (MATPLM reading) breaks the run and may start the next;
 * PLM_SHORT_IMI_SKIP (AASM/legacy common practice) skips it and measures the
 * next interval from the last movement kept. Non-CLMs break runs. The state of
 * a movement is that of the 30-s epoch holding its onset. Arousals are
 * associated when they overlap or lie < arousal_pad_s away either way;
 * respiratory-related CLMs (CLMr) overlap [end - resp_before_s, end +
 * resp_after_s] of an apnea/hypopnea (WASM) or [start - 0.5, end + 0.5]
 * (AASM); the PLMS index without them is recomputed after removing them.
 *
 * Time: integer microseconds (no rounding at the 10-s and 90-s edges);
 * convert with plm_us(). Ownership: inputs borrowed, results by value or in
 * caller-owned structs freed with plm_score_result_clear.
 */
#ifndef PLM_SCORE_H
#define PLM_SCORE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"
#include "types.h"

typedef enum { PLM_RULES_WASM2016 = 0, PLM_RULES_AASM2007, PLM_RULES_LEGACY1998 } plm_ruleset;
typedef enum { PLM_SHORT_IMI_BREAK = 0, PLM_SHORT_IMI_STARTS, PLM_SHORT_IMI_SKIP } plm_short_imi;
typedef enum { PLM_RESP_NONE = 0, PLM_RESP_AFTER_END, PLM_RESP_AROUND } plm_resp_rule;

typedef struct {
    plm_ruleset rules;
    double lm_min_s, lm_max_mono_s, lm_max_bi_s;
    int bi_by_onset;          /* 0: overlap or gap < bi_gap_s (WASM); 1: onsets < bi_onset_s (AASM) */
    double bi_gap_s, bi_onset_s;
    int bi_max_parts;         /* 0 = no limit */
    double imi_min_s, imi_max_s;
    plm_short_imi short_imi;
    int min_series;
    double arousal_pad_s;
    plm_resp_rule resp_rule;
    double resp_before_s, resp_after_s;
    double epoch_s;
} plm_score_cfg;

/* The values of domain.md 1.6 for a rule set. */
plm_score_cfg plm_score_cfg_rules(plm_ruleset rules);
const char *plm_ruleset_name(plm_ruleset rules);
/* "wasm2016", "aasm2007", "legacy1998" -> rule set; PLM_EINVAL otherwise. */
plm_status plm_ruleset_parse(const char *name, plm_ruleset *out);


typedef struct {
    int64_t onset_us, offset_us;
    uint8_t leg;            /* PLM_LEG_LEFT / RIGHT (BOTH accepted from event files) */
} plm_leg_event;

typedef struct {
    int64_t onset_us, offset_us;
} plm_interval_us;

/* Sleep states by epoch: sleep[e] for [t0_us + e*epoch, ...): 1 sleep (N1/N2/N3/R), 0 wake.
 * rem[e]: 1 REM; NULL when the stages are not known (actigraphy), and then no
 * NREM/REM split. NULL hypnogram = all sleep. */
typedef struct {
    int64_t t0_us;
    size_t n;
    const uint8_t *sleep;   /* 1 sleep, 0 wake */
    const uint8_t *rem;     /* 1 REM, 0 not; may be NULL */
} plm_hypno_view;

struct plm_event_list;
/* Epoch flags from the stage rows (W, N1, N2, N3, R) of ev: nep epochs of epoch_s from t0_s, each
 * taking the stage row that holds its middle (none: wake). rem may be NULL. */
void plm_stages_to_epochs(const struct plm_event_list *ev, double t0_s, double epoch_s, size_t nep, uint8_t *sleep,
                          uint8_t *rem);

typedef struct {
    int64_t onset_us, offset_us;
    uint8_t leg;            /* 1 left, 2 right, 3 both */
    uint8_t parts;
    uint8_t clm, plm, sleep, arousal, resp;
    int32_t series;         /* series number (0-based) or -1 */
} plm_scored_lm;

#define PLM_IMI_BINS 20     /* log10 IMI from 10^0 to 10^3 s in 0.15-decade bins */

typedef struct {
    plm_scored_lm *lm;
    size_t n;
    /* counts (TIB) */
    int32_t lm_count, lms_count, clm_count, clms_count, plm_count, plms_count, plmw_count, plms_a_count, plmsnr_count;
    int32_t series_count;
    double series_mean_len;
    /* times */
    double tib_h, tst_h, wake_h;
    /* indices */
    double lm_index, plms_index, plmw_index, plms_a_index, plmsnr_index;
    double plm_tib_index;   /* PLM per hour in bed, whatever the state (domain.md 2.1: what a leg alone can test) */
    /* NREM/REM split (domain.md 1.4), only with stages (hyp->rem): PLMS in NREM / REM sleep per hour of
     * NREM / REM sleep; NaN otherwise or when that time is 0 */
    int32_t plms_rem_count;
    double rem_h, plms_nrem_index, plms_rem_index;
    double pi_wasm;         /* PLMS / CLMS (WASM 2016 / SOMAS) */
    double pi_ferri;        /* Ferri 2006: IMIs in runs of >= 3 with 10 < IMI <= 90, over all IMIs */
    double median_imi_s, mean_lm_duration_s;
    double ln_imi_mean, ln_imi_sd; /* of CLMS with 10 <= IMI < 90 (domain.md 1.4) */
    int32_t imi_hist[PLM_IMI_BINS];
} plm_score_result;

/* Score one night. legs: per-leg movements (any order); arousals and resp may be
 * NULL (then PLMS-A / PLMSnr are NaN); hyp NULL = everything in TIB is sleep;
 * lights_off_us/lights_on_us bound the night (INT64_MIN/INT64_MAX for none). */
plm_status plm_score_night(const plm_score_cfg *cfg, const plm_leg_event *legs, size_t nlegs,
                           const plm_interval_us *arousals, size_t narousals, const plm_interval_us *resp,
                           size_t nresp, const plm_hypno_view *hyp, int64_t lights_off_us, int64_t lights_on_us,
                           plm_score_result *out);

void plm_score_result_clear(plm_score_result *r);

/* Sleep measures of a hypnogram inside [lights_off, lights_on) (domain.md 3.3):
 * SOL = lights off to the first sleep epoch, WASO = wake between the first and
 * the last sleep epoch, SE = TST / TIB. hyp NULL: all sleep (SOL, WASO 0). */
typedef struct {
    double tib_h, tst_h, se_pct, sol_min, waso_min;
} plm_sleep_summary;

void plm_hypno_summary(const plm_hypno_view *hyp, double epoch_s, int64_t lights_off_us, int64_t lights_on_us,
                       plm_sleep_summary *out);

/* Score an events CSV's content (plm/events.h): lm rows per leg, arousal,
 * apnea/hypopnea, stage rows (30-s grid from the first one) and lights rows.
 * lights_off_s/lights_on_s override the file when finite; without lights rows
 * the night runs from the first stage (or 0) to the last stage or event.
 * *has_stages, *has_arousals, *has_resp, *lights_from tell what the file gave
 * ("options", "file", "stages" or "events"). */
plm_status plm_score_events(const plm_score_cfg *cfg, const struct plm_event_list *ev, double lights_off_s,
                            double lights_on_s, plm_score_result *out, plm_sleep_summary *sleep, int *has_stages,
                            int *has_arousals, int *has_resp, const char **lights_from);

#endif
