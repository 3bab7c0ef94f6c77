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

plm_status cli_read_shard_id(const char *path, cli_shard_id *id)
{
    plm_status st = plm_store_read_attr_i64(path, "/", "shard_count", &id->n);
    if (!st) st = plm_store_read_attr_i64(path, "/", "shard_index", &id->k);
    if (!st) st = plm_store_read_attr_i64(path, "/", "manifest_rows", &id->rows);
    if (!st) st = plm_store_read_attr_str(path, "/", "software_version", id->version, sizeof id->version);
    if (!st) st = plm_store_read_attr_str(path, "/", "params_fingerprint", id->fp, sizeof id->fp);
    if (!st) st = plm_store_read_attr_str(path, "/", "manifest_sha256", id->msha, sizeof id->msha);
    return st;
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

typedef struct {
    const char *name;
    double v;
} param;

/* Every numeric parameter; returns the count written to p (at most cap). */
static size_t params_list(const plm_process_cfg *cfg, param *out, size_t cap)
{
    const plm_detect_cfg *d = &cfg->detect;
    const param p[] = {{"param.read.block_frames", (double)cfg->read.block_frames},
             {"param.read.min_fs_hz", cfg->min_fs_hz},
             {"param.read.max_fs_hz", cfg->max_fs_hz},
             {"param.read.min_duration_s", cfg->min_duration_s},
             {"param.night.tib_min_plausible_h", cfg->tib_min_plausible_h},
             {"param.night.tib_min_plausible_frac", cfg->tib_min_plausible_frac},
             {"param.activity.epoch_s", cfg->activity_epoch_s},
             {"param.filter.pass_lo_hz", d->filter.pass_lo_hz},
             {"param.filter.pass_hi_hz", d->filter.pass_hi_hz},
             {"param.filter.transition_hz", d->filter.transition_hz},
             {"param.filter.atten_db", d->filter.atten_db},
             {"param.detect.despike_g", d->despike_g},
             {"param.detect.env_window_s", d->env_window_s},
             {"param.detect.floor_max_s", d->floor_max_s},
             {"param.detect.floor_min_s", d->floor_min_s},
             {"param.detect.hi_min_g", d->hi_min_g},
             {"param.detect.hi_factor", d->hi_factor},
             {"param.detect.lo_fraction", d->lo_fraction},
             {"param.detect.quiet_s", d->quiet_s},
             {"param.detect.ceiling_g", d->ceiling_g},
             {"param.detect.tilt_window_s", d->tilt_window_s},
             {"param.detect.tilt_ref_s", d->tilt_ref_s},
             {"param.detect.tilt_gap_s", d->tilt_gap_s},
             {"param.detect.tilt_factor", d->tilt_factor},
             {"param.detect.tilt_min_g", d->tilt_min_g},
             {"param.detect.tilt_floor_max_s", d->tilt_floor_max_s},
             {"param.detect.onset_fraction", d->onset_fraction},
             {"param.detect.peak_fraction", d->peak_fraction},
             {"param.detect.backtrack_max_s", d->backtrack_max_s},
             {"param.detect.width_fraction", d->width_fraction},
             {"param.detect.min_width_s", d->min_width_s},
             {"param.detect.hold_max_s", d->hold_max_s},
             {"param.detect.hold_tilt_deg", d->hold_tilt_deg},
             {"param.qc.clip_fraction", d->clip_fraction},
             {"param.qc.flat_s", d->flat_s},
             {"param.qc.nonwear_window_s", d->nonwear_window_s},
             {"param.qc.nonwear_step_s", d->nonwear_step_s},
             {"param.qc.nonwear_sd_g", d->nonwear_sd_g},
             {"param.qc.nonwear_range_g", d->nonwear_range_g},
             {"param.qc.nonwear_flat_deg", d->nonwear_flat_deg},
             {"param.calib.window_s", d->calib_window_s},
             {"param.calib.sd_g", d->calib_sd_g},
             {"param.calib.cover_g", d->calib_cover_g},
             {"param.calib.max_error_g", d->calib_max_error_g},
             {"param.calib.max_se", d->calib_max_se},
             {"param.calib.max_windows", (double)d->calib_max_windows},
             {"param.score.lm_min_s", cfg->night.score.lm_min_s},
             {"param.score.lm_max_mono_s", cfg->night.score.lm_max_mono_s},
             {"param.score.lm_max_bi_s", cfg->night.score.lm_max_bi_s},
             {"param.score.bi_by_onset", cfg->night.score.bi_by_onset},
             {"param.score.bi_gap_s", cfg->night.score.bi_gap_s},
             {"param.score.bi_onset_s", cfg->night.score.bi_onset_s},
             {"param.score.bi_max_parts", cfg->night.score.bi_max_parts},
             {"param.score.imi_min_s", cfg->night.score.imi_min_s},
             {"param.score.imi_max_s", cfg->night.score.imi_max_s},
             {"param.score.min_series", cfg->night.score.min_series},
             {"param.score.arousal_pad_s", cfg->night.score.arousal_pad_s},
             {"param.score.resp_before_s", cfg->night.score.resp_before_s},
             {"param.score.resp_after_s", cfg->night.score.resp_after_s},
             {"param.score.epoch_s", cfg->night.score.epoch_s},
             {"param.sleep.ck_scale", cfg->night.ck.scale},
             {"param.sleep.ck_threshold", cfg->night.ck.threshold},
             {"param.sleep.webster", cfg->night.webster},
             {"param.sleep.mask_plm", cfg->night.mask_plm},
             {"param.sleep.mask_pad_s", cfg->night.mask_pad_s},
             {"param.sleep.act_thr_g", cfg->night.act_thr_g},
             {"param.sleep.sadeh_count_scale", cfg->night.sadeh_count_scale},
             {"param.sleep.oakley_threshold", cfg->night.oakley_threshold},
             {"param.tib.lying_deg", cfg->night.lying_deg},
             {"param.tib.walk_g", cfg->night.walk_g},
             {"param.tib.min_s", cfg->night.tib_min_s},
             {"param.tib.gap_s", cfg->night.tib_gap_s}};
    size_t n = sizeof p / sizeof p[0] < cap ? sizeof p / sizeof p[0] : cap;
    memcpy(out, p, n * sizeof *p);
    return n;
}

void cli_params_fingerprint(const plm_process_cfg *cfg, char fp[65])
{
    param p[128];
    size_t np = params_list(cfg, p, 128);
    const plm_score_cfg *sc = &cfg->night.score;
    char text[8192];
    size_t len = (size_t)snprintf(text, sizeof text, "actiplm %s;%s;%d;%d;", plm_version(), plm_ruleset_name(sc->rules),
                                  (int)sc->short_imi, (int)cfg->night.algo);
    for (size_t i = 0; i < np && len < sizeof text; i++)
        if (strcmp(p[i].name, "param.read.block_frames")) /* the block size does not change results */
            len += (size_t)snprintf(text + len, sizeof text - len, "%s=%.17g;", p[i].name, p[i].v);
    plm_sha256_buffer(text, len < sizeof text ? len : sizeof text - 1, fp);
}

int cli_write_params(plm_store *s, const plm_process_cfg *cfg)
{
    param p[128];
    size_t np = params_list(cfg, p, 128);
    for (size_t i = 0; i < np; i++)
        if (plm_store_attr_f64(s, NULL, p[i].name, p[i].v) != PLM_OK) return 0;
    char fp[65];
    cli_params_fingerprint(cfg, fp);
    if (plm_store_attr_str(s, NULL, "params_fingerprint", fp) != PLM_OK) return 0;
    static const char *const algos[] = {"cole-kripke", "sadeh", "oakley"};
    const plm_score_cfg *sc = &cfg->night.score;
    return plm_store_attr_str(s, NULL, "param.score.rules", plm_ruleset_name(sc->rules)) == PLM_OK &&
           plm_store_attr_str(s, NULL, "param.score.short_imi",
                              sc->short_imi == PLM_SHORT_IMI_BREAK ? "break" : sc->short_imi == PLM_SHORT_IMI_STARTS ? "starts" : "skip") == PLM_OK &&
           plm_store_attr_str(s, NULL, "param.sleep.algorithm", algos[cfg->night.algo]) == PLM_OK;
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

int cli_write_root(plm_store *s, const char *manifest, const plm_process_cfg *cfg)
{
    char now[32], sha[65] = "";
    cli_now_utc(now, sizeof now);
    if (manifest) plm_sha256_file(manifest, sha);
    if (plm_store_attr_str(s, NULL, "software", "actiplm") || plm_store_attr_str(s, NULL, "software_version", plm_version()) ||
        plm_store_attr_str(s, NULL, "command_line", cli_command_line()) || plm_store_attr_str(s, NULL, "created_utc", now) ||
        plm_store_attr_str(s, NULL, "manifest_sha256", sha) ||
        plm_store_attr_str(s, NULL, "manifest_path", manifest ? manifest : ""))
        return 0;
    return cli_write_params(s, cfg);
}

/* "12.3 +- 4.5" with sensible digits */
static void mean_sd(char *b, size_t n, double m, double sd)
{
    if (!isfinite(m)) snprintf(b, n, "NaN");
    else snprintf(b, n, "%.1f +- %.1f", m, sd);
}

void cli_print_study(FILE *f, const plm_study_result *r, const plm_study_cfg *cfg)
{
    fprintf(f, "\n%s vs %s, %s design (%s within subject and condition; zero differences: %s's rule)\n",
            cfg->treatment, cfg->control, r->paired ? "paired" : "unpaired",
            cfg->first_night_only ? "first night" : "nights averaged", cfg->stats.zero == PLM_ZERO_PRATT ? "Pratt" : "Wilcoxon");
    fprintf(f, "%-20s %4s %16s %16s %26s %8s %8s %8s %8s\n", "outcome", "n", cfg->control, cfg->treatment,
            "difference [95% CI]", "t p", "Wilc. p", "Holm p", "dz");
    for (size_t i = 0; i < r->n; i++) {
        const plm_outcome_result *o = &r->v[i];
        char a[32], b[32], d[64], hp[16];
        mean_sd(a, sizeof a, o->r.control_mean, o->r.control_sd);
        mean_sd(b, sizeof b, o->r.treatment_mean, o->r.treatment_sd);
        snprintf(d, sizeof d, "%.1f [%.1f, %.1f]", o->r.diff_mean, o->r.diff_ci_low, o->r.diff_ci_high);
        if (isfinite(o->holm_p)) snprintf(hp, sizeof hp, "%.4f", o->holm_p);
        else snprintf(hp, sizeof hp, "-");
        char name[80];
        snprintf(name, sizeof name, "%s%s", o->outcome,
                 r->sleep_estimated > 0 && plm_outcome_needs_sleep(o->outcome) ? " *" : "");
        fprintf(f, "%-20s %4zu %16s %16s %26s %8.4f %8.4f %8s %8.2f\n", name, o->r.n, a, b, d, o->r.ttest_p,
                o->r.wilcoxon_p, hp, o->r.cohen_dz);
    }
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
    if (r->skipped[0]) fprintf(f, "skipped (NaN for everyone): %s\n", r->skipped);
}

static plm_stat_row stat_row(const plm_outcome_result *o)
{
    plm_stat_row s = {o->outcome, (int32_t)o->r.n, o->r.control_mean, o->r.control_sd, o->r.treatment_mean,
                      o->r.treatment_sd, o->r.diff_mean, o->r.diff_ci_low, o->r.diff_ci_high, o->r.hl_estimate,
                      o->r.hl_ci_low, o->r.hl_ci_high, o->r.ttest_p, o->r.wilcoxon_p, o->r.cohen_dz, o->holm_p};
    return s;
}

int cli_study_to_store(plm_store *s, const plm_study_result *r, const plm_study_cfg *cfg)
{
    if (plm_store_attr_str(s, NULL, "param.stats.control", cfg->control) ||
        plm_store_attr_str(s, NULL, "param.stats.treatment", cfg->treatment) ||
        plm_store_attr_str(s, NULL, "param.stats.design", r->paired ? "paired" : "unpaired") ||
        plm_store_attr_str(s, NULL, "param.stats.zero_rule", cfg->stats.zero == PLM_ZERO_PRATT ? "pratt" : "wilcoxon") ||
        plm_store_attr_str(s, NULL, "param.stats.nights", cfg->first_night_only ? "first" : "mean") ||
        plm_store_attr_f64(s, NULL, "param.stats.conf_level", cfg->stats.conf_level) ||
        plm_store_attr_f64(s, NULL, "param.stats.exact_max_n", (double)cfg->stats.exact_max_n) ||
        plm_store_attr_str(s, NULL, "param.stats.holm_over", "plms_index,plms_a_index,se_pct (Wilcoxon p)"))
        return 0;
    for (size_t i = 0; i < r->n; i++) {
        plm_stat_row row = stat_row(&r->v[i]);
        if (plm_store_add_stat(s, &row) != PLM_OK) return 0;
        const plm_lmm_result *m = &r->v[i].lmm;
        plm_lmm_row lr = {r->v[i].outcome, (int32_t)m->n_obs, (int32_t)m->n_subjects, m->estimate, m->se, m->df,
                          m->ci_low, m->ci_high, m->p, m->sd_subject, m->sd_residual};
        if (r->v[i].has_lmm && plm_store_add_lmm(s, &lr) != PLM_OK) return 0;
    }
    return 1;
}

int cli_study_finish(plm_store *s, const plm_night *rows, size_t n, const char *label, int quiet,
                     plm_study_result *sres, int *have)
{
    plm_study_cfg scfg = plm_study_cfg_default();
    plm_table tab;
    int ok = 1;
    memset(sres, 0, sizeof *sres);
    *have = 0;
    if (!n || plm_table_from_nights(rows, n, &tab) != PLM_OK) return 1;
    if (plm_study_analyze(&tab, &scfg, sres) == PLM_OK) {
        *have = 1;
        ok = cli_study_to_store(s, sres, &scfg);
    } else if (!quiet)
        cli_error("%s: no statistics: %s", label, plm_last_error());
    plm_table_clear(&tab);
    return ok;
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, ",%.17g", v);
    else fprintf(f, ",NaN");
}

int cli_write_stats_csv(const char *path, const plm_study_result *r)
{
    FILE *f = !strcmp(path, "-") ? stdout : fopen(path, "w");
    if (!f) {
        cli_error("%s: cannot create: %s", path, strerror(errno));
        return 0;
    }
    fprintf(f, "outcome,n,control_mean,control_sd,treatment_mean,treatment_sd,diff_mean,diff_ci_low,diff_ci_high,"
               "hl_estimate,hl_ci_low,hl_ci_high,ttest_p,wilcoxon_p,cohen_dz,holm_p\n");
    for (size_t i = 0; i < r->n; i++) {
        plm_stat_row s = stat_row(&r->v[i]);
        fprintf(f, "%s,%d", s.outcome, s.n);
        const double v[] = {s.control_mean, s.control_sd, s.treatment_mean, s.treatment_sd, s.diff_mean, s.diff_ci_low,
                            s.diff_ci_high, s.hl_estimate, s.hl_ci_low, s.hl_ci_high, s.ttest_p, s.wilcoxon_p,
                            s.cohen_dz, s.holm_p};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) csv_num(f, v[k]);
        fprintf(f, "\n");
    }
    if (f != stdout && fclose(f) != 0) {
        cli_error("%s: write error", path);
        return 0;
    }
    return 1;
}
