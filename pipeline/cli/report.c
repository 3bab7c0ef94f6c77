/* report.c -- actiplm report: a results file as one self-contained HTML page. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm report RESULTS.h5 [-o report.html] [--nights ID,...]\n\n"
           "Write one self-contained HTML page (no external scripts, fonts or images; opens\n"
           "offline, prints to PDF): the study table with its footnotes, a paired plot per\n"
           "primary outcome, the failures, a table of nights with flags, the provenance, and\n"
           "one section per night with its activity, sleep/wake, movement raster and IMI\n"
           "histogram (the figures of actiplm plot).\n\n"
           "Options:\n"
           "  -o, --output FILE   the page (default: report.html beside RESULTS.h5)\n"
           "  --nights ID,...     sections for these nights only (the tables keep every night)\n"
           "  -q                  print nothing on success\n"
           "  -h, --help          this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm report results/results.h5 -o results/report.html\n\n"
           "Exit status: 0 written, 1 the results file could not be read or the page written,\n"
           "2 usage error.\n");
}

int cmd_report(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'}, {"nights", required_argument, 0, 'n'},
                                         {"help", no_argument, 0, 'h'},          {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_report_cfg cfg = {0};
    const char *out = NULL;
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'n': cfg.nights = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("report", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("report", "expected one RESULTS.h5");
    const char *in = argv[optind];
    char def[4200];
    if (!out) {
        const char *slash = strrchr(in, '/');
        snprintf(def, sizeof def, "%.*sreport.html", slash ? (int)(slash - in + 1) : 0, in);
        out = def;
    }
    plm_report_result res;
    if (plm_report_write(in, out, &cfg, &res) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    if (!quiet) printf("%s: %zu night section%s, %.1f MB\n", out, res.nights, res.nights == 1 ? "" : "s", res.bytes / 1e6);
    return 0;
}
