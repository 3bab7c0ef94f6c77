/* test_store.c -- HDF5 store: unwritable outputs, atomic replace, recording groups.
 * The layout itself is checked independently with h5py (scripts/check_layout.py). */
#include "testlib.h"
#include <dirent.h>
#include <hdf5.h>
#include "plm/plm.h"

static const char *dir;

static int setup(void **state)
{
    (void)state;
    dir = tl_tmpdir();
    return dir ? 0 : -1;
}

static long file_size(const char *p)
{
    struct stat sb;
    return stat(p, &sb) == 0 ? (long)sb.st_size : -1;
}

static int count_tmp_files(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp-")) n++;
    closedir(d);
    return n;
}

static hsize_t rows(const char *file, const char *dset)
{
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    assert_true(f >= 0);
    hid_t d = H5Dopen2(f, dset, H5P_DEFAULT);
    if (d < 0) {
        H5Fclose(f);
        return (hsize_t)-1;
    }
    hid_t s = H5Dget_space(d);
    hsize_t n = 0;
    H5Sget_simple_extent_dims(s, &n, NULL);
    H5Sclose(s);
    H5Dclose(d);
    H5Fclose(f);
    return n;
}

static void unwritable_outputs(void **state)
{
    (void)state;
    plm_store *s = NULL;
    assert_int_equal(plm_store_create("/nonexistent-dir/results.h5", &s), PLM_EIO);
    assert_null(s);
    assert_contains(plm_last_error(), "/nonexistent-dir/results.h5: cannot write results here: No such file or directory");
    const char *file = tl_path(dir, "plain-file");
    tl_write_text(file, "x");
    char p[600];
    snprintf(p, sizeof p, "%s/results.h5", file);
    assert_int_equal(plm_store_create(p, &s), PLM_EIO);
    assert_contains(plm_last_error(), "cannot write results here: Not a directory");
    plm_store_destroy(NULL);
}

static void one_night(plm_store *s, const char *id)
{
    plm_night n;
    plm_night_init(&n, id, "S1", "control", 1);
    assert_true(isnan(n.plms_index));
    assert_int_equal(n.plm_count, -1);
    assert_int_equal(plm_store_add_night(s, &n), PLM_OK);
}

static void commit_replaces_atomically(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "results.h5");
    plm_store *s = NULL;
    assert_int_equal(plm_store_create(p, &s), PLM_OK);
    one_night(s, "a");
    assert_int_equal(plm_store_add_failure(s, "b", "b.wav", "b.wav: empty file (0 bytes)"), PLM_OK);
    assert_int_equal(plm_store_commit(s), PLM_OK);
    assert_int_equal(rows(p, "/nights"), 1);
    assert_int_equal(rows(p, "/failures"), 1);
    assert_int_equal(rows(p, "/stats"), 0);
    long before = file_size(p);
    /* a second run that never commits leaves the first file exactly as it was */
    assert_int_equal(plm_store_create(p, &s), PLM_OK);
    for (int i = 0; i < 50; i++) one_night(s, "c");
    assert_int_equal(count_tmp_files(), 1);
    plm_store_destroy(s);
    assert_int_equal(count_tmp_files(), 0);
    assert_int_equal(file_size(p), before);
    assert_int_equal(rows(p, "/nights"), 1);
    /* a committed second run replaces it */
    assert_int_equal(plm_store_create(p, &s), PLM_OK);
    one_night(s, "x");
    one_night(s, "y");
    assert_int_equal(plm_store_commit(s), PLM_OK);
    assert_int_equal(rows(p, "/nights"), 2);
    assert_int_equal(rows(p, "/failures"), 0);
    assert_int_equal(count_tmp_files(), 0);
}

static void recording_groups(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "groups.h5");
    plm_store *s = NULL;
    plm_store_rec *r = NULL;
    assert_int_equal(plm_store_create(p, &s), PLM_OK);
    assert_int_equal(plm_store_recording_begin(s, "n1", &r), PLM_OK);
    plm_activity_row a[3] = {{0, 0.1, NAN}, {1, 0.2, NAN}, {2, 0.3, NAN}};
    assert_int_equal(plm_store_rec_append_activity(r, a, 3), PLM_OK);
    assert_int_equal(plm_store_rec_append_activity(r, a, 2), PLM_OK);
    plm_lm_row lm = {.onset_s = 10, .offset_s = 11.5, .leg = PLM_LEG_BOTH};
    assert_int_equal(plm_store_rec_write_lm(r, &lm, 1), PLM_OK);
    assert_int_equal(plm_store_rec_write_epochs(r, NULL, 0), PLM_OK);
    assert_int_equal(plm_store_recording_end(r), PLM_OK);
    assert_int_equal(plm_store_attr_f64(s, "/recordings/n1", "fs_hz", 50), PLM_OK);
    plm_store_rec *dup = NULL;
    assert_int_equal(plm_store_recording_begin(s, "n1", &dup), PLM_EINVAL);
    assert_contains(plm_last_error(), "recording 'n1' is already in the results");
    assert_int_equal(plm_store_recording_begin(s, "a/b", &dup), PLM_EINVAL);
    assert_int_equal(plm_store_recording_begin(s, "gone", &r), PLM_OK);
    assert_int_equal(plm_store_rec_append_activity(r, a, 3), PLM_OK);
    plm_store_recording_abort(r); /* a failed recording leaves nothing behind */
    assert_int_equal(plm_store_commit(s), PLM_OK);
    assert_int_equal(rows(p, "/recordings/n1/activity"), 5);
    assert_int_equal(rows(p, "/recordings/n1/lm"), 1);
    assert_int_equal(rows(p, "/recordings/n1/epochs"), 0);
    assert_int_equal(rows(p, "/recordings/gone/activity"), (hsize_t)-1);
}

/* Every field of plm_night_fields goes into /nights and comes back with its value: the HDF5 type,
 * the reader and the table agree, whatever is added to the table. Values are distinct per field. */
static void every_nights_field_round_trips(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "fields.h5");
    static const char *const texts[] = {"rec-1", "S07", "magnesium", "", "", "", "", "", "", "", "", "", "", "", "",
                                        "", "", "", "estimated", "actigraphy", "", "", "", ""};
    plm_night n;
    plm_night_init(&n, NULL, NULL, NULL, 0);
    for (size_t k = 0; k < plm_night_nfields; k++) {
        const plm_night_field *f = &plm_night_fields[k];
        char *m = (char *)&n + f->offset;
        if (f->type == PLM_NF_STR) *(const char **)m = k < 24 && *texts[k] ? texts[k] : "t";
        else if (f->type == PLM_NF_I32) *(int32_t *)m = (int32_t)(3 * k + 1);
        else *(double *)m = 0.1 + (double)k / 7;
        assert_ptr_equal(plm_night_field_find(f->name), f);
    }
    plm_store *s = NULL;
    assert_int_equal(plm_store_create(p, &s), PLM_OK);
    assert_int_equal(plm_store_add_night(s, &n), PLM_OK);
    assert_int_equal(plm_store_commit(s), PLM_OK);
    plm_night *back = NULL;
    size_t nb = 0;
    assert_int_equal(plm_store_read_nights(p, &back, &nb), PLM_OK);
    assert_int_equal(nb, 1);
    for (size_t k = 0; k < plm_night_nfields; k++) {
        const plm_night_field *f = &plm_night_fields[k];
        if (f->type == PLM_NF_STR) assert_string_equal(plm_night_text(back, f), plm_night_text(&n, f));
        else assert_true(plm_night_number(back, f) == plm_night_number(&n, f));
    }
    assert_string_equal(back->subject, "S07");
    assert_string_equal(back->sleep_source, "actigraphy");
    plm_nights_free(back, nb);
    /* an unknown count reads as NaN; the default study outcomes, in their documented order */
    plm_night_init(&n, "r", "s", "c", 1);
    assert_true(isnan(plm_night_number(&n, plm_night_field_find("plm_count"))));
    assert_string_equal(plm_night_text(&n, plm_night_field_find("lights_source")), "");
    const char *d[16];
    static const char *const want[] = {"plms_index", "plms_a_index", "plmw_index", "plm_tib_index", "se_pct",
                                       "tst_h",      "sol_min",      "waso_min",   "lm_index",      "periodicity_index"};
    assert_int_equal(plm_study_default_outcomes(d, 16), 10);
    for (size_t i = 0; i < 10; i++) assert_string_equal(d[i], want[i]);
    assert_true(plm_outcome_needs_sleep("se_pct"));
    assert_false(plm_outcome_needs_sleep("plm_tib_index"));
    assert_true(plm_outcome_needs_sleep("plms_rem_index"));
}

int main(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unwritable_outputs),
        cmocka_unit_test(commit_replaces_atomically),
        cmocka_unit_test(recording_groups),
        cmocka_unit_test(every_nights_field_round_trips),
    };
    return cmocka_run_group_tests_name("store", tests, setup, NULL);
}
