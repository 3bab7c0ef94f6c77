/* test_devices.c -- the devices' own formats against decoded truth (../shared/data, see its
 * README): every sample's acceleration within 1e-4 g, the same sample count, every sample's time
 * within one sample period of the truth's (the CWA truth times ignore the blocks' fractional
 * second, so they differ from the anchors by up to a period). Skips when the data is absent. */
#include "testlib.h"
#include <hdf5.h>
#include "plm/plm.h"

typedef struct {
    size_t n;
    double *accel, *t; /* n x 3, n */
    double fs_hz;
} truth;

static int load_truth(const char *path, truth *tr)
{
    memset(tr, 0, sizeof *tr);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 0;
    hid_t a = H5Dopen2(f, "accel_g", H5P_DEFAULT), t = H5Dopen2(f, "time_unix_s", H5P_DEFAULT);
    hid_t sp = H5Dget_space(a);
    hsize_t dims[2];
    H5Sget_simple_extent_dims(sp, dims, NULL);
    tr->n = (size_t)dims[0];
    tr->accel = malloc(tr->n * 3 * sizeof(double));
    tr->t = malloc(tr->n * sizeof(double));
    H5Dread(a, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tr->accel);
    H5Dread(t, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tr->t);
    hid_t at = H5Aopen(f, "fs_hz", H5P_DEFAULT);
    H5Aread(at, H5T_NATIVE_DOUBLE, &tr->fs_hz);
    H5Aclose(at);
    H5Sclose(sp);
    H5Dclose(a);
    H5Dclose(t);
    H5Fclose(f);
    return 1;
}

/* Every frame and its time (unix seconds), read in blocks of `block` frames. */
static size_t read_all(const char *path, const char *zone, int64_t block, double **x, double **t, plm_reader_info *info)
{
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.timezone = zone;
    plm_reader *r = NULL;
    if (plm_reader_open(path, &cfg, &r) != PLM_OK) fail_msg("%s", plm_last_error());
    *info = *plm_reader_get_info(r);
    size_t cap = (size_t)info->frames + (size_t)block, n = 0;
    *x = malloc(cap * 3 * sizeof(double));
    *t = malloc(cap * sizeof(double));
    double *bx = malloc((size_t)block * 3 * sizeof(double)), *bt = malloc((size_t)block * sizeof(double));
    double t0 = (double)info->start.utc_s + info->start.nsec * 1e-9;
    for (;;) {
        int64_t got = 0;
        assert_int_equal(plm_reader_read_t(r, bx, bt, block, &got), PLM_OK);
        if (!got) break;
        assert_true(n + (size_t)got <= cap);
        for (int64_t i = 0; i < got; i++) {
            for (int c = 0; c < 3; c++) (*x)[3 * (n + (size_t)i) + (size_t)c] = bx[c * block + i];
            (*t)[n + (size_t)i] = t0 + bt[i];
        }
        n += (size_t)got;
    }
    free(bx);
    free(bt);
    plm_reader_destroy(r);
    return n;
}

static void against_truth(const char *rel, int64_t block)
{
    char tp[256], path[512], truth_path[512];
    const char *p = tl_shared(rel);
    if (!p) {
        print_message("skip: ../shared/data/%s not present\n", rel);
        skip();
    }
    snprintf(path, sizeof path, "%s", p); /* tl_shared's buffer is reused */
    p = path;
    snprintf(tp, sizeof tp, "%.*s.truth.h5", (int)(strrchr(rel, '.') - rel), rel);
    const char *q = tl_shared(tp);
    assert_non_null(q);
    snprintf(truth_path, sizeof truth_path, "%s", q);
    truth tr;
    assert_true(load_truth(truth_path, &tr));
    double *x, *t;
    plm_reader_info info;
    size_t n = read_all(p, "UTC", block, &x, &t, &info);
    assert_int_equal(n, tr.n);
    assert_int_equal(info.frames, (int64_t)tr.n);
    double worst = 0, worst_t = 0, period = 1 / info.fs_hz;
    for (size_t i = 0; i < n; i++) {
        for (int c = 0; c < 3; c++) worst = fmax(worst, fabs(x[3 * i + (size_t)c] - tr.accel[3 * i + (size_t)c]));
        worst_t = fmax(worst_t, fabs(t[i] - tr.t[i]));
    }
    print_message("%s: %zu samples, worst |error| %.2g g, worst time error %.2f ms (period %.2f ms), %.3f Hz observed "
                  "for %.1f nominal\n",
                  rel, n, worst, worst_t * 1e3, period * 1e3, info.fs_hz, info.fs_nominal_hz);
    assert_true(worst < 1e-4);
    assert_true(worst_t <= period);
    assert_near(info.fs_nominal_hz, tr.fs_hz, 1e-9);
    free(x);
    free(t);
    free(tr.accel);
    free(tr.t);
}

static void ax3_sample(void **state)
{
    (void)state;
    against_truth("axivity/ax3_sample.cwa", 1000);
}

static void ax6_sample(void **state)
{
    (void)state;
    against_truth("axivity/ax6_sample.cwa", 37); /* a block size that splits the device's blocks */
}

static void geneactiv_sample(void **state)
{
    (void)state;
    against_truth("geneactiv/gnactv_sample.bin", 128);
}

/* A GENEActiv file cut at 64 KiB whose header promises 222,048 pages at "85.7 Hz": the 16 whole
 * pages are read, the cut one is not, and the header's page count is reported, not believed. */
static void geneactiv_cut_file(void **state)
{
    (void)state;
    const char *p = tl_shared("geneactiv/GENEActiv_testfile.bin");
    if (!p) skip();
    double *x, *t;
    plm_reader_info info;
    size_t n = read_all(p, NULL, 1000, &x, &t, &info);
    assert_int_equal(n, 16 * 300);
    assert_true(info.truncated);
    assert_contains(info.warnings, "the header says 222048 pages, the file holds 16");
    assert_near(info.fs_nominal_hz, 85.7, 1e-12);
    assert_true(info.zone_known); /* "Time Zone:GMT +01:00" in the header */
    assert_int_equal(info.start.offset_s, 3600);
    /* page k starts 3.5 s after page k-1 (its "Page Time"), samples 1/85.7 s apart inside */
    assert_near(t[300] - t[0], 3.5, 1e-6);
    assert_near(t[1] - t[0], 1 / 85.7, 1e-6); /* unix seconds in a double: 0.2 us resolution */
    for (size_t i = 0; i < 3 * n; i++) assert_true(fabs(x[i]) < 8);
    free(x);
    free(t);
}

/* The older GT3X layout (activity.bin) against the vendor's CSV export, which rounds to 3 decimals. */
static void gt3x_older_layout_against_actilife(void **state)
{
    (void)state;
    const char *p = tl_shared("actigraph/neo.gt3x");
    if (!p) skip();
    char gt[512];
    snprintf(gt, sizeof gt, "%s", p);
    const char *c = tl_shared("actigraph/neo.csv");
    assert_non_null(c);
    FILE *f = fopen(c, "r");
    assert_non_null(f);
    char line[256];
    for (int i = 0; i < 11; i++) assert_non_null(fgets(line, sizeof line, f)); /* 10 header lines, the column names */
    double *x, *t;
    plm_reader_info info;
    size_t n = read_all(gt, NULL, 999, &x, &t, &info), rows = 0;
    double worst = 0, v[3];
    while (fgets(line, sizeof line, f) && sscanf(line, "%lf,%lf,%lf", &v[0], &v[1], &v[2]) == 3) {
        assert_true(rows < n);
        for (int a = 0; a < 3; a++) worst = fmax(worst, fabs(x[3 * rows + (size_t)a] - v[a]));
        rows++;
    }
    fclose(f);
    print_message("neo.gt3x: %zu samples, %zu CSV rows, worst |error| %.4f g\n", n, rows, worst);
    assert_int_equal(n, 18004); /* 81,018 bytes of 36-bit samples */
    assert_int_equal(rows, n);
    assert_true(worst <= 0.0005 + 1e-12);
    assert_string_equal(info.serial, "NEO1C04110003");
    assert_int_equal(info.start.offset_s, -6 * 3600); /* TimeZone: -06:00:00 */
    assert_true(info.zone_known);
    free(x);
    free(t);
}

/* The current layout with idle sleep mode: seconds without an activity record are NaN frames and
 * gaps; the 73 one-second records are read, checksums hold. */
static void gt3x_idle_sleep_is_a_gap(void **state)
{
    (void)state;
    const char *p = tl_shared("actigraph/ISM_Enabled.gt3x");
    if (!p) skip();
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    double *x, *t;
    plm_reader_info info;
    size_t n = read_all(path, "UTC", 700, &x, &t, &info), nan = 0;
    assert_int_equal(n, 300 * 30); /* Start Date to Last Sample Time at 30 Hz */
    for (size_t i = 0; i < n; i++) nan += isnan(x[3 * i]);
    assert_int_equal(nan, (300 - 73) * 30);
    assert_int_equal(info.gap_frames, 0); /* info was copied at open: gaps are found while reading */
    plm_read_cfg cfg = plm_read_cfg_default();
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(path, &cfg, &r), PLM_OK);
    double *b = malloc(3 * 9000 * sizeof *b);
    int64_t got;
    assert_int_equal(plm_reader_read(r, b, 9000, &got), PLM_OK);
    assert_int_equal(got, 9000);
    size_t ng;
    const plm_gap *g = plm_reader_gaps(r, &ng);
    double total = 0;
    int idle = 0;
    for (size_t k = 0; k < ng; k++) total += g[k].duration_s, idle += !strcmp(g[k].reason, "idle sleep mode");
    assert_near(total, 300 - 73, 1e-9);
    assert_true(idle >= 1);
    assert_near(g[0].onset_s, 24, 1.0); /* the first idle event is 24 s after the start */
    assert_int_equal(plm_reader_get_info(r)->gap_frames, (300 - 73) * 30);
    assert_null(strstr(plm_reader_get_info(r)->warnings, "checksum"));
    print_message("ISM_Enabled.gt3x: %zu gaps, %.0f s in all, %d after idle-sleep events\n", ng, total, idle);
    free(b);
    plm_reader_destroy(r);
    free(x);
    free(t);
}

/* One truth dataset (n x cols) of a truth file. */
static double *truth_column(const char *rel_truth, const char *name, size_t n, int cols)
{
    const char *q = tl_shared(rel_truth);
    assert_non_null(q);
    hid_t f = H5Fopen(q, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, name, H5P_DEFAULT);
    double *v = malloc(n * (size_t)cols * sizeof *v);
    assert_true(d >= 0 && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
    H5Fclose(f);
    return v;
}

/* The other sensors against the truth files: the AX6 gyroscope (within 1e-4 dps, the truth's
 * rounding), GENEActiv page temperatures (exact) and light (within 1 lux), and the AX3 block
 * temperature. The CWA truth (scikit-digital-health) converts the 10-bit code by its own rule,
 * (T - 171) / 3.142; we use cwa.h's, T x 75 / 256 - 50. So the code T is recovered from the truth
 * (it must come out a whole number for every sample, or the truth is not that rule) and ours
 * must be cwa.h's rule of that code, sample by sample. */
static void other_sensors(void **state)
{
    (void)state;
    const char *p = tl_shared("axivity/ax6_sample.cwa");
    if (!p) skip();
    char path[512];
    snprintf(path, sizeof path, "%s", p);
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.timezone = "UTC";
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(path, &cfg, &r), PLM_OK);
    assert_true(plm_reader_get_info(r)->has_gyro);
    int64_t cap = 20000, got = 0;
    double *x = malloc(3 * (size_t)cap * sizeof *x), *gy = malloc(3 * (size_t)cap * sizeof *gy);
    plm_aux aux = {gy, NULL, NULL};
    assert_int_equal(plm_reader_read_aux(r, x, NULL, &aux, cap, &got), PLM_OK);
    assert_int_equal(got, 10360);
    double *tg = truth_column("axivity/ax6_sample.truth.h5", "gyro_dps", 10360, 3), worst = 0;
    for (int64_t i = 0; i < got; i++)
        for (int a = 0; a < 3; a++) worst = fmax(worst, fabs(gy[(size_t)a * (size_t)cap + (size_t)i] - tg[3 * i + a]));
    print_message("ax6_sample gyroscope: worst |error| %.2g dps\n", worst);
    assert_true(worst < 1e-4);
    plm_reader_destroy(r);
    free(tg);
    p = tl_shared("axivity/ax3_sample.cwa");
    snprintf(path, sizeof path, "%s", p);
    assert_int_equal(plm_reader_open(path, &cfg, &r), PLM_OK);
    assert_true(plm_reader_get_info(r)->has_temperature);
    int64_t cap3 = 60000;
    double *x3 = malloc(3 * (size_t)cap3 * sizeof *x3), *t3 = malloc((size_t)cap3 * sizeof *t3);
    plm_aux aux3 = {NULL, t3, NULL};
    assert_int_equal(plm_reader_read_aux(r, x3, NULL, &aux3, cap3, &got), PLM_OK);
    assert_int_equal(got, 58800);
    double *tt3 = truth_column("axivity/ax3_sample.truth.h5", "temperature_c", 58800, 1), wc = 0, wr = 0;
    for (int64_t i = 0; i < got; i++) {
        double code = tt3[i] * 3.142 + 171;
        wc = fmax(wc, fabs(code - round(code)));
        wr = fmax(wr, fabs(t3[i] - (round(code) * 75 / 256 - 50)));
    }
    print_message("ax3_sample temperature: code off a whole number by %.2g, ours off cwa.h's rule by %.2g C\n", wc, wr);
    assert_true(wc < 1e-6);
    assert_true(wr < 1e-9);
    plm_reader_destroy(r);
    free(x3);
    free(t3);
    free(tt3);
    p = tl_shared("geneactiv/gnactv_sample.bin");
    snprintf(path, sizeof path, "%s", p);
    assert_int_equal(plm_reader_open(path, &cfg, &r), PLM_OK);
    double *temp = malloc((size_t)cap * sizeof *temp), *light = malloc((size_t)cap * sizeof *light);
    plm_aux aux2 = {NULL, temp, light};
    assert_int_equal(plm_reader_read_aux(r, x, NULL, &aux2, cap, &got), PLM_OK);
    assert_int_equal(got, 900);
    double *tt = truth_column("geneactiv/gnactv_sample.truth.h5", "temperature_c", 900, 1),
           *tl = truth_column("geneactiv/gnactv_sample.truth.h5", "light", 900, 1), wt = 0, wl = 0;
    for (int64_t i = 0; i < got; i++) wt = fmax(wt, fabs(temp[i] - tt[i])), wl = fmax(wl, fabs(light[i] - tl[i]));
    print_message("gnactv_sample: worst temperature error %.2g C, light %.2f lux\n", wt, wl);
    assert_true(wt < 1e-9);
    assert_true(wl <= 1.0);
    plm_reader_destroy(r);
    free(x);
    free(gy);
    free(temp);
    free(light);
    free(tt);
    free(tl);
}

/* The file with data blocks 0, 13, 14, 142, 143 and 144 corrupted on purpose: those are reported as
 * gaps with their times and delivered as NaN, every other sample equals the clean file's. */
static void cwa_corrupt_blocks_are_gaps(void **state)
{
    (void)state;
    const char *pc = tl_shared("axivity/ax3_testfile.cwa");
    char clean[512];
    if (!pc) {
        print_message("skip: ../shared/data/axivity not present\n");
        skip();
    }
    snprintf(clean, sizeof clean, "%s", pc);
    const char *pb = tl_shared("axivity/ax3_testfile_corrupt_blocks_0_13_14_142_143_144.cwa");
    assert_non_null(pb);
    double *xa, *ta, *xb, *tb;
    plm_reader_info ia, ib;
    size_t na = read_all(clean, "UTC", 4096, &xa, &ta, &ia), nb = read_all(pb, "UTC", 4096, &xb, &tb, &ib);
    assert_int_equal(na, nb);
    assert_int_equal(na, 145 * 120); /* 145 packed blocks of 120 samples */
    size_t nan_frames = 0, equal = 0;
    for (size_t i = 0; i < na; i++) {
        size_t blk = i / 120;
        int bad = blk == 0 || blk == 13 || blk == 14 || blk >= 142;
        if (bad) {
            assert_true(isnan(xb[3 * i]) && isnan(xb[3 * i + 1]) && isnan(xb[3 * i + 2]));
            nan_frames++;
        } else {
            assert_true(xa[3 * i] == xb[3 * i] && xa[3 * i + 1] == xb[3 * i + 1] && xa[3 * i + 2] == xb[3 * i + 2]);
            equal++;
        }
    }
    assert_int_equal(nan_frames, 6 * 120);
    assert_int_equal(ib.gap_frames, 6 * 120);
    /* the gaps, with their times: block k starts about k * 120 / fs after the start */
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.timezone = "UTC";
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(pb, &cfg, &r), PLM_OK);
    size_t ng;
    const plm_gap *g = plm_reader_gaps(r, &ng);
    assert_int_equal(ng, 3);
    const double want[3][2] = {{0, 120}, {13 * 120, 240}, {142 * 120, 360}};
    double fs = plm_reader_get_info(r)->fs_hz;
    for (size_t k = 0; k < 3; k++) {
        assert_near(g[k].onset_s, want[k][0] / fs, 1e-9);
        assert_near(g[k].duration_s, want[k][1] / fs, 1e-9);
        assert_string_equal(g[k].reason, "corrupt block (checksum)");
    }
    plm_reader_destroy(r);
    print_message("corrupt CWA: %zu samples equal the clean file's, %zu NaN in 3 gaps\n", equal, nan_frames);
    free(xa);
    free(ta);
    free(xb);
    free(tb);
}

/* The device clock has no zone: the same file read in two zones starts at the same wall-clock
 * time and at UTC instants an offset apart; without a zone the reader says so. */
static void cwa_clock_has_no_zone(void **state)
{
    (void)state;
    const char *p = tl_shared("axivity/ax3_testfile.cwa");
    if (!p) skip();
    plm_read_cfg cfg = plm_read_cfg_default();
    plm_reader *a = NULL, *b = NULL, *c = NULL;
    cfg.timezone = "UTC";
    assert_int_equal(plm_reader_open(p, &cfg, &a), PLM_OK);
    cfg.timezone = "Europe/Berlin"; /* February: UTC+1 */
    assert_int_equal(plm_reader_open(p, &cfg, &b), PLM_OK);
    cfg.timezone = NULL;
    assert_int_equal(plm_reader_open(p, &cfg, &c), PLM_OK);
    const plm_reader_info *ia = plm_reader_get_info(a), *ib = plm_reader_get_info(b), *ic = plm_reader_get_info(c);
    assert_int_equal(ia->start.utc_s - ib->start.utc_s, 3600);
    assert_true(ia->zone_known && ib->zone_known && !ic->zone_known);
    assert_contains(ic->warnings, "no time zone in the file: times are device-local");
    assert_null(strstr(ia->warnings, "no time zone"));
    assert_string_equal(ia->device, "Axivity AX3");
    assert_near(ia->fs_nominal_hz, 100, 0);
    assert_true(fabs(ia->fs_hz - 98.86) < 0.01); /* the clock of this device runs 1.1 % slow */
    plm_reader_destroy(a);
    plm_reader_destroy(b);
    plm_reader_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ax3_sample),
        cmocka_unit_test(ax6_sample),
        cmocka_unit_test(cwa_corrupt_blocks_are_gaps),
        cmocka_unit_test(cwa_clock_has_no_zone),
        cmocka_unit_test(geneactiv_sample),
        cmocka_unit_test(geneactiv_cut_file),
        cmocka_unit_test(gt3x_older_layout_against_actilife),
        cmocka_unit_test(gt3x_idle_sleep_is_a_gap),
        cmocka_unit_test(other_sensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
