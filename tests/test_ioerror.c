/* test_ioerror.c -- a read that fails part-way through a file (a failing disk, a USB device pulled
 * out, a network share that drops) is an error naming the file and the reason, never taken for the
 * file's end (a "truncated" night of half the data); the error reaches the caller from the
 * read-ahead thread; and a batch goes on with the other recordings.
 *
 * The failures are real ones from the kernel, made deterministic: this program defines read(),
 * fread(), fgets() and fseeko64(), which the library and the libraries it calls (libsndfile,
 * libzip, EDFlib) then use.
 * Once the armed file's position passes fail_at, read() fails with EIO; fread() and fgets() put a
 * write-only descriptor in place of the FILE's, so stdio's next refill fails (EBADF) and sets the
 * stream's error flag as a real failure would. */
#define _GNU_SOURCE
#include "testlib.h"
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/statvfs.h>
#include <edflib.h>
#include "plm/plm.h"

static pthread_mutex_t arm_lock = PTHREAD_MUTEX_INITIALIZER;
static char fail_path[PATH_MAX]; /* the armed file (its real path), "" when none */
static off_t fail_at = -1;       /* reads reaching past this byte fail */
static int injected;             /* failures made */
static int stdio_too = 1;        /* 0: read() fails, fread() and fgets() do not (libsndfile's reads fail,
                                    the checksum's do not: the failure is the reader's alone) */

static void arm(const char *path, off_t at)
{
    pthread_mutex_lock(&arm_lock);
    if (!realpath(path, fail_path)) fail_msg("realpath %s", path);
    fail_at = at;
    injected = 0;
    pthread_mutex_unlock(&arm_lock);
}

static void disarm(void)
{
    pthread_mutex_lock(&arm_lock);
    fail_path[0] = 0;
    fail_at = -1;
    pthread_mutex_unlock(&arm_lock);
}

/* fd is the armed file and a read from pos of n bytes would pass fail_at */
static int hits(int fd, size_t n, off_t pos)
{
    char link[64], target[PATH_MAX];
    pthread_mutex_lock(&arm_lock);
    int armed = fail_at >= 0;
    pthread_mutex_unlock(&arm_lock);
    if (!armed || fd < 0) return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(link, target, sizeof target - 1);
    if (k <= 0) return 0;
    target[k] = 0;
    pthread_mutex_lock(&arm_lock);
    int hit = fail_at >= 0 && !strcmp(target, fail_path) && pos >= 0 && pos + (off_t)n > fail_at;
    if (hit) injected++;
    pthread_mutex_unlock(&arm_lock);
    return hit;
}

ssize_t read(int fd, void *buf, size_t n)
{
    static ssize_t (*real)(int, void *, size_t);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "read");
    if (hits(fd, n, lseek(fd, 0, SEEK_CUR))) {
        errno = EIO;
        return -1;
    }
    return real(fd, buf, n);
}

/* Writes: once wfail_after bytes have gone to files whose path starts with wfail_prefix, pwrite()
 * and write() to them fail with ENOSPC, as on a full disk (HDF5 writes with pwrite). */
static char wfail_prefix[PATH_MAX];
static long long wfail_after = -1, written;
static int wfailed;

static int write_fails(int fd, size_t n)
{
    pthread_mutex_lock(&arm_lock);
    int armed = wfail_after >= 0;
    pthread_mutex_unlock(&arm_lock);
    if (!armed || fd < 0) return 0;
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t k = readlink(link, target, sizeof target - 1);
    if (k <= 0) return 0;
    target[k] = 0;
    pthread_mutex_lock(&arm_lock);
    int fail = 0;
    if (wfail_after >= 0 && !strncmp(target, wfail_prefix, strlen(wfail_prefix))) {
        if (written + (long long)n > wfail_after) fail = ++wfailed;
        else written += (long long)n;
    }
    pthread_mutex_unlock(&arm_lock);
    return fail;
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "pwrite");
    if (write_fails(fd, n)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, buf, n, off);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "write");
    if (write_fails(fd, n)) {
        errno = ENOSPC;
        return -1;
    }
    return real(fd, buf, n);
}

/* The simulated disk's free space, as statvfs() tells it: what is left before writes fail. */
int statvfs(const char *path, struct statvfs *v)
{
    static int (*real)(const char *, struct statvfs *);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "statvfs");
    int rc = real(path, v);
    pthread_mutex_lock(&arm_lock);
    if (!rc && wfail_after >= 0 && !strncmp(path, wfail_prefix, strlen(wfail_prefix))) {
        long long left = wfail_after - written;
        v->f_bavail = (fsblkcnt_t)(left > 0 ? left : 0) / v->f_frsize;
    }
    pthread_mutex_unlock(&arm_lock);
    return rc;
}

/* the FILE's descriptor replaced by one that cannot be read */
static void break_stream(FILE *f)
{
    int w = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (w >= 0) {
        dup2(w, fileno(f));
        close(w);
    }
}

size_t fread(void *buf, size_t size, size_t n, FILE *f)
{
    static size_t (*real)(void *, size_t, size_t, FILE *);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "fread");
    if (stdio_too && hits(fileno(f), size * n, ftello(f))) break_stream(f);
    return real(buf, size, n, f);
}

char *fgets(char *s, int n, FILE *f)
{
    static char *(*real)(char *, int, FILE *);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "fgets");
    if (stdio_too && hits(fileno(f), 1, ftello(f))) break_stream(f); /* a line: its length is not known before */
    return real(s, n, f);
}

/* EDFlib moves with fseeko64 and then reads bytes with fgetc: the move past fail_at breaks the
 * stream (its refill fails) */
int fseeko64(FILE *f, off64_t off, int whence)
{
    static int (*real)(FILE *, off64_t, int);
    if (!real) *(void **)&real = dlsym(RTLD_NEXT, "fseeko64");
    if (stdio_too && whence == SEEK_SET && hits(fileno(f), 1, (off_t)off)) break_stream(f);
    return real(f, off, whence);
}

static const char *dir;

static double wave(int64_t i, int c) { return 0.1 * sin(0.01 * (double)i * (c + 1)) + (c % 3 == 2 ? 0.5 : 0); }

static off_t size_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_size;
}

/* Read the whole file; the status of the first failure (or PLM_OK), the frames delivered, and the
 * message (copied to msg). fail_at >= 0: reads past that byte fail, from the start (at_open) or
 * only once the file is open (the device readers scan the file as they open it). */
static plm_status read_through(const char *path, off_t at, int at_open, int64_t *frames, int *truncated, char *msg,
                               size_t nmsg)
{
    plm_read_cfg rc = plm_read_cfg_default();
    rc.full_scale_g = 8;
    rc.block_frames = 4096;
    plm_reader *r = NULL;
    *frames = 0;
    *truncated = 0;
    msg[0] = 0;
    if (at >= 0 && at_open) arm(path, at);
    plm_status st = plm_reader_open(path, &rc, &r);
    if (st) {
        disarm();
        snprintf(msg, nmsg, "%s", plm_last_error());
        return st;
    }
    if (at >= 0 && !at_open) arm(path, at);
    const plm_reader_info *in = plm_reader_get_info(r);
    double *x = malloc(sizeof(double) * 4096 * (size_t)in->nchan);
    int64_t got;
    while ((st = plm_reader_read(r, x, 4096, &got)) == PLM_OK && got > 0) *frames += got;
    disarm();
    if (st) snprintf(msg, nmsg, "%s", plm_last_error());
    *truncated = in->truncated;
    free(x);
    plm_reader_destroy(r);
    return st;
}

/* A file whose reads fail half-way is a read error naming the file; the same bytes cut off
 * half-way (a file that really ends early) are a truncation with the frames before the cut. */
static void sound_file(int format, const char *name)
{
    const char *p = tl_path(dir, name);
    tl_write_sound(p, format, 6, 50, 30000, wave);
    char msg[1024];
    int64_t frames;
    int trunc;
    assert_int_equal(read_through(p, -1, 0, &frames, &trunc, msg, sizeof msg), PLM_OK); /* unarmed: all of it */
    assert_int_equal(frames, 30000);
    assert_false(trunc);
    for (int at_open = 0; at_open <= 1; at_open++) {
        plm_status st = read_through(p, size_of(p) / 2, at_open, &frames, &trunc, msg, sizeof msg);
        assert_true(injected > 0);
        assert_int_equal(st, PLM_EIO);
        assert_contains(msg, p);
        assert_contains(msg, "read error");
        assert_contains(msg, "Input/output error");
        assert_true(frames < 30000);
    }
    /* the same file really cut in half: not an error */
    if (format == (SF_FORMAT_WAV | SF_FORMAT_FLOAT)) {
        assert_int_equal(truncate(p, size_of(p) / 2), 0);
        assert_int_equal(read_through(p, -1, 0, &frames, &trunc, msg, sizeof msg), PLM_OK);
        assert_true(trunc);
        assert_true(frames > 10000 && frames < 16000);
    }
}

static void wav_read_error(void **state)
{
    (void)state;
    sound_file(SF_FORMAT_WAV | SF_FORMAT_FLOAT, "float.wav");
}

static void wav16_read_error(void **state)
{
    (void)state;
    sound_file(SF_FORMAT_WAV | SF_FORMAT_PCM_16, "pcm16.wav");
}

static void flac_read_error(void **state)
{
    (void)state;
    sound_file(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "night.flac");
}

/* The device formats read through stdio (CWA, GENEActiv) or libzip (GT3X). */
static void device_file(const char *path)
{
    char msg[1024];
    int64_t frames, all;
    int trunc;
    assert_int_equal(read_through(path, -1, 0, &all, &trunc, msg, sizeof msg), PLM_OK);
    assert_true(all > 100);
    for (int at_open = 0; at_open <= 1; at_open++) {
        plm_status st = read_through(path, size_of(path) / 2, at_open, &frames, &trunc, msg, sizeof msg);
        assert_true(injected > 0);
        if (st != PLM_EIO)
            fail_msg("%s (failing %s): status %d, %lld of %lld frames, truncated %d: %s", path,
                     at_open ? "from the open" : "after the open", (int)st, (long long)frames, (long long)all, trunc, msg);
        assert_contains(msg, path);
        assert_contains(msg, "read error");
    }
}

/* EDF through EDFlib (its own stdio reads): the open reads every data record for annotations */
static void edf_read_error(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "night.edf");
    int h = edfopen_file_writeonly(p, EDFLIB_FILETYPE_EDFPLUS, 3);
    assert_true(h >= 0);
    const char *labels[3] = {"Acc L X", "Acc L Y", "Acc L Z"};
    for (int s = 0; s < 3; s++) {
        edf_set_samplefrequency(h, s, 50);
        edf_set_physical_maximum(h, s, 8);
        edf_set_physical_minimum(h, s, -8);
        edf_set_digital_maximum(h, s, 32767);
        edf_set_digital_minimum(h, s, -32768);
        edf_set_label(h, s, labels[s]);
        edf_set_physical_dimension(h, s, "g");
    }
    edf_set_startdatetime(h, 2024, 5, 1, 22, 0, 0);
    double buf[50];
    for (int rec = 0; rec < 1200; rec++)
        for (int s = 0; s < 3; s++) {
            for (int i = 0; i < 50; i++) buf[i] = wave(50 * rec + i, s);
            assert_int_equal(edfwrite_physical_samples(h, buf), 0);
        }
    assert_int_equal(edfclose_file(h), 0);
    device_file(p);
}

static void cwa_read_error(void **state)
{
    (void)state;
    device_file("tests/hostile/cwa_seqjump.cwa");
}

static void geneactiv_read_error(void **state)
{
    (void)state;
    const char *p = tl_shared("geneactiv/gnactv_sample.bin");
    if (!p) skip();
    device_file(p);
}

static void gt3x_read_error(void **state)
{
    (void)state;
    const char *p = tl_shared("actigraph/neo.gt3x");
    if (!p) skip();
    device_file(p);
}

/* plm_process_recording reads on a helper thread a block ahead (and with 2 threads runs the legs
 * at once): the helper's error is the recording's, with its message. Only the reader's reads fail
 * (the checksum, on its own thread, reads through stdio and would fail too otherwise). */
static void process_reports_the_helpers_error(void **state)
{
    (void)state;
    const char *p = tl_path(dir, "process.wav");
    tl_write_sound(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 6, 50, 50 * 3600, wave);
    stdio_too = 0;
    for (int threads = 1; threads <= 2; threads++) {
        char out[600];
        snprintf(out, sizeof out, "%s/process-%d.h5", dir, threads);
        plm_store *s = NULL;
        assert_int_equal(plm_store_create(out, &s), PLM_OK);
        plm_manifest_row row = {.line = 2, .subject = "s", .condition = "control", .path = (char *)p,
                                .path_given = (char *)p, .recording = "r", .night = 1, .full_scale_g = 8};
        plm_process_cfg cfg = plm_process_cfg_default();
        cfg.threads = threads;
        cfg.read.block_frames = 4096;
        plm_process_result res;
        arm(p, size_of(p) / 2);
        plm_status st = plm_process_recording(&row, &cfg, s, &res);
        disarm();
        assert_true(injected > 0);
        assert_int_equal(st, PLM_EIO);
        assert_contains(plm_last_error(), p);
        assert_contains(plm_last_error(), "read error");
        plm_store_destroy(s); /* without a commit: the temporary file is removed */
    }
    stdio_too = 1;
}

typedef struct {
    int failed, ok;
    char error[1024];
} tally;

static void count(void *user, const plm_batch_event *ev)
{
    tally *t = user;
    if (!ev->index) return;
    if (ev->failed) {
        t->failed++;
        snprintf(t->error, sizeof t->error, "%s", ev->error ? ev->error : "");
    } else
        t->ok++;
}

/* A simulated study of 2 subjects at 10 Hz (4 recordings, WAV) in dir/name. */
static void small_study(const char *name, unsigned seed, char *path, size_t n)
{
    snprintf(path, n, "%s/%s", dir, name);
    plm_sim_cfg c = plm_sim_cfg_default();
    c.subjects = 2;
    c.fs_hz = 10;
    c.seed = seed;
    assert_int_equal(plm_simulate_study(&c, path, NULL, NULL), PLM_OK);
}

/* One recording failing to read stops neither the batch nor the others: it is in /failures with
 * its reason, the others' nights are written. The reader's reads fail (as above). */
static void batch_goes_on(void **state)
{
    (void)state;
    char study[600], victim[700];
    small_study("study", 5, study, sizeof study);
    snprintf(victim, sizeof victim, "%s/recordings/S02_control_n1.wav", study);
    stdio_too = 0;
    for (int jobs = 1; jobs <= 2; jobs++) {
        char out[700];
        snprintf(out, sizeof out, "%s/batch-%d.h5", dir, jobs);
        plm_batch_cfg bc = plm_batch_cfg_default();
        bc.jobs = jobs;
        plm_batch_result r;
        tally t = {0};
        arm(victim, size_of(victim) / 2);
        assert_int_equal(plm_batch_run(study, out, &bc, count, &t, &r), PLM_OK);
        disarm();
        assert_true(injected > 0);
        assert_int_equal(r.total, 4);
        assert_int_equal(r.failed, 1);
        assert_int_equal(t.failed, 1);
        assert_int_equal(t.ok, 3);
        assert_contains(t.error, "S02_control_n1.wav");
        assert_contains(t.error, "read error");
        plm_batch_result_clear(&r);
    }
    stdio_too = 1;
}

/* the bytes of a file (for before/after comparisons) */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseeko(f, 0, SEEK_END);
    *n = (size_t)ftello(f);
    fseeko(f, 0, SEEK_SET);
    char *b = malloc(*n ? *n : 1);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

/* The disk fills up while a batch writes its results over an earlier run's: the run fails with
 * one line naming the results file, the earlier results are still there byte for byte, and no
 * temporary file is left behind. The disk (its writes and what statvfs says is free) fills at
 * several points: while the recordings' part files are written, while they are copied into the
 * results, and at the study tables. */
static void disk_full_keeps_the_earlier_results(void **state)
{
    (void)state;
    char study[600], sub[600], out[700];
    snprintf(sub, sizeof sub, "%s/full", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    small_study("study2", 6, study, sizeof study);
    snprintf(out, sizeof out, "%s/results.h5", sub);
    plm_batch_cfg bc = plm_batch_cfg_default();
    plm_batch_result r;
    assert_int_equal(plm_batch_run(study, out, &bc, NULL, NULL, &r), PLM_OK); /* the earlier run */
    plm_batch_result_clear(&r);
    size_t n0;
    char *before = slurp(out, &n0);
    assert_true(n0 > 20000);
    const long long at[] = {0, 4096, (long long)n0 / 4, (long long)n0 / 2, (long long)n0 * 9 / 10};
    for (size_t k = 0; k < sizeof at / sizeof *at; k++) {
        for (int jobs = 1; jobs <= 2; jobs++) {
            bc.jobs = jobs;
            bc.force = 1;
            pthread_mutex_lock(&arm_lock);
            if (!realpath(sub, wfail_prefix)) fail_msg("realpath %s", sub);
            strcat(wfail_prefix, "/results.h5");
            wfail_after = at[k];
            written = 0;
            wfailed = 0;
            pthread_mutex_unlock(&arm_lock);
            plm_status st = plm_batch_run(study, out, &bc, NULL, NULL, &r);
            pthread_mutex_lock(&arm_lock);
            wfail_after = -1;
            int failed = wfailed;
            pthread_mutex_unlock(&arm_lock);
            /* the full disk found by a failed write, or beforehand by the free space */
            assert_true(failed > 0 || strstr(plm_last_error(), "no space left on the disk"));
            if (st == PLM_OK) fail_msg("disk full after %lld bytes, -j %d: the batch says it wrote %s", at[k], jobs, out);
            assert_contains(plm_last_error(), out);
            plm_batch_result_clear(&r);
            size_t n1;
            char *after = slurp(out, &n1);
            if (n1 != n0 || memcmp(before, after, n0))
                fail_msg("disk full after %lld bytes, -j %d: the earlier results changed", at[k], jobs);
            free(after);
            /* no temporary file left behind (finished recordings' part files are kept for --resume) */
            char cmd[800];
            snprintf(cmd, sizeof cmd, "! ls -A '%s' | grep -q tmp", sub);
            if (system(cmd) != 0) {
                snprintf(cmd, sizeof cmd, "ls -A '%s' >&2", sub);
                if (system(cmd)) {
                }
                fail_msg("disk full after %lld bytes, -j %d: temporary files left beside results.h5", at[k], jobs);
            }
        }
    }
    /* space again: --resume completes the run (taking up the part files of recordings finished
     * before the disk filled) and leaves only its results */
    bc.jobs = 2;
    bc.resume = 1;
    assert_int_equal(plm_batch_run(study, out, &bc, NULL, NULL, &r), PLM_OK);
    assert_int_equal(r.failed, 0);
    plm_batch_result_clear(&r);
    char cmd[800];
    snprintf(cmd, sizeof cmd, "test \"$(ls -A '%s')\" = results.h5", sub);
    assert_int_equal(system(cmd), 0);
    free(before);
}

/* Under LeakSanitizer (make asan): the memory of the files whose close failed is HDF5's, lost by
 * HDF5 itself (its clean-up at exit, which would crash on them, is off); libplm's own allocations
 * are still checked. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libhdf5_serial.so\nleak:libhdf5.so\n"; }

int main(void)
{
    plm_store_process_init(); /* as actiplm's main: a full disk leaves HDF5 files half closed */
    dir = tl_tmpdir();
    if (!dir) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wav_read_error),
        cmocka_unit_test(wav16_read_error),
        cmocka_unit_test(flac_read_error),
        cmocka_unit_test(edf_read_error),
        cmocka_unit_test(cwa_read_error),
        cmocka_unit_test(geneactiv_read_error),
        cmocka_unit_test(gt3x_read_error),
        cmocka_unit_test(process_reports_the_helpers_error),
        cmocka_unit_test(batch_goes_on),
        cmocka_unit_test(disk_full_keeps_the_earlier_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
