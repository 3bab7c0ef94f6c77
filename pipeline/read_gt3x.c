/* read_gt3x.c -- the ActiGraph .gt3x backend (not written yet: sniff declines every file). */
#include "read_internal.h"

static int sniff_gt3x(const unsigned char *b, size_t n)
{
    (void)b;
    (void)n;
    return 0;
}

const plm__backend plm__backend_gt3x = {"gt3x", sniff_gt3x, NULL, NULL, NULL};
