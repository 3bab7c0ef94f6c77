/* test_csv.c -- RFC 4180 records: quotes, escapes, newlines in fields, BOM, CRLF, errors. */
#include "testlib.h"
#include "plm/plm.h"

static plm_csv *open_text(const char *text)
{
    plm_csv *c = NULL;
    assert_int_equal(plm_csv_open_mem(text, strlen(text), "mem.csv", &c), PLM_OK);
    return c;
}

static void quoted_fields_and_escapes(void **state)
{
    (void)state;
    plm_csv *c = open_text("\xEF\xBB\xBF" "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n\r\n,,last\n");
    char **f;
    size_t n, line;
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_OK);
    assert_int_equal(n, 3);
    assert_int_equal(line, 1);
    assert_string_equal(f[0], "a"); /* BOM stripped */
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_OK);
    assert_int_equal(line, 2);
    assert_int_equal(n, 3);
    assert_string_equal(f[0], "x, y");
    assert_string_equal(f[1], "say \"hi\"");
    assert_string_equal(f[2], "two\nlines");
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_OK); /* blank line skipped */
    assert_int_equal(line, 5);
    assert_int_equal(n, 3);
    assert_string_equal(f[0], "");
    assert_string_equal(f[1], "");
    assert_string_equal(f[2], "last");
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_ENODATA);
    plm_csv_destroy(c);
}

static void no_final_newline_and_empty_input(void **state)
{
    (void)state;
    plm_csv *c = open_text("h1,h2\n1,2");
    char **f;
    size_t n, line;
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_OK);
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_OK);
    assert_string_equal(f[1], "2");
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_ENODATA);
    plm_csv_destroy(c);
    c = open_text("");
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_ENODATA);
    plm_csv_destroy(c);
}

static void malformed_records_name_the_line(void **state)
{
    (void)state;
    char **f;
    size_t n, line;
    plm_csv *c = open_text("a,b\n1,\"open\n2,3\n");
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_OK);
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_EFORMAT);
    assert_contains(plm_last_error(), "mem.csv:2: unterminated quoted field");
    plm_csv_destroy(c);
    c = open_text("a,b\n\"x\"y,2\n");
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_OK);
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_EFORMAT);
    assert_contains(plm_last_error(), "mem.csv:2: text after a closing quote");
    plm_csv_destroy(c);
    c = open_text("a,b\nx\"y,2\n");
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_OK);
    assert_int_equal(plm_csv_next(c, &f, &n, &line), PLM_EFORMAT);
    assert_contains(plm_last_error(), "mem.csv:2: quote inside an unquoted field");
    plm_csv_destroy(c);
}

static void missing_file(void **state)
{
    (void)state;
    plm_csv *c = NULL;
    assert_int_equal(plm_csv_open("/nonexistent/manifest.csv", &c), PLM_EIO);
    assert_null(c);
    assert_contains(plm_last_error(), "/nonexistent/manifest.csv: cannot open: No such file");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(quoted_fields_and_escapes),
        cmocka_unit_test(no_final_newline_and_empty_input),
        cmocka_unit_test(malformed_records_name_the_line),
        cmocka_unit_test(missing_file),
    };
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
