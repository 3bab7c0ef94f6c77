/* prof.h -- stage timing for `make bench` (internal). Built only into build/libplm_prof.a (the
 * library compiled with -DPLM_PROFILE, linked by tests/gen/bench_stages.c); in the library
 * itself PLM_PROF_LAP compiles to nothing.
 *
 * A lap timer per thread: PLM_PROF_LAP(stage) gives the time since this thread's previous lap
 * to `stage`. Laps sit at the ends of the stages' code, so every moment of a thread belongs to
 * exactly one stage (PLM_PROF_WAIT: blocked on another thread). The totals are thread time
 * summed over threads, not wall time. */
#ifndef PLM_PROF_H
#define PLM_PROF_H

enum {
    PLM_PROF_DECODE,   /* the reader: decoding to planar g */
    PLM_PROF_CHECKSUM, /* SHA-256 of the input file */
    PLM_PROF_ACTIVITY, /* the activity trace and range checks */
    PLM_PROF_CLEAN,    /* missing samples, despiking, clipping, 30-s posture, QC */
    PLM_PROF_CALIB,    /* still windows and the sphere fit */
    PLM_PROF_FILTER,   /* the FFT band-pass */
    PLM_PROF_DETECT,   /* envelope, floors, tilt channel, decisions, legs joined */
    PLM_PROF_SCORE,    /* time in bed, sleep/wake, PLM scoring */
    PLM_PROF_HDF5,     /* the store's writes */
    PLM_PROF_OTHER,    /* opening, checks, annotations */
    PLM_PROF_WAIT,     /* waiting for another thread */
    PLM_PROF_N
};

#ifdef PLM_PROFILE
void plm__prof_lap(int stage);
void plm__prof_enable(int on); /* off by default; enabling zeroes the totals */
void plm__prof_read(double seconds[PLM_PROF_N]);
extern const char *const plm__prof_name[PLM_PROF_N];
#define PLM_PROF_LAP(stage) plm__prof_lap(stage)
#else
#define PLM_PROF_LAP(stage) ((void)0)
#endif

#endif
