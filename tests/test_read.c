/* test_read.c -- the recording readers: units, layouts, start times, truncation, bad files.
 * Truth: values written with libsndfile/EDFlib by the test itself, and the real Axivity
 * export ../shared/data/axivity/ax3test.wav (first frame 2943, 1054, -2325 counts, per
 * `od` of the data chunk; full scale 8 g and start from its ICMT comment). */
#include "testlib.h"
#include <edflib.h>
#include "plm/plm.h"

static const char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tl_tmpdir();
    return dir ? 0 : -1;
}

static double ramp6(int64_t i, int c) { return 0.125 * (c + 1) - 0.001 * (double)(i % 100); }
static double int16ish(int64_t i, int c) { return (double)((int)(i * 37 + c * 1000) % 30000 - 15000) / 32768.0; }
static double nan_half(int64_t i, int c) { (void)c; return i < 50 ? NAN : 0.5; }

/* Read everything with a given block size into a new planar array [nchan][frames]. */
static double *read_all(const char *path, const plm_read_cfg *cfg, int64_t block, int64_t *frames, int *nchan)
{
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(path, cfg, &r), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(r);
    int64_t n = in->frames;
    *nchan = in->nchan;
    double *all = calloc((size_t)(n * in->nchan), sizeof *all), *blk = malloc(sizeof(double) * (size_t)(block * in->nchan));
    int64_t pos = 0, got;
    do {
        assert_int_equal(plm_reader_read(r, blk, block, &got), PLM_OK);
        for (int c = 0; c < in->nchan; c++)
            memcpy(all + c * n + pos, blk + c * block, sizeof(double) * (size_t)got);
        pos += got;
    } while (got > 0);
    assert_int_equal(pos, n);
    *frames = n;
    free(blk);
    plm_reader_destroy(r);
    return all;
}

static void float_wav_two_legs(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "float6.wav");
    tl_write_sound(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 6, 100, 1000, ramp6);
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(p, NULL, &r), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(r);
    assert_int_equal(in->nchan, 6);
    assert_string_equal(in->channel_map, "L=1,2,3;R=4,5,6");
    assert_int_equal(in->legs, PLM_LEG_BOTH);
    assert_int_equal(in->chan_leg[3], PLM_LEG_RIGHT);
    assert_true(in->is_float);
    assert_true(isnan(in->full_scale_g));
    assert_int_equal(in->frames, 1000);
    assert_near(in->fs_hz, 100, 0);
    assert_false(in->has_start);
    assert_false(in->truncated);
    plm_reader_destroy(r);
    int64_t n;
    int nc;
    double *x = read_all(p, NULL, 333, &n, &nc);
    for (int c = 0; c < 6; c++)
        for (int64_t i = 0; i < n; i += 97) assert_near(x[c * n + i], ramp6(i, c), 1e-7);
    free(x);
}

static void block_size_does_not_change_samples(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "blocks.wav");
    tl_write_sound(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 7, 50, 5003, int16ish);
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.full_scale_g = 8;
    cfg.channels = "L=1,2,3;R=5,6,7";
    int64_t n1, n2;
    int c1, c2;
    cfg.block_frames = 7;
    double *a = read_all(p, &cfg, 7, &n1, &c1);
    cfg.block_frames = 65536;
    double *b = read_all(p, &cfg, 100000, &n2, &c2);
    assert_int_equal(n1, 5003);
    assert_int_equal(n1, n2);
    assert_int_equal(c1, 6);
    assert_memory_equal(a, b, sizeof(double) * (size_t)(n1 * c1));
    /* channel 4 skipped: delivered channel 3 is file channel 5 */
    assert_near(a[3 * n1 + 10], int16ish(10, 4) * 8, 1e-12);
    free(a);
    free(b);
}

static void integer_samples_need_a_full_scale(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "int16.wav");
    tl_write_sound(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 3, 100, 200, int16ish);
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(p, NULL, &r), PLM_EFORMAT);
    assert_null(r);
    assert_contains(plm_last_error(), "int16.wav: integer samples and no full scale known: set the manifest column full_scale_g");
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.full_scale_g = 4;
    int64_t n;
    int nc;
    double *x = read_all(p, &cfg, 64, &n, &nc);
    /* libsndfile stores round(v * 32768); the reader gives count / 32768 * full scale */
    for (int c = 0; c < 3; c++)
        for (int64_t i = 0; i < n; i++) assert_near(x[c * n + i], int16ish(i, c) * 4, 1e-12);
    free(x);
    /* 24-bit FLAC */
    p = tl_path(dir, "int24.flac");
    tl_write_sound(p, SF_FORMAT_FLAC | SF_FORMAT_PCM_24, 1, 64, 300, int16ish);
    cfg.full_scale_g = 2;
    x = read_all(p, &cfg, 50, &n, &nc);
    assert_int_equal(nc, 1);
    for (int64_t i = 0; i < n; i++) assert_near(x[i], int16ish(i, 0) * 2, 2.0 / 8388608.0);
    free(x);
}

static void channel_layouts(void **state)
{
    (void)state;
    plm_reader *r = NULL;
    const char *p7 = tl_path(dir, "seven.wav");
    tl_write_sound(p7, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 7, 100, 10, ramp6);
    assert_int_equal(plm_reader_open(p7, NULL, &r), PLM_EFORMAT);
    assert_contains(plm_last_error(), "seven.wav: 7 acceleration channels: expected 1, 3 (one leg) or 6");
    assert_contains(plm_last_error(), "set the manifest column channels");
    const char *p1 = tl_path(dir, "one.wav");
    tl_write_sound(p1, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 1, 100, 10, ramp6);
    assert_int_equal(plm_reader_open(p1, NULL, &r), PLM_OK);
    assert_int_equal(plm_reader_get_info(r)->nchan, 1);
    assert_string_equal(plm_reader_get_info(r)->channel_map, "L=1");
    plm_reader_destroy(r);
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.channels = "R=1";
    assert_int_equal(plm_reader_open(p1, &cfg, &r), PLM_OK);
    assert_int_equal(plm_reader_get_info(r)->legs, PLM_LEG_RIGHT);
    plm_reader_destroy(r);
    const char *bad[][2] = {{"L=1,2", "needs 1 or 3 channels"},
                            {"L=1,2,9", "channel 9 does not exist (file has 7)"},
                            {"X=1,2,3", "expected L= or R="},
                            {"L=1,2,3;L=4,5,6", "leg L given twice"},
                            {"L=1,1,2", "channel 1 used twice"},
                            {"L=1,2,3;", NULL}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cfg.channels = bad[i][0];
        plm_status st = plm_reader_open(p7, &cfg, &r);
        if (!bad[i][1]) {
            assert_int_equal(st, PLM_OK);
            plm_reader_destroy(r);
            continue;
        }
        assert_int_equal(st, PLM_EFORMAT);
        assert_contains(plm_last_error(), bad[i][1]);
        assert_contains(plm_last_error(), "seven.wav");
    }
}

static void truncated_file_is_read_as_far_as_it_goes(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "cut.wav");
    tl_write_sound(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 3, 100, 1000, int16ish);
    struct stat sb;
    assert_int_equal(stat(p, &sb), 0);
    assert_int_equal(truncate(p, sb.st_size - 600 * 6), 0); /* keep 400 of 1000 frames */
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.full_scale_g = 8;
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(p, &cfg, &r), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(r);
    assert_true(in->truncated);
    assert_int_equal(in->frames, 400);
    assert_int_equal(in->frames_header, 1000);
    assert_contains(in->warnings, "truncated: the header promises 1000 frames, the file holds 400");
    plm_reader_destroy(r);
    int64_t n;
    int nc;
    double *x = read_all(p, &cfg, 128, &n, &nc);
    assert_int_equal(n, 400);
    assert_near(x[399], int16ish(399, 0) * 8, 1e-12);
    free(x);
}

static void bad_files(void **state)
{
    (void)state;
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(tl_path(dir, "missing.wav"), NULL, &r), PLM_EIO);
    assert_contains(plm_last_error(), "missing.wav: cannot open: No such file or directory");
    const char *z = tl_path(dir, "zero.wav");
    tl_write_text(z, "");
    assert_int_equal(plm_reader_open(z, NULL, &r), PLM_ENODATA);
    assert_contains(plm_last_error(), "zero.wav: empty file (0 bytes)");
    const char *t = tl_path(dir, "text.wav");
    tl_write_text(t, "subject,condition,path\nthis is not a recording\n");
    assert_int_equal(plm_reader_open(t, NULL, &r), PLM_EFORMAT);
    assert_contains(plm_last_error(), "text.wav: not a readable recording");
    assert_int_equal(plm_reader_open(dir, NULL, &r), PLM_EIO);
    assert_contains(plm_last_error(), "is a directory");
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.block_frames = 0;
    assert_int_equal(plm_reader_open(z, &cfg, &r), PLM_EINVAL);
    cfg = plm_read_cfg_default();
    cfg.timezone = "Nowhere/City";
    assert_int_equal(plm_reader_open(tl_path(dir, "float6.wav"), &cfg, &r), PLM_EINVAL);
    assert_contains(plm_last_error(), "unknown time zone 'Nowhere/City'");
    assert_null(r);
}

static void nan_samples_come_through(void **state)
{
    (void)state; /* the reader reports them; deciding what they mean is the caller's job */
    const char *p = tl_path(dir, "nan.wav");
    tl_write_sound(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 3, 100, 100, nan_half);
    int64_t n;
    int nc;
    double *x = read_all(p, NULL, 64, &n, &nc);
    assert_true(isnan(x[0]));
    assert_near(x[99], 0.5, 0);
    free(x);
}

static void bext_start_in_the_recordings_zone(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "bext.wav");
    SF_INFO si = {.samplerate = 50, .channels = 3, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *sf = sf_open(p, SFM_WRITE, &si);
    assert_non_null(sf);
    SF_BROADCAST_INFO bi;
    memset(&bi, 0, sizeof bi);
    memcpy(bi.origination_date, "2024-03-30", 10);
    memcpy(bi.origination_time, "21:00:00", 8);
    uint64_t tref = (21 * 3600) * 50 + 25; /* half a second later than the text says */
    bi.time_reference_low = (uint32_t)tref;
    assert_int_equal(sf_command(sf, SFC_SET_BROADCAST_INFO, &bi, sizeof bi), SF_TRUE);
    short frame[3] = {0, 0, 4096};
    for (int i = 0; i < 100; i++) sf_writef_short(sf, frame, 1);
    sf_close(sf);
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.full_scale_g = 8;
    cfg.timezone = "Europe/Berlin";
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(p, &cfg, &r), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(r);
    assert_true(in->has_start);
    assert_string_equal(in->start_source, "bext");
    assert_int_equal(in->start.utc_s, 1711828800); /* 2024-03-30T20:00:00Z */
    assert_int_equal(in->start.nsec, 500000000);
    assert_int_equal(in->start.offset_s, 3600);
    plm_reader_destroy(r);
}

static void axivity_wav_convention(void **state)
{
    (void)state;
    const char *p = tl_shared("axivity/ax3test.wav");
    if (!p) {
        print_message("skip: ../shared/data/axivity/ax3test.wav not present\n");
        skip();
    }
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.timezone = "Europe/Berlin";
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(p, &cfg, &r), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(r);
    assert_near(in->fs_hz, 100, 0);
    assert_int_equal(in->file_channels, 4);
    assert_int_equal(in->nchan, 3);
    assert_string_equal(in->labels, "Accel-X,Accel-Y,Accel-Z");
    assert_string_equal(in->dropped, "4 (aux)");
    assert_near(in->full_scale_g, 8, 0);
    assert_string_equal(in->full_scale_source, "axivity");
    assert_int_equal(in->frames, 32640);
    assert_true(in->truncated);
    assert_contains(in->warnings, "truncated");
    assert_true(in->has_start);
    char buf[48];
    plm_time_format_local(&in->start, ' ', buf, sizeof buf);
    assert_string_equal(buf, "2018-03-18 17:24:47.536+01:00");
    double x[3 * 4];
    int64_t got;
    assert_int_equal(plm_reader_read(r, x, 4, &got), PLM_OK);
    assert_int_equal(got, 4);
    assert_near(x[0], 2943.0 / 32768 * 8, 1e-12);
    assert_near(x[4], 1054.0 / 32768 * 8, 1e-12);
    assert_near(x[8], -2325.0 / 32768 * 8, 1e-12);
    int64_t total = got;
    double *big = malloc(sizeof(double) * 3 * 10000);
    do {
        assert_int_equal(plm_reader_read(r, big, 10000, &got), PLM_OK);
        total += got;
    } while (got);
    assert_int_equal(total, 32640);
    free(big);
    plm_reader_destroy(r);
}

/* EDF+ written with EDFlib: three acceleration signals in mg, one EMG, two annotations. */
static const char *write_edf(const char *name, int filetype, const char *unit, double scale)
{
    const char *p = tl_path(dir, name);
    int h = edfopen_file_writeonly(p, filetype, 4);
    assert_true(h >= 0);
    const char *labels[4] = {"Acc L X", "Acc L Y", "Acc L Z", "EMG Tib L"};
    for (int s = 0; s < 4; s++) {
        edf_set_samplefrequency(h, s, 100);
        edf_set_physical_maximum(h, s, s < 3 ? 8 * scale : 500);
        edf_set_physical_minimum(h, s, s < 3 ? -8 * scale : -500);
        edf_set_digital_maximum(h, s, filetype >= EDFLIB_FILETYPE_BDF ? 8388607 : 32767);
        edf_set_digital_minimum(h, s, filetype >= EDFLIB_FILETYPE_BDF ? -8388608 : -32768);
        edf_set_label(h, s, labels[s]);
        edf_set_physical_dimension(h, s, s < 3 ? unit : "uV");
    }
    edf_set_startdatetime(h, 2024, 10, 26, 22, 15, 0);
    double buf[100];
    for (int rec = 0; rec < 10; rec++)
        for (int s = 0; s < 4; s++) {
            for (int i = 0; i < 100; i++) buf[i] = s < 3 ? (0.5 * (s + 1) - 0.001 * i) * scale : 10;
            assert_int_equal(edfwrite_physical_samples(h, buf), 0);
        }
    edfwrite_annotation_utf8(h, 25000, 30000, "Arousal");
    edfwrite_annotation_utf8(h, 10000, -1, "Lights off");
    assert_int_equal(edfclose_file(h), 0);
    return p;
}

static void edf_units_channels_annotations(void **state)
{
    (void)state;
    const char *p = write_edf("accel.edf", EDFLIB_FILETYPE_EDFPLUS, "mg", 1000);
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.timezone = "Europe/Berlin";
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(p, &cfg, &r), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(r);
    assert_string_equal(in->format, "EDF+");
    assert_int_equal(in->nchan, 3);
    assert_int_equal(in->file_channels, 4);
    assert_string_equal(in->labels, "Acc L X,Acc L Y,Acc L Z");
    assert_near(in->fs_hz, 100, 0);
    assert_int_equal(in->frames, 1000);
    assert_true(in->has_start);
    assert_int_equal(in->start.utc_s, 1729973700); /* 2024-10-26T20:15:00Z (CEST) */
    size_t na;
    const plm_annotation *a = plm_reader_annotations(r, &na);
    assert_int_equal(na, 2);
    assert_int_equal(a[0].onset_100ns, 10000000);
    assert_int_equal(a[0].duration_100ns, -1);
    assert_string_equal(a[0].text, "Lights off");
    assert_int_equal(a[1].onset_100ns, 25000000);
    assert_int_equal(a[1].duration_100ns, 30000000);
    assert_string_equal(a[1].text, "Arousal");
    double x[3 * 100];
    int64_t got;
    assert_int_equal(plm_reader_read(r, x, 100, &got), PLM_OK);
    assert_int_equal(got, 100);
    double lsb = 16.0 / 65535; /* g per count */
    for (int c = 0; c < 3; c++) assert_near(x[c * 100 + 7], 0.5 * (c + 1) - 0.007, lsb);
    plm_reader_destroy(r);
    /* the EMG channel is not acceleration */
    cfg.channels = "L=4";
    assert_int_equal(plm_reader_open(p, &cfg, &r), PLM_EFORMAT);
    assert_contains(plm_last_error(), "signal 4 (EMG Tib L) has unit 'uV', not an acceleration");
    /* BDF+ with m/s2 */
    p = write_edf("accel.bdf", EDFLIB_FILETYPE_BDFPLUS, "m/s2", 9.80665);
    cfg.channels = NULL;
    assert_int_equal(plm_reader_open(p, &cfg, &r), PLM_OK);
    assert_string_equal(plm_reader_get_info(r)->format, "BDF+");
    assert_int_equal(plm_reader_read(r, x, 100, &got), PLM_OK);
    assert_near(x[2 * 100 + 50], 1.5 - 0.05, 1e-5);
    plm_reader_destroy(r);
    /* a cut EDF is refused with a reason, not read past its end */
    const char *q = tl_path(dir, "cut.edf");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "head -c 3000 '%s' > '%s'", tl_path(dir, "accel.edf"), q);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(plm_reader_open(q, &cfg, &r), PLM_EFORMAT);
    assert_contains(plm_last_error(), "cut.edf: header is malformed or the file is shorter than its header says");
}

/* An EDF+ whose signal i has labels[i], units[i] and the constant value (i + 1) / 10 in that unit. */
static const char *write_edf_signals(const char *name, int ns, const char *const *labels, const char *const *units)
{
    const char *p = tl_path(dir, name);
    int h = edfopen_file_writeonly(p, EDFLIB_FILETYPE_EDFPLUS, ns);
    assert_true(h >= 0);
    for (int s = 0; s < ns; s++) {
        edf_set_samplefrequency(h, s, 10);
        edf_set_physical_maximum(h, s, 10);
        edf_set_physical_minimum(h, s, -10);
        edf_set_digital_maximum(h, s, 32767);
        edf_set_digital_minimum(h, s, -32768);
        edf_set_label(h, s, labels[s]);
        edf_set_physical_dimension(h, s, units[s]);
    }
    edf_set_startdatetime(h, 2024, 5, 1, 22, 0, 0);
    double buf[10];
    for (int rec = 0; rec < 3; rec++)
        for (int s = 0; s < ns; s++) {
            for (int i = 0; i < 10; i++) buf[i] = (s + 1) / 10.0;
            assert_int_equal(edfwrite_physical_samples(h, buf), 0);
        }
    assert_int_equal(edfclose_file(h), 0);
    return p;
}

static void edf_channels_found_by_label(void **state)
{
    (void)state;
    const char *labels[] = {"Acc R Y", "Acc R X", "Acc R Z", "Position", "Acc L X", "Acc L Y", "Acc L Z"};
    const char *units[] = {"g", "g", "g", "g", "mg", "mg", "mg"};
    const char *p = write_edf_signals("labels.edf", 7, labels, units);
    plm_reader *r = NULL;
    assert_int_equal(plm_reader_open(p, NULL, &r), PLM_OK);
    const plm_reader_info *in = plm_reader_get_info(r);
    assert_int_equal(in->nchan, 6);
    assert_string_equal(in->channel_map, "L=5,6,7;R=2,1,3"); /* Position (also in g) left out; x, y, z order */
    assert_string_equal(in->labels, "Acc L X,Acc L Y,Acc L Z,Acc R X,Acc R Y,Acc R Z");
    double x[6 * 4];
    int64_t got;
    assert_int_equal(plm_reader_read(r, x, 4, &got), PLM_OK);
    assert_near(x[0 * 4], 0.5e-3, 1e-6); /* signal 5: 0.5 mg */
    assert_near(x[3 * 4], 0.2, 1e-3);    /* signal 2: 0.2 g */
    plm_reader_destroy(r);
    /* unlabelled legs: the layout by count, in file order */
    const char *l2[] = {"AccelX", "AccelY", "AccelZ"};
    const char *u2[] = {"m/s2", "m/s2", "m/s2"};
    p = write_edf_signals("plain.edf", 3, l2, u2);
    assert_int_equal(plm_reader_open(p, NULL, &r), PLM_OK);
    assert_string_equal(plm_reader_get_info(r)->channel_map, "L=1,2,3");
    plm_reader_destroy(r);
    const char *l3[] = {"EMG", "ECG"};
    const char *u3[] = {"uV", "mV"};
    p = write_edf_signals("noacc.edf", 2, l3, u3);
    assert_int_equal(plm_reader_open(p, NULL, &r), PLM_EFORMAT);
    assert_contains(plm_last_error(), "noacc.edf: no channel has an acceleration unit");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(float_wav_two_legs),
        cmocka_unit_test(block_size_does_not_change_samples),
        cmocka_unit_test(integer_samples_need_a_full_scale),
        cmocka_unit_test(channel_layouts),
        cmocka_unit_test(truncated_file_is_read_as_far_as_it_goes),
        cmocka_unit_test(bad_files),
        cmocka_unit_test(nan_samples_come_through),
        cmocka_unit_test(bext_start_in_the_recordings_zone),
        cmocka_unit_test(axivity_wav_convention),
        cmocka_unit_test(edf_units_channels_annotations),
        cmocka_unit_test(edf_channels_found_by_label),
    };
    return cmocka_run_group_tests_name("read", tests, setup, NULL);
}
