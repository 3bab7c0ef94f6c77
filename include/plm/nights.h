/* plm/nights.h -- one row of /nights (one night of one subject) and the table of its fields.
 *
 * plm_night_fields is the one list of /nights columns: name, type, unit and
 * meaning, in table order. The HDF5 compound type (plm/store.h), the CSV/XLSX
 * export columns and their data dictionary (plm/export.h), the study outcomes
 * (plm/study.h), `actiplm score`'s output and the simulator's truth all read
 * it, so a new column is added here and nowhere else (besides computing it).
 *
 * Unknown values are NaN (reals) or -1 (counts and flags); nothing is made up.
 * No HDF5 here: a program can build and analyse nights without a results file.
 */
#ifndef PLM_NIGHTS_H
#define PLM_NIGHTS_H

#include <stddef.h>
#include <stdint.h>
#include "score.h"

/* One row of /nights. Strings are borrowed (rows made by the pipeline point into the manifest
 * row and at string literals) except in rows read back from a file (plm_nights_free). */
typedef struct {
    const char *recording, *subject, *condition;
    int32_t night;
    double tib_h, tst_h, se_pct, sol_min, waso_min;
    int32_t lm_count, plm_count, plms_count;
    double lm_index, plms_index, plmw_index, plm_tib_index, plms_a_index, periodicity_index;
    const char *lights_source; /* "manifest", "annotations", "estimated", "recording"; "" unknown */
    const char *sleep_source;  /* "annotations" (stages), "actigraphy" (estimated from the leg) */
    int32_t tib_implausible;   /* 1: estimated time in bed under 4 h, or under 40 % of a recording
                                  over 6 h; 0 otherwise; -1 unknown */
} plm_night;

typedef enum { PLM_NF_STR, PLM_NF_I32, PLM_NF_F64 } plm_night_field_type;

/* What a field is (flags). */
enum {
    PLM_NF_ID = 1,          /* identifies the night: recording, subject, condition, night */
    PLM_NF_RESULT = 2,      /* a measured number: the simulator knows its truth, `score` prints it */
    PLM_NF_NEEDS_SLEEP = 4, /* depends on which epochs are sleep (biased when sleep/wake comes from the leg) */
    PLM_NF_PRIMARY = 8      /* a primary outcome: Holm's adjustment runs over these */
};

typedef struct {
    const char *name;
    plm_night_field_type type;
    size_t offset;          /* of the member in plm_night */
    const char *unit;       /* "" when none */
    const char *meaning;    /* one line for the data dictionary */
    unsigned flags;         /* PLM_NF_* */
    int study_rank;         /* position among the default study outcomes (1 first), 0 when not one */
} plm_night_field;

extern const plm_night_field plm_night_fields[];
extern const size_t plm_night_nfields;

/* The field called name, or NULL. */
const plm_night_field *plm_night_field_find(const char *name);

/* Identity set, every result unknown (NaN / -1), sources "". */
void plm_night_init(plm_night *n, const char *recording, const char *subject, const char *condition, int32_t night);

/* A numeric field's value as a double (a count or flag of -1, unknown, as NaN); NaN for strings. */
double plm_night_number(const plm_night *r, const plm_night_field *f);
/* A string field's value ("" when NULL); NULL for numbers. */
const char *plm_night_text(const plm_night *r, const plm_night_field *f);

/* The results of a scored night (plm/score.h) into r's result fields. */
void plm_night_set_results(plm_night *r, const plm_score_result *sc, const plm_sleep_summary *sl);

/* The string literal among the known lights/sleep source names equal to s ("" when none is), for a
 * row that must outlive the strings it was read with. */
const char *plm_night_source_name(const char *s);

/* Free the strings of rows that own them (read back from a file), then rows. */
void plm_nights_free(plm_night *rows, size_t n);

#endif
