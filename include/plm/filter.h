/* plm/filter.h -- streaming linear-phase FIR band-pass on FFTW (overlap-save).
 *
 * Design: a Kaiser-windowed ideal band-pass (Kaiser 1974; Oppenheim & Schafer,
 * 3rd ed., 7.6) from the passband edges, one transition width and the stopband
 * attenuation: beta from the attenuation, N = (A - 8) / (2.285 * 2 pi df / fs),
 * made odd so the group delay (N - 1) / 2 is a whole number of samples.
 * Cut-offs sit in the middle of the transition bands; the DC gain is then forced
 * to exactly zero (a scaled window is subtracted), so gravity leaves no offset.
 *
 * Filtering: overlap-save with real-to-complex FFTs of a fixed size chosen
 * from N. Segment positions depend only on the position in the stream, never
 * on how the caller splits its input, so the output is bit-identical whatever
 * the block size. The group delay is removed: output sample k is the filtered
 * input sample k. The stream is extended at both ends with its first and last
 * value, so a constant (gravity) gives zero output from the first sample on.
 *
 * Time base: samples; frequencies in Hz. Plans: one r2c and one c2r plan per
 * filter, made with FFTW_ESTIMATE (deterministic, does not touch the arrays)
 * under a library mutex, because FFTW's planner is not thread-safe.
 * Ownership: plm_filter owns its FFTW buffers; inputs are copied in.
 * Thread safety: one filter per thread.
 */
#ifndef PLM_FILTER_H
#define PLM_FILTER_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

typedef struct {
    double pass_lo_hz;    /* lower passband edge, > transition_hz; default 2 Hz */
    double pass_hi_hz;    /* upper passband edge; clamped to below fs/2 - transition (and, where
                             that leaves no band, the transitions narrowed to fit); default 9 Hz */
    double transition_hz; /* width of each transition band, > 0; default 1.5 Hz */
    double atten_db;      /* stopband attenuation, 21 .. 120 dB; default 60 dB */
} plm_filter_cfg;

plm_filter_cfg plm_filter_cfg_default(void);

typedef struct plm_filter plm_filter;

/* Design the filter for nchan channels (1 .. 64) at fs_hz. PLM_EINVAL for a
 * band that does not fit (e.g. pass_lo_hz >= pass_hi_hz), PLM_ENOMEM if FFTW fails. */
plm_status plm_filter_create(const plm_filter_cfg *cfg, double fs_hz, int nchan, plm_filter **out);

/* Taps (length n, odd) and the passband actually used (after clamping). */
const double *plm_filter_taps(const plm_filter *f, size_t *n);
void plm_filter_band(const plm_filter *f, double *pass_lo_hz, double *pass_hi_hz);

/* The overlap-save segments: FFT size, and new input frames per segment (fft_size - taps + 1). */
void plm_filter_segment(const plm_filter *f, size_t *fft_size, size_t *new_per_segment);

/* Largest number of output frames one call can return for n input frames. */
int64_t plm_filter_max_out(const plm_filter *f, int64_t n);

/* Feed n frames (planar: x[c * x_cap + i]) and receive the filtered frames
 * that are ready (planar into y[c * y_cap + k], *ny of them, in stream order).
 * y_cap must be >= plm_filter_max_out(f, n). With x == NULL and n == 0 the
 * stream ends: the remaining frames are returned (call once). */
plm_status plm_filter_process(plm_filter *f, const double *x, int64_t n, int64_t x_cap, double *y, int64_t y_cap,
                              int64_t *ny);

/* Frequency response magnitude of the taps at f_hz (for tests and docs). */
double plm_filter_response(const plm_filter *f, double f_hz);

void plm_filter_destroy(plm_filter *f);

#endif
