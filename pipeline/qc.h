/* qc.h -- the detector's per-leg quality control and still-window collection (private to libplm).
 *
 * The detector (detect.c) feeds each staged block of a leg's cleaned samples to plm__qc_block
 * and, for 3-axis legs, to plm__still_block; at the end plm__qc_finish closes open runs and
 * flags non-wear, and plm__still_fit calibrates (calibrate.c). The rules are in plm/detect.h.
 */
#ifndef PLM_QC_H
#define PLM_QC_H

#include <stdint.h>
#include "plm/detect.h"

typedef struct {
    int nax;
    uint8_t leg;
    int64_t flat_n, blk_len;          /* samples: flat-line run, non-wear step */
    int64_t clip_start, flat_start, flat_run, blk_pos;
    size_t blk_cur;
    double prev[3];
    double (*blk)[3][4];              /* per non-wear step, per axis: sum, sum2, min, max */
    int64_t *blk_n;
    size_t nblk, capblk;
} plm__qc_leg;

/* The non-wear sums are added up in stretches of this many samples (aligned to sample 0). */
#define PLM__QC_SUM_STRETCH 4096

void plm__qc_init(plm__qc_leg *q, int nax, uint8_t leg, const plm_detect_cfg *c, double fs);
/* Samples first .. first+n-1 of the leg: axis x at ax[x][0..n), clip[j] set where any axis was at
 * full scale. */
plm_status plm__qc_block(plm__qc_leg *q, int64_t first, const double *const ax[3], int64_t n, const uint8_t *clip,
                         plm_detect_result *res);
/* End at n samples: open clipping and flat runs, then non-wear (needs res->lm complete). */
plm_status plm__qc_finish(plm__qc_leg *q, int64_t n, const plm_detect_cfg *c, plm_detect_result *res);
void plm__qc_free(plm__qc_leg *q);

/* Append [a, b) of kind for leg (0 = whole recording) to res->qc. */
plm_status plm__qc_add(plm_detect_result *res, int64_t a, int64_t b, uint8_t kind, uint8_t leg);
/* Total length (samples) of the union of res's intervals of one kind; -1 without memory. */
int64_t plm__qc_union(const plm_detect_result *res, uint8_t kind);

/* Still windows for the calibration (calibrate.c). */
typedef struct {
    int64_t len, n;
    double sd_g, cw[3][2];
    int bad;
    size_t max, ncal, capcal;
    double *cal;                      /* window means, 3 per window */
} plm__still;

void plm__still_init(plm__still *w, const plm_detect_cfg *c, double fs);
/* n samples of a 3-axis leg (ax[x][0..n)), bad[j] set for clipped or gap samples. */
plm_status plm__still_block(plm__still *w, const double *const ax[3], int64_t n, const uint8_t *bad);
plm_status plm__still_fit(plm__still *w, const plm_detect_cfg *c, plm_calibration *out);
void plm__still_free(plm__still *w);

#endif
