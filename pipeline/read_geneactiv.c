/* read_geneactiv.c -- the GENEActiv .bin backend (not written yet: sniff declines every file). */
#include "read_internal.h"

static int sniff_geneactiv(const unsigned char *b, size_t n)
{
    (void)b;
    (void)n;
    return 0;
}

const plm__backend plm__backend_geneactiv = {"geneactiv", sniff_geneactiv, NULL, NULL, NULL};
