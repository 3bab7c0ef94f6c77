/* plm/sleepwake.h -- epoch sleep/wake from activity: Cole-Kripke, Sadeh, Oakley, Webster.
 *
 * Cole et al., Sleep 1992;15:461: D_t = scale * sum_k w_k A_{t+k} over lags
 * k = -4 .. +2 epochs; sleep when D_t < threshold. Defaults follow the
 * activity-index variant of scikit-digital-health (weights 4.64, 6.87, 3.75,
 * 5.07, 16.19, 5.84, 4.024 for lags -4 .. +2, scale 0.243, sleep if < 0.5),
 * which is validated here against its golden data.
 * Webster rescoring (as the Cole-Kripke paper describes it, in the reading
 * of scikit-digital-health): after >= 4 wake epochs the next sleep epoch
 * becomes wake, after >= 10 the next 3, after >= 15 the next 4 (rescored
 * epochs count as wake for what follows); optionally, short sleep runs
 * inside long wake become wake (pyActigraphy's rules d and e).
 * Sadeh et al., Sleep 1994;17:201 (1-min counts): PS = 7.601 - 0.065 MeanW5
 * - 1.08 NAT - 0.056 SD6 - 0.703 ln(A + 1); sleep if PS >= 0.
 * Oakley 1997 (Actiwatch): weighted sum over +-4 30-s epochs (0.04, 0.04,
 * 0.2, 0.2, 2, 0.2, 0.2, 0.04, 0.04); wake if above the threshold (20/40/80).
 * Epochs outside the data are treated as zero activity.
 * Output: sleep[t] = 1 sleep, 0 wake. Ownership: caller's buffers.
 */
#ifndef PLM_SLEEPWAKE_H
#define PLM_SLEEPWAKE_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

typedef struct {
    double weights[7]; /* lags -4 .. +2 */
    double scale;
    double threshold;
} plm_ck_cfg;

plm_ck_cfg plm_ck_cfg_default(void);

plm_status plm_cole_kripke(const double *activity, size_t n, const plm_ck_cfg *cfg, uint8_t *sleep);
/* surrounded = 0: rules a-c only (reproduces scikit-digital-health's golden output);
 * 1: also d-e (pyActigraphy): a sleep run of <= 6 epochs between >= 15 wake epochs on
 * both sides, or <= 10 between >= 20, becomes wake. Epochs of 1 min. */
void plm_webster_rescore(uint8_t *sleep, size_t n, int surrounded);
plm_status plm_sadeh(const double *counts_per_min, size_t n, uint8_t *sleep);
plm_status plm_oakley(const double *counts_30s, size_t n, double threshold, uint8_t *sleep);

#endif
