/* plm/csv.h -- RFC 4180 CSV records, for manifests and event tables.
 *
 * Accepts what spreadsheets write: a UTF-8 byte-order mark, CRLF or LF line
 * ends, quoted fields with "" escapes and embedded newlines; blank lines are
 * skipped. The whole file is read into memory (manifests and event tables
 * are small; the limit is 256 MiB).
 * Ownership: plm_csv owns the field strings; they stay valid until the next
 * plm_csv_next() or plm_csv_destroy().
 * Thread safety: one plm_csv per thread.
 */
#ifndef PLM_CSV_H
#define PLM_CSV_H

#include <stddef.h>
#include "status.h"

typedef struct plm_csv plm_csv;

/* Open a file. PLM_EIO if it cannot be read. */
plm_status plm_csv_open(const char *path, plm_csv **out);

/* Parse a buffer (copied). name is used in messages. */
plm_status plm_csv_open_mem(const char *buf, size_t n, const char *name, plm_csv **out);

/* Next record. On success *fields[0..*nfields-1] are NUL-terminated and *line
 * is the 1-based line where the record starts. PLM_ENODATA at the end;
 * PLM_EFORMAT for a malformed record (unterminated quote, text after a
 * closing quote), with the line in plm_last_error(). */
plm_status plm_csv_next(plm_csv *csv, char ***fields, size_t *nfields, size_t *line);

void plm_csv_destroy(plm_csv *csv);

/* A number as the shortest text that reads back (strtod) to the same double, with a dot as
 * the decimal separator whatever the locale ("2660.86", "0.1", "1e-07"); a missing value
 * (NaN, infinity) as "" (an empty cell). buf holds at least 32 bytes; returns buf. */
char *plm_csv_number(double v, char buf[32]);

#endif
