/* bench_stages.c -- time each stage of actiplm on one recording (median of R runs).
 * Usage: bench_stages FILE FULL_SCALE_G [RUNS [THREADS]] (THREADS: the stage table's run, default 1)
 * Prints samples per second (frames x channels) for: decode only (libsndfile reading
 * and nothing else), the reader (decode + planar g), SHA-256, the FFT band-pass, the
 * whole detector (despike, filter, envelope, floor, thresholds, QC, calibration), what end to end
 * adds (the activity trace and checks, sleep/wake, scoring, the HDF5 writes; the checksum runs on
 * a helper thread meanwhile), end to end (plm_process_recording into an HDF5 store), and the
 * end-to-end / decode ratio; then the stage table: end to end on one thread again, with the lap
 * timers of pipeline/prof.h (this program links build/libplm_prof.a), each stage's time, rate,
 * share of the work and ratio to the floor (libsndfile's decode alone). */
#define _DEFAULT_SOURCE
#include <fftw3.h>
#include <gsl/gsl_errno.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "plm/plm.h"
#include "prof.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmpd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static const char *path;
static double fs_g;
static int64_t frames;
static int nchan;
static int threads = 1; /* of end_to_end */
static double fs_hz_file;
static size_t fft_L;    /* of fft_alone */
static int64_t fft_nseg;

static double decode_only(void)
{
    SF_INFO si = {0};
    SNDFILE *sf = sf_open(path, SFM_READ, &si);
    if (!sf) exit(1);
    double *buf = malloc(sizeof(double) * 32768 * (size_t)si.channels);
    double t0 = now();
    while (sf_readf_double(sf, buf, 32768) > 0) {
    }
    double dt = now() - t0;
    sf_close(sf);
    free(buf);
    return dt;
}

/* mode 0: reader only, 1: + filter, 2: + detector */
static double pipeline(int mode)
{
    plm_read_cfg rc = plm_read_cfg_default();
    rc.full_scale_g = fs_g;
    plm_reader *r = NULL;
    if (plm_reader_open(path, &rc, &r)) exit(1);
    const plm_reader_info *in = plm_reader_get_info(r);
    nchan = in->nchan;
    frames = in->frames;
    fs_hz_file = in->fs_hz;
    int64_t cap = rc.block_frames;
    double *x = malloc(sizeof(double) * (size_t)(cap * in->nchan));
    plm_filter *f = NULL;
    plm_detector *d = NULL;
    plm_filter_cfg fc = plm_filter_cfg_default();
    plm_detect_cfg dc = plm_detect_cfg_default();
    double *y = NULL;
    int64_t ycap = 0, got, ny;
    if (mode == 1) {
        plm_filter_create(&fc, in->fs_hz, in->nchan, &f);
        ycap = plm_filter_max_out(f, cap);
        y = malloc(sizeof(double) * (size_t)(ycap * in->nchan));
    }
    if (mode == 2) plm_detector_create(&dc, in->fs_hz, in->nchan, in->chan_leg, in->full_scale_g, &d);
    double t0 = now();
    while (plm_reader_read(r, x, cap, &got) == PLM_OK && got > 0) {
        if (f) plm_filter_process(f, x, got, cap, y, ycap, &ny);
        if (d) plm_detector_push(d, x, got, cap);
    }
    if (f) plm_filter_process(f, NULL, 0, 0, y, ycap, &ny);
    plm_detect_result res;
    if (d && plm_detector_finish(d, &res) == PLM_OK) plm_detect_result_clear(&res);
    double dt = now() - t0;
    plm_filter_destroy(f);
    plm_detector_destroy(d);
    plm_reader_destroy(r);
    free(x);
    free(y);
    return dt;
}

static double sha(void)
{
    char hex[65];
    double t0 = now();
    plm_sha256_file(path, hex);
    return now() - t0;
}

static double end_to_end(void)
{
    char out[64];
    snprintf(out, sizeof out, "/tmp/bench-stages-%d.h5", (int)getpid());
    plm_store *s = NULL;
    plm_store_create(out, &s);
    plm_manifest_row row = {.line = 2, .subject = "b", .condition = "c", .path = (char *)path, .path_given = (char *)path,
                            .recording = "bench", .night = 1, .full_scale_g = fs_g};
    plm_process_cfg cfg = plm_process_cfg_default();
    cfg.threads = threads;
    plm_process_result res;
    double t0 = now();
    if (plm_process_recording(&row, &cfg, s, &res) != PLM_OK) {
        fprintf(stderr, "%s\n", plm_last_error());
        exit(1);
    }
    plm_store_commit(s);
    double dt = now() - t0;
    unlink(out);
    return dt;
}

static double median_of(double (*fn)(void), int runs)
{
    double t[16];
    for (int i = 0; i < runs; i++) t[i] = fn();
    qsort(t, (size_t)runs, sizeof *t, cmpd);
    return t[runs / 2];
}

/* the stage table: median of each stage over the runs */
static void stage_table(int runs, double td, double n)
{
    double t[16][PLM_PROF_N], med[PLM_PROF_N], col[16], work = 0, wall[16];
    for (int i = 0; i < runs; i++) {
        plm__prof_enable(1);
        plm__prof_lap(PLM_PROF_OTHER);
        wall[i] = end_to_end();
        plm__prof_lap(PLM_PROF_OTHER);
        plm__prof_read(t[i]);
        plm__prof_enable(0);
    }
    for (int k = 0; k < PLM_PROF_N; k++) {
        for (int i = 0; i < runs; i++) col[i] = t[i][k];
        qsort(col, (size_t)runs, sizeof *col, cmpd);
        med[k] = col[runs / 2];
        if (k != PLM_PROF_WAIT) work += med[k];
    }
    qsort(wall, (size_t)runs, sizeof *wall, cmpd);
    printf("  stage table: end to end with %d thread%s (the reading and the checksum on helper threads), median of %d\n",
           threads, threads > 1 ? "s" : "", runs);
    printf("  %-14s %8s %12s %7s %9s\n", "stage", "s", "M samples/s", "share", "x floor");
    static const int order[] = {PLM_PROF_DECODE,   PLM_PROF_CHECKSUM, PLM_PROF_ACTIVITY, PLM_PROF_CLEAN, PLM_PROF_CALIB, PLM_PROF_FILTER,
                                PLM_PROF_DETECT,   PLM_PROF_SCORE,    PLM_PROF_HDF5,     PLM_PROF_OTHER};
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        int k = order[i];
        printf("  %-14s %8.3f %12.1f %6.1f%% %9.2f\n", plm__prof_name[k], med[k], med[k] > 0 ? n / med[k] / 1e6 : 0,
               100 * med[k] / work, med[k] / td);
    }
    printf("  %-14s %8.3f %12.1f %6.1f%% %9.2f\n", "all stages", work, n / work / 1e6, 100.0, work / td);
    printf("  wall %.3f s; threads waited %.3f s (their sum of time exceeds the wall: reading and checksum overlap)\n",
           wall[runs / 2], med[PLM_PROF_WAIT]);
}

/* The FFT transforms the band-pass makes, and nothing else: for each channel, one r2c and one
 * c2r of the filter's size L (FFTW_ESTIMATE, as pipeline/filter.c) per B = L - ntaps + 1 outputs.
 * With the filter's size and plan fixed (bit-identical results), no implementation of this filter
 * goes below this. */
static double fft_alone(void)
{
    plm_filter_cfg fc = plm_filter_cfg_default();
    plm_filter *f = NULL;
    if (plm_filter_create(&fc, fs_hz_file, 1, &f)) exit(1);
    size_t ntaps, L, B;
    plm_filter_taps(f, &ntaps);
    plm_filter_segment(f, &L, &B);
    plm_filter_destroy(f);
    int64_t nseg = ((int64_t)frames + (int64_t)(ntaps - 1) / 2 + (int64_t)B - 1) / (int64_t)B * nchan;
    double *t = fftw_malloc(L * sizeof *t);
    fftw_complex *sp = fftw_malloc((L / 2 + 1) * sizeof *sp);
    fftw_plan fwd = fftw_plan_dft_r2c_1d((int)L, t, sp, FFTW_ESTIMATE), inv = fftw_plan_dft_c2r_1d((int)L, sp, t, FFTW_ESTIMATE);
    for (size_t i = 0; i < L; i++) t[i] = sin(0.1 * (double)i);
    double t0 = now();
    for (int64_t i = 0; i < nseg; i++) {
        fftw_execute(fwd);
        fftw_execute(inv);
        t[0] *= 1.0 / (double)L; /* keep the values bounded */
    }
    double dt = now() - t0;
    fft_L = L;
    fft_nseg = nseg;
    fftw_destroy_plan(fwd);
    fftw_destroy_plan(inv);
    fftw_free(t);
    fftw_free(sp);
    return dt;
}

static double p_reader(void) { return pipeline(0); }
static double p_filter(void) { return pipeline(1); }
static double p_detect(void) { return pipeline(2); }

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: bench_stages FILE FULL_SCALE_G [RUNS]\n");
        return 2;
    }
    gsl_set_error_handler_off();
    path = argv[1];
    fs_g = atof(argv[2]);
    int runs = argc > 3 ? atoi(argv[3]) : 3;
    if (runs < 1 || runs > 15) runs = 3;
    int stage_threads = argc > 4 ? atoi(argv[4]) : 1;
    pipeline(0); /* warm the page cache, learn the size */
    double n = (double)frames * nchan;
    double td = median_of(decode_only, runs), tr = median_of(p_reader, runs), ts = median_of(sha, runs),
           tf = median_of(p_filter, runs), tdet = median_of(p_detect, runs), te = median_of(end_to_end, runs);
    printf("  %lld frames x %d channels = %.3g samples; medians of %d runs\n", (long long)frames, nchan, n, runs);
    printf("  %-44s %8.3f s  %8.1f M samples/s\n", "decode only (libsndfile)", td, n / td / 1e6);
    printf("  %-44s %8.3f s  %8.1f M samples/s\n", "reader (decode + planar g)", tr, n / tr / 1e6);
    printf("  %-44s %8.3f s  %8.1f M samples/s\n", "SHA-256 of the file", ts, n / ts / 1e6);
    printf("  %-44s %8.3f s  %8.1f M samples/s\n", "FFT band-pass alone (beyond reading)", tf - tr, n / (tf - tr) / 1e6);
    double tfft = median_of(fft_alone, runs);
    char lab[64];
    snprintf(lab, sizeof lab, "FFTW transforms alone (%lld x r2c+c2r, L=%zu)", (long long)fft_nseg, fft_L);
    printf("  %-44s %8.3f s  %8.1f M samples/s  %.2fx decode-only\n", lab, tfft, n / tfft / 1e6, tfft / td);
    printf("  %-44s %8.3f s  %8.1f M samples/s\n", "detector: filter+envelope+floor+QC+calib", tdet - tr, n / (tdet - tr) / 1e6);
    printf("  %-44s %8.3f s  %8.1f M samples/s\n", "activity, checks, sleep/wake, scoring, HDF5", te - tdet, n / (te - tdet) / 1e6);
    printf("  %-44s %8.3f s  %8.1f M samples/s\n", "end to end (process_recording + HDF5)", te, n / te / 1e6);
    printf("  end-to-end / decode-only time: %.2f\n", te / td);
    threads = stage_threads < 1 ? 1 : stage_threads;
    stage_table(runs, td, n);
    return 0;
}
