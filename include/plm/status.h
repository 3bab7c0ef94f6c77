/* plm/status.h -- status codes and error detail of libplm.
 *
 * Every library function that can fail returns a plm_status (PLM_OK == 0).
 * The set is small and stable, in the way of libsndfile's public error set.
 * A longer, human-readable detail of the last failure on the calling thread
 * is available from plm_last_error(); it names the file and the reason,
 * e.g. "night1.wav: integer samples need a full scale: set the manifest
 * column full_scale_g".
 *
 * Thread safety: the detail message is thread-local; everything here may be
 * called from any thread.
 * Ownership: strings returned here are owned by the library; do not free.
 */
#ifndef PLM_STATUS_H
#define PLM_STATUS_H

typedef enum {
    PLM_OK = 0,      /* success */
    PLM_ENOMEM,      /* out of memory, e.g. malloc or an FFTW plan failed */
    PLM_EINVAL,      /* invalid argument or configuration, e.g. fs_hz <= 0 */
    PLM_EIO,         /* operating-system or library I/O failure, e.g. file missing, disk full */
    PLM_EFORMAT,     /* input is not in the expected format, e.g. 7 channels and no channel map */
    PLM_ENODATA,     /* input holds no usable data, e.g. zero frames or all samples NaN */
    PLM_ENUMERIC,    /* a numerical routine failed, e.g. a GSL solver did not converge */
    PLM_EINTERNAL,   /* a bug: an invariant of the library does not hold */
    PLM_STATUS_COUNT /* number of codes; not a code */
} plm_status;

/* Short fixed description of a status code ("out of memory", ...).
 * Never NULL: an unknown code gives "unknown status". */
const char *plm_strerror(plm_status status);

/* Detail of the most recent failure on this thread ("" if none). */
const char *plm_last_error(void);

/* Forget the detail message of this thread. */
void plm_clear_error(void);

#endif
