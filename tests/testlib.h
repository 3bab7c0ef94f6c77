/* testlib.h -- helpers shared by the cmocka unit tests. */
#ifndef ACTIPLM_TESTLIB_H
#define ACTIPLM_TESTLIB_H

#define _DEFAULT_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sndfile.h>

/* |a - b| <= tol, with both values in the message. */
#define assert_near(a, b, tol)                                                                           \
    do {                                                                                                 \
        double a_ = (a), b_ = (b);                                                                       \
        if (!(fabs(a_ - b_) <= (tol))) fail_msg("%s = %.12g, expected %.12g +- %g", #a, a_, b_, (double)(tol)); \
    } while (0)

#define assert_contains(hay, needle)                                                   \
    do {                                                                               \
        const char *h_ = (hay);                                                        \
        if (!h_ || !strstr(h_, (needle))) fail_msg("'%s' does not contain '%s'", h_ ? h_ : "(null)", (needle)); \
    } while (0)

/* A fresh temporary folder (leaked on purpose: tests are short-lived processes). */
static inline const char *tl_tmpdir(void)
{
    static char dir[256];
    const char *base = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/actiplm-test-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) return NULL;
    return dir;
}

static inline char *tl_path(const char *dir, const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static inline void tl_write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
}

/* Write a sound file whose frame i, channel c holds value(i, c) (doubles, as
 * libsndfile scales them for the subtype: +-1 full scale for PCM). */
typedef double (*tl_value_fn)(int64_t i, int c);
static inline void tl_write_sound(const char *path, int format, int channels, int fs, int64_t frames, tl_value_fn fn)
{
    SF_INFO si = {.samplerate = fs, .channels = channels, .format = format};
    SNDFILE *sf = sf_open(path, SFM_WRITE, &si);
    if (!sf) fail_msg("cannot write %s: %s", path, sf_strerror(NULL));
    double *frame = malloc(sizeof(double) * (size_t)channels);
    for (int64_t i = 0; i < frames; i++) {
        for (int c = 0; c < channels; c++) frame[c] = fn(i, c);
        sf_writef_double(sf, frame, 1);
    }
    free(frame);
    sf_close(sf);
}

/* Path to ../shared/data/<rel> if present, else NULL (the test then skips). */
static inline const char *tl_shared(const char *rel)
{
    static char buf[512];
    const char *root = getenv("ACTIPLM_SHARED");
    snprintf(buf, sizeof buf, "%s/data/%s", root && *root ? root : "../shared", rel);
    return access(buf, R_OK) == 0 ? buf : NULL;
}

#endif
