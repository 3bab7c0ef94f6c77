/* prof.c -- the lap timers of prof.h (compiled to a stub unless PLM_PROFILE). */
#define _POSIX_C_SOURCE 200809L
#include "prof.h"

#ifdef PLM_PROFILE
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

const char *const plm__prof_name[PLM_PROF_N] = {"decode",      "checksum",     "activity", "cleaning/QC", "calibration", "filter",
                                                 "env+detect", "scoring",      "HDF5",     "other",       "waiting"};
static atomic_int enabled;
static atomic_int_fast64_t total_ns[PLM_PROF_N];
static _Thread_local int64_t last_ns;
static _Thread_local int epoch_seen;
static atomic_int epoch; /* bumped by enable: a thread's old lap start is stale */

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

void plm__prof_lap(int stage)
{
    if (!atomic_load_explicit(&enabled, memory_order_relaxed)) return;
    int64_t t = now_ns();
    int e = atomic_load_explicit(&epoch, memory_order_relaxed);
    if (epoch_seen == e && last_ns) atomic_fetch_add_explicit(&total_ns[stage], t - last_ns, memory_order_relaxed);
    epoch_seen = e;
    last_ns = t;
}

void plm__prof_enable(int on)
{
    if (on) {
        for (int i = 0; i < PLM_PROF_N; i++) atomic_store(&total_ns[i], 0);
        atomic_fetch_add(&epoch, 1);
    }
    atomic_store(&enabled, on);
}

void plm__prof_read(double seconds[PLM_PROF_N])
{
    for (int i = 0; i < PLM_PROF_N; i++) seconds[i] = 1e-9 * (double)atomic_load(&total_ns[i]);
}
#else
typedef int plm__prof_unused; /* an ISO C translation unit is not empty */
#endif
