/* stats.c -- actiplm stats: treatment vs control over a study's nights. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm stats [options] RESULTS.h5|NIGHTS.csv\n\n"
           "Compare a treatment condition with a control condition over a study's nights\n"
           "(docs/statistics.md): per outcome n, mean and SD per condition, mean difference\n"
           "(treatment - control) with its t-based 95%% CI, paired t p, exact Wilcoxon\n"
           "signed-rank p, Hodges-Lehmann estimate with exact CI, Cohen's dz, Holm over the\n"
           "primary outcomes (PLMS, PLMS-A, sleep efficiency). Unpaired designs: Welch's t,\n"
           "the exact Wilcoxon-Mann-Whitney test, the Hodges-Lehmann shift and Hedges' g.\n"
           "A CSV input has columns subject,condition[,night] and one numeric column per\n"
           "outcome; the default outcomes it lacks are named and the others analysed.\n"
           "A condition that looks like a misspelling of the control or treatment (another\n"
           "case, 1-2 letters off) stops the analysis, naming its line.\n\n"
           "Options:\n"
           "  --control NAME       control level (default control)\n"
           "  --treatment NAME     treatment level (default magnesium)\n"
           "  --paired | --unpaired  design (default: paired when subjects have both)\n"
           "  --first-night        only each subject's first night per condition\n"
           "  --pratt              Pratt's rule for zero differences (default Wilcoxon's)\n"
           "  --outcomes LIST      comma-separated column names\n"
           "  --csv FILE           also write the results (the /stats fields) as CSV; '-':\n"
           "                       the CSV alone on stdout, the table on stderr\n"
           "  -h, --help           this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm stats results/results.h5 --csv stats.csv\n\n"
           "Exit status: 0 done, 1 the input could not be read or no comparison could be\n"
           "made (the reason is printed, e.g. too few subjects with both conditions),\n"
           "2 usage error.\n");
}

int cmd_stats(int argc, char **argv)
{
    static const struct option opts[] = {{"control", required_argument, 0, 'c'}, {"treatment", required_argument, 0, 't'},
                                         {"paired", no_argument, 0, 'p'},         {"unpaired", no_argument, 0, 'u'},
                                         {"first-night", no_argument, 0, 'f'},    {"pratt", no_argument, 0, 'P'},
                                         {"outcomes", required_argument, 0, 'o'}, {"csv", required_argument, 0, 'C'},
                                         {"help", no_argument, 0, 'h'},           {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_study_cfg cfg = plm_study_cfg_default();
    const char *csv = NULL;
    char *outcomes = NULL;
    const char *list[64];
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cfg.control = optarg; break;
        case 't': cfg.treatment = optarg; break;
        case 'p': cfg.design = PLM_DESIGN_PAIRED; break;
        case 'u': cfg.design = PLM_DESIGN_UNPAIRED; break;
        case 'f': cfg.first_night_only = 1; break;
        case 'P': cfg.stats.zero = PLM_ZERO_PRATT; break;
        case 'o': outcomes = optarg; break;
        case 'C': csv = optarg; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("stats", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("stats", "expected one RESULTS.h5 or NIGHTS.csv");
    if (outcomes) {
        size_t n = 0;
        for (char *tok = strtok(outcomes, ","); tok && n < 64; tok = strtok(NULL, ",")) list[n++] = tok;
        if (!n) return cli_usage_error("stats", "--outcomes: empty list");
        cfg.outcomes = list;
        cfg.noutcomes = n;
    }
    const char *path = argv[optind];
    size_t len = strlen(path);
    plm_table t;
    plm_status st;
    if (len > 4 && !strcmp(path + len - 4, ".csv")) st = plm_table_read_csv(path, &t);
    else {
        plm_night *rows = NULL;
        size_t n = 0;
        st = plm_store_read_nights(path, &rows, &n);
        if (!st) st = plm_table_from_nights(rows, n, &t);
        plm_nights_free(rows, n);
    }
    if (st) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    /* a misspelled condition stops the analysis; the others found are listed */
    char found[1024];
    st = plm_study_conditions((const char *const *)t.condition, t.line, t.nrows, path, &cfg, found, sizeof found);
    if (st) {
        cli_error("%s", plm_last_error());
        plm_table_clear(&t);
        return 1;
    }
    plm_study_result r;
    st = plm_study_analyze(&t, &cfg, &r);
    plm_table_clear(&t);
    if (st) {
        cli_error("%s: no comparison: %s", path, plm_last_error());
        return 1;
    }
    /* with --csv -, stdout holds the CSV only; the table goes to stderr */
    int to_stdout = csv && !strcmp(csv, "-");
    FILE *human = to_stdout ? stderr : stdout;
    if (r.missing[0]) cli_error("%s: left out, a condition missing: %s", path, r.missing);
    if (r.absent[0]) cli_error("%s: not in the table, so not analysed: %s", path, r.absent);
    fprintf(human, "conditions found: %s\n", found);
    cli_print_study(human, &r, &cfg);
    int ok = !csv || cli_write_stats_csv(csv, &r);
    plm_study_result_clear(&r);
    return ok ? 0 : 1;
}
