/* test_sleepwake.c -- Cole-Kripke and Webster against scikit-digital-health's golden data
 * (../shared/data/sleepwake/test_activity_index.h5), read with HDF5's own API; Sadeh and
 * Oakley on hand-computed cases. */
#include "testlib.h"
#include <hdf5.h>
#include "plm/plm.h"

static double *read_1d(hid_t f, const char *name, size_t *n)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    assert_true(d >= 0);
    hid_t s = H5Dget_space(d);
    hsize_t dims[2] = {0, 1};
    int nd = H5Sget_simple_extent_dims(s, dims, NULL);
    *n = (size_t)dims[0] * (nd > 1 ? (size_t)dims[1] : 1);
    double *v = malloc(*n * sizeof *v);
    assert_true(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Sclose(s);
    H5Dclose(d);
    return v;
}

static void golden_cole_kripke_and_webster(void **state)
{
    (void)state;
    const char *p = tl_shared("sleepwake/test_activity_index.h5");
    if (!p) {
        print_message("skip: ../shared/data/sleepwake/test_activity_index.h5 not present\n");
        skip();
    }
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    size_t n, ne, nr;
    double *ai = read_1d(f, "test_ai/values", &n), *exp = read_1d(f, "expected_output/block0_values", &ne),
           *resc = read_1d(f, "expected_output_rescored/block0_values", &nr);
    H5Fclose(f);
    assert_int_equal(n, 1439);
    assert_int_equal(ne, n);
    uint8_t *s = malloc(n);
    plm_ck_cfg c = plm_ck_cfg_default();
    assert_int_equal(plm_cole_kripke(ai, n, &c, s), PLM_OK);
    size_t diff = 0, sleep = 0;
    for (size_t i = 0; i < n; i++) {
        diff += s[i] != (uint8_t)(1 - exp[i]); /* the file stores 1 - sleep */
        sleep += s[i];
    }
    print_message("Cole-Kripke: %zu of %zu epochs differ from the golden output (%zu sleep)\n", diff, n, sleep);
    assert_int_equal(diff, 0);
    plm_webster_rescore(s, n, 0);
    assert_int_equal(nr, 540);
    diff = 0;
    for (size_t i = 0; i < nr; i++) diff += s[570 + i] != (uint8_t)(1 - resc[i]); /* golden: epochs 570-1109 */
    print_message("Webster: %zu of %zu epochs differ\n", diff, nr);
    assert_int_equal(diff, 0);
    free(ai);
    free(exp);
    free(resc);
    free(s);
}

static void webster_rules_by_hand(void **state)
{
    (void)state;
    /* 4 wake then sleep: one epoch rescored; 3 wake: none */
    uint8_t a[12] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}, b[12] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    plm_webster_rescore(a, 12, 1);
    plm_webster_rescore(b, 12, 1);
    assert_int_equal(a[4], 0);
    assert_int_equal(a[5], 1);
    assert_int_equal(b[3], 1);
    /* 15 wake: the next 4 become wake */
    uint8_t c[30] = {0};
    for (int i = 15; i < 30; i++) c[i] = 1;
    plm_webster_rescore(c, 30, 1);
    for (int i = 15; i < 19; i++) assert_int_equal(c[i], 0);
    assert_int_equal(c[19], 1);
    /* 15 wake, 6 sleep, 15 wake: rules a-c leave 2 sleep epochs, rule d removes them;
     * 15 wake, 11 sleep, 15 wake: 7 remain (> 6, and 19 < 20 wake before): kept */
    uint8_t d[48] = {0}, e[48] = {0};
    for (int i = 15; i < 21; i++) d[i] = 1;
    for (int i = 15; i < 26; i++) e[i] = 1;
    plm_webster_rescore(d, 36, 1);
    plm_webster_rescore(e, 41, 1);
    for (int i = 15; i < 21; i++) assert_int_equal(d[i], 0);
    for (int i = 19; i < 26; i++) assert_int_equal(e[i], 1);
    uint8_t g[40] = {0};
    for (int i = 15; i < 21; i++) g[i] = 1;
    plm_webster_rescore(g, 36, 0); /* without d-e only the first 4 are rescored */
    assert_int_equal(g[19], 1);
}

static void sadeh_and_oakley_by_hand(void **state)
{
    (void)state;
    /* zero activity: PS = 7.601 -> sleep; 200 counts everywhere: PS = 7.601 - 13 - 0 - 0 - 0.703 ln 201 < 0 -> wake */
    double z[20] = {0}, hi[20];
    for (int i = 0; i < 20; i++) hi[i] = 200;
    uint8_t s[20];
    plm_sadeh(z, 20, s);
    for (int i = 0; i < 20; i++) assert_int_equal(s[i], 1);
    plm_sadeh(hi, 20, s);
    for (int i = 0; i < 20; i++) assert_int_equal(s[i], 0);
    /* one epoch of 15 counts: 2 x 15 = 30 > 20 wake at medium-low threshold, sleep at 40 */
    double one[9] = {0, 0, 0, 0, 15, 0, 0, 0, 0};
    plm_oakley(one, 9, 20, s);
    assert_int_equal(s[4], 0);
    assert_int_equal(s[3], 1); /* 0.2 x 15 = 3 */
    plm_oakley(one, 9, 40, s);
    assert_int_equal(s[4], 1);
    assert_int_equal(plm_oakley(one, 9, 0, s), PLM_EINVAL);
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(golden_cole_kripke_and_webster),
        cmocka_unit_test(webster_rules_by_hand),
        cmocka_unit_test(sadeh_and_oakley_by_hand),
    };
    return cmocka_run_group_tests_name("sleepwake", tests, NULL, NULL);
}
