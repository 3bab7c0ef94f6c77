/* export.c -- results file -> CSV files and an XLSX workbook (libxlsxwriter). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xlsxwriter.h>
#include "plm/csv.h"
#include "plm/export.h"
#include "plm/store.h"
#include "internal.h"

/* A table of cells: a cell is a string (s != NULL) or a number. */
typedef struct {
    const char *s;
    double v;
} cell;

typedef struct {
    const char *name;
    size_t ncols, nrows, cap;
    const char **cols;
    cell *cells;      /* nrows x ncols */
    char **owned;     /* strings to free */
    size_t nowned, capowned;
} table;

static plm_status t_row(table *t, const cell *row)
{
    if (!plm__grow((void **)&t->cells, &t->cap, t->nrows + 1, plm__mul(t->ncols, sizeof *t->cells), 256))
        PLM_FAIL(PLM_ENOMEM, "export: out of memory");
    memcpy(t->cells + t->nrows * t->ncols, row, t->ncols * sizeof *row);
    t->nrows++;
    return PLM_OK;
}

static const char *t_own(table *t, char *s)
{
    if (!s) return NULL;
    if (!plm__grow((void **)&t->owned, &t->capowned, t->nowned + 1, sizeof *t->owned, 64)) {
        free(s);
        return NULL;
    }
    t->owned[t->nowned++] = s;
    return s;
}

static void t_free(table *t)
{
    for (size_t i = 0; i < t->nowned; i++) free(t->owned[i]);
    free(t->owned);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* nights: the columns of plm_night_fields; subjects: subject, condition, n_nights, then the
 * measured ones (PLM_NF_RESULT: means). Filled in build. */
static const char *night_cols[64], *sub_cols[64];
static const plm_night_field *sub_fields[64];
static const char *const stat_cols[] = {"outcome", "n", "control_mean", "control_sd", "treatment_mean", "treatment_sd",
                                        "diff_mean", "diff_ci_low", "diff_ci_high", "hl_estimate", "hl_ci_low",
                                        "hl_ci_high", "ttest_p", "wilcoxon_p", "cohen_dz", "holm_p",
                                        "hedges_g", "hedges_g_ci_low", "hedges_g_ci_high"};
static const char *const lm_cols[] = {"recording", "onset_s", "offset_s", "leg", "clm", "plm", "sleep"};
static const char *const dict_cols[] = {"table", "column", "meaning", "unit"};
static const char *const dict[][4] = {
    {"(every table)", "(numbers)", "CSV: the shortest text that reads back to the same double, dot decimal separator; a missing value is an empty cell (XLSX: a blank cell)", ""},
    {"subjects", "n_nights", "nights averaged", "count"},
    {"subjects", "(other columns)", "mean over the subject's nights in the condition, as in nights", "as in nights"},
    {"stats", "outcome", "the nights column compared", ""},
    {"stats", "n", "subjects analysed (paired: pairs; unpaired: both groups together)", "count"},
    {"stats", "control_mean, control_sd", "mean and SD over subjects, control condition", "unit of the outcome"},
    {"stats", "treatment_mean, treatment_sd", "mean and SD over subjects, treatment condition", "unit of the outcome"},
    {"stats", "diff_mean, diff_ci_low, diff_ci_high", "mean of treatment - control and its t-based 95 % CI", "unit of the outcome"},
    {"stats", "hl_estimate, hl_ci_low, hl_ci_high", "Hodges-Lehmann estimate and exact 95 % CI", "unit of the outcome"},
    {"stats", "ttest_p", "paired t test, two-sided", "p"},
    {"stats", "wilcoxon_p", "Wilcoxon signed-rank test, exact for n <= 50, two-sided", "p"},
    {"stats", "ttest_p, wilcoxon_p (unpaired)", "Welch's t test; exact Wilcoxon-Mann-Whitney rank-sum test", "p"},
    {"stats", "cohen_dz", "paired designs: mean difference / SD of differences (blank when unpaired)", "SD units"},
    {"stats", "holm_p", "Holm-adjusted Wilcoxon p over PLMS, PLMS-A and sleep efficiency (blank for other outcomes)", "p"},
    {"stats", "hedges_g, hedges_g_ci_low, hedges_g_ci_high", "unpaired designs: (treatment - control) / pooled SD with the small-sample correction, and its 95 % CI (Hedges & Olkin normal approximation); blank when paired", "SD units"},
    {"lm_events", "recording", "recording id", ""},
    {"lm_events", "onset_s, offset_s", "movement start and end from the recording's first sample", "s"},
    {"lm_events", "leg", "1 left, 2 right, 3 both", ""},
    {"lm_events", "clm, plm, sleep", "candidate LM, periodic LM, onset in a sleep epoch (0/1)", ""}};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static cell num(double v) { return (cell){NULL, v}; }
static cell str(const char *s) { return (cell){s ? s : "", 0}; }

static plm_status build(const char *h5, table *nights, table *subjects, table *stats, table *lm, table *dic)
{
    plm_status st;
    plm_night *nr = NULL;
    size_t nn = 0, nf = plm_night_nfields < N(night_cols) ? plm_night_nfields : N(night_cols), nsub = 3;
    if ((st = plm_store_read_nights(h5, &nr, &nn))) return st;
    sub_cols[0] = "subject";
    sub_cols[1] = "condition";
    sub_cols[2] = "n_nights";
    for (size_t k = 0; k < nf; k++) {
        const plm_night_field *f = &plm_night_fields[k];
        night_cols[k] = f->name;
        if ((f->flags & PLM_NF_RESULT) && nsub < N(sub_cols)) {
            sub_fields[nsub] = f;
            sub_cols[nsub++] = f->name;
        }
    }
    nights->name = "nights";
    nights->ncols = nf;
    nights->cols = night_cols;
    cell nrow[N(night_cols)];
    for (size_t i = 0; i < nn && !st; i++) {
        for (size_t k = 0; k < nf; k++) {
            const plm_night_field *f = &plm_night_fields[k];
            nrow[k] = f->type == PLM_NF_STR ? str(t_own(nights, plm__strdup(plm_night_text(&nr[i], f))))
                                           : num(plm_night_number(&nr[i], f));
        }
        st = t_row(nights, nrow);
    }
    /* subjects: mean per subject and condition, in order of first appearance */
    subjects->name = "subjects";
    subjects->ncols = nsub;
    subjects->cols = sub_cols;
    for (size_t i = 0; i < nn && !st; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = !strcmp(nr[j].subject, nr[i].subject) && !strcmp(nr[j].condition, nr[i].condition);
        if (seen) continue;
        nrow[0] = str(t_own(subjects, plm__strdup(nr[i].subject)));
        nrow[1] = str(t_own(subjects, plm__strdup(nr[i].condition)));
        double sum[N(sub_cols)] = {0};
        int cnt[N(sub_cols)] = {0}, nights_n = 0;
        for (size_t j = i; j < nn; j++) {
            if (strcmp(nr[j].subject, nr[i].subject) || strcmp(nr[j].condition, nr[i].condition)) continue;
            nights_n++;
            for (size_t k = 3; k < nsub; k++) {
                double v = plm_night_number(&nr[j], sub_fields[k]);
                if (isfinite(v)) sum[k] += v, cnt[k]++;
            }
        }
        nrow[2] = num(nights_n);
        for (size_t k = 3; k < nsub; k++) nrow[k] = num(cnt[k] ? sum[k] / cnt[k] : NAN);
        st = t_row(subjects, nrow);
    }
    plm_nights_free(nr, nn);
    if (st) return st;
    /* stats */
    plm_stat_row *sr = NULL;
    size_t ns = 0;
    if ((st = plm_store_read_stats(h5, &sr, &ns))) return st;
    stats->name = "stats";
    stats->ncols = N(stat_cols);
    stats->cols = (const char **)stat_cols;
    for (size_t i = 0; i < ns && !st; i++) {
        const plm_stat_row *r = &sr[i];
        t_own(stats, (char *)r->outcome);
        cell row[] = {str(r->outcome), num(r->n), num(r->control_mean), num(r->control_sd), num(r->treatment_mean),
                      num(r->treatment_sd), num(r->diff_mean), num(r->diff_ci_low), num(r->diff_ci_high),
                      num(r->hl_estimate), num(r->hl_ci_low), num(r->hl_ci_high), num(r->ttest_p), num(r->wilcoxon_p),
                      num(r->cohen_dz), num(r->holm_p), num(r->hedges_g), num(r->hedges_g_ci_low),
                      num(r->hedges_g_ci_high)};
        st = t_row(stats, row);
    }
    free(sr);
    if (st) return st;
    /* lm events */
    char **ids = NULL;
    size_t nid = 0;
    if ((st = plm_store_list_recordings(h5, &ids, &nid))) return st;
    lm->name = "lm_events";
    lm->ncols = N(lm_cols);
    lm->cols = (const char **)lm_cols;
    for (size_t i = 0; i < nid; i++) {
        const char *id = t_own(lm, ids[i]);
        plm_lm_row *rows = NULL;
        size_t n = 0;
        if (!st) st = plm_store_read_lm(h5, id, &rows, &n);
        for (size_t k = 0; k < n && !st; k++) {
            cell row[] = {str(id), num(rows[k].onset_s), num(rows[k].offset_s), num(rows[k].leg), num(rows[k].clm),
                          num(rows[k].plm), num(rows[k].sleep)};
            st = t_row(lm, row);
        }
        free(rows);
    }
    free(ids);
    if (st) return st;
    dic->name = "dictionary";
    dic->ncols = N(dict_cols);
    dic->cols = (const char **)dict_cols;
    for (size_t k = 0; k < plm_night_nfields && !st; k++) {
        const plm_night_field *f = &plm_night_fields[k];
        cell drow[] = {str("nights"), str(f->name), str(f->meaning), str(f->unit)};
        st = t_row(dic, drow);
    }
    for (size_t i = 0; i < N(dict) && !st; i++) {
        cell row[] = {str(dict[i][0]), str(dict[i][1]), str(dict[i][2]), str(dict[i][3])};
        st = t_row(dic, row);
    }
    return st;
}

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\r\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else fputs(s, f);
}

static plm_status write_csv(const table *t, const char *dir)
{
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/%s.csv", dir, t->name);
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) PLM_FAIL(PLM_EIO, "%s: cannot create: %s", path, strerror(errno));
    for (size_t c = 0; c < t->ncols; c++) {
        if (c) fputc(',', f);
        csv_field(f, t->cols[c]);
    }
    fputs("\r\n", f);
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const cell *x = &t->cells[r * t->ncols + c];
            if (c) fputc(',', f);
            if (x->s) csv_field(f, x->s);
            else { /* shortest text that reads back to the same double; missing: an empty cell */
                char b[32];
                fputs(plm_csv_number(x->v, b), f);
            }
        }
        fputs("\r\n", f);
    }
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        PLM_FAIL(PLM_EIO, "%s: write error: %s", path, strerror(errno));
    }
    return PLM_OK;
}

plm_status plm_export_csv(const char *h5, const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) PLM_FAIL(PLM_EIO, "%s: cannot create: %s", dir, strerror(errno));
    table t[5];
    memset(t, 0, sizeof t);
    plm_status st = build(h5, &t[0], &t[1], &t[2], &t[3], &t[4]);
    for (int i = 0; i < 5 && !st; i++) st = write_csv(&t[i], dir);
    for (int i = 0; i < 5; i++) t_free(&t[i]);
    return st;
}

plm_status plm_export_xlsx(const char *h5, const char *path)
{
    table t[5];
    memset(t, 0, sizeof t);
    plm_status st = build(h5, &t[0], &t[1], &t[2], &t[3], &t[4]);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld.xlsx", path, (long)getpid());
    lxw_workbook *wb = NULL;
    if (!st) {
        wb = workbook_new(tmp);
        if (!wb) st = plm__fail(PLM_EIO, "%s: cannot create the workbook", path);
    }
    lxw_format *bold = wb ? workbook_add_format(wb) : NULL;
    if (bold) format_set_bold(bold);
    for (int i = 0; i < 5 && !st; i++) {
        lxw_worksheet *ws = workbook_add_worksheet(wb, t[i].name);
        if (!ws) {
            st = plm__fail(PLM_EIO, "%s: cannot add sheet %s", path, t[i].name);
            break;
        }
        for (size_t c = 0; c < t[i].ncols; c++) worksheet_write_string(ws, 0, (lxw_col_t)c, t[i].cols[c], bold);
        worksheet_freeze_panes(ws, 1, 0);
        for (size_t r = 0; r < t[i].nrows; r++)
            for (size_t c = 0; c < t[i].ncols; c++) {
                const cell *x = &t[i].cells[r * t[i].ncols + c];
                if (x->s) worksheet_write_string(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, x->s, NULL);
                else if (isfinite(x->v)) worksheet_write_number(ws, (lxw_row_t)(r + 1), (lxw_col_t)c, x->v, NULL);
            }
    }
    if (wb) {
        lxw_error e = workbook_close(wb);
        if (!st && e != LXW_NO_ERROR) st = plm__fail(PLM_EIO, "%s: %s", path, lxw_strerror(e));
        if (!st && rename(tmp, path) != 0) st = plm__fail(PLM_EIO, "%s: cannot move into place: %s", path, strerror(errno));
        if (st) unlink(tmp);
    }
    for (int i = 0; i < 5; i++) t_free(&t[i]);
    return st;
}
