/* fuzz_cwa.c -- the Axivity CWA parser: the input is the file, its first two bytes made "MD" so
 * that the CWA backend takes it (checksums, sequence ids, anchors, packing, gaps). */
#include "fuzz_device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || size > (1 << 20)) return 0;
    uint8_t *b = malloc(size);
    if (!b) return 0;
    memcpy(b, data, size);
    b[0] = 'M', b[1] = 'D';
    const char *p = fuzz_file(b, size, ".cwa");
    free(b);
    if (!p) return 0;
    fuzz_read_all(p);
    unlink(p);
    return 0;
}
