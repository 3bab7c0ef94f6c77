/* slurm.c -- actiplm slurm: a Slurm job array of `run --shard K/N` tasks plus an afterok merge job. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm slurm [options] DIR|MANIFEST.csv -o RESULTS.h5 --tasks N [-- SBATCH OPTIONS]\n\n"
           "Run a study on a Slurm cluster: write an sbatch job array of N shard tasks\n"
           "(task K runs `actiplm run --shard K/N --resume` on manifest rows K, K+N, ...)\n"
           "and a merge job (`actiplm merge`) that starts when every task has succeeded\n"
           "(--dependency=afterok). With --submit, submit both and print their job ids.\n"
           "Files go to RESULTS.h5.slurm/ (or --dir): shard.sbatch, merge.sbatch, the shard\n"
           "files shard-K-of-N.h5 and the logs shard-K.log and merge.log. A task exits 0\n"
           "when its shard file is written, also when some recordings failed (they go to\n"
           "/failures of the merged file). A task that fails leaves its log and no shard\n"
           "file, and the merge job is cancelled by Slurm; running the same command again\n"
           "submits only the shards whose file is missing or was made with other\n"
           "parameters, another manifest or another version, then the merge.\n"
           "Paths in the scripts are absolute: the folder must be on a file system that\n"
           "the compute nodes share.\n\n"
           "Options:\n"
           "  -o, --output FILE      merged results file (required)\n"
           "  --tasks N              shard tasks (required, 1..100000)\n"
           "  --submit               submit with sbatch (otherwise print the commands)\n"
           "  --dir DIR              folder for scripts, shard files and logs\n"
           "                         (default RESULTS.h5.slurm)\n"
           "  --rules, --short-imi-starts-series, --sleep, --no-lm-mask, --block-frames\n"
           "                         as for actiplm run; passed to every shard task\n"
           "  -- SBATCH OPTIONS      given to both sbatch calls (e.g. --partition=long\n"
           "                         --time=02:00:00 --cpus-per-task=4; a task runs with\n"
           "                         -j $SLURM_CPUS_PER_TASK)\n"
           "  -h, --help             this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm slurm study -o results/results.h5 --tasks 20 --submit -- --time=01:00:00\n\n"
           "Exit status: 0 scripts written (and submitted), 1 a file or sbatch failed,\n"
           "2 usage error.\n");
}

/* s as one single-quoted shell word. */
static void sh_word(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputs("'\\''", f);
        else fputc(*s, f);
    }
    fputc('\'', f);
}

/* Absolute path of a file that may not exist yet: its folder must exist. */
static int abs_path(const char *p, char *buf, size_t n)
{
    char dir[PATH_MAX], real[PATH_MAX];
    const char *slash = strrchr(p, '/'), *base = slash ? slash + 1 : p;
    if (!*base) return 0;
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - p) ? (int)(slash - p) : 1, p);
    else snprintf(dir, sizeof dir, ".");
    if (!realpath(dir, real)) return 0;
    int k = snprintf(buf, n, "%s/%s", strcmp(real, "/") ? real : "", base);
    return k > 0 && (size_t)k < n;
}

/* Is dir/shard-K-of-N.h5 a finished shard of this run (same N, manifest, parameters, version)? */
static int shard_done(const char *path, long k, long n, const char *fp, const char *msha)
{
    plm_shard_id id;
    return access(path, R_OK) == 0 && plm_shard_id_read(path, &id) == PLM_OK && id.k == k && id.n == n &&
           !strcmp(id.fp, fp) && !strcmp(id.msha, msha);
}

/* The last non-empty line of a log, for the trace of a failed task. */
static void last_line(const char *path, char *buf, size_t n)
{
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        size_t l = strlen(line);
        if (!l) continue;
        if (l >= n) l = n - 1;
        memcpy(buf, line, l);
        buf[l] = '\0';
    }
    fclose(f);
}

/* Run argv (sbatch --parsable ...), its stdout into out; returns its exit status or -1. */
static int run_capture(char *const *argv, char *out, size_t n)
{
    int fd[2];
    out[0] = '\0';
    if (pipe(fd) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "actiplm: %s: cannot run: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    ssize_t r;
    while ((r = read(fd[0], out + len, n - 1 - len)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0) len += (size_t)r;
    out[len] = '\0';
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* sbatch --parsable [fixed...] [user...] script -> job id (digits before ';'), or 0 with a message. */
static long submit(const char *const *fixed, size_t nfixed, char **user, size_t nuser, const char *script)
{
    char *argv[64 + 256];
    size_t k = 0;
    argv[k++] = "sbatch";
    argv[k++] = "--parsable";
    for (size_t i = 0; i < nfixed; i++) argv[k++] = (char *)fixed[i];
    for (size_t i = 0; i < nuser && k < sizeof argv / sizeof argv[0] - 2; i++) argv[k++] = user[i];
    argv[k++] = (char *)script;
    argv[k] = NULL;
    char out[256];
    int rc = run_capture(argv, out, sizeof out);
    char *end;
    long id = strtol(out, &end, 10);
    if (rc != 0 || id <= 0 || (*end && *end != ';' && *end != '\n')) {
        cli_error("%s: sbatch failed (exit %d)%s%s", script, rc, out[0] ? ": " : "", out);
        return 0;
    }
    return id;
}

int cmd_slurm(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"tasks", required_argument, 0, 'T'},
                                         {"submit", no_argument, 0, 'U'},
                                         {"dir", required_argument, 0, 'D'},
                                         CLI_PROCESS_LONGOPTS,
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    plm_process_cfg cfg = plm_process_cfg_default();
    const char *out = NULL, *dir_opt = NULL;
    char fwd[16][64]; /* processing options passed on to the shard tasks, as given */
    size_t nfwd = 0;
    int starts = 0, do_submit = 0, c, li = 0;
    long ntasks = 0, v;
    /* everything after "--" is for sbatch */
    int end = 1;
    while (end < argc && strcmp(argv[end], "--")) end++;
    char **user = argv + (end < argc ? end + 1 : argc);
    size_t nuser = (size_t)(end < argc ? argc - end - 1 : 0);
    optind = 1;
    while ((c = getopt_long(end, argv, "o:h", opts, &li)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'T':
            if (!cli_parse_int("slurm", "--tasks", optarg, 1, 100000, &ntasks)) return EXIT_USAGE;
            break;
        case 'U': do_submit = 1; break;
        case 'D': dir_opt = optarg; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default:
            if ((v = cli_process_option("slurm", c, optarg, &cfg, &starts)) < 0)
                return cli_usage_error("slurm", "unknown option");
            if (!v) return EXIT_USAGE;
            if (nfwd + 2 > sizeof fwd / sizeof fwd[0] || (optarg && strlen(optarg) >= sizeof fwd[0]))
                return cli_usage_error("slurm", "too many or too long processing options");
            snprintf(fwd[nfwd++], sizeof fwd[0], "--%s", opts[li].name);
            if (opts[li].has_arg) snprintf(fwd[nfwd++], sizeof fwd[0], "%s", optarg);
        }
    }
    if (!cli_process_options_done("slurm", &cfg, starts)) return EXIT_USAGE;
    if (optind != end - 1) return cli_usage_error("slurm", "expected one DIR or MANIFEST.csv (sbatch options go after --)");
    const char *arg = argv[optind];
    if (nuser > 200) return cli_usage_error("slurm", "too many sbatch options");
    if (!out) return cli_usage_error("slurm", "-o RESULTS.h5 is required");
    if (!ntasks) return cli_usage_error("slurm", "--tasks N is required");

    char manifest[PATH_MAX], marg[PATH_MAX + 16], outabs[PATH_MAX], dir[PATH_MAX], self[PATH_MAX];
    cli_manifest_path(arg, marg, sizeof marg);
    if (!realpath(marg, manifest)) {
        cli_error("%s: cannot open: %s", marg, strerror(errno));
        return 1;
    }
    plm_manifest m; /* read now, so that a broken manifest is reported here and not by N tasks */
    if (plm_manifest_read(manifest, &m) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }
    size_t nrows = m.nrows;
    plm_manifest_clear(&m);
    if (!abs_path(out, outabs, sizeof outabs)) {
        cli_error("%s: its folder does not exist", out);
        return 1;
    }
    if (dir_opt) {
        if (mkdir(dir_opt, 0755) != 0 && errno != EEXIST) {
            cli_error("%s: cannot create folder: %s", dir_opt, strerror(errno));
            return 1;
        }
        if (!realpath(dir_opt, dir)) {
            cli_error("%s: %s", dir_opt, strerror(errno));
            return 1;
        }
    } else {
        int k = snprintf(dir, sizeof dir, "%s.slurm", outabs);
        if (k < 0 || (size_t)k >= sizeof dir || (mkdir(dir, 0755) != 0 && errno != EEXIST)) {
            cli_error("%s: cannot create folder: %s", dir, strerror(errno));
            return 1;
        }
    }
    if (!cli_self_path(self, sizeof self)) {
        cli_error("cannot find the actiplm executable (/proc/self/exe)");
        return 1;
    }
    if ((size_t)ntasks > nrows && nrows > 0) ntasks = (long)nrows; /* no empty shards */
    char fp[65], msha[65], path[PATH_MAX + 64], sh_shard[PATH_MAX + 16], sh_merge[PATH_MAX + 16];
    plm_params_fingerprint(&cfg, fp);
    if (plm_sha256_file(manifest, msha) != PLM_OK) {
        cli_error("%s", plm_last_error());
        return 1;
    }

    /* the two scripts */
    snprintf(sh_shard, sizeof sh_shard, "%s/shard.sbatch", dir);
    snprintf(sh_merge, sizeof sh_merge, "%s/merge.sbatch", dir);
    FILE *f = fopen(sh_shard, "w");
    if (!f) {
        cli_error("%s: cannot create: %s", sh_shard, strerror(errno));
        return 1;
    }
    fprintf(f, "#!/bin/sh\n# Written by actiplm slurm %s. Array task K (1..%ld) processes manifest rows\n"
               "# K, K+%ld, ... into its shard file; exit 0 when that file is written (recordings\n"
               "# that fail go to its /failures). Submitted as: sbatch --array=1-%ld shard.sbatch\n"
               "K=${SLURM_ARRAY_TASK_ID:?not run as a Slurm array task}\n",
            plm_version(), ntasks, ntasks, ntasks);
    fputs("exec ", f);
    sh_word(f, self);
    fprintf(f, " run --shard \"$K/%ld\" --resume --allow-failures -j \"${SLURM_CPUS_PER_TASK:-1}\"", ntasks);
    for (size_t i = 0; i < nfwd; i++) {
        fputc(' ', f);
        sh_word(f, fwd[i]);
    }
    fputs(" -o ", f);
    sh_word(f, dir);
    fprintf(f, "\"/shard-$K-of-%ld.h5\" ", ntasks);
    sh_word(f, manifest);
    fputc('\n', f);
    if (fclose(f) != 0 || chmod(sh_shard, 0755) != 0) {
        cli_error("%s: write error", sh_shard);
        return 1;
    }
    f = fopen(sh_merge, "w");
    if (!f) {
        cli_error("%s: cannot create: %s", sh_merge, strerror(errno));
        return 1;
    }
    fprintf(f, "#!/bin/sh\n# Written by actiplm slurm %s: merges the %ld shard files and computes /stats.\n"
               "# Exit 0 when the results are written; failed recordings are listed in this job's log.\n",
            plm_version(), ntasks);
    fputs("exec ", f);
    sh_word(f, self);
    fputs(" merge --allow-failures -o ", f);
    sh_word(f, outabs);
    for (long k = 1; k <= ntasks; k++) {
        snprintf(path, sizeof path, "%s/shard-%ld-of-%ld.h5", dir, k, ntasks);
        fputs(" \\\n    ", f);
        sh_word(f, path);
    }
    fputc('\n', f);
    if (fclose(f) != 0 || chmod(sh_merge, 0755) != 0) {
        cli_error("%s: write error", sh_merge);
        return 1;
    }

    /* which shards still have to run: their file is missing or from another run; then as ranges 1-3,5 */
    char *todo = malloc((size_t)ntasks * 24 + 1), *miss = calloc((size_t)ntasks + 2, 1);
    if (!todo || !miss) {
        free(todo);
        free(miss);
        cli_error("out of memory");
        return 1;
    }
    size_t len = 0, nmiss = 0;
    todo[0] = '\0';
    for (long k = 1; k <= ntasks; k++) {
        snprintf(path, sizeof path, "%s/shard-%ld-of-%ld.h5", dir, k, ntasks);
        if (shard_done(path, k, ntasks, fp, msha)) continue;
        miss[k] = 1;
        nmiss++;
        char log[PATH_MAX + 32], last[512];
        snprintf(log, sizeof log, "%s/shard-%ld.log", dir, k);
        last_line(log, last, sizeof last);
        if (last[0]) fprintf(stderr, "actiplm slurm: shard %ld/%ld has no shard file; its log %s ends: %s\n", k, ntasks, log, last);
    }
    for (long k = 1; k <= ntasks; k++) {
        if (!miss[k]) continue;
        long e = k;
        while (miss[e + 1]) e++;
        len += (size_t)sprintf(todo + len, "%s%ld", len ? "," : "", k);
        if (e > k) len += (size_t)sprintf(todo + len, "-%ld", e);
        k = e;
    }
    free(miss);
    char a_array[4096], a_out[PATH_MAX + 32], m_out[PATH_MAX + 32];
    snprintf(a_out, sizeof a_out, "--output=%s/shard-%%a.log", dir);
    snprintf(m_out, sizeof m_out, "--output=%s/merge.log", dir);
    printf("%s, %s: %zu manifest rows in %ld shards; %zu to run%s%s\n", sh_shard, sh_merge, nrows, ntasks, nmiss,
           nmiss ? ": " : "", todo);
    if (!do_submit) {
        printf("submit with:\n");
        if (nmiss) {
            printf("  jid=$(sbatch --parsable --job-name=actiplm-shard ");
            sh_word(stdout, a_out);
            printf(" --array=%s", todo);
            for (size_t i = 0; i < nuser; i++) putchar(' '), sh_word(stdout, user[i]);
            putchar(' ');
            sh_word(stdout, sh_shard);
            printf(")\n");
        }
        printf("  sbatch --job-name=actiplm-merge ");
        sh_word(stdout, m_out);
        if (nmiss) printf(" --dependency=afterok:$jid");
        for (size_t i = 0; i < nuser; i++) putchar(' '), sh_word(stdout, user[i]);
        putchar(' ');
        sh_word(stdout, sh_merge);
        putchar('\n');
        free(todo);
        return 0;
    }
    long jid = 0;
    if (nmiss) {
        if (strlen(todo) + 9 > sizeof a_array) { /* very scattered: run them all; --resume reuses the finished */
            snprintf(todo, 24, "1-%ld", ntasks);
        }
        snprintf(a_array, sizeof a_array, "--array=%s", todo);
        const char *fixed[] = {"--job-name=actiplm-shard", a_out, a_array};
        if (!(jid = submit(fixed, 3, user, nuser, sh_shard))) {
            free(todo);
            return 1;
        }
        printf("shards: job %ld (array %s of 1-%ld), logs %s/shard-K.log\n", jid, todo, ntasks, dir);
    } else {
        printf("shards: all %ld shard files present\n", ntasks);
    }
    free(todo);
    char dep[64];
    snprintf(dep, sizeof dep, "--dependency=afterok:%ld", jid);
    const char *mfixed[] = {"--job-name=actiplm-merge", m_out, dep};
    long mid = submit(mfixed, jid ? 3 : 2, user, nuser, sh_merge);
    if (!mid) return 1;
    printf("merge: job %ld%s -> %s, log %s/merge.log\n", mid, jid ? " (after every shard task succeeds)" : "", outabs, dir);
    return 0;
}
