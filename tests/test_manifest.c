/* test_manifest.c -- study manifests: columns, defaults, per-row errors with line numbers. */
#include "testlib.h"
#include "plm/plm.h"

static const char *write_manifest(const char *text)
{
    const char *dir = tl_tmpdir();
    assert_non_null(dir);
    const char *p = tl_path(dir, "manifest.csv");
    tl_write_text(p, text);
    return p;
}

static void good_manifest(void **state)
{
    (void)state;
    const char *p = write_manifest(
        "\xEF\xBB\xBFSubject, Condition ,path,lights_off,lights_on,full_scale_g,channels,site,timezone\r\n"
        "P1,control,\"night one.wav\",22:30,06:30,8,\"L=1,2,3;R=4,5,6\",\"Freiburg, DE\",Europe/Berlin\r\n"
        "\r\n"
        "P1,control,sub/n2.flac,5400,34200.5,,,,\r\n"
        "P1,magnesium,/abs/n3.wav,,,,R=1,x,\r\n");
    plm_manifest m;
    assert_int_equal(plm_manifest_read(p, &m), PLM_OK);
    assert_int_equal(m.nrows, 3);
    assert_int_equal(m.nextra, 1);
    assert_string_equal(m.extra_names[0], "site");
    const plm_manifest_row *r = &m.rows[0];
    assert_null(r->error);
    assert_int_equal(r->line, 2);
    assert_string_equal(r->subject, "P1");
    assert_string_equal(r->recording, "night one");
    assert_string_equal(r->path, tl_path(m.dir, "night one.wav"));
    assert_int_equal(r->night, 1);
    assert_near(r->full_scale_g, 8, 0);
    assert_string_equal(r->channels, "L=1,2,3;R=4,5,6");
    assert_string_equal(r->extra_values[0], "Freiburg, DE");
    assert_int_equal(r->lights_off.kind, PLM_TSPEC_CLOCK);
    assert_string_equal(r->timezone, "Europe/Berlin");
    r = &m.rows[1];
    assert_null(r->error);
    assert_int_equal(r->line, 4);
    assert_int_equal(r->night, 2); /* second control night of P1 */
    assert_string_equal(r->recording, "n2");
    assert_true(isnan(r->full_scale_g));
    assert_null(r->channels);
    assert_near(r->lights_on.seconds, 34200.5, 0);
    r = &m.rows[2];
    assert_null(r->error);
    assert_int_equal(r->night, 1);
    assert_string_equal(r->path, "/abs/n3.wav");
    plm_manifest_clear(&m);
    plm_manifest_clear(&m); /* twice is safe */
}

static void whole_manifest_errors(void **state)
{
    (void)state;
    plm_manifest m;
    assert_int_equal(plm_manifest_read(write_manifest("subject,path\nP1,a.wav\n"), &m), PLM_EFORMAT);
    assert_contains(plm_last_error(), "manifest.csv:1: missing required column 'condition'");
    assert_int_equal(plm_manifest_read(write_manifest("subject,condition,path,path\n"), &m), PLM_EFORMAT);
    assert_contains(plm_last_error(), "duplicate column 'path'");
    assert_int_equal(plm_manifest_read(write_manifest("subject,condition,path\n"), &m), PLM_EFORMAT);
    assert_contains(plm_last_error(), "no recordings listed");
    assert_int_equal(plm_manifest_read(write_manifest(""), &m), PLM_EFORMAT);
    assert_contains(plm_last_error(), "empty manifest");
    assert_int_equal(plm_manifest_read(write_manifest("subject,condition,path\nP1,c,\"a.wav\n"), &m), PLM_EFORMAT);
    assert_contains(plm_last_error(), "manifest.csv:2: unterminated quoted field");
    assert_int_equal(plm_manifest_read("/nonexistent/manifest.csv", &m), PLM_EIO);
}

static void row_errors_keep_the_rest(void **state)
{
    (void)state;
    const char *p = write_manifest("subject,condition,path,recording,night,lights_off,lights_on,full_scale_g,start,timezone\n"
                                   "P1,control,a.wav,,,,,,,\n"                     /* 2 ok */
                                   "P2,control,,,,,,,,\n"                          /* 3 empty path */
                                   "P3,control,b.wav,a,,,,,,\n"                    /* 4 duplicate id */
                                   "P4,control,c.wav,,,25:00,,,,\n"                /* 5 bad clock */
                                   "P5,control,d.wav,,x,,,,,\n"                    /* 6 bad night */
                                   "P6,control,e.wav,,,,,-8,,\n"                   /* 7 bad full scale */
                                   "P7,control,f.wav,,,,,,yesterday,\n"            /* 8 bad start */
                                   "P8,control,g.wav,,,,,,,Mars/Base\n"            /* 9 bad zone */
                                   "P9,control,h.wav,,,600,300,,,\n"               /* 10 on before off */
                                   ",control,i.wav,,,,,,,\n"                       /* 11 empty subject */
                                   "P10,control,j.wav\n"                           /* 12 short row */
                                   "P11,control,k/l.wav,x/y,,,,,,\n");             /* 13 slash in id */
    plm_manifest m;
    assert_int_equal(plm_manifest_read(p, &m), PLM_OK);
    assert_int_equal(m.nrows, 12);
    assert_null(m.rows[0].error);
    const char *want[] = {NULL,
                          "manifest.csv:3: empty path",
                          "manifest.csv:4: duplicate recording id 'a' (first on line 2)",
                          "manifest.csv:5: lights_off: '25:00' is not a valid clock time",
                          "manifest.csv:6: night 'x' is not a whole number",
                          "manifest.csv:7: full_scale_g '-8' is not a positive number",
                          "manifest.csv:8: start: 'yesterday' is not an ISO 8601",
                          "manifest.csv:9: unknown time zone 'Mars/Base'",
                          "manifest.csv:10: lights_on (300 s) is not after lights_off (600 s)",
                          "manifest.csv:11: empty subject",
                          "manifest.csv:12: has 3 fields, the header has 10",
                          "manifest.csv:13: recording id 'x/y' may not contain '/'"};
    for (size_t i = 1; i < m.nrows; i++) assert_contains(m.rows[i].error, want[i]);
    plm_manifest_clear(&m);
}

static void one_device_per_ankle(void **state)
{
    (void)state;
    const char *p = write_manifest("subject,condition,path,path_right,channels\n"
                                   "P1,control,n1_left.cwa,n1_right.cwa,\n"   /* 2: two files */
                                   "P1,control,n2.wav,,\n"                    /* 3: one file */
                                   "P2,control,a.cwa,a.cwa,\n"                /* 4: the same file */
                                   "P3,control,b.cwa,c.cwa,R=1,2,3\n");       /* 5: a map with two files */
    plm_manifest m;
    assert_int_equal(plm_manifest_read(p, &m), PLM_OK);
    const plm_manifest_row *r = &m.rows[0];
    assert_null(r->error);
    assert_string_equal(r->recording, "n1_left"); /* the id defaults to the left file's stem */
    assert_string_equal(r->path, tl_path(m.dir, "n1_left.cwa"));
    assert_string_equal(r->path_right, tl_path(m.dir, "n1_right.cwa"));
    assert_string_equal(r->path_right_given, "n1_right.cwa");
    assert_null(m.rows[1].error);
    assert_null(m.rows[1].path_right);
    assert_contains(m.rows[2].error, "manifest.csv:4: path_right names the same file as path");
    assert_contains(m.rows[3].error, "has 7 fields"); /* unquoted commas: the row is refused whole */
    plm_manifest_clear(&m);
    p = write_manifest("subject,condition,path,path_right,channels\nP3,control,b.cwa,c.cwa,R=1\n");
    assert_int_equal(plm_manifest_read(p, &m), PLM_OK);
    assert_contains(m.rows[0].error, "manifest.csv:2: channels cannot be given with path_right");
    plm_manifest_clear(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(good_manifest),
        cmocka_unit_test(whole_manifest_errors),
        cmocka_unit_test(row_errors_keep_the_rest),
        cmocka_unit_test(one_device_per_ankle),
    };
    return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
