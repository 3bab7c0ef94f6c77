/* merge.c -- actiplm merge: the shard files of `run --shard K/N` -> one results file with /stats. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli_common.h"
#include "plm/plm.h"

static void help(void)
{
    printf("Usage: actiplm merge [options] -o RESULTS.h5 SHARD.h5...\n\n"
           "Combine the shard files written by `actiplm run --shard K/N` (one per K, all\n"
           "from the same manifest, software version and parameters) into one results\n"
           "file, rows in manifest order, and compute the study statistics (/stats). The\n"
           "result equals, dataset for dataset, a single `actiplm run` of the manifest.\n"
           "Refuses shards made with other parameters, another software version or\n"
           "another manifest, a shard given twice, and a missing shard (naming it).\n"
           "Recordings that failed in a shard are carried into /failures and repeated on\n"
           "stderr. The results file is written under a temporary name and renamed into\n"
           "place, so an earlier file is never half-overwritten.\n\n"
           "Options:\n"
           "  -o, --output FILE      results file (required)\n"
           "  --allow-failures       exit 0 when the results file was written even if some\n"
           "                         recordings had failed (they are in /failures)\n"
           "  -q                     no notes, only errors\n"
           "  -h, --help             this help; --version  the version\n\n"
           "Example:\n"
           "  actiplm run --shard 1/2 study -o part1.h5\n"
           "  actiplm run --shard 2/2 study -o part2.h5\n"
           "  actiplm merge part1.h5 part2.h5 -o results.h5\n\n"
           "Exit status: 0 merged and no recording failed (with --allow-failures: merged),\n"
           "1 some recording failed or the shards cannot be merged (the reason on stderr),\n"
           "2 usage error.\n");
}

typedef struct {
    const char *path;
    plm_shard_id id;
    plm_night *nights;
    size_t nn;
    plm_failure *fails;
    size_t nf;
    plm_shard_row *shard;
    size_t ns;
} part;

typedef struct {
    int part;     /* -1: not seen */
    int failed;
    size_t idx;   /* row in the part's /nights or /failures */
} slot;

static void part_clear(part *p)
{
    for (size_t i = 0; i < p->nf; i++) {
        free(p->fails[i].recording);
        free(p->fails[i].path);
        free(p->fails[i].error);
    }
    plm_nights_free(p->nights, p->nn);
    free(p->fails);
    free(p->shard);
}

/* Read a part's identity and tables; 0 (and a message) if it is not a readable shard file. */
static int part_read(part *p)
{
    if (access(p->path, R_OK) != 0) {
        cli_error("%s: cannot open: %s", p->path, strerror(errno));
        return 0;
    }
    plm_status st = plm_shard_id_read(p->path, &p->id);
    if (st == PLM_ENODATA) {
        cli_error("%s: not a shard file (made by actiplm run --shard K/N)", p->path);
        return 0;
    }
    if (st || plm_store_read_nights(p->path, &p->nights, &p->nn) || plm_store_read_failures(p->path, &p->fails, &p->nf) ||
        plm_store_read_shard_rows(p->path, &p->shard, &p->ns)) {
        cli_error("%s", plm_last_error());
        return 0;
    }
    if (p->id.n < 1 || p->id.k < 1 || p->id.k > p->id.n || p->id.rows < 0 || p->id.rows > INT32_MAX) {
        cli_error("%s: shard %" PRId64 "/%" PRId64 " of %" PRId64 " manifest rows is not possible (damaged file?)",
                  p->path, p->id.k, p->id.n, p->id.rows);
        return 0;
    }
    return 1;
}

/* The same run? Compared with the first part. */
static int part_matches(const part *p, const part *first)
{
    if (strcmp(p->id.version, first->id.version)) {
        cli_error("%s: made by actiplm %s, %s by actiplm %s; rerun the shards with one version", p->path, p->id.version,
                  first->path, first->id.version);
        return 0;
    }
    if (strcmp(p->id.fp, first->id.fp)) {
        cli_error("%s: made with other parameters than %s (params_fingerprint differs); rerun the shards with the "
                  "same options", p->path, first->path);
        return 0;
    }
    if (strcmp(p->id.msha, first->id.msha) || p->id.rows != first->id.rows) {
        cli_error("%s: made from another manifest than %s (manifest_sha256 differs)", p->path, first->path);
        return 0;
    }
    if (p->id.n != first->id.n) {
        cli_error("%s: is shard %" PRId64 " of %" PRId64 ", %s is of %" PRId64, p->path, p->id.k, p->id.n, first->path,
                  first->id.n);
        return 0;
    }
    return 1;
}

/* Place each /shard row of part pi into its manifest slot; 0 (and a message) when inconsistent. */
static int part_place(const part *p, int pi, slot *order)
{
    size_t ni = 0, fi = 0;
    for (size_t i = 0; i < p->ns; i++) {
        int64_t r = p->shard[i].manifest_row;
        if (r < 0 || r >= p->id.rows || r % p->id.n != p->id.k - 1 || order[r].part >= 0) {
            cli_error("%s: /shard row %zu (manifest row %" PRId64 ") does not belong to shard %" PRId64 "/%" PRId64
                      " or is repeated (damaged file?)", p->path, i, r, p->id.k, p->id.n);
            return 0;
        }
        order[r] = (slot){pi, p->shard[i].failed, p->shard[i].failed ? fi++ : ni++};
    }
    if (ni != p->nn || fi != p->nf) {
        cli_error("%s: /shard lists %zu nights and %zu failures, the file holds %zu and %zu (damaged file?)", p->path,
                  ni, fi, p->nn, p->nf);
        return 0;
    }
    return 1;
}

int cmd_merge(int argc, char **argv)
{
    static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                         {"allow-failures", no_argument, 0, 'F'},
                                         {"help", no_argument, 0, 'h'},
                                         {"version", no_argument, 0, 'V'},
                                         {0, 0, 0, 0}};
    const char *out = NULL;
    int quiet = 0, allow_failures = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'q': quiet = 1; break;
        case 'F': allow_failures = 1; break;
        case 'h': help(); return 0;
        case 'V': printf("actiplm %s\n", plm_version()); return 0;
        default: return cli_usage_error("merge", "unknown option");
        }
    }
    if (!out) return cli_usage_error("merge", "-o RESULTS.h5 is required");
    if (optind >= argc) return cli_usage_error("merge", "expected the shard files");
    size_t np = (size_t)(argc - optind);
    part *parts = calloc(np, sizeof *parts);
    slot *order = NULL;
    plm_night *rows = NULL;
    plm_store *store = NULL;
    int rc = 1;
    if (!parts) {
        cli_error("out of memory");
        return 1;
    }
    for (size_t i = 0; i < np; i++) {
        parts[i].path = argv[optind + (int)i];
        if (!part_read(&parts[i]) || (i && !part_matches(&parts[i], &parts[0]))) goto done;
        for (size_t j = 0; j < i; j++)
            if (parts[j].id.k == parts[i].id.k) {
                cli_error("%s: shard %" PRId64 "/%" PRId64 " is also %s; give each shard once", parts[i].path,
                          parts[i].id.k, parts[i].id.n, parts[j].path);
                goto done;
            }
    }
    const int64_t nshards = parts[0].id.n, total = parts[0].id.rows;
    if ((int64_t)np < nshards) { /* name every missing shard */
        char miss[1024] = "";
        size_t len = 0, count = 0;
        for (int64_t k = 1; k <= nshards; k++) {
            int have = 0;
            for (size_t i = 0; i < np && !have; i++) have = parts[i].id.k == k;
            if (have) continue;
            if (count++ < 20 && len < sizeof miss)
                len += (size_t)snprintf(miss + len, sizeof miss - len, "%s%" PRId64 "/%" PRId64, count > 1 ? ", " : "",
                                        k, nshards);
        }
        cli_error("%s: %zu of %" PRId64 " shards missing: %s%s (rerun them, e.g. actiplm slurm again)", out, count,
                  nshards, miss, count > 20 ? ", ..." : "");
        goto done;
    }
    order = malloc((size_t)(total ? total : 1) * sizeof *order);
    rows = calloc((size_t)(total ? total : 1), sizeof *rows);
    if (!order || !rows) {
        cli_error("out of memory");
        goto done;
    }
    for (int64_t r = 0; r < total; r++) order[r].part = -1;
    for (size_t i = 0; i < np; i++)
        if (!part_place(&parts[i], (int)i, order)) goto done;
    for (int64_t r = 0; r < total; r++)
        if (order[r].part < 0) {
            cli_error("%s: manifest row %" PRId64 " is in none of the shards (damaged shard file?)", out, r + 1);
            goto done;
        }
    if (plm_store_create(out, &store) != PLM_OK) {
        cli_error("%s", plm_last_error());
        goto done;
    }
    static const char *const skip[] = {"shard_index", "shard_count", "manifest_rows", "command_line", "created_utc"};
    char now[32];
    cli_now_utc(now, sizeof now);
    if (plm_store_copy_root_attrs(store, parts[0].path, skip, sizeof skip / sizeof skip[0]) ||
        plm_store_attr_str(store, NULL, "command_line", cli_command_line()) ||
        plm_store_attr_str(store, NULL, "created_utc", now) ||
        plm_store_attr_i64(store, NULL, "merged_shards", nshards)) {
        cli_error("%s", plm_last_error());
        goto done;
    }
    size_t ndone = 0, failed = 0;
    for (int64_t r = 0; r < total; r++) {
        const part *p = &parts[order[r].part];
        if (order[r].failed) {
            const plm_failure *f = &p->fails[order[r].idx];
            cli_error("%s", f->error);
            failed++;
            if (plm_store_add_failure(store, f->recording, f->path, f->error)) goto store_error;
        } else {
            const plm_night *nr = &p->nights[order[r].idx];
            if (plm_store_import_recording(store, p->path, nr->recording) || plm_store_add_night(store, nr))
                goto store_error;
            rows[ndone++] = *nr;
        }
    }
    plm_study_result sres;
    int have_stats = 0;
    char note[512], control[128], treatment[128];
    plm_study_cfg scfg = plm_study_cfg_default(); /* the conditions the shards were run with */
    if (plm_store_read_attr_str(parts[0].path, "/", "param.stats.control", control, sizeof control) == PLM_OK)
        scfg.control = control;
    if (plm_store_read_attr_str(parts[0].path, "/", "param.stats.treatment", treatment, sizeof treatment) == PLM_OK)
        scfg.treatment = treatment;
    if (plm_batch_study(store, rows, ndone, &scfg, &sres, &have_stats, note, sizeof note)) goto store_error;
    if (!have_stats && !quiet) cli_error("%s: no statistics: %s", out, note);
    plm_status st = plm_store_commit(store);
    store = NULL;
    if (st) {
        cli_error("%s", plm_last_error());
        plm_study_result_clear(&sres);
        goto done;
    }
    printf("%s: merged %" PRId64 " shards: %zu of %" PRId64 " recordings processed, %zu failed\n", out, nshards,
           (size_t)total - failed, total, failed);
    if (have_stats) cli_print_study(stdout, &sres, &scfg);
    plm_study_result_clear(&sres);
    rc = failed && !allow_failures ? 1 : 0;
    goto done;
store_error:
    cli_error("%s", plm_last_error());
done:
    plm_store_destroy(store);
    for (size_t i = 0; i < np; i++) part_clear(&parts[i]);
    free(parts);
    free(order);
    free(rows);
    return rc;
}
