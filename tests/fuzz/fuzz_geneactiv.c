/* fuzz_geneactiv.c -- the GENEActiv .bin parser: the input follows a fixed first line, so that the
 * GENEActiv backend takes it (header keys, pages, hex lines, sequence numbers, page times). */
#include "fuzz_device.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char head[] = "Device Identity\r\nDevice Type:GENEActiv\r\n";
    if (size > (1 << 20)) return 0;
    uint8_t *b = malloc(sizeof head - 1 + size);
    if (!b) return 0;
    memcpy(b, head, sizeof head - 1);
    if (size) memcpy(b + sizeof head - 1, data, size);
    const char *p = fuzz_file(b, sizeof head - 1 + size, ".bin");
    free(b);
    if (!p) return 0;
    fuzz_read_all(p);
    unlink(p);
    return 0;
}
