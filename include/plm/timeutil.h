/* plm/timeutil.h -- wall-clock time at the edges of a recording.
 *
 * Inside a recording time is a sample index (see types.h). Clock time is
 * needed only at the edges: the start of a recording (from the file or the
 * manifest) and lights-off/on given as a clock time in the manifest. Those
 * clock times are read in the recording's time zone, an IANA name such as
 * "Europe/Berlin" (NULL or "" = the machine's), and stay right across
 * daylight-saving changes: 22:30 -> 06:30 is 7 h on the night the clocks
 * go forward in spring and 9 h in autumn.
 *
 * Thread safety: the conversions switch the process time zone (TZ) under a
 * mutex and restore it; do not call localtime()/mktime() from other threads
 * meanwhile, call plm_time_init() before starting threads, and do not add or
 * remove environment variables (setenv, unsetenv, putenv) while threads run.
 * Ownership: no allocation; outputs go to caller-provided structs/buffers.
 */
#ifndef PLM_TIMEUTIL_H
#define PLM_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

/* An instant, with the UTC offset of the recording's zone at that instant. */
typedef struct {
    int64_t utc_s;    /* seconds since 1970-01-01T00:00:00Z */
    int32_t nsec;     /* 0 .. 999 999 999 */
    int32_t offset_s; /* local time minus UTC at this instant, in seconds */
} plm_time;

/* Make the process environment safe for the zone switches; call once, before starting threads
 * that convert times (the actiplm command does it first thing). The conversions read a zone by
 * setting TZ; if TZ is absent, setting it grows the environment array, and any thread reading
 * the environment at that moment (getenv, which libraries call freely) reads freed memory.
 * This sets an absent TZ to ":/etc/localtime", which glibc reads exactly as an unset TZ (the
 * machine's zone); from then on a switch replaces TZ's value in place. Idempotent. */
void plm_time_init(void);

/* Check that tz names an installed IANA zone (NULL/"" is always valid). */
plm_status plm_time_check_zone(const char *tz);

/* Local civil time in zone tz -> instant. ms_frac is the fraction of a second
 * in nanoseconds. A time that falls in a daylight-saving gap is PLM_EINVAL;
 * an ambiguous one (autumn hour) gives the first occurrence. */
plm_status plm_time_from_local(int year, int mon, int day, int hh, int mm, int ss,
                               int32_t nsec, const char *tz, plm_time *out);

/* Parse "YYYY-MM-DD[T| ]hh:mm[:ss[.fff]][Z|+hh[:mm]|-hh[:mm]]". Without an
 * offset the time is local in tz. With one, offset_s is still that of tz
 * (the zone decides how the instant is shown), unless tz is NULL/"", in
 * which case the given offset is kept. */
plm_status plm_time_parse_iso(const char *s, const char *tz, plm_time *out);

/* Format as local ISO 8601 with offset, "2018-03-18T17:24:47.536+01:00"
 * (sep = 'T' or ' '); buf needs >= 40 bytes. */
void plm_time_format_local(const plm_time *t, char sep, char *buf, size_t n);

/* Format as UTC, "2018-03-18T16:24:47.536Z"; buf needs >= 40 bytes. */
void plm_time_format_utc(const plm_time *t, char *buf, size_t n);

/* A time given in the manifest (lights_off, lights_on). */
typedef enum {
    PLM_TSPEC_NONE = 0, /* column empty */
    PLM_TSPEC_SECONDS,  /* "5400" or "5400.5": seconds from the first sample */
    PLM_TSPEC_CLOCK,    /* "22:30" or "22:30:15": wall clock in the recording's zone */
    PLM_TSPEC_ABSOLUTE  /* ISO 8601 date and time */
} plm_tspec_kind;

typedef struct {
    plm_tspec_kind kind;
    double seconds;         /* PLM_TSPEC_SECONDS */
    int hh, mm, ss;         /* PLM_TSPEC_CLOCK */
    char iso[48];           /* PLM_TSPEC_ABSOLUTE: text, parsed when the zone is known */
} plm_tspec;

/* Parse a manifest time; "" gives PLM_TSPEC_NONE. PLM_EINVAL when unparseable. */
plm_status plm_tspec_parse(const char *s, plm_tspec *out);

/* Resolve to seconds from the first sample. start may be NULL when the
 * recording's start is unknown (then only PLM_TSPEC_SECONDS resolves).
 * A clock time becomes the first instant at or after start + not_before_s
 * whose wall clock in tz reads hh:mm:ss. */
plm_status plm_tspec_resolve(const plm_tspec *spec, const plm_time *start, const char *tz,
                             double not_before_s, double *out_s);

#endif
