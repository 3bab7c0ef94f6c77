/* status.c -- status strings and the thread-local detail message. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

static const char *const messages[PLM_STATUS_COUNT] = {
    [PLM_OK] = "success",
    [PLM_ENOMEM] = "out of memory",
    [PLM_EINVAL] = "invalid argument",
    [PLM_EIO] = "input/output error",
    [PLM_EFORMAT] = "unsupported or malformed input",
    [PLM_ENODATA] = "no usable data",
    [PLM_ENUMERIC] = "numerical failure",
    [PLM_EINTERNAL] = "internal error",
};

static _Thread_local char last_error[1024];

const char *plm_strerror(plm_status status)
{
    if ((int)status < 0 || status >= PLM_STATUS_COUNT || !messages[status]) return "unknown status";
    return messages[status];
}

const char *plm_last_error(void) { return last_error; }

void plm_clear_error(void) { last_error[0] = '\0'; }

plm_status plm__fail(plm_status code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

void plm__error_prefix(const char *prefix)
{
    size_t lp = strlen(prefix), lm = strlen(last_error);
    if (lp + 2 >= sizeof last_error) return;
    if (lp + 2 + lm >= sizeof last_error) lm = sizeof last_error - lp - 3;
    memmove(last_error + lp + 2, last_error, lm);
    memcpy(last_error, prefix, lp);
    memcpy(last_error + lp, ": ", 2);
    last_error[lp + 2 + lm] = '\0';
}

void plm__appendf(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len && len + 2 < size) {
        memcpy(buf + len, "; ", 3);
        len += 2;
    }
    if (len + 1 >= size) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

int plm__grow(void **p, size_t *cap, size_t need, size_t elem, size_t min_cap)
{
    if (need <= *cap) return 1;
    size_t ncap = *cap ? *cap : (min_cap ? min_cap : 1);
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return 0;
        ncap *= 2;
    }
    size_t bytes = plm__mul(ncap, elem);
    void *q = bytes ? realloc(*p, bytes) : NULL;
    if (!q) return 0;
    *p = q;
    *cap = ncap;
    return 1;
}

char *plm__strdup(const char *s)
{
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

void plm__strlcpy(char *dst, const char *src, size_t n)
{
    if (!n) return;
    size_t k = src ? strlen(src) : 0;
    if (k >= n) k = n - 1;
    if (k) memcpy(dst, src, k);
    dst[k] = '\0';
}

const char *plm__basename(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static pthread_mutex_t edf_mutex = PTHREAD_MUTEX_INITIALIZER;

void plm__edf_lock(void) { pthread_mutex_lock(&edf_mutex); }

void plm__edf_unlock(void) { pthread_mutex_unlock(&edf_mutex); }
