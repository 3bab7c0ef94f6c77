/* run.c -- actiplm run: process every recording of a manifest into one HDF5 file. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glob.h>
#include <pthread.h>
#include <signal.h>
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
           "into place at the end, so an earlier results file is never half-overwritten.\n\n"
           "Manifest columns: subject, condition, path (required); recording, night,\n"
           "lights_off, lights_on, full_scale_g, channels, start, timezone, annotations.\n\n"
           "Options:\n"
           "  -o, --output FILE      results file (default " DEFAULT_OUTPUT ")\n"
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
           "  -q                     no progress and no warnings, only errors\n"
           "  -h, --help             this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm simulate -o study --subjects 6 --seed 1998\n"
           "  actiplm run study -o results/results.h5\n\n"
           "Exit status: 0 all recordings processed (with --allow-failures: the results\n"
           "written), 1 at least one failed or the results could not be written, 2 usage error.\n");
}

/* Parallel runs: each worker processes whole recordings into its own part file; the main
 * thread, the only writer of the results file, takes them in manifest order. */
typedef struct {
    const plm_manifest_row *row;
    size_t mrow;       /* its 0-based manifest row */
    plm_process_result res;
    plm_status st;
    char err[1100];
    char part[4200];
    const char *src;   /* file to import the recording from: its part file, or the previous results */
    int reused;        /* --resume found it done with the same input and parameters */
    int done;
} job;

typedef struct {
    job *jobs;
    size_t n, next;
    const plm_process_cfg *cfg;
    const char *out;
    int resume;
    char fp[65];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Reads of the previous results file are serialised: the HDF5 library (1.10) crashes when threads
       read variable-length strings through two open handles of the same file at once. */
    pthread_mutex_t io;
} pool;

/* --resume: is the recording already in `file` with the same input and parameters? Then take its night row. */
static int reusable(const pool *p, job *j, const char *file, const char *sha)
{
    char v[80], obj[1100];
    if (access(file, R_OK) != 0) return 0;
    if (plm_store_read_attr_str(file, "/", "params_fingerprint", v, sizeof v) != PLM_OK || strcmp(v, p->fp)) return 0;
    snprintf(obj, sizeof obj, "/recordings/%s", j->row->recording);
    if (plm_store_read_attr_str(file, obj, "sha256", v, sizeof v) != PLM_OK || strcmp(v, sha)) return 0;
    plm_night *rows = NULL;
    size_t n = 0;
    int found = 0;
    if (plm_store_read_nights(file, &rows, &n) == PLM_OK)
        for (size_t i = 0; i < n; i++) {
            if (!found && !strcmp(rows[i].recording, j->row->recording)) {
                found = 1;
                j->res.row = rows[i];
                j->res.row.recording = j->row->recording;
                j->res.row.subject = j->row->subject;
                j->res.row.condition = j->row->condition;
                j->res.row.lights_source = plm_night_source_name(rows[i].lights_source);
                j->res.row.sleep_source = plm_night_source_name(rows[i].sleep_source);
            }
        }
    plm_nights_free(rows, n);
    return found;
}

/* Process one recording into its part file (a results file of its own, committed when complete). */
static void process_part(const pool *p, job *j)
{
    plm_store *s = NULL;
    plm_status st = plm_store_create(j->part, &s);
    if (!st && !cli_write_root(s, NULL, p->cfg)) st = PLM_EIO;
    if (!st) st = plm_process_recording(j->row, p->cfg, s, &j->res);
    if (!st) st = plm_store_commit(s);
    else plm_store_destroy(s);
    if (st) snprintf(j->err, sizeof j->err, "%s", plm_last_error());
    j->st = st;
}

static void *worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        size_t i = p->next++;
        pthread_mutex_unlock(&p->mu);
        if (i >= p->n) break;
        job *j = &p->jobs[i];
        snprintf(j->part, sizeof j->part, "%s.part.%s", p->out, j->row->recording ? j->row->recording : "");
        j->src = j->part;
        char sha[65];
        if (p->resume && !j->row->error && plm_sha256_file(j->row->path, sha) == PLM_OK) {
            pthread_mutex_lock(&p->io);
            if (reusable(p, j, j->part, sha)) j->reused = 1;
            else if (reusable(p, j, p->out, sha)) j->reused = 1, j->src = p->out;
            pthread_mutex_unlock(&p->io);
        }
        if (!j->reused) process_part(p, j);
        pthread_mutex_lock(&p->mu);
        j->done = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    return NULL;
}

/* Temporary files that a killed run left beside the output (its pid no longer runs). */
static void remove_stale(const char *out)
{
    char pat[4200];
    for (int k = 0; k < 2; k++) {
        snprintf(pat, sizeof pat, "%s%s", out, k ? ".part.*.tmp-*" : ".tmp-*");
        glob_t g;
        if (glob(pat, GLOB_NOSORT, NULL, &g) != 0) continue;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *t = strstr(g.gl_pathv[i], ".tmp-");
            long pid = t ? strtol(t + 5, NULL, 10) : 0;
            if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH) unlink(g.gl_pathv[i]);
        }
        globfree(&g);
    }
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

int cmd_run(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         CLI_PROCESS_LONGOPTS,
                                         {"jobs", required_argument, 0, 'j'},
                                         {"resume", no_argument, 0, 'R'},
                                         {"shard", required_argument, 0, 'K'},
                                         {"allow-failures", no_argument, 0, 'F'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_process_cfg cfg = plm_process_cfg_default();
    const char *out = NULL;
    int verbose = 0, quiet = 0, starts = 0, resume = 0, allow_failures = 0, c;
    long shard_k = 0, shard_n = 0;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN), jobs = ncpu > 0 ? ncpu : 1;
    long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:j:vqh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'R': resume = 1; break;
        case 'K':
            if (!cli_parse_shard("run", optarg, &shard_k, &shard_n)) return EXIT_USAGE;
            break;
        case 'F': allow_failures = 1; break;
        case 'j':
            if (!cli_parse_int("run", "-j", optarg, 1, 256, &v)) return EXIT_USAGE;
            jobs = v;
            break;
        case 'v': verbose = 1; break;
        case 'q': quiet = 1; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default:
            if ((v = cli_process_option("run", c, optarg, &cfg, &starts)) < 0) return cli_usage_error("run", "unknown option");
            if (!v) return EXIT_USAGE;
        }
    }
    if (optind != argc - 1) return cli_usage_error("run", "expected one DIR or MANIFEST.csv");
    if (!cli_process_options_done("run", &cfg, starts)) return EXIT_USAGE;
    const char *arg = argv[optind];
    char manifest[4096];
    cli_manifest_path(arg, manifest, sizeof manifest);
    if (!out) {
        out = DEFAULT_OUTPUT;
        if (mkdir("results", 0755) != 0 && errno != EEXIST) {
            cli_error("results: cannot create folder: %s", strerror(errno));
            return 1;
        }
    }
    remove_stale(out);
    plm_manifest m;
    if (plm_manifest_read(manifest, &m) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    plm_store *store = NULL;
    if (plm_store_create(out, &store) != PLM_OK) {
        cli_error("%s", plm_last_error());
        plm_manifest_clear(&m);
        return 1;
    }
    if (!cli_write_root(store, manifest, &cfg) ||
        (shard_n && (plm_store_attr_i64(store, NULL, "shard_index", shard_k) ||
                     plm_store_attr_i64(store, NULL, "shard_count", shard_n) ||
                     plm_store_attr_i64(store, NULL, "manifest_rows", (int64_t)m.nrows)))) {
        cli_error("%s", plm_last_error());
        plm_store_destroy(store);
        plm_manifest_clear(&m);
        return 1;
    }
    size_t failed = 0, ndone = 0;
    int fatal = 0;
    plm_night *done_rows = calloc(m.nrows ? m.nrows : 1, sizeof *done_rows);
    if (!done_rows) {
        cli_error("out of memory");
        plm_store_destroy(store);
        plm_manifest_clear(&m);
        return 1;
    }
    /* the rows this run processes: all, or with --shard K/N the rows i with i mod N = K - 1 */
    job *jb = calloc(m.nrows ? m.nrows : 1, sizeof *jb);
    size_t nsel = 0;
    for (size_t i = 0; i < m.nrows && jb; i++)
        if (!shard_n || (long)(i % (size_t)shard_n) == shard_k - 1) {
            jb[nsel].row = &m.rows[i];
            jb[nsel++].mrow = i;
        }
    if (jobs > (long)nsel) jobs = (long)nsel;
    pthread_t *th = calloc((size_t)(jobs > 1 ? jobs : 1), sizeof *th);
    pool pl = {jb, nsel, 0, &cfg, out, resume, "", PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
               PTHREAD_MUTEX_INITIALIZER};
    cli_params_fingerprint(&cfg, pl.fp);
    long started = 0;
    size_t reused = 0;
    progress pg = {0, 0, 0, {0, 0}};
    if (!quiet) {
        pg.bar = isatty(STDERR_FILENO) && !verbose;
        pg.lines = !pg.bar;
    }
    clock_gettime(CLOCK_MONOTONIC, &pg.t0);
    if (!jb || !th) fatal = 1;
    if (!fatal)
        for (long k = 0; k < jobs; k++)
            if (pthread_create(&th[k], NULL, worker, &pl) == 0) started++;
    for (size_t i = 0; i < nsel && !fatal; i++) {
        job *j = &jb[i];
        const plm_manifest_row *row = j->row;
        plm_status st;
        if (started) { /* wait for the worker, then import its part file */
            pthread_mutex_lock(&pl.mu);
            while (!j->done) pthread_cond_wait(&pl.cv, &pl.mu);
            pthread_mutex_unlock(&pl.mu);
            st = j->st;
            pthread_mutex_lock(&pl.io);
            if (!st && (st = plm_store_import_recording(store, j->src, row->recording)) == PLM_OK)
                st = plm_store_add_night(store, &j->res.row);
            pthread_mutex_unlock(&pl.io);
            reused += j->reused && !st;
        } else {
            st = plm_process_recording(row, &cfg, store, &j->res);
        }
        plm_process_result res = j->res;
        const char *errtxt = started && j->st ? j->err : plm_last_error();
        progress_wipe(&pg);
        if (st) {
            char why[1100];
            snprintf(why, sizeof why, "%s", errtxt);
            cli_error("%s", why);
            failed++;
            if (plm_store_add_failure(store, row->recording ? row->recording : "", row->path ? row->path : "", why) ||
                (shard_n && plm_store_add_shard_row(store, (int32_t)j->mrow, 1)))
                fatal = 1;
            progress_bar(&pg, i + 1, nsel, failed);
            continue;
        }
        done_rows[ndone++] = res.row;
        if (shard_n && plm_store_add_shard_row(store, (int32_t)j->mrow, 0)) fatal = 1;
        if (res.warnings[0] && !quiet) cli_error("%s: warning: %s", row->path, res.warnings);
        if (pg.lines) {
            if (started && j->reused)
                fprintf(stderr, "actiplm run: %zu/%zu %s: reused (same input and parameters)\n", i + 1, nsel,
                        row->recording);
            else
                fprintf(stderr, "actiplm run: %zu/%zu %s: %.1f h recorded, PLMS %.1f/h, SE %.1f %% (lights: %s, sleep: %s)\n",
                        i + 1, nsel, row->recording, res.duration_s / 3600, res.row.plms_index, res.row.se_pct,
                        res.lights_source, res.sleep_source);
        }
        progress_bar(&pg, i + 1, nsel, failed);
    }
    progress_wipe(&pg);
    if (started) /* let the workers finish (after a fatal error they still run out the queue) */
        for (long k = 0; k < started; k++) pthread_join(th[k], NULL);
    free(th);
    size_t total = nsel;
    /* study statistics over the nights processed (a shard has none: actiplm merge computes them) */
    plm_study_result sres;
    memset(&sres, 0, sizeof sres);
    int have_stats = 0;
    if (!fatal && !shard_n && !cli_study_finish(store, done_rows, ndone, manifest, quiet, &sres, &have_stats)) fatal = 1;
    free(done_rows);
    plm_manifest_clear(&m);
    if (fatal || plm_store_commit(store) != PLM_OK) {
        if (fatal) plm_store_destroy(store);
        plm_study_result_clear(&sres);
        free(jb);
        cli_error("%s", plm_last_error());
        return 1;
    }
    /* the results are in place: the part files are no longer needed (kept until now for --resume) */
    for (size_t i = 0; jb && i < total; i++)
        if (jb[i].part[0]) unlink(jb[i].part);
    free(jb);
    printf("%s: ", out);
    if (shard_n) printf("shard %ld/%ld: ", shard_k, shard_n);
    printf("%zu of %zu recordings processed, %zu failed", total - failed, total, failed);
    if (resume) printf(" (%zu reused)", reused);
    printf("\n");
    if (have_stats) {
        plm_study_cfg scfg = plm_study_cfg_default();
        cli_print_study(stdout, &sres, &scfg);
        plm_study_result_clear(&sres);
    }
    return failed && !allow_failures ? 1 : 0;
}
