/* plm/types.h -- data types passed between the stages of libplm.
 *
 * Time base: inside a recording, time is an int64_t sample index counted from
 * the first sample (index 0) at the recording's rate fs_hz. Intervals are
 * half-open, [onset, end). Seconds appear only at the edges (HDF5, CSV,
 * printing), converted by plm_samples_to_s().
 * Units: acceleration in g (1 g = 9.80665 m/s^2); field names carry units.
 * Ownership: structs with a pointer member are owned by the caller; a _clear
 * function of the stage that filled them frees the contents.
 */
#ifndef PLM_TYPES_H
#define PLM_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* Legs; also the bit values of a leg mask. */
enum { PLM_LEG_LEFT = 1, PLM_LEG_RIGHT = 2, PLM_LEG_BOTH = 3 };

/* A block of planar samples: x[c * n + i] is channel c, sample i, in g. */
typedef struct {
    double fs_hz;
    int64_t n;
    int nchan;
    double *x;
} plm_signal;

/* plm_lm.flags bits. */
enum { PLM_LM_HELD = 1 /* a tilt, a held position and the return, joined into one movement */ };

/* One leg movement: [onset, end) in samples. peak_g: largest envelope value;
 * area_g_s: envelope above the noise floor integrated over the movement. */
typedef struct {
    int64_t onset, end;
    uint8_t leg;
    uint32_t flags;
    double peak_g;
    double area_g_s;
} plm_lm;

typedef struct {
    plm_lm *v;
    size_t n, cap;
    double fs_hz;
} plm_lm_list;

/* The time bases. Inside a recording time is an integer: a sample index (detection), whole
 * microseconds (scoring, from plm_us) or 100-ns ticks (EDF+ annotations); seconds appear only at
 * the edges (files, tables, messages), converted here and nowhere else. */
static inline double plm_samples_to_s(int64_t i, double fs_hz) { return (double)i / fs_hz; }
static inline double plm_us_to_s(int64_t us) { return (double)us * 1e-6; }
static inline double plm_100ns_to_s(int64_t t) { return (double)t * 1e-7; }
/* Seconds -> whole microseconds, rounded to nearest. */
static inline int64_t plm_us(double seconds) { return (int64_t)(seconds * 1e6 + (seconds >= 0 ? 0.5 : -0.5)); }

#endif
