/* cli_common.c -- messages, number parsing and the command line for actiplm. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli_common.h"
#include "plm/plm.h"

static char command_line[4096];

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("actiplm: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "actiplm %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'actiplm %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_usage_error(cmd, "%s: '%s' is not a whole number from %ld to %ld", opt, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') {
        cli_usage_error(cmd, "%s: '%s' is not a non-negative whole number", opt, s);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi) {
        cli_usage_error(cmd, "%s: '%s' is not a number from %g to %g", opt, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_shard(const char *cmd, const char *s, long *k, long *n)
{
    char *end, *end2 = NULL;
    errno = 0;
    long a = strtol(s, &end, 10), b = *end == '/' ? strtol(end + 1, &end2, 10) : 0;
    if (errno || end == s || *end != '/' || *end2 || a < 1 || b < 1 || b > 100000 || a > b) {
        cli_usage_error(cmd, "--shard: '%s' is not K/N with 1 <= K <= N <= 100000", s);
        return 0;
    }
    *k = a;
    *n = b;
    return 1;
}

void cli_manifest_path(const char *arg, char *buf, size_t n)
{
    struct stat sb;
    if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode)) snprintf(buf, n, "%s/manifest.csv", arg);
    else snprintf(buf, n, "%s", arg);
}

int cli_self_path(char *buf, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", buf, n - 1);
    if (len <= 0 || (size_t)len >= n - 1) return 0;
    buf[len] = '\0';
    return 1;
}

void cli_set_command_line(int argc, char **argv)
{
    size_t len = 0;
    command_line[0] = '\0';
    for (int i = 0; i < argc; i++) {
        int k = snprintf(command_line + len, sizeof command_line - len, "%s%s", i ? " " : "", argv[i]);
        if (k < 0 || (size_t)k >= sizeof command_line - len) break;
        len += (size_t)k;
    }
}

const char *cli_command_line(void) { return command_line; }

void cli_now_utc(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int cli_process_option(const char *cmd, int c, const char *arg, plm_process_cfg *cfg, int *starts)
{
    long v;
    switch (c) {
    case 'b':
        if (!cli_parse_int(cmd, "--block-frames", arg, 1, 1 << 24, &v)) return 0;
        cfg->read.block_frames = v;
        return 1;
    case 'r': {
        plm_ruleset rs;
        if (plm_ruleset_parse(arg, &rs) != PLM_OK) {
            cli_usage_error(cmd, "%s", plm_last_error());
            return 0;
        }
        cfg->night.score = plm_score_cfg_rules(rs);
        return 1;
    }
    case 's': *starts = 1; return 1;
    case 'S':
        if (!strcmp(arg, "cole-kripke")) cfg->night.algo = PLM_SLEEP_COLE_KRIPKE;
        else if (!strcmp(arg, "sadeh")) cfg->night.algo = PLM_SLEEP_SADEH;
        else if (!strcmp(arg, "oakley")) cfg->night.algo = PLM_SLEEP_OAKLEY;
        else {
            cli_usage_error(cmd, "--sleep: '%s' is not cole-kripke, sadeh or oakley", arg);
            return 0;
        }
        return 1;
    case 'M': cfg->night.mask_plm = 0; return 1;
    default: return -1;
    }
}

int cli_process_options_done(const char *cmd, plm_process_cfg *cfg, int starts)
{
    if (!starts) return 1;
    if (cfg->night.score.rules != PLM_RULES_WASM2016) {
        cli_usage_error(cmd, "--short-imi-starts-series applies to wasm2016 only");
        return 0;
    }
    cfg->night.score.short_imi = PLM_SHORT_IMI_STARTS;
    return 1;
}

/* "12.3 +- 4.5" with sensible digits */
static void mean_sd(char *b, size_t n, double m, double sd)
{
    if (!isfinite(m)) snprintf(b, n, "NaN");
    else snprintf(b, n, "%.1f +- %.1f", m, sd);
}

void cli_print_study(FILE *f, const plm_study_result *r, const plm_study_cfg *cfg)
{
    if (r->paired)
        fprintf(f, "\n%s vs %s, paired design (%s within subject and condition; zero differences: %s's rule)\n",
                cfg->treatment, cfg->control, cfg->first_night_only ? "first night" : "nights averaged",
                cfg->stats.zero == PLM_ZERO_PRATT ? "Pratt" : "Wilcoxon");
    else
        fprintf(f, "\n%s vs %s, unpaired design (%s per subject; Welch's t, Wilcoxon-Mann-Whitney, Hedges' g)\n",
                cfg->treatment, cfg->control, cfg->first_night_only ? "first night" : "nights averaged");
    fprintf(f, "%-20s %4s %16s %16s %26s %8s %8s %8s %8s\n", "outcome", "n", cfg->control, cfg->treatment,
            "difference [95% CI]", r->paired ? "t p" : "Welch p", r->paired ? "Wilc. p" : "WMW p", "Holm p",
            r->paired ? "dz" : "g");
    int any_holm = 0, any_blank = 0;
    for (size_t i = 0; i < r->n; i++) {
        const plm_outcome_result *o = &r->v[i];
        char a[32], b[32], d[64], hp[16];
        mean_sd(a, sizeof a, o->r.control_mean, o->r.control_sd);
        mean_sd(b, sizeof b, o->r.treatment_mean, o->r.treatment_sd);
        snprintf(d, sizeof d, "%.1f [%.1f, %.1f]", o->r.diff_mean, o->r.diff_ci_low, o->r.diff_ci_high);
        if (isfinite(o->holm_p)) snprintf(hp, sizeof hp, "%.4f", o->holm_p), any_holm = 1;
        else snprintf(hp, sizeof hp, "-"), any_blank = 1;
        char name[80];
        snprintf(name, sizeof name, "%s%s", o->outcome,
                 r->sleep_estimated > 0 && plm_outcome_needs_sleep(o->outcome) ? " *" : "");
        fprintf(f, "%-20s %4zu %16s %16s %26s %8.4f %8.4f %8s %8.2f\n", name, o->r.n, a, b, d, o->r.ttest_p,
                o->r.wilcoxon_p, hp, r->paired ? o->r.cohen_dz : o->hedges_g);
    }
    if (any_holm && any_blank) {
        char holm[256] = "";
        for (size_t i = 0; i < r->n; i++)
            if (isfinite(r->v[i].holm_p)) {
                size_t len = strlen(holm);
                snprintf(holm + len, sizeof holm - len, "%s%s", len ? ", " : "", r->v[i].outcome);
            }
        fprintf(f, "Holm p: the Wilcoxon p adjusted over the primary outcomes analysed (%s); '-': not primary\n", holm);
    }
    if (!r->paired && r->n)
        fprintf(f, "g: Hedges' g, (%s - %s) / pooled SD; its 95 %% CI is in the CSV and /stats\n", cfg->treatment,
                cfg->control);
    if (r->sleep_estimated > 0)
        fprintf(f, "* sleep/wake estimated from the leg on %d of %zu nights: quiet wake reads as sleep, so PLMW\n"
                   "  counts as PLMS and TST/SE run high; plm_tib_index (PLM per hour in bed) does not depend on\n"
                   "  it. Give stage annotations (PSG) for these outcomes (docs/validation.md).\n",
                r->sleep_estimated, r->nrows);
    int any = 0;
    for (size_t i = 0; i < r->n; i++) any |= r->v[i].has_lmm;
    if (any) {
        fprintf(f, "random-intercept mixed model on all nights (REML):\n");
        fprintf(f, "%-18s %6s %26s %8s %10s %10s\n", "outcome", "nights", "effect [95% CI]", "p", "sd subject", "sd night");
        for (size_t i = 0; i < r->n; i++) {
            const plm_lmm_result *m = &r->v[i].lmm;
            if (!r->v[i].has_lmm) continue;
            char e[64];
            snprintf(e, sizeof e, "%.2f [%.2f, %.2f]", m->estimate, m->ci_low, m->ci_high);
            fprintf(f, "%-18s %6zu %26s %8.4f %10.2f %10.2f\n", r->v[i].outcome, m->n_obs, e, m->p, m->sd_subject,
                    m->sd_residual);
        }
    }
    if (r->missing[0]) fprintf(f, "left out (a condition missing): %s\n", r->missing);
    if (r->skipped[0])
        fprintf(f, "not analysed (fewer than 2 %s with a value): %s%s\n",
                r->paired ? "subjects" : "subjects per condition", r->skipped,
                strstr(r->skipped, "plms_a_index") ? " (PLMS-A needs arousal annotations)" : "");
}

static void csv_num(FILE *f, double v)
{
    char b[32];
    fprintf(f, ",%s", plm_csv_number(v, b));
}

int cli_write_stats_csv(const char *path, const plm_study_result *r)
{
    FILE *f = !strcmp(path, "-") ? stdout : fopen(path, "w");
    if (!f) {
        cli_error("%s: cannot create: %s", path, strerror(errno));
        return 0;
    }
    fprintf(f, "outcome,n,control_mean,control_sd,treatment_mean,treatment_sd,diff_mean,diff_ci_low,diff_ci_high,"
               "hl_estimate,hl_ci_low,hl_ci_high,ttest_p,wilcoxon_p,cohen_dz,holm_p,hedges_g,hedges_g_ci_low,"
               "hedges_g_ci_high\n");
    for (size_t i = 0; i < r->n; i++) {
        plm_stat_row s = plm_study_stat_row(&r->v[i]);
        fprintf(f, "%s,%d", s.outcome, s.n);
        const double v[] = {s.control_mean, s.control_sd, s.treatment_mean, s.treatment_sd, s.diff_mean, s.diff_ci_low,
                            s.diff_ci_high, s.hl_estimate, s.hl_ci_low, s.hl_ci_high, s.ttest_p, s.wilcoxon_p,
                            s.cohen_dz, s.holm_p, s.hedges_g, s.hedges_g_ci_low, s.hedges_g_ci_high};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) csv_num(f, v[k]);
        fprintf(f, "\n");
    }
    if (f != stdout && fclose(f) != 0) {
        cli_error("%s: write error", path);
        return 0;
    }
    return 1;
}
