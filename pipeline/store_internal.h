/* store_internal.h -- what the writer (store.c) and the reader (store_read.c) of results files share. */
#ifndef PLM_STORE_INTERNAL_H
#define PLM_STORE_INTERNAL_H

#include <hdf5.h>
#include "plm/store.h"

/* Rows as held in memory for the compound tables (strings owned where noted). */
typedef plm_failure failure_rec; /* recording, path, error */

typedef plm_stat_row stat_rec; /* outcome owned */

typedef struct {
    double onset_s, duration_s;
    char *text;
} annot_rec;

typedef struct {
    char *outcome;
    int32_t n_nights, n_subjects;
    double estimate, se, df, ci_low, ci_high, p, sd_subject, sd_residual;
} lmm_rec;

typedef struct {
    double onset_s, offset_s;
    uint8_t leg;
    double peak_g, area_g_s;
} lmleg_rec;

typedef plm_qc_row qc_rec;

typedef plm_imi_bin hist_rec;

typedef plm_shard_row shard_rec;


/* One member of a compound table: its name, offset in the row struct and type. */
enum { FT_STR, FT_D, FT_I32, FT_U8 };
typedef struct {
    const char *name;
    size_t offset;
    int type; /* FT_* */
} field;

/* The tables' fields (store.c). */
extern const field plm__failure_fields[], plm__stat_fields[], plm__lm_fields[], plm__lmleg_fields[], plm__shard_fields[],
    plm__epoch_fields[], plm__activity_fields[], plm__qc_fields[], plm__hist_fields[];
extern const size_t plm__failure_nfields, plm__stat_nfields, plm__lm_nfields, plm__lmleg_nfields, plm__shard_nfields,
    plm__epoch_nfields, plm__activity_nfields, plm__qc_nfields, plm__hist_nfields;
/* The /nights fields (plm/nights.h) as fields; returns how many (at most PLM__NIGHT_MAXF). */
enum { PLM__NIGHT_MAXF = 64 };
size_t plm__night_fields(field out[PLM__NIGHT_MAXF]);

/* A variable-length UTF-8 string type; a compound type of row size from fields (close both). */
hid_t plm__h5_str_type(void);
hid_t plm__h5_compound(size_t size, const field *f, size_t nf);

/* Open a results file read-only (HDF5's own error printing off): the one place files are opened
 * for reading. A negative id after plm__fail(PLM_EIO, "<path>: not a readable HDF5 file"). */
hid_t plm__h5_open_ro(const char *path);

/* A scalar attribute: a string ('s', str malloc'd), an integer ('i') or 1-64 doubles ('f'). */
typedef struct {
    char kind;
    char *str;
    int64_t i;
    double f[64];
    size_t nf;
} plm__attr_value;
plm_status plm__h5_attr_value(hid_t loc, const char *name, plm__attr_value *v);

#endif
