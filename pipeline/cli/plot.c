/* plot.c -- actiplm plot: one figure of a results file as SVG or PNG. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm plot RESULTS.h5 --figure KIND [--night ID] -o FILE.svg|FILE.png\n\n"
           "Draw one figure of a results file, for papers and slides (the report shows the same\n"
           "ones). KIND:\n"
           "  activity  a night's activity per leg over the whole recording, lights off/on\n"
           "            and QC-excluded spans shaded\n"
           "  raster    a night's leg movements, one row per hour: PLMs, other CLMs, other LMs\n"
           "  sleep     a night's sleep/wake per 30-s epoch\n"
           "  imi       a night's inter-movement-interval histogram (log axis, 10-90 s marked)\n"
           "  paired    one outcome per subject, control to treatment, and the mean difference\n"
           "            with its 95 %% CI (--outcome, default plms_index)\n\n"
           "Options:\n"
           "  --figure KIND      which figure (required)\n"
           "  --night ID         the recording (every figure but paired)\n"
           "  --outcome NAME     paired: a /nights column (default plms_index)\n"
           "  -o, --output FILE  FILE.svg or FILE.png (the extension chooses)\n"
           "  --width PX, --height PX   size (default: the figure's own)\n"
           "  -h, --help         this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm plot results/results.h5 --figure raster --night S01_control_n1 -o raster.png\n\n"
           "Exit status: 0 written, 1 the results file or the figure failed, 2 usage error.\n");
}

int cmd_plot(int argc, char **argv)
{
    static const struct option opts[] = {{"figure", required_argument, 0, 'f'}, {"night", required_argument, 0, 'n'},
                                         {"outcome", required_argument, 0, 'u'}, {"output", required_argument, 0, 'o'},
                                         {"width", required_argument, 0, 'W'},   {"height", required_argument, 0, 'H'},
                                         {"help", no_argument, 0, 'h'},          {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_figure_cfg cfg = {0};
    const char *out = NULL, *kind = NULL;
    long w = 0, h = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f': kind = optarg; break;
        case 'n': cfg.recording = optarg; break;
        case 'u': cfg.outcome = optarg; break;
        case 'o': out = optarg; break;
        case 'W':
            if (!cli_parse_int("plot", "--width", optarg, 120, 8000, &w)) return EXIT_USAGE;
            break;
        case 'H':
            if (!cli_parse_int("plot", "--height", optarg, 80, 20000, &h)) return EXIT_USAGE;
            break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("plot", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("plot", "expected one RESULTS.h5");
    if (!kind) return cli_usage_error("plot", "--figure is required (activity, raster, sleep, imi, paired)");
    if (!(cfg.kind = plm_figure_kind_from_name(kind)))
        return cli_usage_error("plot", "--figure '%s': activity, raster, sleep, imi or paired", kind);
    if (cfg.kind != PLM_FIGURE_PAIRED && !cfg.recording) return cli_usage_error("plot", "--figure %s needs --night ID", kind);
    if (!out) return cli_usage_error("plot", "-o FILE.svg or FILE.png is required");
    const char *dot = strrchr(out, '.');
    if (dot && !strcmp(dot, ".svg")) cfg.format = PLM_FIGURE_SVG;
    else if (dot && !strcmp(dot, ".png")) cfg.format = PLM_FIGURE_PNG;
    else return cli_usage_error("plot", "-o %s: the name must end in .svg or .png", out);
    cfg.width = (int)w;
    cfg.height = (int)h;
    plm_bytes b = {0};
    if (plm_figure_draw(argv[optind], &cfg, &b) != PLM_OK) {
        cli_error("%s", plm_last_error());
        plm_bytes_free(&b);
        return 1;
    }
    FILE *f = fopen(out, "wb");
    int ok = f && fwrite(b.data, 1, b.n, f) == b.n;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) cli_error("%s: cannot write: %s", out, strerror(errno));
    plm_bytes_free(&b);
    return ok ? 0 : 1;
}
