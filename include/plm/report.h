/* plm/report.h -- a results file as one self-contained HTML page (actiplm report).
 *
 * The study first: the treatment-vs-control table of /stats (n, mean +- SD per condition, the
 * mean difference with its 95 % CI, Hodges-Lehmann with its CI, paired t and exact Wilcoxon p,
 * dz, Holm), the footnote on outcomes that depend on leg-estimated sleep/wake, a paired plot per
 * primary outcome, the failures with their reasons, a table of nights (linked to their sections,
 * flagged: estimated or implausible time in bed, QC exclusions, gaps, failures) and the provenance
 * (version, parameters' fingerprint, manifest and input checksums, command line, date). Then one
 * section per night: its key figures and the activity, sleep/wake, raster and IMI figures
 * (plm/figure.h) as inline SVG. No script, font, stylesheet or image is fetched from anywhere;
 * it prints to PDF with a page break before each night. Written to a temporary file and renamed.
 */
#ifndef PLM_REPORT_H
#define PLM_REPORT_H

#include <stddef.h>
#include "status.h"

typedef struct {
    const char *nights;  /* comma-separated recording ids to draw sections for; NULL: every night */
} plm_report_cfg;

typedef struct {
    size_t nights;       /* night sections written */
    size_t bytes;        /* size of the page */
} plm_report_result;

/* Errors: PLM_EIO (the results file cannot be read, the page cannot be written), PLM_EFORMAT (not
 * a results file; a night named in cfg that it does not hold). */
plm_status plm_report_write(const char *results, const char *out_html, const plm_report_cfg *cfg, plm_report_result *res);

#endif
