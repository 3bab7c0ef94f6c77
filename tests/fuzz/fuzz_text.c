/* fuzz_text.c -- the small text parsers: ISO times, manifest time specs, channel maps,
 * annotation texts (EDF+ annotation handling maps them to event types). */
#include <stdlib.h>
#include "fuzz_common.h"
#include "plm/events.h"
#include "plm/read.h"
#include "plm/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char buf[512];
    if (!size) return 0;
    const char *s = fuzz_text(data + 1, size - 1, buf, sizeof buf);
    plm_time t;
    plm_tspec sp;
    uint8_t leg;
    double sec;
    switch (data[0] % 5) {
    case 0: (void)plm_time_parse_iso(s, NULL, &t); break;
    case 1: (void)plm_time_parse_iso(s, "Europe/Berlin", &t); break;
    case 2:
        if (plm_tspec_parse(s, &sp) == PLM_OK) {
            plm_time st = {1711836000, 0, 3600};
            (void)plm_tspec_resolve(&sp, &st, "Europe/Berlin", 0, &sec);
        }
        break;
    case 3: {
        plm_reader_info info;
        memset(&info, 0, sizeof info);
        (void)plm_read_parse_channel_map(s, 1 + data[0] % 9, &info);
        break;
    }
    default: (void)plm_event_type_from_text(s, &leg); break;
    }
    return 0;
}
