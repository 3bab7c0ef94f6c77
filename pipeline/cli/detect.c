/* detect.c -- actiplm detect: read -> calibrate/QC -> filter -> detect one recording. */
#define _DEFAULT_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm detect [options] RECORDING [--right RECORDING2]\n\n"
           "Detect leg movements in one recording: read, quality flags and calibration,\n"
           "FFT band-pass, per-leg detection (docs/detection.md). Writes an HDF5 results\n"
           "file with the recording's group (lm_leg, qc, calibration attributes) and\n"
           "prints a summary.\n\n"
           "Options:\n"
           "  -o, --output FILE      results file (default: RECORDING's stem + .h5 here)\n"
           "  --csv FILE             also write the movements as an events CSV\n"
           "                         (onset_s,duration_s,type,leg), for actiplm compare\n"
           "  --full-scale-g G       full scale of integer samples in g\n"
           "  --channels MAP         channel map, e.g. L=1,2,3;R=4,5,6\n"
           "  --timezone TZ          IANA zone of local times in the file\n"
           "  --right FILE2          the right ankle's own file (RECORDING is the left's)\n"
           "  -j, --jobs N           threads (default 1; 2: the legs at once, same results)\n"
           "  -q                     no warnings\n"
           "  -h, --help             this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm detect night.wav --full-scale-g 8 -o night.h5 --csv night_lm.csv\n\n"
           "Exit status: 0 done, 1 the recording could not be processed, 2 usage error.\n");
}

int cmd_detect(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"csv", required_argument, 0, 'C'},
                                         {"full-scale-g", required_argument, 0, 'g'},
                                         {"channels", required_argument, 0, 'c'},
                                         {"timezone", required_argument, 0, 'z'},
                                         {"right", required_argument, 0, 'r'},
                                         {"jobs", required_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_manifest_row row;
    memset(&row, 0, sizeof row);
    row.full_scale_g = NAN;
    row.night = 1;
    const char *out = NULL, *csv = NULL;
    int quiet = 0, c;
    optind = 1;
    long jobs = 1;
    while ((c = getopt_long(argc, argv, "o:j:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'C': csv = optarg; break;
        case 'g':
            if (!cli_parse_double("detect", "--full-scale-g", optarg, 1e-6, 1000, &row.full_scale_g)) return EXIT_USAGE;
            break;
        case 'c': row.channels = optarg; break;
        case 'z': row.timezone = optarg; break;
        case 'r': row.path_right = row.path_right_given = optarg; break;
        case 'j':
            if (!cli_parse_int("detect", "-j", optarg, 1, 256, &jobs)) return EXIT_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("detect", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("detect", "expected one RECORDING");
    char *path = argv[optind], stem[256], defout[300];
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = '\0';
    if (!out) {
        snprintf(defout, sizeof defout, "%s.h5", stem);
        out = defout;
    }
    row.path = row.path_given = path;
    row.recording = stem;
    row.subject = row.condition = "";
    plm_process_cfg cfg = plm_process_cfg_default();
    cfg.threads = (int)jobs;
    plm_store *store = NULL;
    if (plm_store_create(out, &store) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    if (plm_batch_write_root(store, NULL, &cfg, cli_command_line())) {
        cli_error("%s", plm_last_error());
        plm_store_destroy(store);
        return 1;
    }
    plm_process_result res;
    if (plm_process_recording(&row, &cfg, store, &res) != PLM_OK) {
        cli_error("%s", plm_last_error());
        plm_store_destroy(store);
        return 1;
    }
    if (res.warnings[0] && !quiet) cli_error("%s: warning: %s", path, res.warnings);
    if (plm_store_commit(store) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    printf("%s: %.0f s; leg movements: left %zu, right %zu\n", path, res.duration_s, res.lm_count[0], res.lm_count[1]);
    for (int l = 0; l < 2; l++)
        if (res.calib[l].reason[0]) printf("calibration %s: %s\n", l ? "right" : "left", res.calib[l].reason);
    printf("excluded: non-wear %.0f s, clipping %.1f s, dropout %.1f s\n", res.excluded_s[PLM_QC_NONWEAR],
           res.excluded_s[PLM_QC_CLIPPING], res.excluded_s[PLM_QC_DROPOUT]);
    printf("written: %s\n", out);
    if (csv) {
        plm_span *v = NULL;
        size_t n;
        if (plm_store_read_lm_leg(out, stem, &v, &n, NULL, 0) != PLM_OK) {
            cli_error("%s", plm_last_error());
            return 1;
        }
        double *on = malloc((n + 1) * sizeof *on), *off = malloc((n + 1) * sizeof *off);
        uint8_t *leg = malloc(n + 1);
        for (size_t i = 0; i < n && on && off && leg; i++) on[i] = v[i].onset_s, off[i] = v[i].offset_s, leg[i] = v[i].leg;
        plm_status st = on && off && leg ? plm_events_write_lm_csv(csv, on, off, leg, n) : PLM_ENOMEM;
        free(v);
        free(on);
        free(off);
        free(leg);
        if (st) {
            cli_error("%s", st == PLM_ENOMEM ? "out of memory" : plm_last_error());
            return 1;
        }
        printf("written: %s\n", csv);
    }
    return 0;
}
