/* study.c -- nights table -> per-subject means -> paired (or Welch) comparison per outcome. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/csv.h"
#include "plm/nights.h"
#include "plm/study.h"
#include "internal.h"

size_t plm_study_default_outcomes(const char **out, size_t max)
{
    size_t n = 0;
    for (int rank = 1; n < max; rank++) {
        size_t k = 0;
        while (k < plm_night_nfields && plm_night_fields[k].study_rank != rank) k++;
        if (k == plm_night_nfields) break;
        out[n++] = plm_night_fields[k].name;
    }
    return n;
}

static int is_primary(const char *outcome)
{
    const plm_night_field *f = plm_night_field_find(outcome);
    return f && (f->flags & PLM_NF_PRIMARY);
}

plm_study_cfg plm_study_cfg_default(void)
{
    plm_study_cfg c = {.control = "control", .treatment = "magnesium", .design = PLM_DESIGN_AUTO,
                       .first_night_only = 0, .stats = plm_stats_cfg_default(), .outcomes = NULL, .noutcomes = 0};
    return c;
}

void plm_table_clear(plm_table *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nrows; i++) {
        free(t->subject[i]);
        free(t->condition[i]);
    }
    for (size_t j = 0; j < t->ncols; j++) free(t->names[j]);
    free(t->subject);
    free(t->condition);
    free(t->night);
    free(t->line);
    free(t->names);
    free(t->values);
    memset(t, 0, sizeof *t);
}

static int parse_value(const char *s, double *v)
{
    while (isspace((unsigned char)*s)) s++;
    if (!*s || !strcasecmp(s, "nan") || !strcasecmp(s, "na")) {
        *v = NAN;
        return 1;
    }
    char *end;
    *v = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    return end != s && !*end;
}

plm_status plm_table_read_csv(const char *path, plm_table *t)
{
    memset(t, 0, sizeof *t);
    plm_csv *c = NULL;
    plm_status st = plm_csv_open(path, &c);
    if (st) return st;
    char **f;
    size_t nf, line;
    int *map = NULL;
    int cs = -1, cc = -1, cn = -1, css = -1;
    t->sleep_estimated = -1;
    if ((st = plm_csv_next(c, &f, &nf, &line))) {
        if (st == PLM_ENODATA) st = plm__fail(PLM_EFORMAT, "%s: empty file", path);
        goto fail;
    }
    size_t ncol = nf;
    map = malloc(ncol * sizeof *map);
    t->names = calloc(ncol, sizeof *t->names);
    if (!map || !t->names) {
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < nf; i++) {
        map[i] = -1;
        if (!strcmp(f[i], "subject")) cs = (int)i;
        else if (!strcmp(f[i], "condition")) cc = (int)i;
        else if (!strcmp(f[i], "night")) cn = (int)i;
        else if (!strcmp(f[i], "sleep_source")) css = (int)i;
        else if (!plm_night_field_find(f[i]) || plm_night_field_find(f[i])->type != PLM_NF_STR) {
            /* the text columns of /nights are not outcomes */
            map[i] = (int)t->ncols;
            t->names[t->ncols++] = plm__strdup(f[i]);
        }
    }
    if (cs < 0 || cc < 0) {
        st = plm__fail(PLM_EFORMAT, "%s:%zu: needs columns subject and condition", path, line);
        goto fail;
    }
    size_t cap = 0;
    while ((st = plm_csv_next(c, &f, &nf, &line)) == PLM_OK) {
        if (nf != ncol) {
            st = plm__fail(PLM_EFORMAT, "%s:%zu: %zu fields, the header has %zu", path, line, nf, ncol);
            goto fail;
        }
        if (t->nrows == cap) { /* five arrays of one capacity */
            size_t need = t->nrows + 1, c1 = cap, c2 = cap, c3 = cap, c4 = cap;
            if (!plm__grow((void **)&t->subject, &c1, need, sizeof *t->subject, 64) ||
                !plm__grow((void **)&t->condition, &c2, need, sizeof *t->condition, 64) ||
                !plm__grow((void **)&t->night, &c3, need, sizeof *t->night, 64) ||
                !plm__grow((void **)&t->line, &c4, need, sizeof *t->line, 64) ||
                !plm__grow((void **)&t->values, &cap, need, (t->ncols ? t->ncols : 1) * sizeof *t->values, 64)) {
                st = plm__fail(PLM_ENOMEM, "out of memory");
                goto fail;
            }
        }
        size_t r = t->nrows;
        t->subject[r] = plm__strdup(f[cs]);
        t->condition[r] = plm__strdup(f[cc]);
        t->nrows++;
        t->night[r] = cn >= 0 ? atoi(f[cn]) : 1;
        t->line[r] = line;
        if (css >= 0) t->sleep_estimated = (t->sleep_estimated < 0 ? 0 : t->sleep_estimated) + !strcmp(f[css], "actigraphy");
        for (size_t i = 0; i < nf; i++) {
            if (map[i] < 0) continue;
            double v;
            if (!parse_value(f[i], &v)) {
                st = plm__fail(PLM_EFORMAT, "%s:%zu: '%s' in column %s is not a number", path, line, f[i], t->names[map[i]]);
                goto fail;
            }
            t->values[r * t->ncols + (size_t)map[i]] = v;
        }
    }
    if (st != PLM_ENODATA) goto fail;
    plm_csv_destroy(c);
    free(map);
    return PLM_OK;
fail:
    plm_csv_destroy(c);
    free(map);
    plm_table_clear(t);
    return st;
}

void plm_study_result_clear(plm_study_result *r)
{
    if (!r) return;
    free(r->v);
    memset(r, 0, sizeof *r);
}

/* Mean of outcome column j over the nights of subject s in condition cond (NaN if none). */
static double subject_mean(const plm_table *t, const char *s, const char *cond, size_t j, int first_only)
{
    double sum = 0;
    int n = 0, best_night = 1 << 30;
    for (size_t i = 0; i < t->nrows; i++)
        if (!strcmp(t->subject[i], s) && !strcmp(t->condition[i], cond) && t->night[i] < best_night)
            best_night = t->night[i];
    for (size_t i = 0; i < t->nrows; i++) {
        if (strcmp(t->subject[i], s) || strcmp(t->condition[i], cond)) continue;
        if (first_only && t->night[i] != best_night) continue;
        double v = t->values[i * t->ncols + j];
        if (!isfinite(v)) continue;
        sum += v;
        n++;
    }
    return n ? sum / n : NAN;
}

static int has_condition(const plm_table *t, const char *s, const char *cond)
{
    for (size_t i = 0; i < t->nrows; i++)
        if (!strcmp(t->subject[i], s) && !strcmp(t->condition[i], cond)) return 1;
    return 0;
}

int plm_outcome_needs_sleep(const char *o)
{
    static const char *const score_only[] = {"plms_nrem_index", "plms_rem_index"}; /* actiplm score's extra columns */
    const plm_night_field *f = plm_night_field_find(o);
    if (f) return (f->flags & PLM_NF_NEEDS_SLEEP) != 0;
    for (size_t i = 0; i < sizeof score_only / sizeof *score_only; i++)
        if (!strcmp(o, score_only[i])) return 1;
    return 0;
}

/* Levenshtein distance of a and b, letters compared without case (names over 63 bytes: 99). */
static int distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 63 || nb > 63) return 99;
    int d[64][64];
    for (size_t i = 0; i <= na; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= nb; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= na; i++)
        for (size_t j = 1; j <= nb; j++) {
            int v = d[i - 1][j - 1] + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
            if (d[i - 1][j] + 1 < v) v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v) v = d[i][j - 1] + 1;
            d[i][j] = v;
        }
    return d[na][nb];
}

/* The known name that c looks like a misspelling of (same letters in another case, or at most
 * 2 edits away for names of 6 letters or more, 1 for shorter ones), or NULL. */
static const char *misspelling_of(const char *c, const plm_study_cfg *cfg)
{
    const char *known[2] = {cfg->control, cfg->treatment};
    for (int k = 0; k < 2; k++) {
        if (!strcmp(c, known[k])) return NULL;
        int d = distance(c, known[k]), lim = strlen(known[k]) >= 6 ? 2 : 1;
        if (d <= lim) return known[k];
    }
    return NULL;
}

plm_status plm_study_conditions(const char *const *cond, const size_t *line, size_t n, const char *source,
                                const plm_study_cfg *cfg, char *found, size_t nfound)
{
    char list[1024] = "";
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++) seen = !strcmp(cond[j], cond[i]);
        if (seen) continue;
        size_t cnt = 0;
        for (size_t j = i; j < n; j++) cnt += !strcmp(cond[j], cond[i]);
        size_t len = strlen(list);
        if (len < sizeof list - 1)
            snprintf(list + len, sizeof list - len, "%s'%s' (%zu row%s)", len ? ", " : "", cond[i], cnt, cnt == 1 ? "" : "s");
    }
    if (found) plm__strlcpy(found, list, nfound);
    for (size_t i = 0; i < n; i++) {
        const char *near = misspelling_of(cond[i], cfg);
        if (!near) continue;
        char where[64];
        if (line) snprintf(where, sizeof where, ":%zu", line[i]);
        else snprintf(where, sizeof where, ": row %zu", i + 1);
        PLM_FAIL(PLM_EFORMAT, "%s%s: condition '%s' is neither the control '%s' nor the treatment '%s' (did you mean '%s'?); conditions found: %s",
                 source, where, cond[i], cfg->control, cfg->treatment, near, list);
    }
    return PLM_OK;
}

plm_status plm_study_analyze(const plm_table *t, const plm_study_cfg *cfg, plm_study_result *out)
{
    memset(out, 0, sizeof *out);
    out->sleep_estimated = t->sleep_estimated;
    out->nrows = t->nrows;
    const char *defaults[64];
    size_t ndef = plm_study_default_outcomes(defaults, 64);
    const char *const *names = cfg->outcomes ? cfg->outcomes : defaults;
    size_t nout = cfg->outcomes ? cfg->noutcomes : ndef;
    /* subjects in order of first appearance */
    char **subj = calloc(t->nrows ? t->nrows : 1, sizeof *subj);
    double *cv = malloc((t->nrows ? t->nrows : 1) * 2 * sizeof *cv);
    plm_status st = PLM_OK;
    double *ly = NULL;
    int *ls = NULL;
    uint8_t *lt = NULL;
    if (!subj || !cv) {
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto done;
    }
    size_t ns = 0, both = 0, only_c = 0, only_t = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        size_t k = 0;
        while (k < ns && strcmp(subj[k], t->subject[i])) k++;
        if (k == ns) subj[ns++] = t->subject[i];
    }
    for (size_t k = 0; k < ns; k++) {
        int hc = has_condition(t, subj[k], cfg->control), ht = has_condition(t, subj[k], cfg->treatment);
        both += hc && ht;
        only_c += hc && !ht;
        only_t += ht && !hc;
    }
    plm_study_conditions((const char *const *)t->condition, NULL, t->nrows, "", cfg, out->conditions,
                         sizeof out->conditions);
    int paired = cfg->design == PLM_DESIGN_PAIRED || (cfg->design == PLM_DESIGN_AUTO && both > 0);
    size_t with_c = both + only_c, with_t = both + only_t;
    if (!with_c || !with_t) {
        st = plm__fail(PLM_ENODATA, "no '%s' nights; conditions found: %s", !with_c ? cfg->control : cfg->treatment,
                       out->conditions[0] ? out->conditions : "none");
        goto done;
    }
    if (paired && both < 2) {
        st = plm__fail(PLM_ENODATA, "%zu subject%s both conditions ('%s' and '%s'); 2 needed for a paired comparison",
                       both, both == 1 ? " has" : "s have", cfg->control, cfg->treatment);
        goto done;
    }
    if (!paired && (with_c < 2 || with_t < 2)) {
        st = plm__fail(PLM_ENODATA, "%zu subject%s '%s' and %zu '%s' nights; 2 per condition needed for an unpaired comparison",
                       with_c, with_c == 1 ? " has" : "s have", cfg->control, with_t, cfg->treatment);
        goto done;
    }
    out->paired = paired;
    if (paired)
        for (size_t k = 0; k < ns; k++) {
            int hc = has_condition(t, subj[k], cfg->control), ht = has_condition(t, subj[k], cfg->treatment);
            if (hc != ht) {
                size_t len = strlen(out->missing);
                snprintf(out->missing + len, sizeof out->missing - len, "%s%s (no %s)", len ? ", " : "", subj[k],
                         hc ? cfg->treatment : cfg->control);
            }
        }
    out->v = calloc(nout ? nout : 1, sizeof *out->v);
    if (!out->v) {
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto done;
    }
    /* several nights per subject and condition? then the mixed model too */
    int several = 0;
    for (size_t i = 0; i < t->nrows && !several; i++)
        for (size_t k = i + 1; k < t->nrows && !several; k++)
            several = !strcmp(t->subject[i], t->subject[k]) && !strcmp(t->condition[i], t->condition[k]);
    ly = malloc((t->nrows ? t->nrows : 1) * sizeof *ly);
    ls = malloc((t->nrows ? t->nrows : 1) * sizeof *ls);
    lt = malloc(t->nrows ? t->nrows : 1);
    if (!ly || !ls || !lt) {
        free(ly);
        free(ls);
        free(lt);
        st = plm__fail(PLM_ENOMEM, "out of memory");
        goto done;
    }
    double holm_in[16];
    size_t holm_idx[16], nh = 0;
    for (size_t o = 0; o < nout; o++) {
        size_t j = 0;
        while (j < t->ncols && strcmp(t->names[j], names[o])) j++;
        if (j == t->ncols && !cfg->outcomes) { /* a default outcome the table lacks: the others are analysed */
            size_t len = strlen(out->absent);
            snprintf(out->absent + len, sizeof out->absent - len, "%s%s", len ? ", " : "", names[o]);
            continue;
        }
        if (j == t->ncols) {
            char cols[512] = "";
            for (size_t k = 0; k < t->ncols; k++) {
                size_t len = strlen(cols);
                snprintf(cols + len, sizeof cols - len, "%s%s", k ? ", " : "", t->names[k]);
            }
            st = plm__fail(PLM_EINVAL, "no outcome column '%s'; the numeric columns are: %s", names[o], cols[0] ? cols : "none");
            goto done;
        }
        size_t m = 0, nc = 0, nt = 0;
        double *c = cv, *tr = cv + t->nrows;
        for (size_t k = 0; k < ns; k++) {
            double a = subject_mean(t, subj[k], cfg->control, j, cfg->first_night_only),
                   b = subject_mean(t, subj[k], cfg->treatment, j, cfg->first_night_only);
            if (paired) {
                if (isfinite(a) && isfinite(b)) c[m] = a, tr[m] = b, m++;
            } else {
                if (isfinite(a)) c[nc++] = a;
                if (isfinite(b)) tr[nt++] = b;
            }
        }
        plm_outcome_result *res = &out->v[out->n];
        if ((paired && m < 2) || (!paired && (nc < 2 || nt < 2))) {
            size_t len = strlen(out->skipped);
            snprintf(out->skipped + len, sizeof out->skipped - len, "%s%s", len ? ", " : "", names[o]);
            continue;
        }
        plm__strlcpy(res->outcome, names[o], sizeof res->outcome);
        res->paired = paired;
        res->holm_p = NAN;
        res->welch_p = NAN;
        res->hedges_g = res->hedges_g_ci_low = res->hedges_g_ci_high = NAN;
        if (paired) {
            if ((st = plm_stats_paired(c, tr, m, &cfg->stats, &res->r))) goto done;
        } else { /* two groups: Welch, exact rank-sum, Hodges-Lehmann shift */
            plm_unpaired_result u;
            if ((st = plm_stats_unpaired(c, nc, tr, nt, &cfg->stats, &u))) goto done;
            plm_paired_result *r = &res->r;
            memset(r, 0, sizeof *r);
            r->n = nc + nt;
            r->control_mean = u.control_mean, r->control_sd = u.control_sd;
            r->treatment_mean = u.treatment_mean, r->treatment_sd = u.treatment_sd;
            r->diff_mean = u.diff_mean, r->diff_ci_low = u.diff_ci_low, r->diff_ci_high = u.diff_ci_high;
            r->t = u.welch_t, r->df = u.welch_df, r->ttest_p = u.welch_p;
            r->w_plus = u.w, r->wilcoxon_p = u.mw_p, r->wilcoxon_exact = u.mw_exact;
            r->hl_estimate = u.hl_shift, r->hl_ci_low = u.hl_ci_low, r->hl_ci_high = u.hl_ci_high;
            r->perm_p = r->cohen_dz = r->hedges_gz = r->rank_biserial = NAN;
            res->welch_p = u.welch_p;
            res->hedges_g = u.hedges_g, res->hedges_g_ci_low = u.hedges_g_ci_low, res->hedges_g_ci_high = u.hedges_g_ci_high;
        }
        if (several) { /* mixed model on all nights of the two conditions */
            size_t k = 0;
            for (size_t i = 0; i < t->nrows; i++) {
                int isc = !strcmp(t->condition[i], cfg->control), ist = !strcmp(t->condition[i], cfg->treatment);
                if (!isc && !ist) continue;
                size_t g = 0;
                while (g < ns && strcmp(subj[g], t->subject[i])) g++;
                ly[k] = t->values[i * t->ncols + j];
                ls[k] = (int)g;
                lt[k] = (uint8_t)ist;
                k++;
            }
            res->has_lmm = plm_stats_lmm(ly, ls, lt, k, cfg->stats.conf_level, &res->lmm) == PLM_OK;
        }
        if (is_primary(names[o]) && nh < 16) {
            holm_in[nh] = res->r.wilcoxon_p;
            holm_idx[nh++] = out->n;
        }
        out->n++;
    }
    free(ly);
    free(ls);
    free(lt);
    ly = NULL;
    double adj[16];
    plm_stats_holm(holm_in, nh, adj);
    for (size_t h = 0; h < nh; h++) out->v[holm_idx[h]].holm_p = adj[h];
done:
    if (ly) {
        free(ly);
        free(ls);
        free(lt);
    }
    free(subj);
    free(cv);
    if (st) plm_study_result_clear(out);
    return st;
}

plm_status plm_table_from_nights(const plm_night *rows, size_t n, plm_table *t)
{
    memset(t, 0, sizeof *t);
    const plm_night_field *cols[64];
    size_t nc = 0;
    for (size_t k = 0; k < plm_night_nfields && nc < 64; k++)
        if (plm_night_fields[k].flags & PLM_NF_RESULT) cols[nc++] = &plm_night_fields[k];
    t->subject = calloc(n ? n : 1, sizeof *t->subject);
    t->condition = calloc(n ? n : 1, sizeof *t->condition);
    t->night = calloc(n ? n : 1, sizeof *t->night);
    t->names = calloc(nc, sizeof *t->names);
    t->values = calloc(plm__mul(n ? n : 1, nc), sizeof *t->values);
    if (!t->subject || !t->condition || !t->night || !t->names || !t->values) {
        plm_table_clear(t);
        PLM_FAIL(PLM_ENOMEM, "out of memory");
    }
    t->ncols = nc;
    for (size_t j = 0; j < nc; j++) t->names[j] = plm__strdup(cols[j]->name);
    for (size_t i = 0; i < n; i++) {
        const plm_night *r = &rows[i];
        t->subject[i] = plm__strdup(r->subject);
        t->condition[i] = plm__strdup(r->condition);
        t->night[i] = r->night;
        t->nrows++;
        for (size_t j = 0; j < nc; j++) t->values[i * nc + j] = plm_night_number(r, cols[j]);
        t->sleep_estimated += r->sleep_source && !strcmp(r->sleep_source, "actigraphy");
    }
    return PLM_OK;
}
