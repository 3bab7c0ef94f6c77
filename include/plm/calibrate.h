/* plm/calibrate.h -- accelerometer autocalibration on the unit sphere (van Hees et al.,
 * J Appl Physiol 2014; GGIR g.calibrate).
 *
 * Still windows (10 s with SD < 13 mg on every axis, collected by the detector's
 * pass, include/plm/detect.h) give mean vectors that should lie on the unit sphere.
 * The fit finds per-axis offset and gain (raw = gain x true + offset): GGIR's
 * iterated per-axis least squares as a start, refined by Levenberg-Marquardt (GSL
 * multifit_nlinear) on |(raw - offset) / gain| - 1. It is applied only when every
 * axis is covered (values below -cover_g and above +cover_g), the postures pin every
 * parameter down (standard error from the fit's covariance <= max_se) and the fit
 * lowers the error below max_error_g; the reason is recorded either way.
 * Thread safety: reentrant.
 */
#ifndef PLM_CALIBRATE_H
#define PLM_CALIBRATE_H

#include <stddef.h>
#include "status.h"

typedef struct {
    double offset_g[3], gain[3];     /* raw = gain * true + offset_g, per axis */
    double error_before_g, error_after_g;
    size_t windows;                  /* still windows used */
    double worst_se;                 /* largest standard error of the six fitted parameters */
    int applied;
    char reason[160];                /* why it was or was not applied */
} plm_calibration;

/* Sphere fit of the still-window means v[3*i..] (n windows). Offsets 0 and gains 1
 * in *out unless applied. */
plm_status plm_calibrate_sphere(const double *v, size_t n, double cover_g, double max_se, double max_error_g,
                                plm_calibration *out);

#endif
