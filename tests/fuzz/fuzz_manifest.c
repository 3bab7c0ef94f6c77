/* fuzz_manifest.c -- the study manifest reader (RFC 4180 CSV, columns, times, channel maps). */
#include <stdlib.h>
#include "fuzz_common.h"
#include "plm/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_file(data, size, ".csv");
    if (!p) return 0;
    plm_manifest m;
    if (plm_manifest_read(p, &m) == PLM_OK) plm_manifest_clear(&m);
    unlink(p);
    return 0;
}
