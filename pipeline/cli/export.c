/* export.c -- actiplm export: spreadsheet-ready CSV files or one XLSX workbook. */
#include <getopt.h>
#include <stdio.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm export RESULTS.h5 (--csv DIR | --xlsx FILE)\n\n"
           "Write the results as tables for a spreadsheet: nights (one row per night),\n"
           "subjects (one row per subject and condition: means), stats, lm_events (long\n"
           "format: recording, onset, offset, leg, flags) and dictionary (every column:\n"
           "meaning and unit). CSV is RFC 4180 with a dot decimal separator; XLSX has the\n"
           "same tables as sheets with numeric cells and frozen header rows.\n\n"
           "Options:\n"
           "  --csv DIR      write DIR/nights.csv, subjects.csv, stats.csv, lm_events.csv, dictionary.csv\n"
           "  --xlsx FILE    write one workbook\n"
           "  -h, --help     this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm export results/results.h5 --csv tables --xlsx results/results.xlsx\n\n"
           "Exit status: 0 written, 1 the results could not be read or written, 2 usage error.\n");
}

int cmd_export(int argc, char **argv)
{
    static const struct option opts[] = {{"csv", required_argument, 0, 'c'}, {"xlsx", required_argument, 0, 'x'},
                                         {"help", no_argument, 0, 'h'},      {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    const char *csv = NULL, *xlsx = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': csv = optarg; break;
        case 'x': xlsx = optarg; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("export", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("export", "expected one RESULTS.h5");
    if (!csv && !xlsx) return cli_usage_error("export", "give --csv DIR or --xlsx FILE");
    if (csv && plm_export_csv(argv[optind], csv) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    if (xlsx && plm_export_xlsx(argv[optind], xlsx) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    if (csv) printf("written: %s/{nights,subjects,stats,lm_events,dictionary}.csv\n", csv);
    if (xlsx) printf("written: %s\n", xlsx);
    return 0;
}
