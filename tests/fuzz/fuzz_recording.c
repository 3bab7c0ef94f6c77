/* fuzz_recording.c -- opening and reading a recording: our header handling around libsndfile
 * (Axivity ICMT comment, bext, channel layouts, truncation) and EDFlib (labels, units, EDF+
 * annotations). The first byte picks the extension. */
#include <stdlib.h>
#include "fuzz_common.h"
#include "plm/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    static const char *ext[] = {".wav", ".edf", ".bdf", ".flac"};
    const char *p = fuzz_file(data + 1, size - 1, ext[data[0] % 4]);
    if (!p) return 0;
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.block_frames = 4096;
    if (data[0] & 4) cfg.full_scale_g = 8; /* integer data readable too */
    plm_reader *r = NULL;
    if (plm_reader_open(p, &cfg, &r) == PLM_OK) {
        size_t na = 0;
        (void)plm_reader_annotations(r, &na);
        double *x = malloc(6 * 4096 * sizeof *x);
        int64_t got = 0, total = 0;
        while (x && total < 1000000 && plm_reader_read(r, x, 4096, &got) == PLM_OK && got > 0) total += got;
        free(x);
        plm_reader_destroy(r);
    }
    unlink(p);
    return 0;
}
