/* cli_common.c -- messages, number parsing and the command line for actiplm. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli_common.h"

static char command_line[4096];

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("actiplm: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "actiplm %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'actiplm %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_usage_error(cmd, "%s: '%s' is not a whole number from %ld to %ld", opt, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-') {
        cli_usage_error(cmd, "%s: '%s' is not a non-negative whole number", opt, s);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_double(const char *cmd, const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < lo || v > hi) {
        cli_usage_error(cmd, "%s: '%s' is not a number from %g to %g", opt, s, lo, hi);
        return 0;
    }
    *out = v;
    return 1;
}

void cli_set_command_line(int argc, char **argv)
{
    size_t len = 0;
    command_line[0] = '\0';
    for (int i = 0; i < argc; i++) {
        int k = snprintf(command_line + len, sizeof command_line - len, "%s%s", i ? " " : "", argv[i]);
        if (k < 0 || (size_t)k >= sizeof command_line - len) break;
        len += (size_t)k;
    }
}

const char *cli_command_line(void) { return command_line; }

void cli_now_utc(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
