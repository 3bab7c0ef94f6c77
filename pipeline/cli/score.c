/* score.c -- actiplm score: PLM indices from leg movements scored elsewhere (events CSV). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm score [options] EVENTS.csv\n\n"
           "Score leg movements that were scored elsewhere (e.g. from tibialis EMG by a\n"
           "sleep lab) and print one row of per-night indices, named as the /nights\n"
           "fields. EVENTS.csv has onset_s,duration_s,type[,leg]; types lm (leg L/R),\n"
           "arousal, apnea, hypopnea, W, N1, N2, N3, R, lights_off, lights_on. Without\n"
           "stage rows, all time between lights off and on counts as sleep.\n\n"
           "Options:\n"
           "  --rules NAME                 wasm2016 (default), aasm2007, legacy1998\n"
           "  --short-imi-starts-series    WASM 2016, MATPLM reading: a candidate after an\n"
           "                               interval under 10 s may start a new series\n"
           "                               (default: SOMAS reading, it joins none)\n"
           "  --lights-off S, --lights-on S  the night, in seconds (override the file)\n"
           "  --json                       one JSON object instead of CSV\n"
           "  -h, --help                   this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm score night01_events.csv --rules wasm2016 --json\n\n"
           "Output fields: those of /nights (tib_h tst_h se_pct sol_min waso_min lm_count\n"
           "plm_count plms_count lm_index plms_index plmw_index plm_tib_index plms_a_index\n"
           "periodicity_index: docs/hdf5-layout.md), then clm_count plmw_count\n"
           "plms_nrem_index plms_rem_index (with stage rows) plmsnr_index\n"
           "periodicity_index_ferri (Ferri 2006) series_count series_mean_len median_imi_s\n"
           "mean_lm_duration_s. NaN where not computable (PLMS-A needs arousal rows,\n"
           "PLMSnr respiratory rows).\n\n"
           "Exit status: 0 scored, 1 the file could not be read, 2 usage error.\n");
}

int cmd_score(int argc, char **argv)
{
    static const struct option opts[] = {{"rules", required_argument, 0, 'r'},
                                         {"short-imi-starts-series", no_argument, 0, 's'},
                                         {"lights-off", required_argument, 0, 'o'},
                                         {"lights-on", required_argument, 0, 'n'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_ruleset rs = PLM_RULES_WASM2016;
    int starts = 0, json = 0, c;
    double lo = NAN, ln = NAN;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (plm_ruleset_parse(optarg, &rs) != PLM_OK) return cli_usage_error("score", "%s", plm_last_error());
            break;
        case 's': starts = 1; break;
        case 'o':
            if (!cli_parse_double("score", "--lights-off", optarg, 0, 1e9, &lo)) return EXIT_USAGE;
            break;
        case 'n':
            if (!cli_parse_double("score", "--lights-on", optarg, 0, 1e9, &ln)) return EXIT_USAGE;
            break;
        case 'j': json = 1; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("score", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("score", "expected one EVENTS.csv");
    if (starts && rs != PLM_RULES_WASM2016)
        return cli_usage_error("score", "--short-imi-starts-series applies to wasm2016 only");
    const char *path = argv[optind];
    plm_event_list ev;
    if (plm_events_read_csv(path, &ev) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    if (ev.unknown_types[0]) cli_error("%s: warning: unknown event types ignored: %s", path, ev.unknown_types);
    plm_score_cfg cfg = plm_score_cfg_rules(rs);
    if (starts) cfg.short_imi = PLM_SHORT_IMI_STARTS;
    plm_score_result r;
    plm_sleep_summary sl;
    int stages, arousals, resp;
    const char *from;
    plm_status st = plm_score_events(&cfg, &ev, lo, ln, &r, &sl, &stages, &arousals, &resp, &from);
    plm_event_list_clear(&ev);
    if (st) {
        cli_error("%s: %s", path, plm_last_error());
        return 1;
    }
    if (!stages) cli_error("%s: no sleep stages: all time between lights off and on counts as sleep", path);
    if (strcmp(from, "file") && strcmp(from, "options"))
        cli_error("%s: no lights_off/lights_on rows: the night runs from the first to the last %s", path,
                  !strcmp(from, "stages") ? "stage" : "event");
    /* the /nights fields (plm/nights.h), then what only a scored events file has */
    plm_night row;
    plm_night_init(&row, NULL, NULL, NULL, -1);
    plm_night_set_results(&row, &r, &sl);
    struct {
        const char *k;
        double v;
        int is_int;
    } f[64];
    size_t nf = 0;
    for (size_t k = 0; k < plm_night_nfields && nf < 40; k++)
        if (plm_night_fields[k].flags & PLM_NF_RESULT)
            f[nf].k = plm_night_fields[k].name, f[nf].v = plm_night_number(&row, &plm_night_fields[k]),
            f[nf++].is_int = plm_night_fields[k].type == PLM_NF_I32;
    const struct {
        const char *k;
        double v;
        int is_int;
    } extra[] = {{"clm_count", r.clm_count, 1}, {"plmw_count", r.plmw_count, 1},
                 {"plms_nrem_index", r.plms_nrem_index, 0}, {"plms_rem_index", r.plms_rem_index, 0},
                 {"plmsnr_index", r.plmsnr_index, 0}, {"periodicity_index_ferri", r.pi_ferri, 0},
                 {"series_count", r.series_count, 1}, {"series_mean_len", r.series_mean_len, 0},
                 {"median_imi_s", r.median_imi_s, 0}, {"mean_lm_duration_s", r.mean_lm_duration_s, 0}};
    for (size_t k = 0; k < sizeof extra / sizeof *extra; k++)
        f[nf].k = extra[k].k, f[nf].v = extra[k].v, f[nf++].is_int = extra[k].is_int;
    if (json) {
        printf("{\"rules\":\"%s\",\"short_imi\":\"%s\"", plm_ruleset_name(rs),
               cfg.short_imi == PLM_SHORT_IMI_BREAK ? "break" : cfg.short_imi == PLM_SHORT_IMI_STARTS ? "starts" : "skip");
        for (size_t i = 0; i < nf; i++) {
            if (f[i].is_int) printf(",\"%s\":%d", f[i].k, (int)f[i].v);
            else if (isfinite(f[i].v)) printf(",\"%s\":%.15g", f[i].k, f[i].v);
            else printf(",\"%s\":null", f[i].k);
        }
        printf("}\n");
    } else {
        for (size_t i = 0; i < nf; i++) printf("%s%s", i ? "," : "", f[i].k);
        printf("\n");
        for (size_t i = 0; i < nf; i++) {
            if (i) printf(",");
            if (f[i].is_int) printf("%d", (int)f[i].v);
            else if (isfinite(f[i].v)) printf("%.15g", f[i].v);
            else printf("NaN");
        }
        printf("\n");
    }
    plm_score_result_clear(&r);
    return 0;
}
