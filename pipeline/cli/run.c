/* run.c -- actiplm run: process every recording of a manifest into one HDF5 file. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli_common.h"
#include "plm/plm.h"

#define DEFAULT_OUTPUT "results/results.h5"

static void help(void)
{
    printf("Usage: actiplm run [options] DIR|MANIFEST.csv\n\n"
           "Process every recording listed in a study manifest (DIR/manifest.csv or the\n"
           "given CSV) and write one HDF5 results file (layout: docs/hdf5-layout.md).\n"
           "A recording that fails is reported on stderr and in /failures; the others\n"
           "are still processed. The file is written under a temporary name and renamed\n"
           "into place at the end, so an earlier results file is never half-overwritten,\n"
           "and a results file made from another manifest is not replaced without --force.\n"
           "Temporary files left by a run that was killed are removed (and counted).\n\n"
           "Every manifest condition must be the control or the treatment: a misspelled\n"
           "one stops the run before any recording is read, naming its line.\n\n"
           "Manifest columns: subject, condition, path (required); recording, night,\n"
           "lights_off, lights_on, full_scale_g, channels, start, timezone, annotations.\n\n"
           "Options:\n"
           "  -o, --output FILE      results file (default " DEFAULT_OUTPUT ")\n"
           "  --force                replace the output even if another manifest made it\n"
           "  --control NAME         the control condition (default control)\n"
           "  --treatment NAME       the treatment condition (default magnesium)\n"
           "  --block-frames N       frames read per block (default 32768)\n"
           "  --rules NAME           wasm2016 (default), aasm2007, legacy1998 (docs/scoring.md)\n"
           "  --short-imi-starts-series  WASM 2016 in the MATPLM reading (default SOMAS)\n"
           "  --sleep NAME           cole-kripke (default), sadeh, oakley: actigraphic sleep/wake\n"
           "                         where no stage annotations are given\n"
           "  --no-lm-mask           do not mask periodic movements out of the activity counts\n"
           "  --resume               reuse recordings already done with the same input (SHA-256)\n"
           "                         and parameters: from the results file, or from the part\n"
           "                         files an interrupted run left beside it\n"
           "  --shard K/N            process only the K-th of N disjoint slices of the manifest\n"
           "                         (rows K, K+N, K+2N, ...) into a shard file for actiplm merge;\n"
           "                         no /stats (the merge computes them)\n"
           "  --allow-failures       exit 0 when the results file was written even if some\n"
           "                         recordings failed (they are in /failures); Slurm shard tasks\n"
           "                         use it so that one bad recording does not cancel the merge\n"
           "  -j, --jobs N           recordings processed in parallel (default: the number of\n"
           "                         cores); results are identical whatever N\n"
           "  -v                     one line per finished recording on stderr even when it is\n"
           "                         a terminal (default there: a live progress bar with\n"
           "                         done/total, throughput and time left; elsewhere, as\n"
           "                         in logs and CI, one line per recording)\n"
           "  -q                     quiet: errors only on stderr, and on stdout the one-line\n"
           "                         summary without the statistics table (default: summary\n"
           "                         and table on stdout; progress, warnings and errors on\n"
           "                         stderr)\n"
           "  -h, --help             this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm simulate -o study --subjects 6 --seed 1998\n"
           "  actiplm run study -o results/results.h5\n\n"
           "Exit status: 0 all recordings processed and the conditions compared (with\n"
           "--allow-failures: the results written), 1 at least one recording failed, no\n"
           "comparison could be made (the reason is printed; the results are written), or\n"
           "nothing could be written, 2 usage error.\n");
}

/* Progress on stderr: a live bar when stderr is a terminal, else one line per finished recording. */
typedef struct {
    int bar, lines;    /* modes; both 0 with -q */
    int shown;         /* a bar is on the screen and must be wiped before other output */
    struct timespec t0;
} progress;

static void progress_wipe(progress *pg)
{
    if (pg->shown) fputs("\r\033[K", stderr);
    pg->shown = 0;
}

static void progress_bar(progress *pg, size_t done, size_t total, size_t failed)
{
    if (!pg->bar) return;
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    double el = (double)(t.tv_sec - pg->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - pg->t0.tv_nsec);
    char left[32] = "--:--:--";
    double rate = el > 0 && done ? (double)done / el : 0; /* recordings per second */
    if (rate > 0) {
        long s = (long)((double)(total - done) / rate + 0.5);
        snprintf(left, sizeof left, "%02ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    }
    int w = 30, fill = total ? (int)((double)w * (double)done / (double)total) : w;
    char bar[31];
    for (int k = 0; k < w; k++) bar[k] = k < fill ? '#' : '.';
    bar[w] = 0;
    fprintf(stderr, "\r[%s] %zu/%zu recordings, %zu failed, %.1f/min, %s left\033[K", bar, done, total, failed,
            60 * rate, left);
    fflush(stderr);
    pg->shown = 1;
}

/* What the progress callback needs. */
/* Warnings that recur on many recordings are printed the first time and counted after: their
 * kind is the text with its numbers taken out. */
enum { MAX_KINDS = 64 };
typedef struct {
    char kind[160], first_path[256];
    size_t count;
} warn_kind;

typedef struct {
    progress pg;
    int quiet;
    size_t failed;
    warn_kind kinds[MAX_KINDS];
    size_t nkinds;
} run_ui;

static void warning_kind(const char *w, char *kind, size_t n)
{
    size_t k = 0;
    for (const char *p = w; *p && k + 1 < n; p++) {
        if (isdigit((unsigned char)*p) || ((*p == '.' || *p == '-') && isdigit((unsigned char)p[1]))) {
            while (isdigit((unsigned char)p[1]) || ((p[1] == '.' || p[1] == '-') && isdigit((unsigned char)p[2]))) p++;
            kind[k++] = '#';
        } else kind[k++] = *p;
    }
    kind[k] = '\0';
}

/* Print the recording's warnings whose kind is new; count the others. */
static void report_warnings(run_ui *u, const char *path, const char *warnings)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", warnings);
    for (char *w = buf, *next; w && *w; w = next) {
        next = strstr(w, "; ");
        if (next) *next = '\0', next += 2;
        char kind[160];
        warning_kind(w, kind, sizeof kind);
        size_t i = 0;
        while (i < u->nkinds && strcmp(u->kinds[i].kind, kind)) i++;
        if (i == u->nkinds && i < MAX_KINDS) {
            snprintf(u->kinds[i].kind, sizeof u->kinds[i].kind, "%s", kind);
            snprintf(u->kinds[i].first_path, sizeof u->kinds[i].first_path, "%s", path);
            u->nkinds++;
        }
        if (i < MAX_KINDS && u->kinds[i].count++) continue; /* seen before: counted, summarised at the end */
        cli_error("%s: warning: %s", path, w);
    }
}

static void on_row(void *user, const plm_batch_event *ev)
{
    run_ui *u = user;
    progress *pg = &u->pg;
    if (!ev->index) { /* the plan */
        if (ev->note && !u->quiet) cli_error("warning: %s", ev->note);
        return;
    }
    progress_wipe(pg);
    if (ev->failed) cli_error("%s", ev->error);
    else if (ev->res->warnings[0] && !u->quiet) report_warnings(u, ev->row->path, ev->res->warnings);
    if (!ev->failed && pg->lines) {
        if (ev->reused)
            fprintf(stderr, "actiplm run: %zu/%zu %s: reused (same input and parameters)\n", ev->index, ev->total,
                    ev->row->recording);
        else
            fprintf(stderr, "actiplm run: %zu/%zu %s: %.1f h recorded, PLMS %.1f/h, SE %.1f %% (lights: %s, sleep: %s)\n",
                    ev->index, ev->total, ev->row->recording, ev->res->duration_s / 3600, ev->res->row.plms_index,
                    ev->res->row.se_pct, ev->res->lights_source, ev->res->sleep_source);
        if (!ev->reused && ev->res->devices[0])
            fprintf(stderr, "actiplm run: %zu/%zu %s: two devices: %s\n", ev->index, ev->total, ev->row->recording,
                    ev->res->devices);
    }
    u->failed += ev->failed != 0;
    progress_bar(pg, ev->index, ev->total, u->failed);
}

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         CLI_PROCESS_LONGOPTS,
                                         {"jobs", required_argument, 0, 'j'},
                                         {"resume", no_argument, 0, 'R'},
                                         {"shard", required_argument, 0, 'K'},
                                         {"allow-failures", no_argument, 0, 'F'},
                                         {"force", no_argument, 0, 'f'},
                                         {"control", required_argument, 0, 'C'},
                                         {"treatment", required_argument, 0, 'T'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_batch_cfg bc = plm_batch_cfg_default();
    const char *out = NULL;
    int verbose = 0, quiet = 0, starts = 0, allow_failures = 0, c;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN), v;
    bc.jobs = ncpu > 0 ? (int)ncpu : 1;
    bc.command_line = cli_command_line();
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:vqh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'R': bc.resume = 1; break;
        case 'K':
            if (!cli_parse_shard("run", optarg, &bc.shard_k, &bc.shard_n)) return EXIT_USAGE;
            break;
        case 'F': allow_failures = 1; break;
        case 'f': bc.force = 1; break;
        case 'C': bc.study.control = optarg; break;
        case 'T': bc.study.treatment = optarg; break;
        case 'j':
            if (!cli_parse_int("run", "-j", optarg, 1, 256, &v)) return EXIT_USAGE;
            bc.jobs = (int)v;
            break;
        case 'v': verbose = 1; break;
        case 'q': quiet = 1; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default:
            if ((v = cli_process_option("run", c, optarg, &bc.process, &starts)) < 0)
                return cli_usage_error("run", "unknown option");
            if (!v) return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) return cli_usage_error("run", "expected one DIR or MANIFEST.csv");
    if (!cli_process_options_done("run", &bc.process, starts)) return EXIT_USAGE;
    if (!strcmp(bc.study.control, bc.study.treatment))
        return cli_usage_error("run", "--control and --treatment name the same condition '%s'", bc.study.control);
    if (!out) {
        out = DEFAULT_OUTPUT;
        if (mkdir("results", 0755) != 0 && errno != EEXIST) {
            cli_error("results: cannot create folder: %s", strerror(errno));
            return 1;
        }
    }
    static run_ui ui; /* large: not on the stack */
    memset(&ui, 0, sizeof ui);
    ui.quiet = quiet;
    if (!quiet) {
        ui.pg.bar = isatty(STDERR_FILENO) && !verbose;
        ui.pg.lines = !ui.pg.bar;
    }
    clock_gettime(CLOCK_MONOTONIC, &ui.pg.t0);
    plm_batch_result br;
    plm_status st = plm_batch_run(argv[optind], out, &bc, on_row, &ui, &br);
    progress_wipe(&ui.pg);
    for (size_t i = 0; i < ui.nkinds; i++)
        if (ui.kinds[i].count > 1)
            cli_error("warning on %zu of %zu recordings (shown above for the first, %s): %s", ui.kinds[i].count,
                      br.total, ui.kinds[i].first_path, ui.kinds[i].kind);
    if (br.stale_removed && !quiet)
        cli_error("%s: removed %zu temporary file%s left by a run that was killed", out, br.stale_removed,
                  br.stale_removed == 1 ? "" : "s");
    if (st) {
        cli_error("%s", plm_last_error());
        plm_batch_result_clear(&br);
        return 1;
    }
    size_t total = br.total, failed = br.failed;
    printf("%s: ", out);
    if (bc.shard_n) printf("shard %ld/%ld: ", bc.shard_k, bc.shard_n);
    printf("%zu of %zu recordings processed, %zu failed", total - failed, total, failed);
    if (bc.resume) printf(" (%zu reused)", br.reused);
    printf("\n");
    if (br.have_study && !quiet) cli_print_study(stdout, &br.study, &bc.study);
    int no_stats = !bc.shard_n && !br.have_study;
    if (no_stats) cli_error("%s: no statistics: %s", br.manifest, br.study_note);
    plm_batch_result_clear(&br);
    return (failed && !allow_failures) || no_stats ? 1 : 0;
}
