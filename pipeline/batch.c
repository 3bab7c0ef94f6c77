/* batch.c -- a whole study: manifest rows -> workers -> one results file in manifest order (plm/batch.h). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <glob.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "plm/batch.h"
#include "internal.h"

plm_batch_cfg plm_batch_cfg_default(void)
{
    plm_batch_cfg c;
    memset(&c, 0, sizeof c);
    c.process = plm_process_cfg_default();
    c.study = plm_study_cfg_default();
    c.jobs = 1;
    return c;
}

void plm_batch_result_clear(plm_batch_result *r)
{
    if (!r) return;
    plm_study_result_clear(&r->study);
    memset(r, 0, sizeof *r);
}

/* ---------- stale temporary files ---------- */

size_t plm_batch_remove_stale(const char *out)
{
    char pat[4200];
    size_t n = 0;
    for (int k = 0; k < 2; k++) {
        snprintf(pat, sizeof pat, "%s%s", out, k ? ".part.*.tmp-*" : ".tmp-*");
        glob_t g;
        if (glob(pat, GLOB_NOSORT, NULL, &g) != 0) continue;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *t = strstr(g.gl_pathv[i], ".tmp-");
            long pid = t ? strtol(t + 5, NULL, 10) : 0;
            if (pid > 0 && kill((pid_t)pid, 0) != 0 && errno == ESRCH && unlink(g.gl_pathv[i]) == 0) n++;
        }
        globfree(&g);
    }
    return n;
}

/* ---------- conditions ---------- */

plm_status plm_batch_check_conditions(const plm_manifest *m, const plm_study_cfg *study, char *note, size_t nnote)
{
    const char **cond = calloc(m->nrows ? m->nrows : 1, sizeof *cond);
    size_t *line = calloc(m->nrows ? m->nrows : 1, sizeof *line), nc = 0, nt = 0;
    char found[1024];
    if (!cond || !line) {
        free(cond);
        free(line);
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", m->path);
    }
    for (size_t i = 0; i < m->nrows; i++) {
        cond[i] = m->rows[i].condition ? m->rows[i].condition : "";
        line[i] = m->rows[i].line;
        nc += !strcmp(cond[i], study->control);
        nt += !strcmp(cond[i], study->treatment);
    }
    plm_status st = plm_study_conditions(cond, line, m->nrows, m->path, study, found, sizeof found);
    if (note && nnote) note[0] = '\0';
    if (!st && note && (!nc || !nt))
        snprintf(note, nnote, "%s: no '%s' rows, so no comparison will be made; conditions found: %s", m->path,
                 !nc ? study->control : study->treatment, found[0] ? found : "none");
    free(cond);
    free(line);
    return st;
}

/* ---------- study statistics into a store ---------- */

plm_stat_row plm_study_stat_row(const plm_outcome_result *o)
{
    plm_stat_row s = {o->outcome,         (int32_t)o->r.n,    o->r.control_mean, o->r.control_sd,
                      o->r.treatment_mean, o->r.treatment_sd, o->r.diff_mean,    o->r.diff_ci_low,
                      o->r.diff_ci_high,   o->r.hl_estimate,  o->r.hl_ci_low,    o->r.hl_ci_high,
                      o->r.ttest_p,        o->r.wilcoxon_p,   o->r.cohen_dz,     o->holm_p,
                      o->hedges_g,         o->hedges_g_ci_low, o->hedges_g_ci_high};
    return s;
}

plm_status plm_study_to_store(plm_store *s, const plm_study_result *r, const plm_study_cfg *cfg)
{
    char holm[256] = "";
    const char *def[64];
    size_t nd = plm_study_default_outcomes(def, 64);
    for (size_t k = 0; k < nd; k++)
        if (plm_night_field_find(def[k])->flags & PLM_NF_PRIMARY) {
            size_t len = strlen(holm);
            snprintf(holm + len, sizeof holm - len, "%s%s", len ? "," : "", def[k]);
        }
    size_t len = strlen(holm);
    snprintf(holm + len, sizeof holm - len, " (Wilcoxon p)");
    plm_status st;
    if ((st = plm_store_attr_str(s, NULL, "param.stats.control", cfg->control)) ||
        (st = plm_store_attr_str(s, NULL, "param.stats.treatment", cfg->treatment)) ||
        (st = plm_store_attr_str(s, NULL, "param.stats.design", r->paired ? "paired" : "unpaired")) ||
        (st = plm_store_attr_str(s, NULL, "param.stats.zero_rule", cfg->stats.zero == PLM_ZERO_PRATT ? "pratt" : "wilcoxon")) ||
        (st = plm_store_attr_str(s, NULL, "param.stats.nights", cfg->first_night_only ? "first" : "mean")) ||
        (st = plm_store_attr_f64(s, NULL, "param.stats.conf_level", cfg->stats.conf_level)) ||
        (st = plm_store_attr_f64(s, NULL, "param.stats.exact_max_n", (double)cfg->stats.exact_max_n)) ||
        (st = plm_store_attr_str(s, NULL, "param.stats.holm_over", holm)))
        return st;
    for (size_t i = 0; i < r->n; i++) {
        const plm_outcome_result *o = &r->v[i];
        plm_stat_row row = plm_study_stat_row(o);
        if ((st = plm_store_add_stat(s, &row))) return st;
        const plm_lmm_result *m = &o->lmm;
        plm_lmm_row lr = {o->outcome, (int32_t)m->n_obs, (int32_t)m->n_subjects, m->estimate, m->se, m->df,
                          m->ci_low, m->ci_high, m->p, m->sd_subject, m->sd_residual};
        if (o->has_lmm && (st = plm_store_add_lmm(s, &lr))) return st;
    }
    return PLM_OK;
}

plm_status plm_batch_study(plm_store *s, const plm_night *rows, size_t n, const plm_study_cfg *cfg,
                           plm_study_result *out, int *have, char *note, size_t nnote)
{
    memset(out, 0, sizeof *out);
    *have = 0;
    if (note && nnote) note[0] = '\0';
    plm_table tab;
    plm_status st = plm_table_from_nights(rows, n, &tab);
    if (st) return st;
    if (!n) {
        if (note) snprintf(note, nnote, "no night was processed");
    } else if ((st = plm_study_analyze(&tab, cfg, out)) == PLM_OK) {
        *have = 1;
        st = plm_study_to_store(s, out, cfg);
    } else if (st == PLM_ENODATA || st == PLM_EINVAL) { /* no comparison possible: not a store failure */
        if (note) plm__strlcpy(note, plm_last_error(), nnote);
        st = PLM_OK;
    }
    plm_table_clear(&tab);
    return st;
}

/* ---------- shards ---------- */

plm_status plm_shard_id_read(const char *path, plm_shard_id *id)
{
    plm_status st = plm_store_read_attr_i64(path, "/", "shard_count", &id->n);
    if (!st) st = plm_store_read_attr_i64(path, "/", "shard_index", &id->k);
    if (!st) st = plm_store_read_attr_i64(path, "/", "manifest_rows", &id->rows);
    if (!st) st = plm_store_read_attr_str(path, "/", "software_version", id->version, sizeof id->version);
    if (!st) st = plm_store_read_attr_str(path, "/", "params_fingerprint", id->fp, sizeof id->fp);
    if (!st) st = plm_store_read_attr_str(path, "/", "manifest_sha256", id->msha, sizeof id->msha);
    return st;
}

/* ---------- the worker pool ---------- */

/* Each worker processes whole recordings into its own part file; the calling thread, the only
 * writer of the results file, takes them in manifest order. */
typedef struct {
    const plm_manifest_row *row;
    size_t mrow;       /* its 0-based manifest row */
    plm_process_result res;
    plm_status st;
    char err[1100];
    char part[4200];
    const char *src;   /* file to import the recording from: its part file, or the previous results */
    int reused;        /* resume found it done with the same input and parameters */
    int nospace;       /* its part file was refused for want of disk space */
    int done;
} job;

typedef struct {
    job *jobs;
    size_t n, next;
    const plm_batch_cfg *cfg;
    const char *out;
    char fp[65];
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* Reads of the previous results file are serialised: the HDF5 library (1.10) crashes when threads
       read variable-length strings through two open handles of the same file at once. */
    pthread_mutex_t io;
    int rec_threads; /* threads per recording: 2 when there are more workers than recordings */
} pool;

/* Resume: is the recording already in `file` with the same input and parameters? Then take its night row. */
static int reusable(const pool *p, job *j, const char *file, const char *sha, const char *sha_right)
{
    char v[80], obj[1100];
    if (access(file, R_OK) != 0) return 0;
    if (plm_store_read_attr_str(file, "/", "params_fingerprint", v, sizeof v) != PLM_OK || strcmp(v, p->fp)) return 0;
    snprintf(obj, sizeof obj, "/recordings/%s", j->row->recording);
    if (plm_store_read_attr_str(file, obj, "sha256", v, sizeof v) != PLM_OK || strcmp(v, sha)) return 0;
    if (sha_right && (plm_store_read_attr_str(file, obj, "right_sha256", v, sizeof v) != PLM_OK || strcmp(v, sha_right)))
        return 0;
    plm_night *rows = NULL;
    size_t n = 0;
    int found = 0;
    if (plm_store_read_nights(file, &rows, &n) == PLM_OK)
        for (size_t i = 0; i < n && !found; i++)
            if (!strcmp(rows[i].recording, j->row->recording)) {
                found = 1;
                j->res.row = rows[i];
                j->res.row.recording = j->row->recording;
                j->res.row.subject = j->row->subject;
                j->res.row.condition = j->row->condition;
                j->res.row.lights_source = plm_night_source_name(rows[i].lights_source);
                j->res.row.sleep_source = plm_night_source_name(rows[i].sleep_source);
            }
    plm_nights_free(rows, n);
    return found;
}

/* Process one recording into its part file (a results file of its own, committed when complete). */
static void process_part(const pool *p, job *j)
{
    plm_store *s = NULL;
    const plm_batch_cfg *c = p->cfg;
    plm_status st = plm_store_create(j->part, &s);
    plm_process_cfg pc = c->process;
    if (pc.threads < p->rec_threads) pc.threads = p->rec_threads;
    if (!st) st = plm_batch_write_root(s, NULL, &pc, c->command_line);
    if (!st) st = plm_process_recording(j->row, &pc, s, &j->res);
    if (!st) st = plm_store_commit(s);
    else plm_store_destroy(s);
    if (st) snprintf(j->err, sizeof j->err, "%s", plm_last_error());
    j->nospace = plm__nospace_take();
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
        j->src = j->part;
        char sha[65], shr[65];
        const char *sr = j->row->path_right ? shr : NULL;
        if (p->cfg->resume && !j->row->error && plm_sha256_file(j->row->path, sha) == PLM_OK &&
            (!sr || plm_sha256_file(j->row->path_right, shr) == PLM_OK)) {
            pthread_mutex_lock(&p->io);
            if (reusable(p, j, j->part, sha, sr)) j->reused = 1;
            else if (reusable(p, j, p->out, sha, sr)) j->reused = 1, j->src = p->out;
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

/* An existing output made from another manifest is not replaced without force. */
static plm_status check_output(const char *out, const char *manifest, int force)
{
    char old[80], sha[65], made[4200] = "";
    struct stat sb;
    if (stat(out, &sb) == 0 && S_ISDIR(sb.st_mode)) PLM_FAIL(PLM_EIO, "%s: is a folder, not a results file", out);
    if (force || access(out, F_OK) != 0) return PLM_OK;
    if (plm_store_read_attr_str(out, "/", "manifest_sha256", old, sizeof old) != PLM_OK)
        PLM_FAIL(PLM_EINVAL, "%s: exists and is not an actiplm results file; not replaced (use --force or another -o)", out);
    plm_status st = plm_sha256_file(manifest, sha);
    if (st) return st;
    if (!strcmp(old, sha)) return PLM_OK;
    plm_store_read_attr_str(out, "/", "manifest_path", made, sizeof made);
    PLM_FAIL(PLM_EINVAL,
             "%s: holds the results of another manifest (%s); not replaced: use --force to replace them or -o for "
             "another file",
             out, made[0] ? made : "its manifest differs");
}

static void pool_destroy(pool *p, pthread_t *th, long started)
{
    pthread_mutex_lock(&p->mu); /* after an error: no new recordings, only the running ones finish */
    p->next = p->n;
    pthread_mutex_unlock(&p->mu);
    for (long k = 0; k < started; k++) pthread_join(th[k], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_mutex_destroy(&p->io);
    pthread_cond_destroy(&p->cv);
}

plm_status plm_batch_run(const char *manifest_arg, const char *out, const plm_batch_cfg *cfg, plm_batch_progress progress,
                         void *user, plm_batch_result *res)
{
    (void)plm__nospace_take(); /* this run's, not an earlier call's */
    memset(res, 0, sizeof *res);
    struct stat sb;
    if (stat(manifest_arg, &sb) == 0 && S_ISDIR(sb.st_mode))
        snprintf(res->manifest, sizeof res->manifest, "%s/manifest.csv", manifest_arg);
    else plm__strlcpy(res->manifest, manifest_arg, sizeof res->manifest);
    const int shard = cfg->shard_n > 0;
    if (shard && (cfg->shard_k < 1 || cfg->shard_k > cfg->shard_n))
        PLM_FAIL(PLM_EINVAL, "shard %ld/%ld: K must be from 1 to N", cfg->shard_k, cfg->shard_n);
    plm_manifest m;
    plm_status st = plm_manifest_read(res->manifest, &m);
    if (st) return st;
    char note[1300];
    if ((st = plm_batch_check_conditions(&m, &cfg->study, note, sizeof note)) ||
        (st = check_output(out, res->manifest, cfg->force))) {
        plm_manifest_clear(&m);
        return st;
    }
    res->stale_removed = plm_batch_remove_stale(out);
    plm_store *store = NULL;
    job *jb = calloc(m.nrows ? m.nrows : 1, sizeof *jb);
    plm_night *done_rows = calloc(m.nrows ? m.nrows : 1, sizeof *done_rows);
    long jobs = cfg->jobs < 1 ? 1 : cfg->jobs, started = 0;
    pthread_t *th = calloc((size_t)jobs, sizeof *th);
    pool pl = {jb, 0, 0, cfg, out, "", PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, 1};
    if (!jb || !done_rows || !th) {
        st = plm__fail(PLM_ENOMEM, "%s: out of memory", out);
        goto done;
    }
    if ((st = plm_store_create(out, &store)) || (st = plm_batch_write_root(store, res->manifest, &cfg->process, cfg->command_line)))
        goto done;
    if ((st = plm_store_attr_str(store, NULL, "param.stats.control", cfg->study.control)) ||
        (st = plm_store_attr_str(store, NULL, "param.stats.treatment", cfg->study.treatment)))
        goto done;
    if (shard && ((st = plm_store_attr_i64(store, NULL, "shard_index", cfg->shard_k)) ||
                  (st = plm_store_attr_i64(store, NULL, "shard_count", cfg->shard_n)) ||
                  (st = plm_store_attr_i64(store, NULL, "manifest_rows", (int64_t)m.nrows))))
        goto done;
    /* the rows of this run: all, or with a shard K/N the rows i with i mod N = K - 1 */
    for (size_t i = 0; i < m.nrows; i++)
        if (!shard || (long)(i % (size_t)cfg->shard_n) == cfg->shard_k - 1) {
            job *j = &jb[pl.n++];
            j->row = &m.rows[i];
            j->mrow = i;
            snprintf(j->part, sizeof j->part, "%s.part.%s", out, j->row->recording ? j->row->recording : "");
        }
    res->total = pl.n;
    plm_params_fingerprint(&cfg->process, pl.fp);
    if (progress) { /* the plan, before any recording */
        plm_batch_event ev0 = {0, pl.n, NULL, 0, NULL, 0, NULL, note[0] ? note : NULL};
        progress(user, &ev0);
    }
    /* idle workers: a recording's legs at once (2), and its activity trace beside its reading (3) */
    pl.rec_threads = pl.n && jobs >= 2 * (long)pl.n ? (jobs / (long)pl.n >= 3 ? 3 : 2) : 1;
    if (jobs > (long)pl.n) jobs = (long)pl.n;
    for (long k = 0; k < jobs; k++) /* even one worker: every recording goes through its part file */
            if (pthread_create(&th[k], NULL, worker, &pl) == 0) started++;
    size_t ndone = 0;
    for (size_t i = 0; i < pl.n; i++) {
        job *j = &jb[i];
        const plm_manifest_row *row = j->row;
        plm_status rs;
        if (started) { /* wait for the worker, then import its part file */
            pthread_mutex_lock(&pl.mu);
            while (!j->done) pthread_cond_wait(&pl.cv, &pl.mu);
            pthread_mutex_unlock(&pl.mu);
            rs = j->st;
            pthread_mutex_lock(&pl.io);
            if (!rs && (rs = plm_store_import_recording(store, j->src, row->recording)) == PLM_OK)
                rs = plm_store_add_night(store, &j->res.row);
            pthread_mutex_unlock(&pl.io);
            if (rs && !j->st) snprintf(j->err, sizeof j->err, "%s", plm_last_error());
            if (rs && (plm__nospace_take() || j->nospace)) { /* the disk is full: every later recording would fail */
                st = plm__fail(PLM_EIO, "%s; the run stopped there (the earlier results are unchanged; run --resume, "
                                        "once there is space, takes up the recordings finished so far)", j->err);
                goto done;
            }
        } else {
            rs = plm_process_recording(row, &cfg->process, store, &j->res);
            if (rs) snprintf(j->err, sizeof j->err, "%s", plm_last_error());
        }
        plm_batch_event ev = {i + 1, pl.n, row, rs != PLM_OK, rs ? j->err : NULL, j->reused && !rs, rs ? NULL : &j->res,
                              NULL};
        if (rs) {
            res->failed++;
            if ((st = plm_store_add_failure(store, row->recording ? row->recording : "", row->path ? row->path : "",
                                            j->err)) ||
                (shard && (st = plm_store_add_shard_row(store, (int32_t)j->mrow, 1))))
                goto done;
        } else {
            res->reused += j->reused;
            done_rows[ndone++] = j->res.row;
            if (shard && (st = plm_store_add_shard_row(store, (int32_t)j->mrow, 0))) goto done;
        }
        if (progress) progress(user, &ev);
    }
    /* study statistics over the nights processed (a shard has none: merge computes them) */
    if (!shard &&
        (st = plm_batch_study(store, done_rows, ndone, &cfg->study, &res->study, &res->have_study, res->study_note,
                              sizeof res->study_note)))
        goto done;
    st = plm_store_commit(store);
    store = NULL;
    if (!st) /* the results are in place: the part files are no longer needed (kept until now for resume) */
        for (size_t i = 0; i < pl.n; i++) unlink(jb[i].part);
done:
    if (th) pool_destroy(&pl, th, started);
    plm_store_destroy(store);
    free(th);
    free(jb);
    free(done_rows);
    plm_manifest_clear(&m);
    if (st) {
        res->have_study = 0;
        plm_study_result_clear(&res->study);
    }
    return st;
}
