/* fuzz_common.h -- shared by the libFuzzer targets: the parsers under test read files,
 * so each input is written to a per-process temporary file with the right extension. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *ext)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/actiplm-fuzz-%ld%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (long)getpid(), ext);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    return path;
}

/* A NUL-terminated copy of the input, cut at max-1 bytes. */
static inline const char *fuzz_text(const uint8_t *data, size_t size, char *buf, size_t max)
{
    size_t n = size < max - 1 ? size : max - 1;
    memcpy(buf, data, n);
    buf[n] = 0;
    return buf;
}
#endif
