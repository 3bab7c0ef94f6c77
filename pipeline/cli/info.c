/* info.c -- actiplm info: describe one recording. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm info [options] FILE [--right FILE2]\n\n"
           "Print a recording's format, channel map, sample rate, frames and duration,\n"
           "start time, full scale and any warning (e.g. a truncated file). For the\n"
           "devices' own files (Axivity CWA, GENEActiv .bin, ActiGraph .gt3x) also the\n"
           "device and serial, the rate observed from the file's sample times beside the\n"
           "nominal one, the time zone status and every gap (missing or corrupt data).\n"
           "With --right, FILE is the left ankle's device and FILE2 the right's: each\n"
           "file's device, rate and offset, and the recording they make together (the\n"
           "time both cover, on the faster file's samples).\n\n"
           "Options:\n"
           "  --full-scale-g G   full scale of integer samples in g (as the manifest column)\n"
           "  --channels MAP     channel map, e.g. L=1,2,3;R=4,5,6 or R=1,2,3\n"
           "  --timezone TZ      IANA zone of local times in the file (default: this machine's)\n"
           "  --right FILE2      the right ankle's own file (one device per ankle)\n"
           "  --head N           also print the first N frames in g\n"
           "  -h, --help         this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm info ../shared/data/axivity/ax3test.wav\n\n"
           "Exit status: 0 readable, 1 the file cannot be read, 2 usage error.\n");
}

static void print_rate(const plm_reader_info *in, const char *what)
{
    if (in->fs_nominal_hz > 0 && fabs(in->fs_hz - in->fs_nominal_hz) > 1e-9 * in->fs_hz)
        printf("%.4f Hz observed from the file's sample times (nominal %g Hz, %+.2f %%)%s\n", in->fs_hz,
               in->fs_nominal_hz, 100 * (in->fs_hz / in->fs_nominal_hz - 1), what);
    else
        printf("%g Hz%s\n", in->fs_hz, what);
}

int cmd_info(int argc, char **argv)
{
    static const struct option opts[] = {{"full-scale-g", required_argument, 0, 'g'},
                                         {"channels", required_argument, 0, 'c'},
                                         {"timezone", required_argument, 0, 'z'},
                                         {"head", required_argument, 0, 'n'},
                                         {"right", required_argument, 0, 'r'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_read_cfg cfg = plm_read_cfg_default();
    long head = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'g':
            if (!cli_parse_double("info", "--full-scale-g", optarg, 1e-6, 1000, &cfg.full_scale_g)) return EXIT_USAGE;
            break;
        case 'c': cfg.channels = optarg; break;
        case 'z': cfg.timezone = optarg; break;
        case 'r': cfg.right_path = optarg; break;
        case 'n':
            if (!cli_parse_int("info", "--head", optarg, 0, 1000000, &head)) return EXIT_USAGE;
            break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("info", "unknown option");
        }
    }
    if (optind != argc - 1) return cli_usage_error("info", "expected one FILE");
    const char *path = argv[optind];
    plm_reader *r = NULL;
    if (plm_reader_open(path, &cfg, &r) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    const plm_reader_info *in = plm_reader_get_info(r);
    printf("file:         %s\n", path);
    printf("format:       %s\n", in->format);
    printf("channels:     %d in file; using %d: %s (%s)\n", in->file_channels, in->nchan, in->channel_map, in->labels);
    if (in->dropped[0]) printf("dropped:      %s\n", in->dropped);
    if (in->device[0]) printf("device:       %s%s%s\n", in->device, in->serial[0] ? ", serial " : "", in->serial);
    for (int s = 0; s < in->nsides; s++) {
        const plm_reader_side *sd = &in->side[s];
        const plm_reader_info *si = sd->info;
        char t[48];
        plm_time_format_local(&si->start, ' ', t, sizeof t);
        printf("%s file:   %s\n", s ? "right" : "left ", sd->path);
        printf("              %s%s%s, %s\n", si->device[0] ? si->device : si->format, si->serial[0] ? ", serial " : "",
               si->serial, si->format);
        printf("              ");
        print_rate(si, "");
        printf("              first sample %.23s, %+.3f s from the recording's start%s", t, sd->offset_s,
               sd->skipped_frames ? "; " : "\n");
        if (sd->skipped_frames)
            printf("%lld frame%s (%.1f s) before the other file began\n", (long long)sd->skipped_frames,
                   sd->skipped_frames == 1 ? "" : "s", (double)sd->skipped_frames / si->fs_hz);
    }
    printf("sample rate:  ");
    print_rate(in, in->nsides ? " (the recording's frames: the faster file's samples)" : "");
    if (in->frames_header != in->frames)
        printf("frames:       %lld (header promises %lld)\n", (long long)in->frames, (long long)in->frames_header);
    else
        printf("frames:       %lld\n", (long long)in->frames);
    double dur = (double)in->frames / in->fs_hz;
    printf("duration:     %.3f s (%02d:%02d:%06.3f)\n", dur, (int)(dur / 3600), (int)fmod(dur / 60, 60), fmod(dur, 60));
    if (in->has_start) {
        char local[48], utc[48];
        plm_time_format_local(&in->start, ' ', local, sizeof local);
        plm_time_format_utc(&in->start, utc, sizeof utc);
        /* "2018-03-18 17:24:47.536+01:00" -> "2018-03-18 17:24:47.536 +01:00" */
        printf("start:        %.23s %s (%s; from %s)\n", local, local + 23, utc, in->start_source);
        if (in->family >= PLM_FORMAT_CWA && !in->zone_known)
            printf("time zone:    none in the file: device-local clock, read in this machine's zone (--timezone)\n");
        else if (in->family >= PLM_FORMAT_CWA)
            printf("time zone:    UTC%+03d:%02d%s\n", in->start.offset_s / 3600, abs(in->start.offset_s) / 60 % 60,
                   cfg.timezone ? " (--timezone)" : " (from the file)");
    } else {
        printf("start:        unknown (set the manifest column start)\n");
    }
    if (in->is_float) printf("full scale:   none (floating-point samples in g)\n");
    else printf("full scale:   %g g (%s)\n", in->full_scale_g, in->full_scale_source);
    size_t nann;
    plm_reader_annotations(r, &nann);
    if (in->family == PLM_FORMAT_EDF) printf("annotations:  %zu\n", nann);
    int rc = 0;
    if (head > 0) {
        int64_t cap = head;
        double *x = malloc(sizeof(double) * (size_t)cap * (size_t)in->nchan);
        int64_t got = 0;
        if (!x || plm_reader_read(r, x, cap, &got) != PLM_OK) {
            cli_error("%s: %s", path, x ? plm_last_error() : "out of memory");
            rc = 1;
        }
        for (int64_t i = 0; i < got; i++) {
            printf("sample %lld:", (long long)i);
            for (int ch = 0; ch < in->nchan; ch++) printf(" %.6f", x[(size_t)ch * (size_t)cap + (size_t)i]);
            printf("\n");
        }
        free(x);
    }
    /* the devices' own formats: read to the end, so that every gap is known */
    if (!rc && in->family >= PLM_FORMAT_CWA) {
        int64_t cap = 65536, got = 0;
        double *x = malloc(sizeof(double) * (size_t)cap * (size_t)in->nchan);
        while (x && plm_reader_read(r, x, cap, &got) == PLM_OK && got) {}
        free(x);
        in = plm_reader_get_info(r);
        size_t ng;
        const plm_gap *g = plm_reader_gaps(r, &ng);
        double total = 0;
        for (size_t k = 0; k < ng; k++) total += g[k].duration_s;
        printf("gaps:         %zu%s", ng, ng ? "" : " (no missing or corrupt data)\n");
        if (ng) printf(", %.2f s in all (delivered as missing samples)\n", total);
        for (size_t k = 0; k < ng && k < 20; k++)
            printf("  at %10.2f s for %8.2f s: %s%s\n", g[k].onset_s, g[k].duration_s,
                   g[k].leg == PLM_LEG_LEFT ? "left file: " : g[k].leg == PLM_LEG_RIGHT ? "right file: " : "", g[k].reason);
        if (ng > 20) printf("  ... and %zu more\n", ng - 20);
    }
    if (in->warnings[0]) cli_error("%s: warning: %s", path, in->warnings); /* once, on stderr */
    plm_reader_destroy(r);
    return rc;
}
