/* test_status.c -- every status code has its own message; the detail message works. */
#include "testlib.h"
#include "plm/plm.h"
#include "../pipeline/internal.h"

static void every_code_has_a_distinct_string(void **state)
{
    (void)state;
    for (int i = 0; i < PLM_STATUS_COUNT; i++) {
        const char *s = plm_strerror((plm_status)i);
        assert_non_null(s);
        assert_string_not_equal(s, "unknown status");
        for (int j = 0; j < i; j++) assert_string_not_equal(s, plm_strerror((plm_status)j));
    }
    assert_string_equal(plm_strerror(PLM_STATUS_COUNT), "unknown status");
    assert_string_equal(plm_strerror((plm_status)-1), "unknown status");
}

static void detail_message_and_prefix(void **state)
{
    (void)state;
    plm_clear_error();
    assert_string_equal(plm_last_error(), "");
    assert_int_equal(plm__fail(PLM_EINVAL, "fs_hz=%d must be > 0", -3), PLM_EINVAL);
    assert_string_equal(plm_last_error(), "fs_hz=-3 must be > 0");
    plm__error_prefix("night.wav");
    assert_string_equal(plm_last_error(), "night.wav: fs_hz=-3 must be > 0");
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    plm__fail(PLM_EIO, "%s", big); /* truncated, never overflowing */
    plm__error_prefix("p");
    assert_true(strlen(plm_last_error()) < 1024);
    assert_true(!strncmp(plm_last_error(), "p: xxx", 6));
}

static void version_is_set(void **state)
{
    (void)state;
    assert_string_equal(plm_version(), PLM_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code_has_a_distinct_string),
        cmocka_unit_test(detail_message_and_prefix),
        cmocka_unit_test(version_is_set),
    };
    return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
