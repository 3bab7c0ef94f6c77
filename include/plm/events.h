/* plm/events.h -- events CSV: onset_s,duration_s,type[,leg].
 *
 * The exchange format for scored events (leg movements scored elsewhere,
 * arousals, respiratory events, sleep stages, lights off/on) and for the
 * simulator's truth. Onsets are seconds from the recording's first sample.
 * type: lm, arousal, apnea, hypopnea, W, N1, N2, N3, R, lights_off, lights_on
 * (case-insensitive). leg: L/R (or 1/2, left/right); required for lm rows,
 * B/3/both allowed for a bilateral lm. Unknown types are collected (reported
 * once by the caller) and skipped; malformed rows are errors naming the line.
 * Ownership: plm_event_list is the caller's; plm_event_list_clear frees it.
 */
#ifndef PLM_EVENTS_H
#define PLM_EVENTS_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

typedef enum {
    PLM_EV_LM = 1, PLM_EV_AROUSAL, PLM_EV_APNEA, PLM_EV_HYPOPNEA, PLM_EV_W, PLM_EV_N1, PLM_EV_N2, PLM_EV_N3,
    PLM_EV_R, PLM_EV_LIGHTS_OFF, PLM_EV_LIGHTS_ON
} plm_event_type;

typedef struct {
    double onset_s, duration_s;
    plm_event_type type;
    uint8_t leg; /* PLM_LEG_* for lm rows, 0 otherwise */
} plm_event;

typedef struct plm_event_list {
    plm_event *v;
    size_t n, cap;
    char unknown_types[256]; /* comma-separated types that were skipped */
} plm_event_list;

plm_status plm_events_read_csv(const char *path, plm_event_list *out);

/* Write lm events (one row per leg movement) as an events CSV. */
plm_status plm_events_write_lm_csv(const char *path, const double *onset_s, const double *offset_s, const uint8_t *leg,
                                   size_t n);

void plm_event_list_clear(plm_event_list *l);

/* The type of an EDF+ annotation text ("Arousal", "Sleep stage N2", "Lights off",
 * "Obstructive apnea", "LM left", ...), case-insensitive; 0 when not recognised.
 * *leg is set for leg movements. */
int plm_event_type_from_text(const char *text, uint8_t *leg);

/* Append annotations (onset/duration in 100-ns ticks, text) as events; texts not
 * recognised are collected in unknown_types. */
plm_status plm_events_add_annotations(plm_event_list *l, const int64_t *onset_100ns, const int64_t *duration_100ns,
                                      const char *const *text, size_t n);

/* Read an annotations file: an EDF+/BDF+ file (its TAL annotations, through
 * EDFlib) or an events CSV, told apart by content. */
plm_status plm_events_read_file(const char *path, plm_event_list *out);

#endif
