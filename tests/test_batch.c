/* test_batch.c -- the study batch as a library call (plm/batch.h): the parameter table covers every
 * member of plm_process_cfg, conditions are checked with a did-you-mean, results do not depend on the
 * number of workers, another manifest's results are not replaced without force, and temporary files
 * of killed runs are removed and counted. */
#include "testlib.h"
#include <signal.h>
#include "plm/plm.h"

static const char *dir;
static char study[400];

static int setup(void **state)
{
    (void)state;
    dir = tl_tmpdir();
    if (!dir) return -1;
    snprintf(study, sizeof study, "%s/study", dir);
    plm_sim_cfg c = plm_sim_cfg_default();
    c.subjects = 2;
    c.fs_hz = 10;
    c.seed = 77;
    return plm_simulate_study(&c, study, NULL, NULL) == PLM_OK ? 0 : -1;
}

static int by_offset(const void *a, const void *b)
{
    const plm_param *x = *(const plm_param *const *)a, *y = *(const plm_param *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* No member of plm_process_cfg is missing from plm_params: sorted by offset, the members tile the
 * struct with only alignment padding between them (a gap as large as the next member's alignment
 * would hold a member nobody listed). Names are unique; enums are int-sized. */
static void parameter_table_covers_every_member(void **state)
{
    (void)state;
    const plm_param *v[256];
    assert_true(plm_nparams < 256);
    for (size_t i = 0; i < plm_nparams; i++) v[i] = &plm_params[i];
    qsort(v, plm_nparams, sizeof *v, by_offset);
    size_t end = 0;
    for (size_t i = 0; i < plm_nparams; i++) {
        size_t elem = v[i]->size / (size_t)v[i]->count, align = elem > 8 ? 8 : elem;
        if (v[i]->offset < end) fail_msg("%s overlaps the member before it", v[i]->name);
        if (v[i]->offset - end >= align)
            fail_msg("%zu bytes before %s are in no parameter: a member is missing from plm_params",
                     v[i]->offset - end, v[i]->name);
        end = v[i]->offset + v[i]->size;
        if (v[i]->type == PLM_PARAM_ENUM) assert_int_equal(v[i]->size, sizeof(int));
        for (size_t j = 0; j < i; j++) assert_string_not_equal(v[i]->name, v[j]->name);
    }
    assert_true(sizeof(plm_process_cfg) - end < 8);
    /* the two the hand-kept list lacked */
    int weights = 0, resp = 0;
    for (size_t i = 0; i < plm_nparams; i++) {
        weights |= !strcmp(plm_params[i].name, "param.sleep.ck_weights") && plm_params[i].count == 7;
        resp |= !strcmp(plm_params[i].name, "param.score.resp_rule");
    }
    assert_true(weights && resp);
}

static void fingerprint_follows_the_parameters(void **state)
{
    (void)state;
    plm_process_cfg a = plm_process_cfg_default(), b = a;
    char fa[65], fb[65];
    plm_params_fingerprint(&a, fa);
    b.read.block_frames = 1000; /* does not change results */
    plm_params_fingerprint(&b, fb);
    assert_string_equal(fa, fb);
    b.night.ck.weights[3] *= 1.01;
    plm_params_fingerprint(&b, fb);
    assert_string_not_equal(fa, fb);
    b = a;
    b.night.score.resp_rule = PLM_RESP_AROUND;
    plm_params_fingerprint(&b, fb);
    assert_string_not_equal(fa, fb);
    b = a;
    b.detect.tilt_factor += 0.5;
    plm_params_fingerprint(&b, fb);
    assert_string_not_equal(fa, fb);
}

/* A copy of the study's manifest with the condition of data row `row` (1-based) replaced. */
static const char *manifest_with(const char *name, int row, const char *cond)
{
    static char path[700];
    char src[700], line[4096];
    snprintf(src, sizeof src, "%s/manifest.csv", study);
    snprintf(path, sizeof path, "%s/%s", study, name);
    FILE *in = fopen(src, "r"), *out = fopen(path, "w");
    assert_non_null(in);
    assert_non_null(out);
    for (int k = 0; fgets(line, sizeof line, in); k++) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (k == row && c2) fprintf(out, "%.*s,%s%s", (int)(c1 - line), line, cond, c2);
        else fputs(line, out);
    }
    fclose(in);
    fclose(out);
    return path;
}

static void unknown_conditions_are_refused_with_a_suggestion(void **state)
{
    (void)state;
    plm_batch_cfg c = plm_batch_cfg_default();
    plm_batch_result r;
    const char *out = tl_path(dir, "never.h5");
    assert_int_equal(plm_batch_run(manifest_with("typo.csv", 2, "magnesum"), out, &c, NULL, NULL, &r), PLM_EFORMAT);
    assert_contains(plm_last_error(), "typo.csv:3: condition 'magnesum' is neither the control 'control' nor the "
                                      "treatment 'magnesium' (did you mean 'magnesium'?)");
    assert_contains(plm_last_error(), "conditions found: 'control' (2 rows), 'magnesum' (1 row), 'magnesium' (1 row)");
    assert_int_equal(access(out, F_OK), -1); /* nothing was processed or written */
    assert_int_equal(plm_batch_run(manifest_with("case.csv", 1, "Control"), out, &c, NULL, NULL, &r), PLM_EFORMAT);
    assert_contains(plm_last_error(), "case.csv:2: condition 'Control'");
    assert_contains(plm_last_error(), "(did you mean 'control'?)");
    /* a far-off name is a third arm, allowed (not compared); a study without treatment rows gets a note */
    const char *pl = manifest_with("placebo.csv", 2, "placebo");
    plm_manifest m;
    char note[1300];
    assert_int_equal(plm_manifest_read(pl, &m), PLM_OK);
    assert_int_equal(plm_batch_check_conditions(&m, &c.study, note, sizeof note), PLM_OK);
    assert_string_equal(note, "");
    c.study.treatment = "verum";
    assert_int_equal(plm_batch_check_conditions(&m, &c.study, note, sizeof note), PLM_OK);
    assert_contains(note, "placebo.csv: no 'verum' rows, so no comparison will be made; conditions found: 'control' (2 rows), "
                          "'placebo' (1 row), 'magnesium' (1 row)");
    c.study.treatment = "Placebo"; /* now 'placebo' reads as its misspelling */
    assert_int_equal(plm_batch_check_conditions(&m, &c.study, note, sizeof note), PLM_EFORMAT);
    assert_contains(plm_last_error(), "placebo.csv:3: condition 'placebo' is neither the control 'control' nor the "
                                      "treatment 'Placebo' (did you mean 'Placebo'?)");
    plm_manifest_clear(&m);
}

typedef struct {
    size_t calls, last_index;
    int in_order, plan;
} seen;

static void count_rows(void *user, const plm_batch_event *ev)
{
    seen *s = user;
    if (!ev->index) { /* the plan comes first, once */
        s->in_order &= !s->calls && !s->plan++ && ev->total == 4 && !ev->note;
        return;
    }
    s->in_order &= ev->index == s->last_index + 1 && ev->total == 4 && !ev->failed && ev->res;
    s->last_index = ev->index;
    s->calls++;
}

static void results_do_not_depend_on_workers(void **state)
{
    (void)state;
    plm_batch_cfg c = plm_batch_cfg_default();
    plm_batch_result r1, r3;
    seen s = {0, 0, 1, 0};
    const char *o1 = tl_path(dir, "j1.h5"), *o3 = tl_path(dir, "j3.h5");
    c.jobs = 1;
    assert_int_equal(plm_batch_run(study, o1, &c, count_rows, &s, &r1), PLM_OK);
    assert_int_equal(s.calls, 4);
    assert_true(s.in_order && s.plan == 1);
    c.jobs = 3;
    assert_int_equal(plm_batch_run(study, o3, &c, NULL, NULL, &r3), PLM_OK);
    assert_int_equal(r1.total, 4);
    assert_int_equal(r1.failed, 0);
    /* 2 subjects with both conditions: paired statistics exist */
    assert_true(r1.have_study);
    assert_true(r1.study.paired);
    assert_true(r1.study.n > 0);
    plm_night *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    assert_int_equal(plm_store_read_nights(o1, &a, &na), PLM_OK);
    assert_int_equal(plm_store_read_nights(o3, &b, &nb), PLM_OK);
    assert_int_equal(na, 4);
    assert_int_equal(nb, 4);
    for (size_t i = 0; i < na; i++) {
        assert_string_equal(a[i].recording, b[i].recording);
        for (size_t k = 0; k < plm_night_nfields; k++)
            if (plm_night_fields[k].type != PLM_NF_STR) {
                double x = plm_night_number(&a[i], &plm_night_fields[k]), y = plm_night_number(&b[i], &plm_night_fields[k]);
                assert_true((isnan(x) && isnan(y)) || x == y);
            }
    }
    assert_int_equal(a[0].plm_count > 0, 1);
    plm_nights_free(a, na);
    plm_nights_free(b, nb);
    /* provenance: the parameters the hand-kept list lacked are written */
    char v[128];
    assert_int_equal(plm_store_read_attr_str(o1, "/", "param.score.resp_rule", v, sizeof v), PLM_OK);
    assert_string_equal(v, "after_end");
    assert_int_equal(plm_store_read_attr_str(o1, "/", "param.sleep.algorithm", v, sizeof v), PLM_OK);
    assert_string_equal(v, "cole-kripke");
    plm_batch_result_clear(&r1);
    plm_batch_result_clear(&r3);
}

static void another_manifest_is_not_replaced_and_stale_files_go(void **state)
{
    (void)state;
    plm_batch_cfg c = plm_batch_cfg_default();
    plm_batch_result r;
    const char *out = tl_path(dir, "guard.h5");
    assert_int_equal(plm_batch_run(study, out, &c, NULL, NULL, &r), PLM_OK);
    plm_batch_result_clear(&r);
    struct stat before, after;
    assert_int_equal(stat(out, &before), 0);
    /* the same manifest again: replaced without asking */
    assert_int_equal(plm_batch_run(study, out, &c, NULL, NULL, &r), PLM_OK);
    plm_batch_result_clear(&r);
    /* a different manifest (one row dropped): refused, the file untouched */
    char other[700], line[4096];
    snprintf(other, sizeof other, "%s/other.csv", study);
    FILE *in = fopen(tl_path(study, "manifest.csv"), "r"), *o = fopen(other, "w");
    for (int k = 0; fgets(line, sizeof line, in); k++)
        if (k != 4) fputs(line, o);
    fclose(in);
    fclose(o);
    assert_int_equal(stat(out, &before), 0);
    assert_int_equal(plm_batch_run(other, out, &c, NULL, NULL, &r), PLM_EINVAL);
    assert_contains(plm_last_error(), "guard.h5: holds the results of another manifest");
    assert_contains(plm_last_error(), "manifest.csv");
    assert_contains(plm_last_error(), "--force");
    assert_int_equal(stat(out, &after), 0);
    assert_true(before.st_ino == after.st_ino && before.st_mtime == after.st_mtime);
    /* temporary files of a dead process go (and are counted), those of a live one stay */
    long dead = 999999;
    while (kill((pid_t)dead, 0) == 0) dead--;
    char t1[800], t2[800], live[800];
    snprintf(t1, sizeof t1, "%s.tmp-%ld-0", out, dead);
    snprintf(t2, sizeof t2, "%s.part.S01_control_n1.tmp-%ld-3", out, dead);
    snprintf(live, sizeof live, "%s.tmp-%ld-9", out, (long)getpid());
    tl_write_text(t1, "x");
    tl_write_text(t2, "x");
    tl_write_text(live, "x");
    c.force = 1;
    assert_int_equal(plm_batch_run(other, out, &c, NULL, NULL, &r), PLM_OK);
    assert_int_equal(r.stale_removed, 2);
    assert_int_equal(r.total, 3);
    assert_int_equal(access(t1, F_OK), -1);
    assert_int_equal(access(t2, F_OK), -1);
    assert_int_equal(access(live, F_OK), 0);
    unlink(live);
    plm_batch_result_clear(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parameter_table_covers_every_member),
        cmocka_unit_test(fingerprint_follows_the_parameters),
        cmocka_unit_test(unknown_conditions_are_refused_with_a_suggestion),
        cmocka_unit_test(results_do_not_depend_on_workers),
        cmocka_unit_test(another_manifest_is_not_replaced_and_stale_files_go),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
