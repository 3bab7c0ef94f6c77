/* plm/export.h -- spreadsheet-ready tables from a results file.
 *
 * Tables: nights (one row per night: the /nights fields), subjects (one row
 * per subject and condition: number of nights and the mean of every numeric
 * field), stats (/stats), lm_events (long format: recording, onset_s,
 * offset_s, leg, clm, plm, sleep) and dictionary (every column: table,
 * meaning, unit). CSV: RFC 4180 (fields with a comma, quote or line break are
 * quoted), dot decimal separator whatever the locale, numbers with 17
 * significant digits so that they read back exactly, NaN written as NaN.
 * XLSX (libxlsxwriter): the same tables as sheets, numbers as numeric cells
 * (NaN as an empty cell), header rows frozen, units in the dictionary sheet.
 * Files are written under temporary names and renamed into place.
 */
#ifndef PLM_EXPORT_H
#define PLM_EXPORT_H

#include "status.h"

/* Write nights.csv, subjects.csv, stats.csv, lm_events.csv, dictionary.csv into dir (created). */
plm_status plm_export_csv(const char *results_h5, const char *dir);

/* Write one workbook with the same tables as sheets. */
plm_status plm_export_xlsx(const char *results_h5, const char *xlsx_path);

#endif
