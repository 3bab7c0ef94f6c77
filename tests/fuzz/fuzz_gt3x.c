/* fuzz_gt3x.c -- the ActiGraph .gt3x parser (our part: info.txt and log.bin or activity.bin; libzip
 * reads the zip). The input is "info.txt text" NUL "log.bin bytes" (or, when the first byte is 'A',
 * activity.bin bytes), packed into a real zip with libzip before the reader opens it. */
#include <zip.h>
#include "fuzz_device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > (1 << 20)) return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t ninfo = nul ? (size_t)(nul - data) : size, nlog = nul ? size - ninfo - 1 : 0;
    static char path[256];
    snprintf(path, sizeof path, "%s/actiplm-fuzz-%ld.gt3x", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
    int err = 0;
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!z) return 0;
    zip_source_t *si = zip_source_buffer(z, data, ninfo, 0), *sl = zip_source_buffer(z, nul ? nul + 1 : data, nlog, 0);
    if (si && zip_file_add(z, "info.txt", si, ZIP_FL_OVERWRITE) < 0) zip_source_free(si);
    if (sl && zip_file_add(z, data[0] == 'A' ? "activity.bin" : "log.bin", sl, ZIP_FL_OVERWRITE) < 0) zip_source_free(sl);
    if (zip_close(z) != 0) {
        zip_discard(z);
        return 0;
    }
    fuzz_read_all(path);
    unlink(path);
    return 0;
}
