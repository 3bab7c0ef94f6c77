/* compare.c -- actiplm compare: detected vs reference leg movements, event by event. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm compare [options] DETECTED TRUTH\n\n"
           "Match detected leg movements to reference ones one to one by overlap (as\n"
           "WFDB's bxb matches beats) and print, per leg and overall: reference and\n"
           "detected counts, TP, FN, FP, sensitivity, positive predictive value, F1,\n"
           "and the onset/offset errors of matched pairs (median and 95th percentile).\n"
           "Each of DETECTED and TRUTH is an actiplm HDF5 file (its lm_leg table) or an\n"
           "events CSV (onset_s,duration_s,type,leg; the lm rows). Only movements whose\n"
           "onset falls between lights off and on count, taken from TRUTH's lights_off and\n"
           "lights_on rows when it has them.\n\n"
           "Options:\n"
           "  --recording ID         which recording of an HDF5 file (if it holds several)\n"
           "  --from S, --to S       window in seconds from the first sample\n"
           "  --json                 one JSON object instead of the table\n"
           "  -h, --help             this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm detect night.wav --full-scale-g 8 -o night.h5\n"
           "  actiplm compare night.h5 night_psg_events.csv\n\n"
           "Exit status: 0 compared, 1 an input could not be read, 2 usage error.\n");
}

static int is_csv(const char *p)
{
    size_t n = strlen(p);
    return n > 4 && !strcmp(p + n - 4, ".csv");
}

/* Load lm spans from an HDF5 file or events CSV; lights times if the CSV has them. */
static int load(const char *path, const char *recording, plm_span **v, size_t *n, double *lo, double *ln)
{
    if (!is_csv(path)) {
        if (plm_store_read_lm_leg(path, recording, v, n, NULL, 0) != PLM_OK) {
            cli_error("%s", plm_last_error());
            return 0;
        }
        return 1;
    }
    plm_event_list ev;
    if (plm_events_read_csv(path, &ev) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 0;
    }
    if (ev.unknown_types[0]) cli_error("%s: warning: unknown event types ignored: %s", path, ev.unknown_types);
    *v = calloc(ev.n + 1, sizeof **v);
    *n = 0;
    if (!*v) {
        plm_event_list_clear(&ev);
        cli_error("out of memory");
        return 0;
    }
    for (size_t i = 0; i < ev.n; i++) {
        const plm_event *e = &ev.v[i];
        if (e->type == PLM_EV_LM) (*v)[(*n)++] = (plm_span){e->onset_s, e->onset_s + e->duration_s, e->leg};
        if (e->type == PLM_EV_LIGHTS_OFF && lo) *lo = e->onset_s;
        if (e->type == PLM_EV_LIGHTS_ON && ln) *ln = e->onset_s;
    }
    plm_event_list_clear(&ev);
    return 1;
}

static void json_stats(const char *name, const plm_match_stats *s, int last)
{
    printf("\"%s\":{\"ref\":%zu,\"det\":%zu,\"tp\":%zu,\"fn\":%zu,\"fp\":%zu", name, s->ref, s->det, s->tp, s->fn, s->fp);
    const double v[7] = {s->se, s->ppv, s->f1, s->onset_err_median_s, s->onset_err_p95_s, s->offset_err_median_s,
                         s->offset_err_p95_s};
    const char *k[7] = {"se", "ppv", "f1", "onset_err_median_s", "onset_err_p95_s", "offset_err_median_s", "offset_err_p95_s"};
    for (int i = 0; i < 7; i++) {
        if (isfinite(v[i])) printf(",\"%s\":%.6g", k[i], v[i]);
        else printf(",\"%s\":null", k[i]);
    }
    printf("}%s", last ? "" : ",");
}

int cmd_compare(int argc, char **argv)
{
    static const struct option opts[] = {{"recording", required_argument, 0, 'r'}, {"from", required_argument, 0, 'f'},
                                         {"to", required_argument, 0, 't'},        {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},            {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    const char *recording = NULL;
    double from = NAN, to = NAN;
    int json = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'r': recording = optarg; break;
        case 'f':
            if (!cli_parse_double("compare", "--from", optarg, 0, 1e9, &from)) return EXIT_USAGE;
            break;
        case 't':
            if (!cli_parse_double("compare", "--to", optarg, 0, 1e9, &to)) return EXIT_USAGE;
            break;
        case 'j': json = 1; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("compare", "unknown option");
        }
    }
    if (optind != argc - 2) return cli_usage_error("compare", "expected DETECTED and TRUTH");
    plm_span *d = NULL, *r = NULL;
    size_t nd = 0, nr = 0;
    double lo = 0, ln = INFINITY;
    int ok = load(argv[optind], recording, &d, &nd, NULL, NULL) && load(argv[optind + 1], recording, &r, &nr, &lo, &ln);
    if (!ok) {
        free(d);
        free(r);
        return 1;
    }
    if (isfinite(from)) lo = from;
    if (isfinite(to)) ln = to;
    plm_compare_result res;
    plm_status st = plm_compare_spans(d, nd, r, nr, lo, ln, &res);
    free(d);
    free(r);
    if (st) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    static const char *const names[3] = {"overall", "left", "right"};
    if (json) {
        printf("{\"from_s\":%.6g,\"to_s\":%s", lo, isfinite(ln) ? "" : "null");
        if (isfinite(ln)) printf("%.6g", ln);
        printf(",");
        json_stats(names[1], &res.leg[1], 0);
        json_stats(names[2], &res.leg[2], 0);
        json_stats(names[0], &res.leg[0], 1);
        printf("}\n");
        return 0;
    }
    printf("window: %.1f .. %.1f s\n", lo, ln);
    printf("%-8s %6s %6s %6s %6s %6s %6s %6s %6s %10s %10s %10s %10s\n", "leg", "ref", "det", "TP", "FN", "FP", "Se", "PPV",
           "F1", "on_med_s", "on_p95_s", "off_med_s", "off_p95_s");
    for (int l = 1; l <= 3; l++) {
        const plm_match_stats *s = &res.leg[l % 3];
        printf("%-8s %6zu %6zu %6zu %6zu %6zu %6.3f %6.3f %6.3f %10.3f %10.3f %10.3f %10.3f\n", names[l % 3], s->ref, s->det,
               s->tp, s->fn, s->fp, s->se, s->ppv, s->f1, s->onset_err_median_s, s->onset_err_p95_s, s->offset_err_median_s,
               s->offset_err_p95_s);
    }
    return 0;
}
