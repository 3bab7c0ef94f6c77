/* internal.h -- helpers shared by the .c files of libplm; never installed. */
#ifndef PLM_INTERNAL_H
#define PLM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "plm/status.h"

/* Fill the thread's detail message and return code. */
plm_status plm__fail(plm_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define PLM_FAIL(code, ...) return plm__fail((code), __VA_ARGS__)

/* Prepend "prefix: " to the current detail message (e.g. a file name). */
void plm__error_prefix(const char *prefix);

/* n * size with overflow check; 0 on overflow. */
static inline size_t plm__mul(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size) return 0;
    return n * size;
}

/* Append a formatted note to buf (size bytes), separated from earlier notes by "; ". */
void plm__appendf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* EDFlib keeps a process-wide handle table: every EDFlib open/close goes under this lock. */
void plm__edf_lock(void);
void plm__edf_unlock(void);

/* Room for need elements of elem bytes in *p, whose capacity is *cap elements: the capacity
 * doubles (from min_cap) until it holds need. 1 on success; 0 without memory or on overflow, *p
 * and *cap unchanged. The one realloc-doubling helper of the library. */
int plm__grow(void **p, size_t *cap, size_t need, size_t elem, size_t min_cap);

/* fmax and fmin as glibc's x86-64 libm computes them (equal operands: the second; one NaN: the
 * other), inlined: the detector calls them per sample, and a call into libm each time cost 2 %. */
static inline double plm__fmax(double a, double b) { return a > b || b != b ? a : b; }
static inline double plm__fmin(double a, double b) { return a < b || b != b ? a : b; }

/* strdup that returns NULL for NULL. */
char *plm__strdup(const char *s);

/* Bounded copy that always terminates. */
void plm__strlcpy(char *dst, const char *src, size_t n);

/* Whether a results file on this thread was refused for want of disk space since the last call
 * (store.c): a batch stops there instead of failing every recording that follows. */
int plm__nospace_take(void);

/* Last path component. */
const char *plm__basename(const char *path);

#endif
