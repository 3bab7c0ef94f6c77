/* plm/compare.h -- event-by-event comparison of detected and reference leg movements.
 *
 * In the spirit of WFDB's bxb (which scores beats against a reference): per
 * leg, detected and reference intervals are matched one to one by overlap,
 * largest overlap first; a reference with no match is a false negative, a
 * detection with no match a false positive. Only events whose onset lies in
 * [t0_s, t1_s) count (e.g. lights off to lights on). Reported per leg and
 * overall: sensitivity TP/(TP+FN), positive predictive value TP/(TP+FP), F1,
 * and the absolute onset and offset errors of matched pairs (median and 95th
 * percentile, GSL's quantile definition). Times in seconds (this is an edge).
 * Ownership: inputs borrowed, the result is by value.
 */
#ifndef PLM_COMPARE_H
#define PLM_COMPARE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

typedef struct {
    double onset_s, offset_s;
    uint8_t leg; /* PLM_LEG_LEFT, PLM_LEG_RIGHT (PLM_LEG_BOTH counts for both legs) */
} plm_span;

typedef struct {
    size_t ref, det, tp, fn, fp;
    double se, ppv, f1; /* NaN when undefined (e.g. no reference events) */
    double onset_err_median_s, onset_err_p95_s, offset_err_median_s, offset_err_p95_s;
} plm_match_stats;

typedef struct {
    plm_match_stats leg[3]; /* [0] overall, [1] left, [2] right */
} plm_compare_result;

plm_status plm_compare_spans(const plm_span *det, size_t nd, const plm_span *ref, size_t nr, double t0_s, double t1_s,
                             plm_compare_result *out);

#endif
