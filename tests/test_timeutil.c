/* test_timeutil.c -- ISO 8601, IANA zones and manifest clock times across clock changes.
 * Expected epoch seconds are computed by hand: 2024-01-01T00:00:00Z = 1704067200, plus
 * 86400 per day. Europe/Berlin changes 2024-03-31 01:00Z (CET->CEST) and 2024-10-27 01:00Z. */
#include "testlib.h"
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include "plm/plm.h"

#define DAY 86400LL
#define Y2024 1704067200LL

static void iso_with_offsets(void **state)
{
    (void)state;
    plm_time t;
    assert_int_equal(plm_time_parse_iso("2024-03-30T21:00:00+01:00", NULL, &t), PLM_OK);
    assert_int_equal(t.utc_s, Y2024 + 89 * DAY + 20 * 3600);
    assert_int_equal(t.offset_s, 3600);
    assert_int_equal(plm_time_parse_iso("2024-03-30 20:00Z", NULL, &t), PLM_OK);
    assert_int_equal(t.utc_s, Y2024 + 89 * DAY + 20 * 3600);
    assert_int_equal(plm_time_parse_iso("2024-03-30T23:30:00.250-0330", NULL, &t), PLM_OK);
    assert_int_equal(t.utc_s, Y2024 + 90 * DAY + 3 * 3600);
    assert_int_equal(t.nsec, 250000000);
    assert_int_equal(t.offset_s, -(3 * 3600 + 1800));
    /* an offset given in the text, shown in the recording's zone */
    assert_int_equal(plm_time_parse_iso("2024-07-01T00:00:00Z", "Europe/Berlin", &t), PLM_OK);
    assert_int_equal(t.offset_s, 7200);
    char buf[48];
    plm_time_format_local(&t, 'T', buf, sizeof buf);
    assert_string_equal(buf, "2024-07-01T02:00:00.000+02:00");
    plm_time_format_utc(&t, buf, sizeof buf);
    assert_string_equal(buf, "2024-07-01T00:00:00.000Z");
}

static void iso_rejects_garbage(void **state)
{
    (void)state;
    plm_time t;
    const char *bad[] = {"", "2024-03-30", "2024-13-01T00:00", "2024-02-30T00:00", "2023-02-29T00:00",
                         "2024-03-30T24:00", "2024-03-30T21:00:00+25:00", "2024-03-30T21:00 x", "yesterday"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (plm_time_parse_iso(bad[i], "UTC", &t) != PLM_EINVAL) fail_msg("'%s' was accepted", bad[i]);
        assert_contains(plm_last_error(), "ISO 8601");
    }
    assert_int_equal(plm_time_parse_iso("2024-02-29T00:00", "UTC", &t), PLM_OK);
}

static void local_times_in_a_zone(void **state)
{
    (void)state;
    plm_time t;
    assert_int_equal(plm_time_from_local(2018, 3, 18, 17, 24, 47, 536000000, "Europe/Berlin", &t), PLM_OK);
    assert_int_equal(t.offset_s, 3600);
    char buf[48];
    plm_time_format_local(&t, ' ', buf, sizeof buf);
    assert_string_equal(buf, "2018-03-18 17:24:47.536+01:00");
    /* spring gap: 02:30 does not exist */
    assert_int_equal(plm_time_from_local(2024, 3, 31, 2, 30, 0, 0, "Europe/Berlin", &t), PLM_EINVAL);
    assert_contains(plm_last_error(), "does not exist in time zone Europe/Berlin");
    /* autumn: 02:30 happens twice; the first (CEST) is taken */
    assert_int_equal(plm_time_from_local(2024, 10, 27, 2, 30, 0, 0, "Europe/Berlin", &t), PLM_OK);
    assert_int_equal(t.utc_s, Y2024 + 300 * DAY + 1800);
    assert_int_equal(t.offset_s, 7200);
    assert_int_equal(plm_time_from_local(2024, 6, 1, 12, 0, 0, 0, "America/New_York", &t), PLM_OK);
    assert_int_equal(t.offset_s, -4 * 3600);
}

static void zones_are_checked(void **state)
{
    (void)state;
    assert_int_equal(plm_time_check_zone("Europe/Berlin"), PLM_OK);
    assert_int_equal(plm_time_check_zone(NULL), PLM_OK);
    assert_int_equal(plm_time_check_zone("UTC"), PLM_OK);
    assert_int_equal(plm_time_check_zone("Mars/Olympus_Mons"), PLM_EINVAL);
    assert_contains(plm_last_error(), "unknown time zone 'Mars/Olympus_Mons'");
    assert_int_equal(plm_time_check_zone("../../etc/passwd"), PLM_EINVAL);
}

static void tspec_parsing(void **state)
{
    (void)state;
    plm_tspec s;
    assert_int_equal(plm_tspec_parse("", &s), PLM_OK);
    assert_int_equal(s.kind, PLM_TSPEC_NONE);
    assert_int_equal(plm_tspec_parse(" 5400.5 ", &s), PLM_OK);
    assert_int_equal(s.kind, PLM_TSPEC_SECONDS);
    assert_near(s.seconds, 5400.5, 0);
    assert_int_equal(plm_tspec_parse("22:30", &s), PLM_OK);
    assert_int_equal(s.kind, PLM_TSPEC_CLOCK);
    assert_int_equal(s.hh * 100 + s.mm, 2230);
    assert_int_equal(plm_tspec_parse("06:30:15", &s), PLM_OK);
    assert_int_equal(s.ss, 15);
    assert_int_equal(plm_tspec_parse("2024-03-30T22:30:00+01:00", &s), PLM_OK);
    assert_int_equal(s.kind, PLM_TSPEC_ABSOLUTE);
    const char *bad[] = {"25:00", "22:61", "-5", "abc", "22:3", "nan", "2024-03-30T25:00"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (plm_tspec_parse(bad[i], &s) != PLM_EINVAL) fail_msg("'%s' was accepted", bad[i]);
}

/* lights_off 22:30, lights_on 06:30 from a recording started at 21:00 local. */
static void night_length(const char *start_iso, double *off, double *on)
{
    plm_time start;
    plm_tspec a, b;
    assert_int_equal(plm_time_parse_iso(start_iso, "Europe/Berlin", &start), PLM_OK);
    assert_int_equal(plm_tspec_parse("22:30", &a), PLM_OK);
    assert_int_equal(plm_tspec_parse("06:30", &b), PLM_OK);
    assert_int_equal(plm_tspec_resolve(&a, &start, "Europe/Berlin", 0, off), PLM_OK);
    assert_int_equal(plm_tspec_resolve(&b, &start, "Europe/Berlin", *off, on), PLM_OK);
}

static void clock_times_across_clock_changes(void **state)
{
    (void)state;
    double off, on;
    night_length("2024-05-01T21:00:00+02:00", &off, &on); /* ordinary night: 8 h */
    assert_near(off, 5400, 0);
    assert_near(on - off, 8 * 3600, 0);
    night_length("2024-03-30T21:00:00+01:00", &off, &on); /* spring forward: 7 h */
    assert_near(off, 5400, 0);
    assert_near(on, 30600, 0);
    assert_near(on - off, 7 * 3600, 0);
    night_length("2024-10-26T21:00:00+02:00", &off, &on); /* fall back: 9 h */
    assert_near(on - off, 9 * 3600, 0);
}

static void clock_time_rules(void **state)
{
    (void)state;
    plm_time start;
    plm_tspec s;
    double v;
    assert_int_equal(plm_time_parse_iso("2024-05-01T21:00:00.500+02:00", "Europe/Berlin", &start), PLM_OK);
    assert_int_equal(plm_tspec_parse("20:00", &s), PLM_OK); /* earlier in the day -> next day */
    assert_int_equal(plm_tspec_resolve(&s, &start, "Europe/Berlin", 0, &v), PLM_OK);
    assert_near(v, 23 * 3600 - 0.5, 1e-9);
    assert_int_equal(plm_tspec_parse("2024-05-01T22:30:00", &s), PLM_OK); /* ISO without offset: local */
    assert_int_equal(plm_tspec_resolve(&s, &start, "Europe/Berlin", 0, &v), PLM_OK);
    assert_near(v, 5399.5, 1e-9);
    assert_int_equal(plm_tspec_parse("2024-05-01T20:30:00+02:00", &s), PLM_OK);
    assert_int_equal(plm_tspec_resolve(&s, &start, "Europe/Berlin", 0, &v), PLM_EINVAL);
    assert_contains(plm_last_error(), "before the recording starts");
    assert_int_equal(plm_tspec_parse("22:30", &s), PLM_OK); /* clock time without a start */
    assert_int_equal(plm_tspec_resolve(&s, NULL, "Europe/Berlin", 0, &v), PLM_EINVAL);
    assert_contains(plm_last_error(), "needs the recording's start time");
    assert_int_equal(plm_tspec_parse("3600", &s), PLM_OK);
    assert_int_equal(plm_tspec_resolve(&s, NULL, NULL, 0, &v), PLM_OK);
    assert_near(v, 3600, 0);
}

/* Conversions in several threads while other threads read the environment, as the HDF5
 * library does (HDF5_USE_FILE_LOCKING and others) in the workers of `actiplm run -j`. The
 * zone switch must never move the environment under a reader: with TZ unset at the start,
 * the old code added TZ and removed it again on every conversion, and a reader then walked a
 * freed array (seen as a SEGV in getenv under ASan). Each conversion is also checked: a
 * switch must not leak into another thread's result. */
enum { CONVERSIONS = 4000, READS = 200000 };
static atomic_int readers_stop; /* set by the main thread, read by the readers */

static void *converter(void *arg)
{
    intptr_t k = (intptr_t)arg, bad = 0;
    for (int i = 0; i < CONVERSIONS; i++) {
        int ny = (int)((i + k) % 2);
        plm_time t;
        /* 2024-07-01 12:00 local: Berlin UTC+2, New York UTC-4; 2024-07-01Z = 1704067200 + 182 d */
        if (plm_time_from_local(2024, 7, 1, 12, 0, 0, 0, ny ? "America/New_York" : "Europe/Berlin", &t) != PLM_OK ||
            t.utc_s != 1719792000LL + 12 * 3600 - (ny ? -4 : 2) * 3600 || t.offset_s != (ny ? -4 : 2) * 3600)
            bad++;
    }
    return (void *)bad;
}

static void *env_reader(void *arg)
{
    const char *home = arg;
    intptr_t bad = 0;
    for (int i = 0; i < READS && !readers_stop; i++) {
        const char *v = getenv("ACTIPLM_TEST_HOME");
        if (!v || strcmp(v, home)) bad++;
        (void)getenv("HDF5_USE_FILE_LOCKING");
    }
    return (void *)bad;
}

static void conversions_beside_environment_readers(void **state)
{
    (void)state;
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    unsetenv("TZ"); /* a machine without TZ, as in CI */
    setenv("ACTIPLM_TEST_HOME", "/home/somebody", 1);
    plm_time_init();
    readers_stop = 0;
    pthread_t c[2], r[2];
    for (intptr_t k = 0; k < 2; k++) {
        assert_int_equal(pthread_create(&c[k], NULL, converter, (void *)k), 0);
        assert_int_equal(pthread_create(&r[k], NULL, env_reader, "/home/somebody"), 0);
    }
    void *bad;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(pthread_join(c[k], &bad), 0);
        assert_int_equal((intptr_t)bad, 0);
    }
    readers_stop = 1;
    for (int k = 0; k < 2; k++) {
        assert_int_equal(pthread_join(r[k], &bad), 0);
        assert_int_equal((intptr_t)bad, 0);
    }
    /* the machine's zone still reads as before: unset TZ and ":/etc/localtime" mean the same */
    plm_time t;
    assert_int_equal(plm_time_from_local(2024, 1, 15, 12, 0, 0, 0, "", &t), PLM_OK);
    struct tm lt;
    time_t u = (time_t)t.utc_s;
    localtime_r(&u, &lt);
    assert_int_equal(lt.tm_hour, 12);
    if (old) setenv("TZ", old, 1);
    free(old);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(iso_with_offsets),
        cmocka_unit_test(iso_rejects_garbage),
        cmocka_unit_test(local_times_in_a_zone),
        cmocka_unit_test(zones_are_checked),
        cmocka_unit_test(tspec_parsing),
        cmocka_unit_test(clock_times_across_clock_changes),
        cmocka_unit_test(clock_time_rules),
        cmocka_unit_test(conversions_beside_environment_readers),
    };
    return cmocka_run_group_tests_name("timeutil", tests, NULL, NULL);
}
