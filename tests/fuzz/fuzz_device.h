/* fuzz_device.h -- shared by the device-format fuzz targets: open the file, read it to the end
 * (at most a million frames), ask for its gaps, close. */
#ifndef FUZZ_DEVICE_H
#define FUZZ_DEVICE_H
#include "fuzz_common.h"
#include "plm/read.h"

static inline void fuzz_read_all(const char *path)
{
    plm_read_cfg cfg = plm_read_cfg_default();
    cfg.block_frames = 4096;
    cfg.timezone = "UTC";
    plm_reader *r = NULL;
    if (plm_reader_open(path, &cfg, &r) != PLM_OK) return;
    double *x = malloc(6 * 4096 * sizeof *x), *t = malloc(4096 * sizeof *t), *g = malloc(3 * 4096 * sizeof *g),
           *tc = malloc(4096 * sizeof *tc), *lx = malloc(4096 * sizeof *lx);
    plm_aux aux = {g, tc, lx};
    int64_t got = 0, total = 0;
    while (x && t && g && tc && lx && total < 1000000 && plm_reader_read_aux(r, x, t, &aux, 4096, &got) == PLM_OK &&
           got > 0)
        total += got;
    free(g);
    free(tc);
    free(lx);
    size_t ng;
    (void)plm_reader_gaps(r, &ng);
    free(x);
    free(t);
    plm_reader_destroy(r);
}
#endif
