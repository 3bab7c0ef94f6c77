/* fuzz_events.c -- the events CSV reader (actiplm score / compare inputs and annotation files). */
#include <stdlib.h>
#include "fuzz_common.h"
#include "plm/events.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = fuzz_file(data, size, ".csv");
    if (!p) return 0;
    plm_event_list l;
    if (plm_events_read_csv(p, &l) == PLM_OK) plm_event_list_clear(&l);
    unlink(p);
    return 0;
}
