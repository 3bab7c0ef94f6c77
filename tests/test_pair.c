/* test_pair.c -- a recording made of two files, one device per ankle (plm_read_cfg.right_path).
 * Truth: each file is written by the test from analytic signals of absolute time (sines, a
 * constant gravity) at its own rate and start (BWF bext, to the sample), so the value the right
 * leg must have at any left sample's time is known exactly. */
#include "testlib.h"
#include "plm/plm.h"

static const char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tl_tmpdir();
    return dir ? 0 : -1;
}

#define MIDNIGHT_2024_03_30_BERLIN 1711753200.0 /* 2024-03-30T00:00:00+01:00 */
#define T21 (21 * 3600.0)

/* A leg's acceleration at t seconds after 21:00:00 local. */
typedef void (*leg_fn)(double t, double v[3]);

static void left_leg(double t, double v[3])
{
    v[0] = 0.2 * sin(2 * M_PI * 1.3 * t);
    v[1] = 0.1 * cos(2 * M_PI * 0.7 * t);
    v[2] = 1.0;
}

static void right_leg(double t, double v[3])
{
    v[0] = 0.3 * sin(2 * M_PI * 3.0 * t + 0.4);
    v[1] = -0.5;
    v[2] = 0.8 + 0.05 * sin(2 * M_PI * 0.2 * t);
}

/* A 3-channel float WAV at fs Hz whose first sample is first_sample (an integer number of samples
 * after local midnight, as bext's time_reference counts) with frames samples; NaN in [nan_from,
 * nan_to) s after 21:00. */
static const char *write_leg(const char *name, int fs, int64_t first_sample, int64_t frames, leg_fn fn, double nan_from,
                             double nan_to)
{
    const char *p = tl_path(dir, name);
    SF_INFO si = {.samplerate = fs, .channels = 3, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
    SNDFILE *sf = sf_open(p, SFM_WRITE, &si);
    assert_non_null(sf);
    SF_BROADCAST_INFO bi;
    memset(&bi, 0, sizeof bi);
    memcpy(bi.origination_date, "2024-03-30", 10);
    int64_t s = first_sample / fs;
    char hms[16];
    snprintf(hms, sizeof hms, "%02d:%02d:%02d", (int)(s / 3600), (int)(s / 60 % 60), (int)(s % 60));
    memcpy(bi.origination_time, hms, 8);
    bi.time_reference_low = (uint32_t)first_sample;
    bi.time_reference_high = (uint32_t)((uint64_t)first_sample >> 32);
    assert_int_equal(sf_command(sf, SFC_SET_BROADCAST_INFO, &bi, sizeof bi), SF_TRUE);
    for (int64_t i = 0; i < frames; i++) {
        double t = (double)(first_sample + i) / fs - T21, v[3];
        fn(t, v);
        if (t >= nan_from && t < nan_to) v[0] = v[1] = v[2] = NAN;
        float f[3] = {(float)v[0], (float)v[1], (float)v[2]};
        assert_int_equal(sf_writef_float(sf, f, 1), 1);
    }
    sf_close(sf);
    return p;
}

static double still(int64_t i, int c) { return (void)i, c % 3 == 2 ? 1.0 : 0.0; }

static plm_read_cfg pair_cfg(const char *right)
{
    plm_read_cfg c = plm_read_cfg_default();
    c.timezone = "Europe/Berlin";
    c.right_path = right;
    return c;
}

typedef struct {
    double max_err[6];   /* largest |read - truth| per output channel over finite frames, 0.5 s
                            or more from the recording's ends (the kernel holds the end samples) */
    double edge_err[6];  /* the same within 0.5 s of the ends */
    int64_t frames, nan_frames[6];
    double first_t, last_t; /* seconds after 21:00 of the first and last frame (from t_s) */
} sweep;

/* Read the whole pair in blocks of `block` frames and compare each frame with the truth at its
 * own time (t_s plus the start). */
static sweep read_pair(const char *l, const char *r, int64_t block, plm_reader_info *info_out)
{
    plm_read_cfg cfg = pair_cfg(r);
    plm_reader *rd = NULL;
    assert_int_equal(plm_reader_open(l, &cfg, &rd), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(rd);
    double start = (double)(in->start.utc_s - (int64_t)MIDNIGHT_2024_03_30_BERLIN - (int64_t)T21) + in->start.nsec * 1e-9;
    double dur = (double)(in->frames - 1) / in->fs_hz;
    double *x = malloc(sizeof(double) * 6 * (size_t)block), *t = malloc(sizeof(double) * (size_t)block);
    sweep s;
    memset(&s, 0, sizeof s);
    int64_t got;
    do {
        assert_int_equal(plm_reader_read_t(rd, x, t, block, &got), PLM_OK);
        for (int64_t i = 0; i < got; i++) {
            double tt = start + t[i], v[6];
            left_leg(tt, v);
            right_leg(tt, v + 3);
            if (!s.frames && !i) s.first_t = tt;
            s.last_t = tt;
            for (int c = 0; c < 6; c++) {
                double y = x[c * block + i];
                double *e = t[i] < 0.5 || t[i] > dur - 0.5 ? s.edge_err : s.max_err;
                if (isnan(y)) s.nan_frames[c]++;
                else if (fabs(y - v[c]) > e[c]) e[c] = fabs(y - v[c]);
            }
        }
        s.frames += got;
    } while (got);
    *info_out = *plm_reader_get_info(rd);
    info_out->nsides = 0; /* the sides point into the reader */
    free(x);
    free(t);
    plm_reader_destroy(rd);
    return s;
}

static void right_leg_at_the_left_samples_times(void **state)
{
    (void)state;
    /* left: 100 Hz from 21:00:00 for 600 s; right: 99 Hz (its own clock) from 21:00:03 + 40/99 s,
     * for 590 s. The recording is the overlap, on the left's samples (the faster nominal rate). */
    int64_t l0 = (int64_t)(T21 * 100), r0 = (int64_t)(T21 * 99) + 3 * 99 + 40;
    const char *l = write_leg("l100.wav", 100, l0, 60000, left_leg, 1e9, 1e9);
    const char *r = write_leg("r99.wav", 99, r0, 590 * 99, right_leg, 1e9, 1e9);
    plm_reader_info in;
    sweep s = read_pair(l, r, 4096, &in);
    assert_int_equal(in.family, PLM_FORMAT_PAIR);
    assert_int_equal(in.nchan, 6);
    assert_string_equal(in.channel_map, "L=1,2,3;R=4,5,6");
    assert_near(in.fs_hz, 100, 0);
    double r_first = 3 + 40.0 / 99, r_last = r_first + (590 * 99 - 1) / 99.0;
    /* starts at the first left sample at or after the right's first, ends at the last at or before
     * the right's last */
    assert_near(s.first_t, ceil(r_first * 100) / 100, 1e-6);
    assert_near(s.last_t, floor(r_last * 100) / 100, 1e-6);
    assert_int_equal(s.frames, (int64_t)llround((s.last_t - s.first_t) * 100) + 1);
    assert_int_equal(s.frames, in.frames);
    /* the left's samples unchanged (float32 written); the right's interpolated at their times: a
     * 3-Hz sine sampled at 99 Hz to within 0.05 % of its amplitude (measured 0.007 %), a constant
     * exactly; within 0.5 s of the ends, where the kernel holds the file's last sample, 1 % */
    for (int c = 0; c < 3; c++) assert_true(s.max_err[c] < 1e-7 && s.edge_err[c] < 1e-7);
    assert_true(s.max_err[3] < 0.00015);
    assert_true(s.max_err[4] < 1e-7);
    assert_true(s.max_err[5] < 1e-6);
    assert_true(s.edge_err[3] < 0.003 && s.edge_err[5] < 0.0005);
    for (int c = 0; c < 6; c++) assert_int_equal(s.nan_frames[c], 0);
    /* the same samples whatever the block size */
    sweep s7 = read_pair(l, r, 7, &in);
    assert_int_equal(s7.frames, s.frames);
    for (int c = 0; c < 6; c++) assert_true(s7.max_err[c] == s.max_err[c]);
}

static void the_faster_file_gives_the_frames(void **state)
{
    (void)state;
    /* left 50 Hz, right 100 Hz starting 1.5 s earlier: frames are the right's samples, the left
     * leg is interpolated (1.3 Hz at 50 Hz: well inside its band) */
    int64_t l0 = (int64_t)(T21 * 50), r0 = (int64_t)(T21 * 100) - 150;
    const char *l = write_leg("l50.wav", 50, l0, 50 * 400, left_leg, 1e9, 1e9);
    const char *r = write_leg("r100.wav", 100, r0, 100 * 420, right_leg, 1e9, 1e9);
    plm_reader_info in;
    sweep s = read_pair(l, r, 1000, &in);
    assert_near(in.fs_hz, 100, 0);
    assert_near(s.first_t, 0, 1e-6);
    assert_near(s.last_t, 399.98, 1e-6); /* the left's last sample */
    assert_int_equal(s.frames, 40000 - 1);
    assert_true(s.max_err[0] < 1e-4 && s.max_err[1] < 1e-5 && s.max_err[2] < 1e-7);
    for (int c = 3; c < 6; c++) assert_true(s.max_err[c] < 1e-7);
}

static void a_gap_in_one_file_stays_in_its_leg(void **state)
{
    (void)state;
    int64_t l0 = (int64_t)(T21 * 100), r0 = (int64_t)(T21 * 100);
    const char *l = write_leg("lgap.wav", 100, l0, 30000, left_leg, 1e9, 1e9);
    const char *r = write_leg("rgap.wav", 100, r0, 30000, right_leg, 100.0, 110.0);
    plm_reader_info in;
    sweep s = read_pair(l, r, 4096, &in);
    for (int c = 0; c < 3; c++) assert_int_equal(s.nan_frames[c], 0);
    /* 10 s missing, and the kernel's reach (16 samples) on each side */
    for (int c = 3; c < 6; c++) {
        assert_true(s.nan_frames[c] >= 1000 && s.nan_frames[c] <= 1032);
        assert_true(s.max_err[c] < 1e-6); /* same rate, same times: the samples themselves */
    }
}

static void bad_pairs_are_refused_with_the_reason(void **state)
{
    (void)state;
    int64_t l0 = (int64_t)(T21 * 100);
    const char *l = write_leg("lb.wav", 100, l0, 6000, left_leg, 1e9, 1e9);
    const char *later = write_leg("rlater.wav", 100, l0 + 7000, 6000, right_leg, 1e9, 1e9);
    plm_read_cfg cfg = pair_cfg(later);
    plm_reader *rd = NULL;
    assert_int_equal(plm_reader_open(l, &cfg, &rd), PLM_EFORMAT);
    assert_null(rd);
    assert_contains(plm_last_error(), "do not overlap in time");
    assert_contains(plm_last_error(), "rlater.wav");

    const char *both = tl_path(dir, "both.wav");
    tl_write_sound(both, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 6, 100, 1000, still);
    cfg = pair_cfg(both);
    assert_int_equal(plm_reader_open(l, &cfg, &rd), PLM_EFORMAT);
    assert_contains(plm_last_error(), "both.wav: holds both legs");

    const char *nostart = tl_path(dir, "nostart.wav");
    tl_write_sound(nostart, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 3, 100, 1000, still);
    cfg = pair_cfg(nostart);
    assert_int_equal(plm_reader_open(l, &cfg, &rd), PLM_EFORMAT);
    assert_contains(plm_last_error(), "nostart.wav: no start time");

    cfg = pair_cfg(tl_path(dir, "missing.wav"));
    assert_int_equal(plm_reader_open(l, &cfg, &rd), PLM_EIO);
    assert_contains(plm_last_error(), "missing.wav");

    cfg = pair_cfg(later);
    cfg.channels = "L=1,2,3";
    assert_int_equal(plm_reader_open(l, &cfg, &rd), PLM_EINVAL);
    assert_contains(plm_last_error(), "channel map");
}

int main(void)
{
    plm_time_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(right_leg_at_the_left_samples_times),
        cmocka_unit_test(the_faster_file_gives_the_frames),
        cmocka_unit_test(a_gap_in_one_file_stays_in_its_leg),
        cmocka_unit_test(bad_pairs_are_refused_with_the_reason),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
