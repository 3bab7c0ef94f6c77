/* actiplm.c -- the actiplm command: dispatch to subcommands. */
#include <gsl/gsl_errno.h>
#include <stdio.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *what;
} commands[] = {
    {"run", cmd_run, "process every recording of a study manifest into one HDF5 file"},
    {"detect", cmd_detect, "detect leg movements in one recording (calibration, QC, filter, detector)"},
    {"stats", cmd_stats, "treatment vs control: t, exact Wilcoxon, Hodges-Lehmann, effect sizes, Holm"},
    {"export", cmd_export, "spreadsheet-ready CSV files or an XLSX workbook"},
    {"report", cmd_report, "a self-contained HTML report of a results file: the study and every night"},
    {"plot", cmd_plot, "one figure of a results file as SVG or PNG (activity, raster, sleep, imi, paired)"},
    {"convert", cmd_convert, "a recording's decoded signal as HDF5, WAV, FLAC or CSV"},
    {"merge", cmd_merge, "combine the shard files of run --shard into one results file"},
    {"slurm", cmd_slurm, "write (and submit) a Slurm job array of shards plus a merge job"},
    {"score", cmd_score, "PLM indices from leg movements scored elsewhere (events CSV)"},
    {"compare", cmd_compare, "score detected leg movements against reference ones (Se, PPV, F1, timing)"},
    {"info", cmd_info, "describe one recording: format, channels, rate, start, full scale"},
    {"simulate", cmd_simulate, "write a synthetic study with ground truth"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: actiplm <command> [options]\n"
            "       actiplm --help | --version\n\n"
            "Leg-accelerometer recordings -> leg movements, PLMS indices, sleep measures and\n"
            "magnesium-vs-control statistics, stored in one HDF5 file.\n\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].what);
    fprintf(f,
            "\nExample:\n"
            "  actiplm simulate -o study --subjects 6 --seed 1998\n"
            "  actiplm run study -o results/results.h5\n\n"
            "Exit status: 0 all good, 1 at least one input failed, 2 usage error.\n"
            "'actiplm <command> --help' describes a command.\n");
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();
    plm_store_process_init(); /* no HDF5 clean-up at exit: it crashes on a file a full disk left half closed */
    plm_time_init(); /* before any thread: zone switches then never move the environment */
    cli_set_command_line(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("actiplm %s\n", plm_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int rc = commands[i].fn(argc - 1, argv + 1);
            if (!strcmp(argv[1], "plot") || !strcmp(argv[1], "report")) plm_figure_cleanup(); /* cairo's caches */
            return rc;
        }
    fprintf(stderr, "actiplm: unknown command '%s'\nTry 'actiplm --help'.\n", argv[1]);
    return EXIT_USAGE;
}
