/* timeutil.c -- ISO 8601 parsing, IANA zone conversion and manifest clock times. */
#define _DEFAULT_SOURCE
#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "plm/timeutil.h"
#include "internal.h"

static pthread_mutex_t tz_lock = PTHREAD_MUTEX_INITIALIZER;

/* The machine's zone, as a TZ value: glibc reads ":/etc/localtime" exactly as an unset TZ. */
#define TZ_MACHINE ":/etc/localtime"

/* Switching zones sets TZ, and the environment must never move while other threads read it
 * (getenv does not lock, and libraries call it at any time). glibc replaces the value of a
 * variable that exists in place and keeps the old strings; only adding a variable grows, and
 * may free, the array. So TZ is made present once and is never removed. */
void plm_time_init(void)
{
    pthread_mutex_lock(&tz_lock);
    if (!getenv("TZ")) setenv("TZ", TZ_MACHINE, 0);
    pthread_mutex_unlock(&tz_lock);
}

/* Switch TZ to zone (NULL/"" keeps the machine's); returns the value to restore. tz_lock held. */
static char *tz_push(const char *zone)
{
    const char *old = getenv("TZ");
    char *saved = plm__strdup(old ? old : TZ_MACHINE);
    if (zone && *zone) setenv("TZ", zone, 1); /* without plm_time_init, this or tz_pop adds TZ, once */
    tzset();
    return saved;
}

static void tz_pop(char *saved)
{
    setenv("TZ", saved ? saved : TZ_MACHINE, 1);
    tzset();
    free(saved);
}

plm_status plm_time_check_zone(const char *tz)
{
    if (!tz || !*tz) return PLM_OK;
    if (!strcmp(tz, "UTC") || !strcmp(tz, "Z")) return PLM_OK;
    if (tz[0] == '/' || strstr(tz, "..") || strlen(tz) > 200)
        PLM_FAIL(PLM_EINVAL, "time zone '%s' is not an IANA name such as Europe/Berlin", tz);
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", tz);
    if (access(path, R_OK) != 0)
        PLM_FAIL(PLM_EINVAL, "unknown time zone '%s' (not in the IANA database; e.g. Europe/Berlin)", tz);
    return PLM_OK;
}

/* Offset of local time from UTC at instant t, in the current TZ. */
static int32_t offset_at(time_t t)
{
    struct tm lt;
    localtime_r(&t, &lt);
    return (int32_t)lt.tm_gmtoff;
}

static struct tm civil_tm(int year, int mon, int day, int hh, int mm, int ss)
{
    struct tm tm = {0};
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hh;
    tm.tm_min = mm;
    tm.tm_sec = ss;
    return tm;
}

/* Candidates (up to 2) for a local civil time in the current TZ. */
static int local_candidates(int year, int mon, int day, int hh, int mm, int ss, time_t out[2])
{
    int n = 0;
    for (int dst = 0; dst <= 1; dst++) {
        struct tm tm = civil_tm(year, mon, day, hh, mm, ss);
        tm.tm_isdst = dst;
        time_t t = mktime(&tm);
        if (t == (time_t)-1 && !(year == 1969 && mon == 12 && day == 31)) continue;
        struct tm back;
        localtime_r(&t, &back);
        if (back.tm_year != year - 1900 || back.tm_mon != mon - 1 || back.tm_mday != day ||
            back.tm_hour != hh || back.tm_min != mm || back.tm_sec != ss)
            continue;
        if (n == 1 && out[0] == t) continue;
        out[n++] = t;
    }
    if (n == 2 && out[1] < out[0]) {
        time_t x = out[0];
        out[0] = out[1];
        out[1] = x;
    }
    return n;
}

static int valid_civil(int year, int mon, int day, int hh, int mm, int ss)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (year < 1900 || year > 9999 || mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1]) return 0;
    if (mon == 2 && day == 29 && !((year % 4 == 0 && year % 100 != 0) || year % 400 == 0)) return 0;
    return hh >= 0 && hh <= 23 && mm >= 0 && mm <= 59 && ss >= 0 && ss <= 60;
}

plm_status plm_time_from_local(int year, int mon, int day, int hh, int mm, int ss,
                               int32_t nsec, const char *tz, plm_time *out)
{
    plm_status st = plm_time_check_zone(tz);
    if (st) return st;
    if (!valid_civil(year, mon, day, hh, mm, ss) || nsec < 0 || nsec > 999999999)
        PLM_FAIL(PLM_EINVAL, "%04d-%02d-%02d %02d:%02d:%02d is not a valid date and time", year, mon,
                 day, hh, mm, ss);
    pthread_mutex_lock(&tz_lock);
    char *saved = tz_push(tz);
    time_t c[2];
    int n = local_candidates(year, mon, day, hh, mm, ss, c);
    int32_t off = n ? offset_at(c[0]) : 0;
    tz_pop(saved);
    pthread_mutex_unlock(&tz_lock);
    if (!n)
        PLM_FAIL(PLM_EINVAL, "%04d-%02d-%02d %02d:%02d:%02d does not exist in time zone %s (clocks change)",
                 year, mon, day, hh, mm, ss, tz && *tz ? tz : "of this machine");
    out->utc_s = (int64_t)c[0];
    out->nsec = nsec;
    out->offset_s = off;
    return PLM_OK;
}

/* Read exactly n digits. */
static int digits(const char **p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) return 0;
        x = x * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *v = x;
    return 1;
}

plm_status plm_time_parse_iso(const char *s, const char *tz, plm_time *out)
{
    const char *p = s;
    int y, mo, d, h, mi, sec = 0;
    int32_t nsec = 0;
    while (isspace((unsigned char)*p)) p++;
    if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' || !digits(&p, 2, &d))
        goto bad;
    if (*p != 'T' && *p != 't' && *p != ' ') goto bad;
    p++;
    if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &mi)) goto bad;
    if (*p == ':') {
        p++;
        if (!digits(&p, 2, &sec)) goto bad;
        if (*p == '.' || *p == ',') {
            p++;
            int k = 0;
            if (!isdigit((unsigned char)*p)) goto bad;
            while (isdigit((unsigned char)*p)) {
                if (k < 9) nsec = nsec * 10 + (*p - '0');
                k++;
                p++;
            }
            for (; k < 9; k++) nsec *= 10;
        }
    }
    int has_off = 0;
    int32_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        has_off = 1;
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p++ == '-' ? -1 : 1, oh, om = 0;
        if (!digits(&p, 2, &oh)) goto bad;
        if (*p == ':') p++;
        if (isdigit((unsigned char)*p) && !digits(&p, 2, &om)) goto bad;
        if (oh > 18 || om > 59) goto bad;
        has_off = 1;
        off = sign * (oh * 3600 + om * 60);
    }
    while (isspace((unsigned char)*p)) p++;
    if (*p) goto bad;
    if (!valid_civil(y, mo, d, h, mi, sec)) goto bad;
    if (!has_off) return plm_time_from_local(y, mo, d, h, mi, sec, nsec, tz, out);
    {
        plm_status st = plm_time_check_zone(tz);
        if (st) return st;
        struct tm tm = civil_tm(y, mo, d, h, mi, sec);
        out->utc_s = (int64_t)timegm(&tm) - off;
        out->nsec = nsec;
        out->offset_s = off;
        if (tz && *tz) {
            pthread_mutex_lock(&tz_lock);
            char *saved = tz_push(tz);
            out->offset_s = offset_at((time_t)out->utc_s);
            tz_pop(saved);
            pthread_mutex_unlock(&tz_lock);
        }
        return PLM_OK;
    }
bad:
    PLM_FAIL(PLM_EINVAL, "'%s' is not an ISO 8601 date and time (e.g. 2024-03-30T21:00:00+01:00)", s);
}

static void format_fields(int64_t secs, int32_t nsec, char sep, char *buf, size_t n, const char *suffix)
{
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, n, "%04d-%02d-%02d%c%02d:%02d:%02d.%03d%s", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, sep, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(nsec / 1000000), suffix);
}

void plm_time_format_local(const plm_time *t, char sep, char *buf, size_t n)
{
    char off[16];
    int32_t o = t->offset_s;
    char sign = o < 0 ? '-' : '+';
    if (o < 0) o = -o;
    snprintf(off, sizeof off, "%c%02d:%02d", sign, (int)(o / 3600), (int)(o % 3600 / 60));
    format_fields(t->utc_s + t->offset_s, t->nsec, sep, buf, n, off);
}

void plm_time_format_utc(const plm_time *t, char *buf, size_t n)
{
    format_fields(t->utc_s, t->nsec, 'T', buf, n, "Z");
}

plm_status plm_tspec_parse(const char *s, plm_tspec *out)
{
    memset(out, 0, sizeof *out);
    while (isspace((unsigned char)*s)) s++;
    size_t len = strlen(s);
    while (len && isspace((unsigned char)s[len - 1])) len--;
    if (!len) return PLM_OK;
    char buf[64];
    if (len >= sizeof buf) PLM_FAIL(PLM_EINVAL, "time '%.40s...' is too long", s);
    memcpy(buf, s, len);
    buf[len] = '\0';
    /* clock time hh:mm[:ss] */
    int hh, mm, ss = 0;
    const char *p = buf;
    if (len == 5 || len == 8) {
        if (digits(&p, 2, &hh) && *p++ == ':' && digits(&p, 2, &mm) &&
            (!*p || (*p++ == ':' && digits(&p, 2, &ss) && !*p))) {
            if (hh > 23 || mm > 59 || ss > 59)
                PLM_FAIL(PLM_EINVAL, "'%s' is not a valid clock time (HH:MM[:SS])", buf);
            out->kind = PLM_TSPEC_CLOCK;
            out->hh = hh;
            out->mm = mm;
            out->ss = ss;
            return PLM_OK;
        }
    }
    /* seconds from the first sample */
    char *end;
    double v = strtod(buf, &end);
    if (end != buf && !*end) {
        if (!isfinite(v) || v < 0)
            PLM_FAIL(PLM_EINVAL, "'%s' must be a non-negative number of seconds", buf);
        out->kind = PLM_TSPEC_SECONDS;
        out->seconds = v;
        return PLM_OK;
    }
    /* ISO 8601: syntax-checked now (in UTC), resolved later in the recording's zone */
    plm_time t;
    if (plm_time_parse_iso(buf, "UTC", &t) != PLM_OK)
        PLM_FAIL(PLM_EINVAL,
                 "'%s' is not a time: use seconds from the first sample, HH:MM[:SS] or ISO 8601", buf);
    out->kind = PLM_TSPEC_ABSOLUTE;
    plm__strlcpy(out->iso, buf, sizeof out->iso);
    return PLM_OK;
}

static double rel_s(const plm_time *start, int64_t utc_s, int32_t nsec)
{
    return (double)(utc_s - start->utc_s) + (double)(nsec - start->nsec) * 1e-9;
}

plm_status plm_tspec_resolve(const plm_tspec *spec, const plm_time *start, const char *tz,
                             double not_before_s, double *out_s)
{
    switch (spec->kind) {
    case PLM_TSPEC_NONE:
        *out_s = NAN;
        return PLM_OK;
    case PLM_TSPEC_SECONDS:
        *out_s = spec->seconds;
        return PLM_OK;
    case PLM_TSPEC_ABSOLUTE: {
        if (!start) PLM_FAIL(PLM_EINVAL, "time '%s' needs the recording's start time (file or manifest column start)", spec->iso);
        plm_time t;
        plm_status st = plm_time_parse_iso(spec->iso, tz, &t);
        if (st) return st;
        *out_s = rel_s(start, t.utc_s, t.nsec);
        if (*out_s < 0) PLM_FAIL(PLM_EINVAL, "time '%s' is before the recording starts", spec->iso);
        return PLM_OK;
    }
    case PLM_TSPEC_CLOCK: {
        if (!start)
            PLM_FAIL(PLM_EINVAL, "clock time %02d:%02d needs the recording's start time (file or manifest column start)",
                     spec->hh, spec->mm);
        plm_status st = plm_time_check_zone(tz);
        if (st) return st;
        double best = INFINITY;
        pthread_mutex_lock(&tz_lock);
        char *saved = tz_push(tz);
        time_t t0 = (time_t)(start->utc_s + (int64_t)floor(not_before_s));
        struct tm lt;
        localtime_r(&t0, &lt);
        for (int dd = -1; dd <= 2; dd++) {
            struct tm day = {0};
            day.tm_year = lt.tm_year;
            day.tm_mon = lt.tm_mon;
            day.tm_mday = lt.tm_mday + dd;
            day.tm_hour = 12;
            day.tm_isdst = -1;
            mktime(&day); /* normalise the date */
            time_t c[2];
            int n = local_candidates(day.tm_year + 1900, day.tm_mon + 1, day.tm_mday, spec->hh,
                                     spec->mm, spec->ss, c);
            for (int i = 0; i < n; i++) {
                double r = rel_s(start, (int64_t)c[i], 0);
                if (r >= not_before_s && r < best) best = r;
            }
        }
        tz_pop(saved);
        pthread_mutex_unlock(&tz_lock);
        if (!isfinite(best))
            PLM_FAIL(PLM_EINVAL, "clock time %02d:%02d:%02d does not occur after the recording starts",
                     spec->hh, spec->mm, spec->ss);
        *out_s = best;
        return PLM_OK;
    }
    }
    PLM_FAIL(PLM_EINTERNAL, "bad time spec kind %d", (int)spec->kind);
}
