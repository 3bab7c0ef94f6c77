/* csv.c -- RFC 4180 record reader (BOM, CRLF, quotes, blank lines). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "plm/csv.h"
#include "internal.h"

#define CSV_MAX_BYTES ((size_t)256 << 20)

struct plm_csv {
    char *buf;       /* whole input, NUL-terminated */
    size_t n, pos;
    size_t line;     /* current physical line (1-based) */
    char *rec;       /* unescaped fields of the current record, packed */
    size_t rec_cap;
    char **fields;
    size_t fields_cap;
    char name[256];
};

plm_status plm_csv_open_mem(const char *buf, size_t n, const char *name, plm_csv **out)
{
    *out = NULL;
    if (n > CSV_MAX_BYTES) PLM_FAIL(PLM_EFORMAT, "%s: larger than 256 MiB, not a table", name);
    plm_csv *c = calloc(1, sizeof *c);
    if (!c) PLM_FAIL(PLM_ENOMEM, "%s: out of memory", name);
    c->buf = malloc(n + 1);
    if (!c->buf) {
        free(c);
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", name);
    }
    if (n) memcpy(c->buf, buf, n);
    c->buf[n] = '\0';
    c->n = n;
    c->line = 1;
    if (n >= 3 && !memcmp(c->buf, "\xEF\xBB\xBF", 3)) c->pos = 3;
    plm__strlcpy(c->name, name, sizeof c->name);
    *out = c;
    return PLM_OK;
}

plm_status plm_csv_open(const char *path, plm_csv **out)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) PLM_FAIL(PLM_EIO, "%s: cannot open: %s", path, strerror(errno));
    char *data = NULL;
    size_t n = 0, cap = 0;
    plm_status st = PLM_OK;
    for (;;) {
        if (n == cap) {
            if (cap >= CSV_MAX_BYTES) {
                st = plm__fail(PLM_EFORMAT, "%s: larger than 256 MiB, not a table", path);
                goto done;
            }
            if (!plm__grow((void **)&data, &cap, n + 1, 1, 65536)) {
                st = plm__fail(PLM_ENOMEM, "%s: out of memory", path);
                goto done;
            }
        }
        size_t k = fread(data + n, 1, cap - n, f);
        n += k;
        if (k == 0) break;
    }
    if (ferror(f)) {
        st = plm__fail(PLM_EIO, "%s: read error: %s", path, strerror(errno));
        goto done;
    }
    st = plm_csv_open_mem(data ? data : "", n, path, out);
done:
    fclose(f);
    free(data);
    return st;
}

plm_status plm_csv_next(plm_csv *c, char ***fields, size_t *nfields, size_t *line)
{
    /* skip blank lines */
    for (;;) {
        if (c->pos >= c->n) return PLM_ENODATA;
        char ch = c->buf[c->pos];
        if (ch == '\r' && c->pos + 1 < c->n && c->buf[c->pos + 1] == '\n') c->pos++;
        else if (ch != '\n' && ch != '\r') break;
        c->pos++;
        c->line++;
    }
    size_t start_line = c->line;
    /* worst case the record is as long as the rest of the buffer */
    if (!plm__grow((void **)&c->rec, &c->rec_cap, c->n - c->pos + 2, 1, 64))
        PLM_FAIL(PLM_ENOMEM, "%s: out of memory", c->name);
    size_t w = 0, nf = 0;
    size_t *offs = NULL, offs_cap = 0;
    plm_status st = PLM_OK;
    for (;;) {
        if (!plm__grow((void **)&offs, &offs_cap, nf + 1, sizeof *offs, 64)) {
            st = plm__fail(PLM_ENOMEM, "%s: out of memory", c->name);
            goto done;
        }
        offs[nf++] = w;
        if (c->pos < c->n && c->buf[c->pos] == '"') {
            c->pos++;
            for (;;) {
                if (c->pos >= c->n) {
                    st = plm__fail(PLM_EFORMAT, "%s:%zu: unterminated quoted field", c->name, start_line);
                    goto done;
                }
                char ch = c->buf[c->pos++];
                if (ch == '"') {
                    if (c->pos < c->n && c->buf[c->pos] == '"') {
                        c->rec[w++] = '"';
                        c->pos++;
                    } else break;
                } else {
                    if (ch == '\n') c->line++;
                    c->rec[w++] = ch;
                }
            }
            if (c->pos < c->n && c->buf[c->pos] != ',' && c->buf[c->pos] != '\n' && c->buf[c->pos] != '\r') {
                st = plm__fail(PLM_EFORMAT, "%s:%zu: text after a closing quote", c->name, c->line);
                goto done;
            }
        } else {
            while (c->pos < c->n) {
                char ch = c->buf[c->pos];
                if (ch == ',' || ch == '\n' || ch == '\r') break;
                if (ch == '"') {
                    st = plm__fail(PLM_EFORMAT, "%s:%zu: quote inside an unquoted field (quote the whole field)",
                                   c->name, c->line);
                    goto done;
                }
                c->rec[w++] = ch;
                c->pos++;
            }
        }
        c->rec[w++] = '\0';
        if (c->pos < c->n && c->buf[c->pos] == ',') {
            c->pos++;
            continue;
        }
        /* end of record */
        if (c->pos < c->n && c->buf[c->pos] == '\r') c->pos++;
        if (c->pos < c->n && c->buf[c->pos] == '\n') c->pos++;
        c->line++;
        break;
    }
    if (!plm__grow((void **)&c->fields, &c->fields_cap, nf, sizeof *c->fields, 64)) {
        st = plm__fail(PLM_ENOMEM, "%s: out of memory", c->name);
        goto done;
    }
    for (size_t i = 0; i < nf; i++) c->fields[i] = c->rec + offs[i];
    *fields = c->fields;
    *nfields = nf;
    *line = start_line;
done:
    free(offs);
    return st;
}

void plm_csv_destroy(plm_csv *c)
{
    if (!c) return;
    free(c->buf);
    free(c->rec);
    free(c->fields);
    free(c);
}

char *plm_csv_number(double v, char buf[32])
{
    buf[0] = '\0';
    if (!isfinite(v)) return buf;
    for (int prec = 15; prec <= 17; prec++) { /* %g drops trailing zeros: up to 15 digits always read back */
        snprintf(buf, 32, "%.*g", prec, v);
        for (char *p = buf; *p; p++) /* a dot, whatever the locale */
            if (*p == ',') *p = '.';
        if (strtod(buf, NULL) == v) break;
    }
    return buf;
}
