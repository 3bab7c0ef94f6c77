/* plm/manifest.h -- the study manifest: one CSV row per recording.
 *
 * Columns (header row required, names case-insensitive):
 *   subject, condition, path            required; path relative to the manifest
 *   path_right                          a second file, the right ankle's device, when
 *                                       each ankle wore its own (path is then the left
 *                                       one); the two are aligned by their own clocks
 *   recording                           id; default the file stem of path
 *   night                               integer >= 0; default 1, 2, ... in order
 *                                       of appearance within subject+condition
 *   lights_off, lights_on               seconds from the first sample, clock time
 *                                       HH:MM[:SS] or ISO 8601 (see timeutil.h)
 *   full_scale_g, channels, start,      passed to the reader / resolved later
 *   timezone, annotations
 * Other columns are kept as metadata (key/value strings).
 *
 * Errors: a manifest that cannot be read, is not CSV, or lacks a required
 * column fails as a whole (plm_manifest_read returns an error). A bad row
 * (empty path, bad time, duplicate id, ...) does not: it is kept with
 * row->error set to "FILE:LINE: reason", so the rest of a batch still runs.
 *
 * Ownership: plm_manifest_clear() frees everything read into the struct.
 */
#ifndef PLM_MANIFEST_H
#define PLM_MANIFEST_H

#include <stddef.h>
#include "status.h"
#include "timeutil.h"

typedef struct {
    size_t line;          /* 1-based line in the manifest */
    char *subject, *condition;
    char *path_given;     /* as written */
    char *path;           /* resolved against the manifest's folder */
    char *path_right_given, *path_right; /* the right ankle's own file, or NULL */
    char *recording;      /* id (also the HDF5 group name) */
    int night;
    double full_scale_g;  /* NaN when not given */
    char *channels;       /* NULL when not given */
    char *start;          /* ISO 8601 text or NULL */
    char *timezone;       /* IANA name or NULL (machine's) */
    char *annotations;    /* resolved path or NULL */
    plm_tspec lights_off, lights_on;
    char **extra_values;  /* one per plm_manifest.extra_names */
    char *error;          /* NULL, or why this row cannot be processed */
} plm_manifest_row;

typedef struct {
    char *path;           /* the manifest file */
    char *dir;            /* its folder */
    size_t nrows;
    plm_manifest_row *rows;
    size_t nextra;
    char **extra_names;   /* metadata columns kept as they are */
} plm_manifest;

/* Read path. Errors: PLM_EIO (cannot read), PLM_EFORMAT (malformed CSV,
 * missing or duplicate column, no rows). */
plm_status plm_manifest_read(const char *path, plm_manifest *out);

void plm_manifest_clear(plm_manifest *m);

#endif
