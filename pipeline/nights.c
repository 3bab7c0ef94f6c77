/* nights.c -- the /nights row and its one table of fields. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "plm/nights.h"

#define FLD(m, t) #m, t, offsetof(plm_night, m)
#define ID PLM_NF_ID
#define RES PLM_NF_RESULT
#define SLP PLM_NF_NEEDS_SLEEP
#define PRI PLM_NF_PRIMARY

const plm_night_field plm_night_fields[] = {
    {FLD(recording, PLM_NF_STR), "", "recording id (manifest)", ID, 0},
    {FLD(subject, PLM_NF_STR), "", "subject id", ID, 0},
    {FLD(condition, PLM_NF_STR), "", "condition, e.g. control or magnesium", ID, 0},
    {FLD(night, PLM_NF_I32), "", "night number within subject and condition", ID, 0},
    {FLD(tib_h, PLM_NF_F64), "h", "time in bed, lights off to lights on", RES, 0},
    {FLD(tst_h, PLM_NF_F64), "h", "total sleep time", RES | SLP, 6},
    {FLD(se_pct, PLM_NF_F64), "%", "sleep efficiency, TST / TIB", RES | SLP | PRI, 5},
    {FLD(sol_min, PLM_NF_F64), "min", "sleep-onset latency, lights off to the first sleep epoch", RES | SLP, 7},
    {FLD(waso_min, PLM_NF_F64), "min", "wake after sleep onset", RES | SLP, 8},
    {FLD(lm_count, PLM_NF_I32), "count", "leg movements with onset in bed", RES, 0},
    {FLD(plm_count, PLM_NF_I32), "count", "periodic leg movements in bed", RES, 0},
    {FLD(plms_count, PLM_NF_I32), "count", "periodic leg movements in sleep", RES | SLP, 0},
    {FLD(lm_index, PLM_NF_F64), "1/h", "leg movements in sleep per hour of sleep", RES | SLP, 9},
    {FLD(plms_index, PLM_NF_F64), "1/h", "periodic leg movements in sleep per hour of sleep", RES | SLP | PRI, 1},
    {FLD(plmw_index, PLM_NF_F64), "1/h", "periodic leg movements in wake per hour of wake in bed", RES | SLP, 3},
    {FLD(plm_tib_index, PLM_NF_F64), "1/h",
     "periodic leg movements per hour in bed, sleep or wake (what the leg alone measures)", RES, 4},
    {FLD(plms_a_index, PLM_NF_F64), "1/h",
     "PLMS with an associated arousal per hour of sleep (needs arousal annotations)", RES | SLP | PRI, 2},
    {FLD(periodicity_index, PLM_NF_F64), "ratio", "PLMS / candidate leg movements in sleep (WASM 2016)", RES | SLP, 10},
    {FLD(lights_source, PLM_NF_STR), "",
     "where lights off/on came from: manifest, annotations, estimated (from the leg), recording (its whole length)",
     0, 0},
    {FLD(sleep_source, PLM_NF_STR), "",
     "where sleep/wake came from: annotations (stages, e.g. PSG) or actigraphy (estimated from the leg: quiet wake "
     "reads as sleep)",
     0, 0},
    {FLD(tib_implausible, PLM_NF_I32), "0/1",
     "1 if the estimated time in bed is under 4 h, or under 40 % of a recording over 6 h", 0, 0},
};
const size_t plm_night_nfields = sizeof plm_night_fields / sizeof plm_night_fields[0];

const plm_night_field *plm_night_field_find(const char *name)
{
    for (size_t i = 0; name && i < plm_night_nfields; i++)
        if (!strcmp(plm_night_fields[i].name, name)) return &plm_night_fields[i];
    return NULL;
}

void plm_night_init(plm_night *n, const char *recording, const char *subject, const char *condition, int32_t night)
{
    for (size_t i = 0; i < plm_night_nfields; i++) {
        char *p = (char *)n + plm_night_fields[i].offset;
        switch (plm_night_fields[i].type) {
        case PLM_NF_STR: *(const char **)p = ""; break;
        case PLM_NF_I32: *(int32_t *)p = -1; break;
        case PLM_NF_F64: *(double *)p = NAN; break;
        }
    }
    n->recording = recording;
    n->subject = subject;
    n->condition = condition;
    n->night = night;
}

double plm_night_number(const plm_night *r, const plm_night_field *f)
{
    const char *p = (const char *)r + f->offset;
    if (f->type == PLM_NF_F64) return *(const double *)p;
    if (f->type == PLM_NF_I32) return *(const int32_t *)p < 0 ? NAN : *(const int32_t *)p;
    return NAN;
}

const char *plm_night_text(const plm_night *r, const plm_night_field *f)
{
    if (f->type != PLM_NF_STR) return NULL;
    const char *s = *(const char *const *)((const char *)r + f->offset);
    return s ? s : "";
}

void plm_night_set_results(plm_night *r, const plm_score_result *sc, const plm_sleep_summary *sl)
{
    r->tib_h = sl->tib_h;
    r->tst_h = sl->tst_h;
    r->se_pct = sl->se_pct;
    r->sol_min = sl->sol_min;
    r->waso_min = sl->waso_min;
    r->lm_count = sc->lm_count;
    r->plm_count = sc->plm_count;
    r->plms_count = sc->plms_count;
    r->lm_index = sc->lm_index;
    r->plms_index = sc->plms_index;
    r->plmw_index = sc->plmw_index;
    r->plm_tib_index = sc->plm_tib_index;
    r->plms_a_index = sc->plms_a_index;
    r->periodicity_index = sc->pi_wasm;
}

const char *plm_night_source_name(const char *s)
{
    static const char *const known[] = {"manifest", "annotations", "estimated", "recording", "actigraphy"};
    for (size_t i = 0; s && i < sizeof known / sizeof *known; i++)
        if (!strcmp(s, known[i])) return known[i];
    return "";
}

void plm_nights_free(plm_night *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++)
        for (size_t k = 0; k < plm_night_nfields; k++)
            if (plm_night_fields[k].type == PLM_NF_STR)
                free(*(char **)((char *)&rows[i] + plm_night_fields[k].offset));
    free(rows);
}
