/* simulate.c -- synthetic leg-accelerometer sleep studies with ground truth. */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <sndfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "plm/nights.h"
#include "plm/simulate.h"
#include "plm/timeutil.h"
#include "plm/types.h"
#include "internal.h"

#define EPOCH_S 30.0
#define DEG (M_PI / 180.0)
#define BLOCK 8192

plm_sim_cfg plm_sim_cfg_default(void)
{
    plm_sim_cfg c = {
        .subjects = 6, .nights = 1, .fs_hz = 50, .seed = 1998, .legs = 2, .noise_mg = 3, .drift_mg = 5,
        .spike_rate_per_h = 1, .offset_max_mg = 30, .gain_err_max = 0.02, .full_scale_g = 8,
        .control_plms_per_h = 33, .control_plms_sd = 16, .magnesium_plms_ratio = 0.65, .control_se_pct = 75,
        .control_se_sd = 10, .magnesium_se_gain_pct = 10, .timezone = "Europe/Berlin",
        .first_night = "2024-03-28", .flac = 0, .nonwear_min = 0, .preset = PLM_SIM_DEFAULT, .float_wav = 0};
    return c;
}

/* ---------- the night's script ---------- */

enum { SEG_STILL, SEG_WALK, SEG_TRANS };
typedef struct {
    int64_t start;          /* sample where the segment starts; it lasts to the next one */
    int type;
    double th0, ph0, th1, ph1; /* pitch/roll in degrees (to = th1/ph1 for transitions) */
    double gait_hz, gait_phase;
} seg;

/* kinds of the truth (lm.csv): PLM series members (fast and slow dorsiflexions), isolated LMs,
 * wake movements (sparse, or quick clusters whose members are < 10 s apart: "short"), posture
 * changes, and twitches (< 0.5 s: not leg movements, never counted) */
enum { MOVE_SERIES, MOVE_ISOLATED, MOVE_WAKE, MOVE_POSTURE, MOVE_SLOW, MOVE_TWITCH, MOVE_SHORT };
typedef struct {
    int64_t on, end;        /* samples, [on, end) */
    int leg;                /* PLM_LEG_LEFT or PLM_LEG_RIGHT */
    int kind;
    int unit;               /* index of the combined movement */
    int slow;               /* tilt over the whole movement (rise, hold, return), vibration 0.3-3 Hz */
    double rot_deg, amp_g;
    double ramp_s;          /* raised-cosine rise and fall of the shaking (<= a quarter of the duration) */
    double f_hz[3], ph[3], dir[3][3];
} move;

typedef struct {            /* one combined (bilateral-merged) movement of the truth */
    int64_t on, end;
    int legs, kind, plm, arousal;
    double peak_g, tilt_deg; /* largest vibration amplitude and tilt of its legs */
} unit;

typedef struct {
    int64_t on, end;
} span;

typedef struct {
    seg *s[2];
    size_t ns[2], caps[2];
    move *m;
    size_t nm, capm;
    unit *u;
    size_t nu, capu;
    span *ar;
    size_t nar, capar;
    char *stage;            /* per epoch: W, 1, 2, 3, R */
    int nep, hard, no_tilt;
    int64_t n;              /* samples */
    double fs;
    double lo_s, ln_s;      /* lights off/on, s from the first sample */
} night;

#define PUSH(arr, cnt, cap, val)                                                      \
    do {                                                                              \
        if (!plm__grow((void **)&(arr), &(cap), (cnt) + 1, sizeof *(arr), 64))      \
            return plm__fail(PLM_ENOMEM, "simulate: out of memory");                 \
        (arr)[(cnt)++] = (val);                                                       \
    } while (0)

static int64_t smp(const night *nt, double s) { return (int64_t)llround(s * nt->fs); }

static double unif(gsl_rng *r, double a, double b) { return a + (b - a) * gsl_rng_uniform(r); }

static double clampd(double x, double a, double b) { return x < a ? a : x > b ? b : x; }

static plm_status add_seg(night *nt, int leg, seg sg)
{
    PUSH(nt->s[leg], nt->ns[leg], nt->caps[leg], sg);
    return PLM_OK;
}

/* A movement on one leg: shank dorsiflexion rotation plus 1-8 Hz shaking. */
static move make_move(gsl_rng *r, const night *nt, double on_s, double dur_s, int leg, int kind, double amp_lo,
                      double amp_hi, double rot_lo, double rot_hi)
{
    move m;
    memset(&m, 0, sizeof m);
    m.on = smp(nt, on_s);
    m.end = smp(nt, on_s + dur_s);
    m.leg = leg;
    m.kind = kind;
    m.amp_g = exp(unif(r, log(amp_lo), log(amp_hi)));
    m.rot_deg = unif(r, rot_lo, rot_hi);
    for (int k = 0; k < 3; k++) {
        m.f_hz[k] = unif(r, 1.0, 8.0);
        m.ph[k] = unif(r, 0, 2 * M_PI);
        gsl_ran_dir_3d(r, &m.dir[k][0], &m.dir[k][1], &m.dir[k][2]);
    }
    if (nt->no_tilt && kind != MOVE_POSTURE) m.rot_deg = 0;
    m.ramp_s = 0.1;
    if (nt->hard) /* movements that build up slowly: raised-cosine ramps of 0.1-1 s, or (40 %) a
                     Hann window over the whole movement */
        m.ramp_s = gsl_rng_uniform(r) < 0.4 ? dur_s / 2 : unif(r, 0.1, 1.0);
    return m;
}

/* Hard preset: LM peak amplitude log-normal (median 55 mg, log-SD 1.0) clipped to 8-400 mg. */
static double hard_amp(gsl_rng *r) { return clampd(0.055 * exp(gsl_ran_gaussian(r, 1.0)), 0.008, 0.4); }

/* Hard preset: a slow dorsiflexion -- the shank tilts by 3-14 deg over 1.5-4 s and returns, shaking
 * little (0.3-3 Hz at a quarter of the amplitude). Both legs of a bilateral movement share it. */
static void make_slow(gsl_rng *r, const night *nt, move *a, move *b)
{
    double dur = unif(r, 1.5, 4.0), rot = unif(r, 3, 14);
    move *v[2] = {a, b};
    for (int k = 0; k < 2 && v[k]; k++) {
        move *m = v[k];
        m->kind = MOVE_SLOW;
        m->slow = 1;
        m->end = m->on + smp(nt, dur);
        m->rot_deg = rot * (k ? unif(r, 0.7, 1.0) : 1.0);
        m->amp_g /= 4;
        for (int f = 0; f < 3; f++) m->f_hz[f] = unif(r, 0.3, 3.0);
    }
}

static double lm_duration(gsl_rng *r)
{
    return clampd(1.6 * exp(gsl_ran_gaussian(r, 0.5)), 0.5, 5.0);
}

static int epoch_of(const night *nt, double t_s) { return (int)floor((t_s - nt->lo_s) / EPOCH_S); }

static char stage_at(const night *nt, double t_s)
{
    int e = epoch_of(nt, t_s);
    return e >= 0 && e < nt->nep ? nt->stage[e] : 'W';
}

/* Hypnogram: sleep-onset latency, then sleep runs broken by wake bouts; NREM/REM cycles of 90 min. */
static plm_status make_hypnogram(night *nt, gsl_rng *r, double se_pct)
{
    int n = nt->nep;
    nt->stage = malloc((size_t)n + 1);
    if (!nt->stage) return plm__fail(PLM_ENOMEM, "simulate: out of memory");
    int wake = (int)lround(n * (1.0 - se_pct / 100.0));
    if (wake < 2) wake = 2;
    if (wake > n - 20) wake = n - 20;
    int sol = (int)lround(unif(r, 10, 60));
    if (sol > wake / 2) sol = wake / 2;
    if (sol < 1) sol = 1;
    int rest = wake - sol;
    int bouts = 1 + (int)(rest / 12) + (int)gsl_rng_uniform_int(r, 3);
    if (bouts > rest) bouts = rest > 0 ? rest : 0;
    int sleep = n - wake;
    /* cut points: bout lengths >= 1, sleep runs >= 4 */
    int *bl = calloc((size_t)bouts + 1, sizeof *bl), *sl = calloc((size_t)bouts + 1, sizeof *sl);
    if (!bl || !sl) {
        free(bl);
        free(sl);
        return plm__fail(PLM_ENOMEM, "simulate: out of memory");
    }
    for (int i = 0; i < bouts; i++) bl[i] = 1;
    for (int k = bouts; k < rest; k++) bl[gsl_rng_uniform_int(r, (unsigned long)bouts)]++;
    for (int i = 0; i <= bouts; i++) sl[i] = 4;
    for (int k = 4 * (bouts + 1); k < sleep; k++) sl[gsl_rng_uniform_int(r, (unsigned long)bouts + 1)]++;
    int e = 0;
    for (int i = 0; i < sol; i++) nt->stage[e++] = 'W';
    int slept = 0;
    for (int b = 0; b <= bouts; b++) {
        for (int i = 0; i < sl[b]; i++, slept++) {
            double tmin = slept * 0.5, cyc = fmod(tmin, 90.0) / 90.0;
            int ncyc = (int)(tmin / 90.0);
            char st = '2';
            if (i < 2) st = '1';
            else if (ncyc < 2 && cyc > 0.15 && cyc < 0.5) st = '3';
            else if (cyc > (ncyc == 0 ? 0.9 : 0.75)) st = 'R';
            nt->stage[e++] = st;
        }
        if (b < bouts)
            for (int i = 0; i < bl[b]; i++) nt->stage[e++] = 'W';
    }
    nt->stage[n] = '\0';
    free(bl);
    free(sl);
    return e == n ? PLM_OK : plm__fail(PLM_EINTERNAL, "simulate: hypnogram has %d of %d epochs", e, n);
}

static double sleep_s_after(const night *nt, double t_s)
{
    int e0 = epoch_of(nt, t_s);
    double s = 0;
    for (int e = e0 < 0 ? 0 : e0; e < nt->nep; e++)
        if (nt->stage[e] != 'W') s += EPOCH_S;
    return s;
}

static plm_status add_unit(night *nt, const move *a, const move *b, int kind, int plm)
{
    unit u = {.on = a->on, .end = a->end, .legs = a->leg, .kind = kind, .plm = plm, .peak_g = a->amp_g,
              .tilt_deg = a->rot_deg};
    if (b) {
        if (b->on < u.on) u.on = b->on;
        if (b->end > u.end) u.end = b->end;
        u.legs |= b->leg;
        u.peak_g = fmax(u.peak_g, b->amp_g);
        u.tilt_deg = fmax(u.tilt_deg, b->rot_deg);
    }
    PUSH(nt->u, nt->nu, nt->capu, u);
    return PLM_OK;
}

static plm_status add_move(night *nt, move m)
{
    m.unit = (int)nt->nu;
    PUSH(nt->m, nt->nm, nt->capm, m);
    return PLM_OK;
}

/* A posture change in bed: both legs roll to a new angle; also a bilateral LM. */
static plm_status posture_change(night *nt, gsl_rng *r, double t_s, double *roll)
{
    double dur = unif(r, 2.0, 6.0);
    double to = *roll + (gsl_rng_uniform(r) < 0.5 ? -1 : 1) * unif(r, 40, 100);
    if (to > 120) to -= 180;
    if (to < -120) to += 180;
    plm_status st;
    move a = make_move(r, nt, t_s, dur, PLM_LEG_LEFT, MOVE_POSTURE, 0.08, 0.3, 2, 8);
    move b = make_move(r, nt, t_s, dur, PLM_LEG_RIGHT, MOVE_POSTURE, 0.08, 0.3, 2, 8);
    for (int l = 0; l < 2; l++) {
        seg s1 = {.start = a.on, .type = SEG_TRANS, .th0 = 0, .ph0 = *roll + 10 * l, .th1 = 0, .ph1 = to + 10 * l};
        seg s2 = {.start = a.end, .type = SEG_STILL, .th0 = 0, .ph0 = to + 10 * l};
        if ((st = add_seg(nt, l, s1)) || (st = add_seg(nt, l, s2))) return st;
    }
    *roll = to;
    if ((st = add_move(nt, a)) || (st = add_move(nt, b)) || (st = add_unit(nt, &a, &b, MOVE_POSTURE, 0))) return st;
    return PLM_OK;
}

/* Upright life: sitting and walking between t0 and t1 (s). */
static plm_status upright(night *nt, gsl_rng *r, double t0, double t1)
{
    plm_status st;
    double t = t0;
    int walk = 0;
    while (t < t1) {
        double d = walk ? unif(r, 40, 240) : unif(r, 300, 1200);
        if (t + d > t1) d = t1 - t;
        double th = walk ? 90 : unif(r, 70, 88), ph = unif(r, -15, 15), f = unif(r, 1.6, 2.0), gp = unif(r, 0, 2 * M_PI);
        for (int l = 0; l < 2; l++) {
            seg s = {.start = smp(nt, t), .type = walk ? SEG_WALK : SEG_STILL, .th0 = th, .ph0 = ph,
                     .gait_hz = f, .gait_phase = gp + l * M_PI};
            if ((st = add_seg(nt, l, s))) return st;
        }
        t += d;
        walk = !walk;
    }
    return PLM_OK;
}

static int cmp_move(const void *a, const void *b)
{
    const move *x = a, *y = b;
    if (x->leg != y->leg) return x->leg - y->leg;
    return x->on < y->on ? -1 : x->on > y->on;
}

/* Script one night: times, posture, movements, arousals. */
static plm_status script_night(night *nt, gsl_rng *r, double plms_per_h, double se_pct, double arousal_p, int legs)
{
    plm_status st;
    if ((st = make_hypnogram(nt, r, se_pct))) return st;
    double roll = unif(r, -30, 30);
    /* before bed */
    if ((st = upright(nt, r, 0, nt->lo_s - 12))) return st;
    for (int l = 0; l < 2; l++) {
        seg s1 = {.start = smp(nt, nt->lo_s - 12), .type = SEG_TRANS, .th0 = 85, .ph0 = 0, .th1 = 0, .ph1 = roll + 10 * l};
        seg s2 = {.start = smp(nt, nt->lo_s - 5), .type = SEG_STILL, .th0 = 0, .ph0 = roll + 10 * l};
        if ((st = add_seg(nt, l, s1)) || (st = add_seg(nt, l, s2))) return st;
    }
    /* in bed: a cursor walks through time placing separated units */
    double tst_s = sleep_s_after(nt, nt->lo_s), target = plms_per_h * tst_s / 3600.0, made = 0;
    double t = nt->lo_s + 60, end = nt->ln_s - 30;
    const double gap_lo = 95, gap_hi = 200, step = EPOCH_S;
    while (t < end) {
        char sg = stage_at(nt, t);
        int asleep = sg != 'W';
        double u = gsl_rng_uniform(r);
        if (asleep && sg != 'R') {
            double need = (target - made) / 14.0, avail = sleep_s_after(nt, t) / step - need * 17.0;
            double p = need <= 0 ? 0 : avail <= 1 ? 1 : clampd(need / avail, 0, 1);
            if (u < p) {
                int len = 4 + (int)gsl_rng_uniform_int(r, 22);
                double on[32];
                on[0] = t;
                for (int k = 1; k < len; k++) {
                    double imi = gsl_rng_uniform(r) < 0.9 ? clampd(25 + gsl_ran_gaussian(r, 6), 15, 40) : unif(r, 12, 60);
                    on[k] = on[k - 1] + imi;
                }
                while (len > 0 && on[len - 1] + 6 > end) len--;
                if (len >= 4) {
                    double pb = legs == 2 ? 0.3 : 0, pl = legs == 2 ? 0.5 : 1.0;
                    for (int k = 0; k < len; k++) {
                        double v = gsl_rng_uniform(r);
                        move a, b;
                        if (v < pb) {
                            double off = unif(r, 0, 0.3);
                            int first = gsl_rng_uniform(r) < 0.5 ? PLM_LEG_LEFT : PLM_LEG_RIGHT;
                            a = make_move(r, nt, on[k], fmin(lm_duration(r), 5.0 - off), first, MOVE_SERIES, 0.03, 0.3, 1, 6);
                            b = make_move(r, nt, on[k] + off, fmin(lm_duration(r), 5.0 - off), 3 - first, MOVE_SERIES, 0.03, 0.3, 1, 6);
                            if (nt->hard) {
                                a.amp_g = hard_amp(r);
                                b.amp_g = clampd(a.amp_g * unif(r, 0.5, 1.5), 0.008, 0.4);
                                if (gsl_rng_uniform(r) < 0.25) make_slow(r, nt, &a, &b);
                            }
                            if ((st = add_move(nt, a)) || (st = add_move(nt, b)) || (st = add_unit(nt, &a, &b, a.kind, 1)))
                                return st;
                        } else {
                            int leg = v < pb + (1 - pb) * pl ? PLM_LEG_LEFT : PLM_LEG_RIGHT;
                            a = make_move(r, nt, on[k], lm_duration(r), leg, MOVE_SERIES, 0.03, 0.3, 1, 6);
                            if (nt->hard) {
                                a.amp_g = hard_amp(r);
                                if (gsl_rng_uniform(r) < 0.25) make_slow(r, nt, &a, NULL);
                            }
                            if ((st = add_move(nt, a)) || (st = add_unit(nt, &a, NULL, a.kind, 1))) return st;
                        }
                        if (stage_at(nt, on[k]) != 'W') made++;
                    }
                    t = on[len - 1] + unif(r, gap_lo, gap_hi);
                    continue;
                }
            }
        }
        double v = gsl_rng_uniform(r);
        if (asleep && v < 6.0 * step / 3600.0) { /* isolated LM, ~6/h */
            int leg = legs == 2 && gsl_rng_uniform(r) < 0.5 ? PLM_LEG_RIGHT : PLM_LEG_LEFT;
            move a = make_move(r, nt, t, lm_duration(r), leg, MOVE_ISOLATED, 0.03, 0.3, 1, 6);
            if (nt->hard) a.amp_g = hard_amp(r);
            if ((st = add_move(nt, a)) || (st = add_unit(nt, &a, NULL, MOVE_ISOLATED, 0))) return st;
            t += unif(r, gap_lo, gap_hi);
        } else if (v < (asleep ? 8.5 : 12.0) * step / 3600.0) { /* posture change, ~2.5/h asleep, more awake */
            if ((st = posture_change(nt, r, t, &roll))) return st;
            t += unif(r, gap_lo, gap_hi);
        } else if (!asleep && nt->hard && v < 0.9 && gsl_rng_uniform(r) < 0.8) {
            /* hard preset: sparse wake movement, about one per two minutes, > 90 s apart */
            int leg = legs == 2 && gsl_rng_uniform(r) < 0.5 ? PLM_LEG_RIGHT : PLM_LEG_LEFT;
            move a = make_move(r, nt, t, unif(r, 0.6, 3.0), leg, MOVE_WAKE, 0.03, 0.4, 1, 8);
            if ((st = add_move(nt, a)) || (st = add_unit(nt, &a, NULL, MOVE_WAKE, 0))) return st;
            t += unif(r, 95, 150);
        } else if (!asleep && v < 0.9) { /* wake: a cluster of 2-5 quick movements */
            int k = 2 + (int)gsl_rng_uniform_int(r, 4);
            double on = t;
            for (int i = 0; i < k; i++) {
                double imi = unif(r, 2.5, 6.0);
                int leg = legs == 2 && gsl_rng_uniform(r) < 0.5 ? PLM_LEG_RIGHT : PLM_LEG_LEFT;
                move a = make_move(r, nt, on, unif(r, 0.6, fmin(2.0, imi - 1.0)), leg, MOVE_WAKE, 0.1, 0.5, 2, 10);
                if (nt->hard) a.kind = MOVE_SHORT;
                if ((st = add_move(nt, a)) || (st = add_unit(nt, &a, NULL, a.kind, 0))) return st;
                if (i + 1 < k) on += imi;
            }
            /* clusters may follow each other closely: their later members come < 10 s after the
             * one before, so under WASM 2016 (SOMAS) no series can run through them */
            t = on + unif(r, 10, 40);
        } else {
            t += step;
        }
    }
    /* getting up */
    double up = nt->ln_s + unif(r, 10, 60);
    for (int l = 0; l < 2; l++) {
        seg s1 = {.start = smp(nt, up), .type = SEG_TRANS, .th0 = 0, .ph0 = roll + 10 * l, .th1 = 85, .ph1 = 0};
        if ((st = add_seg(nt, l, s1))) return st;
    }
    if ((st = upright(nt, r, up + 6, (double)nt->n / nt->fs))) return st;
    /* hard preset: twitches (0.1-0.35 s, 20-80 mg; not leg movements), about 4 per hour of
     * sleep, at least 5 s from any movement */
    if (nt->hard) {
        int tw = (int)gsl_ran_poisson(r, 4.0 * tst_s / 3600.0);
        for (int k = 0, tries = 0; k < tw && tries < 20 * tw; tries++) {
            double a0 = unif(r, nt->lo_s, nt->ln_s - 10);
            if (stage_at(nt, a0) == 'W') continue;
            int64_t s0 = smp(nt, a0 - 5), s1 = smp(nt, a0 + 5.4);
            int clash = 0;
            for (size_t i = 0; i < nt->nu && !clash; i++) clash = nt->u[i].on < s1 && nt->u[i].end > s0;
            if (clash) continue;
            int leg = legs == 2 && gsl_rng_uniform(r) < 0.5 ? PLM_LEG_RIGHT : PLM_LEG_LEFT;
            move a = make_move(r, nt, a0, unif(r, 0.1, 0.35), leg, MOVE_TWITCH, 0.02, 0.08, 0, 0.5);
            a.amp_g = unif(r, 0.02, 0.08);
            for (int f = 0; f < 3; f++) a.f_hz[f] = fmin(unif(r, 4, 10), 0.4 * nt->fs);
            if ((st = add_move(nt, a)) || (st = add_unit(nt, &a, NULL, MOVE_TWITCH, 0))) return st;
            k++;
        }
    }
    /* arousals: tied to some PLMS, plus spontaneous ones away from every LM */
    for (size_t i = 0; i < nt->nu; i++) {
        unit *u = &nt->u[i];
        double on_s = (double)u->on / nt->fs, dur_s = (double)(u->end - u->on) / nt->fs;
        if (!u->plm || stage_at(nt, on_s) == 'W' || gsl_rng_uniform(r) >= arousal_p) continue;
        double a0 = on_s + unif(r, 0.1, 1.0) * fmin(dur_s, 1.0);
        span a = {smp(nt, a0), smp(nt, a0 + unif(r, 3, 8))};
        u->arousal = 1;
        PUSH(nt->ar, nt->nar, nt->capar, a);
    }
    int spont = (int)lround(4.0 * tst_s / 3600.0);
    for (int k = 0, tries = 0; k < spont && tries < 1000; tries++) {
        double a0 = unif(r, nt->lo_s, nt->ln_s - 20), d = unif(r, 3, 10);
        if (stage_at(nt, a0) == 'W') continue;
        int64_t s0 = smp(nt, a0 - 10), s1 = smp(nt, a0 + d + 10);
        int clash = 0;
        for (size_t i = 0; i < nt->nu && !clash; i++) clash = nt->u[i].on < s1 && nt->u[i].end > s0;
        for (size_t i = 0; i < nt->nar && !clash; i++) clash = nt->ar[i].on < s1 && nt->ar[i].end > s0;
        if (clash) continue;
        span a = {smp(nt, a0), smp(nt, a0 + d)};
        PUSH(nt->ar, nt->nar, nt->capar, a);
        k++;
    }
    qsort(nt->m, nt->nm, sizeof *nt->m, cmp_move);
    return PLM_OK;
}

static void night_clear(night *nt)
{
    free(nt->s[0]);
    free(nt->s[1]);
    free(nt->m);
    free(nt->u);
    free(nt->ar);
    free(nt->stage);
    memset(nt, 0, sizeof *nt);
}

/* ---------- truth ---------- */

typedef struct {
    double tib_h, tst_h, se_pct, sol_min, waso_min;
    int lm_count, plm_count, plms_count, lms_count, plmw_count, plms_a, clms, plms_rem;
    double wake_h, rem_h;
} truth;

static truth night_truth(const night *nt)
{
    truth t;
    memset(&t, 0, sizeof t);
    int sleep = 0, rem = 0, first = -1, last = -1;
    for (int e = 0; e < nt->nep; e++)
        if (nt->stage[e] != 'W') {
            sleep++;
            rem += nt->stage[e] == 'R';
            if (first < 0) first = e;
            last = e;
        }
    t.rem_h = rem * EPOCH_S / 3600.0;
    t.tib_h = nt->nep * EPOCH_S / 3600.0;
    t.tst_h = sleep * EPOCH_S / 3600.0;
    t.wake_h = t.tib_h - t.tst_h;
    t.se_pct = 100.0 * sleep / nt->nep;
    t.sol_min = (first < 0 ? nt->nep : first) * EPOCH_S / 60.0;
    t.waso_min = first < 0 ? 0 : ((last - first + 1) - sleep) * EPOCH_S / 60.0;
    for (size_t i = 0; i < nt->nu; i++) {
        const unit *u = &nt->u[i];
        double on = (double)u->on / nt->fs;
        if (on < nt->lo_s || on >= nt->ln_s || u->kind == MOVE_TWITCH) continue;
        int asleep = stage_at(nt, on) != 'W';
        t.lm_count++;
        t.lms_count += asleep;
        t.clms += asleep; /* every simulated movement is CLM-valid */
        if (u->plm) {
            t.plm_count++;
            if (asleep) {
                t.plms_count++;
                t.plms_rem += stage_at(nt, on) == 'R';
                t.plms_a += u->arousal;
            } else t.plmw_count++;
        }
    }
    return t;
}

static double per_h(int n, double h) { return h > 0 ? n / h : NAN; }

/* ---------- signal ---------- */

typedef struct {
    double offset_g[2][3], gain[2][3];
    double drift_T[2][3], drift_ph[2][3];
    double mount[2][3][3];  /* body -> sensor axes: how the strap happened to sit */
    int64_t nonwear_end;     /* samples [0, nonwear_end): the sensor lies flat on a table */
    double noise_g;          /* white noise SD per axis */
} sensor;

/* A uniformly random rotation matrix (from a random unit quaternion). */
static void random_rotation(gsl_rng *r, double m[3][3])
{
    double q[4], n = 0;
    for (int i = 0; i < 4; i++) {
        q[i] = gsl_ran_gaussian(r, 1.0);
        n += q[i] * q[i];
    }
    n = sqrt(n);
    double w = q[0] / n, x = q[1] / n, y = q[2] / n, z = q[3] / n;
    double v[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
                      {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
                      {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)}};
    memcpy(m, v, sizeof v);
}

typedef struct {
    int64_t at;
    int ch;
    double g;
} spike;

static double smooth(double x) { return x <= 0 ? 0 : x >= 1 ? 1 : x * x * (3 - 2 * x); }

/* Envelope of a movement at sample i: raised-cosine ramps of <= 0.1 s. */
static double envelope(const move *m, int64_t i, double fs)
{
    double t = (double)(i - m->on) / fs, d = (double)(m->end - m->on) / fs;
    double ramp = fmin(m->ramp_s, m->ramp_s > 0.1 ? d / 2 : d / 4);
    if (t < 0 || t >= d) return 0;
    if (t < ramp) return 0.5 - 0.5 * cos(M_PI * t / ramp);
    if (t > d - ramp) return 0.5 - 0.5 * cos(M_PI * (d - t) / ramp);
    return 1;
}

/* Tilt profile of a slow dorsiflexion at fraction x of its duration: rise over the first 35 %,
 * hold, return over the last 35 % (smoothstep ramps). */
static double slow_profile(double x)
{
    if (x <= 0 || x >= 1) return 0;
    return x < 0.35 ? smooth(x / 0.35) : x > 0.65 ? smooth((1 - x) / 0.35) : 1;
}

static plm_status write_night(const plm_sim_cfg *cfg, const night *nt, const sensor *sn, const spike *sp, size_t nsp,
                              gsl_rng *noise, SNDFILE *sf)
{
    int nch = cfg->legs * 3;
    short *buf = malloc(plm__mul((size_t)BLOCK * (size_t)nch, sizeof *buf));
    float *fbuf = malloc(plm__mul((size_t)BLOCK * (size_t)nch, sizeof *fbuf));
    if (!buf || !fbuf) {
        free(buf);
        free(fbuf);
        return plm__fail(PLM_ENOMEM, "simulate: out of memory");
    }
    size_t segi[2] = {0, 0}, movi[2] = {0, 0}, spi = 0;
    size_t mstart[2] = {0, 0}, mend[2] = {0, 0}; /* moves are sorted by leg, then onset */
    while (mend[0] < nt->nm && nt->m[mend[0]].leg == PLM_LEG_LEFT) mend[0]++;
    mstart[1] = mend[0];
    mend[1] = nt->nm;
    movi[0] = mstart[0];
    movi[1] = mstart[1];
    double lsb = 1.0 / 256.0, noise_g = sn->noise_g, drift_g = cfg->drift_mg * 1e-3;
    int kmax = (int)floor(cfg->full_scale_g / lsb) - 1, scale = (int)lround(32768.0 / (cfg->full_scale_g / lsb));
    for (int64_t b0 = 0; b0 < nt->n; b0 += BLOCK) {
        int64_t nb = nt->n - b0 < BLOCK ? nt->n - b0 : BLOCK;
        for (int64_t j = 0; j < nb; j++) {
            int64_t i = b0 + j;
            double t = (double)i / nt->fs;
            for (int l = 0; l < cfg->legs; l++) {
                while (segi[l] + 1 < nt->ns[l] && nt->s[l][segi[l] + 1].start <= i) segi[l]++;
                const seg *s = &nt->s[l][segi[l]];
                double th = s->th0, ph = s->ph0, a[3] = {0, 0, 0};
                if (s->type == SEG_WALK) {
                    double w = 2 * M_PI * s->gait_hz * t + s->gait_phase;
                    th = 90 + 25 * sin(w);
                    a[0] = 0.3 * sin(2 * w + 0.5) + 0.1 * sin(3 * w);
                    a[1] = 0.05 * sin(w + 1.0);
                    a[2] = 0.4 * sin(w + 2.0);
                } else if (s->type == SEG_TRANS) {
                    int64_t e = segi[l] + 1 < nt->ns[l] ? nt->s[l][segi[l] + 1].start : s->start + 1;
                    double x = smooth((double)(i - s->start) / (double)(e - s->start));
                    th = s->th0 + (s->th1 - s->th0) * x;
                    ph = s->ph0 + (s->ph1 - s->ph0) * x;
                    a[0] += 0.1 * sin(2 * M_PI * 2.1 * t);
                    a[2] += 0.12 * sin(2 * M_PI * 1.3 * t + 1);
                }
                size_t mi = movi[l];
                while (mi < mend[l] && nt->m[mi].end <= i) mi++;
                movi[l] = mi;
                if (mi < mend[l] && nt->m[mi].on <= i) {
                    const move *m = &nt->m[mi];
                    double w = envelope(m, i, nt->fs);
                    double mt = (double)(i - m->on) / nt->fs;
                    th += m->rot_deg * (m->slow ? slow_profile(mt * nt->fs / (double)(m->end - m->on)) : w);
                    for (int k = 0; k < 3; k++) {
                        double v = m->amp_g / sqrt(3.0) * w * sin(2 * M_PI * m->f_hz[k] * mt + m->ph[k]);
                        for (int ax = 0; ax < 3; ax++) a[ax] += v * m->dir[k][ax];
                    }
                }
                double body[3] = {sin(th * DEG) + a[0], cos(th * DEG) * sin(ph * DEG) + a[1],
                                  cos(th * DEG) * cos(ph * DEG) + a[2]};
                double g[3];
                for (int ax = 0; ax < 3; ax++)
                    g[ax] = i < sn->nonwear_end ? (ax == 2 ? 1.0 : 0.0)
                                                : sn->mount[l][ax][0] * body[0] + sn->mount[l][ax][1] * body[1] +
                                                      sn->mount[l][ax][2] * body[2];
                for (int ax = 0; ax < 3; ax++) {
                    int ch = l * 3 + ax;
                    double v = sn->gain[l][ax] * g[ax] + sn->offset_g[l][ax] +
                               drift_g * sin(2 * M_PI * t / sn->drift_T[l][ax] + sn->drift_ph[l][ax]) +
                               gsl_ran_gaussian_ziggurat(noise, noise_g);
                    while (spi < nsp && sp[spi].at < i) spi++;
                    for (size_t q = spi; q < nsp && sp[q].at == i; q++)
                        if (sp[q].ch == ch) v += sp[q].g;
                    if (cfg->float_wav) {
                        fbuf[j * nch + ch] = (float)clampd(v, -cfg->full_scale_g, cfg->full_scale_g);
                        continue;
                    }
                    long k = lround(v / lsb);
                    if (k > kmax) k = kmax;
                    if (k < -kmax - 1) k = -kmax - 1;
                    buf[j * nch + ch] = (short)(k * scale);
                }
            }
        }
        if ((cfg->float_wav ? sf_writef_float(sf, fbuf, nb) : sf_writef_short(sf, buf, nb)) != nb) {
            free(buf);
            free(fbuf);
            return plm__fail(PLM_EIO, "simulate: write error: %s", sf_strerror(sf));
        }
    }
    free(buf);
    free(fbuf);
    return PLM_OK;
}

/* ---------- files ---------- */

static plm_status mkdir_p(const char *dir)
{
    char tmp[4096];
    plm__strlcpy(tmp, dir, sizeof tmp);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) PLM_FAIL(PLM_EIO, "%s: cannot create: %s", tmp, strerror(errno));
            *p = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) PLM_FAIL(PLM_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    return PLM_OK;
}

static const char *stage_name(char c)
{
    switch (c) {
    case '1': return "N1";
    case '2': return "N2";
    case '3': return "N3";
    case 'R': return "R";
    default: return "W";
    }
}

static plm_status write_truth_events(const char *path, const night *nt)
{
    FILE *f = fopen(path, "w");
    if (!f) PLM_FAIL(PLM_EIO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "onset_s,duration_s,type,leg\n");
    fprintf(f, "%.6f,0.000000,lights_off,\n", nt->lo_s);
    for (int e = 0; e < nt->nep; e++) fprintf(f, "%.6f,30.000000,%s,\n", nt->lo_s + e * EPOCH_S, stage_name(nt->stage[e]));
    for (size_t i = 0; i < nt->nm; i++) {
        const move *m = &nt->m[i];
        if (m->kind == MOVE_TWITCH) continue; /* not a leg movement: in lm.csv only */
        fprintf(f, "%.6f,%.6f,lm,%s\n", (double)m->on / nt->fs, (double)(m->end - m->on) / nt->fs,
                m->leg == PLM_LEG_LEFT ? "L" : "R");
    }
    for (size_t i = 0; i < nt->nar; i++)
        fprintf(f, "%.6f,%.6f,arousal,\n", (double)nt->ar[i].on / nt->fs, (double)(nt->ar[i].end - nt->ar[i].on) / nt->fs);
    fprintf(f, "%.6f,0.000000,lights_on,\n", nt->ln_s);
    if (fclose(f) != 0) PLM_FAIL(PLM_EIO, "%s: write error", path);
    return PLM_OK;
}

static plm_status write_truth_lm(const char *path, const night *nt)
{
    static const char *const kinds[] = {"series", "isolated", "wake", "posture", "slow", "twitch", "short"};
    FILE *f = fopen(path, "w");
    if (!f) PLM_FAIL(PLM_EIO, "%s: cannot create: %s", path, strerror(errno));
    fprintf(f, "onset_s,offset_s,leg,kind,in_tib,sleep,plm,arousal,peak_g,tilt_deg\n");
    for (size_t i = 0; i < nt->nu; i++) {
        const unit *u = &nt->u[i];
        double on = (double)u->on / nt->fs;
        int in_tib = on >= nt->lo_s && on < nt->ln_s;
        fprintf(f, "%.6f,%.6f,%d,%s,%d,%d,%d,%d,%.4f,%.2f\n", on, (double)u->end / nt->fs, u->legs, kinds[u->kind], in_tib,
                in_tib && stage_at(nt, on) != 'W', u->plm, u->arousal, u->peak_g, u->tilt_deg);
    }
    if (fclose(f) != 0) PLM_FAIL(PLM_EIO, "%s: write error", path);
    return PLM_OK;
}

static plm_status check_cfg(const plm_sim_cfg *c)
{
    if (c->subjects < 1 || c->subjects > 10000) PLM_FAIL(PLM_EINVAL, "subjects=%d must be 1 .. 10000", c->subjects);
    if (c->nights < 1 || c->nights > 30) PLM_FAIL(PLM_EINVAL, "nights=%d must be 1 .. 30", c->nights);
    if (!(c->fs_hz >= 10 && c->fs_hz <= 1000) || c->fs_hz != floor(c->fs_hz))
        PLM_FAIL(PLM_EINVAL, "fs_hz=%g must be a whole number from 10 to 1000", c->fs_hz);
    if (c->legs != 1 && c->legs != 2) PLM_FAIL(PLM_EINVAL, "legs=%d must be 1 or 2", c->legs);
    if (!(c->noise_mg >= 0 && c->noise_mg <= 1000)) PLM_FAIL(PLM_EINVAL, "noise_mg=%g must be 0 .. 1000", c->noise_mg);
    if (!(c->drift_mg >= 0 && c->drift_mg <= 1000)) PLM_FAIL(PLM_EINVAL, "drift_mg=%g must be 0 .. 1000", c->drift_mg);
    if (!(c->spike_rate_per_h >= 0 && c->spike_rate_per_h <= 3600))
        PLM_FAIL(PLM_EINVAL, "spike_rate_per_h=%g must be 0 .. 3600", c->spike_rate_per_h);
    if (!(c->full_scale_g >= 2 && c->full_scale_g <= 16)) PLM_FAIL(PLM_EINVAL, "full_scale_g=%g must be 2 .. 16", c->full_scale_g);
    if (!(c->offset_max_mg >= 0 && c->offset_max_mg <= 500) || !(c->gain_err_max >= 0 && c->gain_err_max < 0.5))
        PLM_FAIL(PLM_EINVAL, "calibration errors out of range");
    if (!(c->control_plms_per_h >= 0 && c->control_plms_per_h <= 150) || !(c->magnesium_plms_ratio >= 0 && c->magnesium_plms_ratio <= 3))
        PLM_FAIL(PLM_EINVAL, "PLMS settings out of range");
    if (!(c->control_se_pct >= 30 && c->control_se_pct <= 99)) PLM_FAIL(PLM_EINVAL, "control_se_pct must be 30 .. 99");
    if (c->preset != PLM_SIM_DEFAULT && c->preset != PLM_SIM_HARD) PLM_FAIL(PLM_EINVAL, "preset=%d is unknown", c->preset);
    if (c->float_wav && c->flac) PLM_FAIL(PLM_EINVAL, "float WAV and FLAC exclude each other");
    if (!(c->nonwear_min >= 0 && c->nonwear_min <= 600)) PLM_FAIL(PLM_EINVAL, "nonwear_min=%g must be 0 .. 600", c->nonwear_min);
    int y, m, d;
    if (!c->first_night || sscanf(c->first_night, "%4d-%2d-%2d", &y, &m, &d) != 3)
        PLM_FAIL(PLM_EINVAL, "first_night '%s' is not YYYY-MM-DD", c->first_night ? c->first_night : "");
    return plm_time_check_zone(c->timezone);
}

/* Civil date + days (through timegm, no time zone involved). */
static void add_days(int y, int m, int d, int k, int *oy, int *om, int *od)
{
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d + k;
    tm.tm_hour = 12;
    time_t t = timegm(&tm);
    gmtime_r(&t, &tm);
    *oy = tm.tm_year + 1900;
    *om = tm.tm_mon + 1;
    *od = tm.tm_mday;
}

/* Recompute the zone offset after moving an instant. */
static plm_status rezone(plm_time *t, const char *tz)
{
    char u[48];
    plm_time_format_utc(t, u, sizeof u);
    return plm_time_parse_iso(u, tz, t);
}

static uint64_t mix(uint64_t x)
{ /* splitmix64: independent seeds per subject and night */
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

plm_status plm_simulate_study(const plm_sim_cfg *cfg, const char *dir, plm_sim_progress progress, void *user)
{
    plm_status st = check_cfg(cfg);
    if (st) return st;
    char path[8400], truthdir[4096], recdir[4096];
    snprintf(recdir, sizeof recdir, "%s/recordings", dir);
    snprintf(truthdir, sizeof truthdir, "%s/truth", dir);
    if ((st = mkdir_p(recdir)) || (st = mkdir_p(truthdir))) return st;
    FILE *man = NULL, *tn = NULL, *tc = NULL;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937), *noise = gsl_rng_alloc(gsl_rng_mt19937);
    night nt;
    memset(&nt, 0, sizeof nt);
    spike *sp = NULL;
    SNDFILE *sf = NULL;
    if (!r || !noise) {
        st = plm__fail(PLM_ENOMEM, "simulate: out of memory");
        goto done;
    }
    snprintf(path, sizeof path, "%s/manifest.csv", dir);
    man = fopen(path, "w");
    if (!man) {
        st = plm__fail(PLM_EIO, "%s: cannot create: %s", path, strerror(errno));
        goto done;
    }
    snprintf(path, sizeof path, "%s/nights.csv", truthdir);
    tn = fopen(path, "w");
    snprintf(path, sizeof path, "%s/calibration.csv", truthdir);
    tc = fopen(path, "w");
    if (!tn || !tc) {
        st = plm__fail(PLM_EIO, "%s: cannot create: %s", path, strerror(errno));
        goto done;
    }
    fprintf(man, "subject,condition,night,path,recording,timezone,start,lights_off,lights_on,full_scale_g\n");
    /* truth/nights.csv: the /nights identity and result columns (plm/nights.h), then the simulator's own */
    for (size_t k = 0; k < plm_night_nfields; k++)
        if (plm_night_fields[k].flags & (PLM_NF_ID | PLM_NF_RESULT)) fprintf(tn, "%s,", plm_night_fields[k].name);
    fprintf(tn, "lights_off_s,lights_on_s,start_utc,plms_nrem_index,plms_rem_index,noise_mg\n");
    fprintf(tc, "recording,leg,axis,offset_g,gain\n");
    int y0, m0, d0;
    sscanf(cfg->first_night, "%4d-%2d-%2d", &y0, &m0, &d0);
    static const char *const conds[2] = {"control", "magnesium"};
    int total = cfg->subjects * 2 * cfg->nights, done = 0;
    for (int s = 0; s < cfg->subjects; s++) {
        /* subject traits */
        gsl_rng_set(r, (unsigned long)mix(cfg->seed * 1000003ULL + (uint64_t)s));
        double plms_c = clampd(cfg->control_plms_per_h + gsl_ran_gaussian(r, cfg->control_plms_sd), 3, 90);
        double plms_m = clampd(plms_c * cfg->magnesium_plms_ratio * exp(gsl_ran_gaussian(r, 0.25)), 1, 90);
        double se_c = clampd(cfg->control_se_pct + gsl_ran_gaussian(r, cfg->control_se_sd), 45, 95);
        double se_m = clampd(se_c + cfg->magnesium_se_gain_pct + gsl_ran_gaussian(r, 5), 45, 97);
        double ar_c = unif(r, 0.35, 0.65), ar_m = ar_c * unif(r, 0.4, 0.8);
        char subj[32];
        snprintf(subj, sizeof subj, "S%02d", s + 1);
        for (int c = 0; c < 2; c++)
            for (int k = 0; k < cfg->nights; k++) {
                uint64_t key = cfg->seed * 1000003ULL + (uint64_t)s * 101 + (uint64_t)c * 37 + (uint64_t)k + 1;
                gsl_rng_set(r, (unsigned long)mix(key));
                gsl_rng_set(noise, (unsigned long)mix(key ^ 0x5bd1e995ULL));
                char rec[96];
                snprintf(rec, sizeof rec, "%s_%s_n%d", subj, conds[c], k + 1);
                int y, mo, d;
                add_days(y0, m0, d0, s + k + c * 35, &y, &mo, &d);
                int start_off = (int)gsl_rng_uniform_int(r, 3600), lo_off = (int)gsl_rng_uniform_int(r, 3601) - 1800;
                plm_time t_start, t_lo;
                if ((st = plm_time_from_local(y, mo, d, 20, 30, 0, 0, cfg->timezone, &t_start)) ||
                    (st = plm_time_from_local(y, mo, d, 22, 30, 0, 0, cfg->timezone, &t_lo)))
                    goto done;
                t_start.utc_s += start_off;
                t_lo.utc_s += lo_off;
                if ((st = rezone(&t_start, cfg->timezone)) || (st = rezone(&t_lo, cfg->timezone))) goto done;
                night_clear(&nt);
                nt.fs = cfg->fs_hz;
                nt.hard = cfg->preset == PLM_SIM_HARD;
                nt.no_tilt = cfg->no_tilt;
                nt.lo_s = (double)(t_lo.utc_s - t_start.utc_s);
                nt.nep = 960 + (int)gsl_rng_uniform_int(r, 121) - 60;
                nt.ln_s = nt.lo_s + nt.nep * EPOCH_S;
                double end_s = nt.ln_s + 1200 + (double)gsl_rng_uniform_int(r, 2400);
                nt.n = (int64_t)floor(end_s * nt.fs);
                double night_f = exp(gsl_ran_gaussian(r, 0.15));
                double se = clampd((c ? se_m : se_c) + gsl_ran_gaussian(r, 3), 40, 98);
                if ((st = script_night(&nt, r, (c ? plms_m : plms_c) * night_f, se, c ? ar_m : ar_c, cfg->legs)))
                    goto done;
                /* sensor imperfections */
                sensor sn;
                for (int l = 0; l < 2; l++)
                    for (int ax = 0; ax < 3; ax++) {
                        sn.offset_g[l][ax] = unif(r, -cfg->offset_max_mg, cfg->offset_max_mg) * 1e-3;
                        sn.gain[l][ax] = 1 + unif(r, -cfg->gain_err_max, cfg->gain_err_max);
                        sn.drift_T[l][ax] = unif(r, 2, 6) * 3600;
                        sn.drift_ph[l][ax] = unif(r, 0, 2 * M_PI);
                    }
                for (int l = 0; l < 2; l++) random_rotation(r, sn.mount[l]);
                sn.noise_g = (nt.hard ? unif(r, 3, 8) : cfg->noise_mg) * 1e-3;
                sn.nonwear_end = (int64_t)llround(fmin(cfg->nonwear_min * 60.0, nt.lo_s - 600) * nt.fs);
                if (sn.nonwear_end < 0) sn.nonwear_end = 0;
                size_t nsp = (size_t)gsl_ran_poisson(r, cfg->spike_rate_per_h * cfg->legs * end_s / 3600.0);
                free(sp);
                sp = calloc(nsp ? nsp : 1, sizeof *sp);
                if (!sp) {
                    st = plm__fail(PLM_ENOMEM, "simulate: out of memory");
                    goto done;
                }
                for (size_t q = 0; q < nsp; q++) {
                    sp[q].at = (int64_t)gsl_rng_uniform_int(r, (unsigned long)nt.n);
                    sp[q].ch = (int)gsl_rng_uniform_int(r, (unsigned long)(cfg->legs * 3));
                    sp[q].g = (gsl_rng_uniform(r) < 0.5 ? -1 : 1) * (nt.hard ? unif(r, 0.5, 2) : unif(r, 1, 4));
                }
                for (size_t a = 1; a < nsp; a++) /* insertion sort by sample: few spikes */
                    for (size_t b = a; b > 0 && sp[b].at < sp[b - 1].at; b--) {
                        spike x = sp[b];
                        sp[b] = sp[b - 1];
                        sp[b - 1] = x;
                    }
                /* recording */
                SF_INFO si;
                memset(&si, 0, sizeof si);
                si.samplerate = (int)cfg->fs_hz;
                si.channels = cfg->legs * 3;
                si.format = cfg->flac ? SF_FORMAT_FLAC | SF_FORMAT_PCM_16
                                      : SF_FORMAT_WAV | (cfg->float_wav ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
                snprintf(path, sizeof path, "%s/%s.%s", recdir, rec, cfg->flac ? "flac" : "wav");
                sf = sf_open(path, SFM_WRITE, &si);
                if (!sf) {
                    st = plm__fail(PLM_EIO, "%s: cannot create: %s", path, sf_strerror(NULL));
                    goto done;
                }
                char local[48];
                plm_time_format_local(&t_start, ' ', local, sizeof local);
                if (!cfg->float_wav) { /* the full scale where `info` reads it: the file's comment, as omconvert writes it */
                    char cmt[256] = "";
                    for (int ch = 0; ch < si.channels; ch++) {
                        size_t len = strlen(cmt);
                        snprintf(cmt + len, sizeof cmt - len, "Scale-%d: %g\n", ch + 1, cfg->full_scale_g);
                    }
                    if (sf_set_string(sf, SF_STR_COMMENT, cmt) != 0) {
                        st = plm__fail(PLM_EIO, "%s: cannot write the comment: %s", path, sf_strerror(sf));
                        goto done;
                    }
                }
                if (!cfg->flac) {
                    SF_BROADCAST_INFO bi;
                    memset(&bi, 0, sizeof bi);
                    snprintf(bi.description, sizeof bi.description, "actiplm simulate %s", rec);
                    memcpy(bi.originator, "actiplm simulate", 16);
                    memcpy(bi.origination_date, local, 10);
                    memcpy(bi.origination_time, local + 11, 8);
                    int hh, mi, ss;
                    sscanf(local + 11, "%2d:%2d:%2d", &hh, &mi, &ss);
                    uint64_t tref = (uint64_t)(hh * 3600 + mi * 60 + ss) * (uint64_t)cfg->fs_hz;
                    bi.time_reference_low = (uint32_t)tref;
                    bi.time_reference_high = (uint32_t)(tref >> 32);
                    bi.version = 1;
                    if (sf_command(sf, SFC_SET_BROADCAST_INFO, &bi, sizeof bi) != SF_TRUE) {
                        st = plm__fail(PLM_EIO, "%s: cannot write the bext chunk", path);
                        goto done;
                    }
                }
                if ((st = write_night(cfg, &nt, &sn, sp, nsp, noise, sf))) goto done;
                if (sf_close(sf) != 0) {
                    sf = NULL;
                    st = plm__fail(PLM_EIO, "%s: write error on close", path);
                    goto done;
                }
                sf = NULL;
                /* manifest: odd subjects rely on the file's bext start, even ones give it */
                char iso[48] = "", clk_off[16], clk_on[16];
                if (cfg->flac || s % 2 == 1) plm_time_format_local(&t_start, 'T', iso, sizeof iso);
                plm_time_format_local(&t_lo, ' ', local, sizeof local);
                snprintf(clk_off, sizeof clk_off, "%.8s", local + 11);
                plm_time ton = t_start;
                ton.utc_s += (int64_t)nt.ln_s;
                if ((st = rezone(&ton, cfg->timezone))) goto done;
                plm_time_format_local(&ton, ' ', local, sizeof local);
                snprintf(clk_on, sizeof clk_on, "%.8s", local + 11);
                char fsg[32] = "";
                if (!cfg->float_wav) snprintf(fsg, sizeof fsg, "%g", cfg->full_scale_g);
                fprintf(man, "%s,%s,%d,recordings/%s.%s,%s,%s,%s,%s,%s,%s\n", subj, conds[c], k + 1, rec,
                        cfg->flac ? "flac" : "wav", rec, cfg->timezone, iso, clk_off, clk_on, fsg);
                /* truth */
                snprintf(path, sizeof path, "%s/%s.events.csv", truthdir, rec);
                if ((st = write_truth_events(path, &nt))) goto done;
                snprintf(path, sizeof path, "%s/%s.lm.csv", truthdir, rec);
                if ((st = write_truth_lm(path, &nt))) goto done;
                snprintf(path, sizeof path, "%s/%s.qc.csv", truthdir, rec);
                {
                    FILE *q = fopen(path, "w");
                    if (!q) {
                        st = plm__fail(PLM_EIO, "%s: cannot create: %s", path, strerror(errno));
                        goto done;
                    }
                    fprintf(q, "onset_s,duration_s,kind\n");
                    if (sn.nonwear_end > 0) fprintf(q, "0.000000,%.6f,nonwear\n", (double)sn.nonwear_end / nt.fs);
                    if (fclose(q) != 0) {
                        st = plm__fail(PLM_EIO, "%s: write error", path);
                        goto done;
                    }
                }
                truth t = night_truth(&nt);
                char utc[48];
                plm_time_format_utc(&t_start, utc, sizeof utc);
                plm_night tr;
                plm_night_init(&tr, rec, subj, conds[c], k + 1);
                tr.tib_h = t.tib_h, tr.tst_h = t.tst_h, tr.se_pct = t.se_pct, tr.sol_min = t.sol_min;
                tr.waso_min = t.waso_min, tr.lm_count = t.lm_count, tr.plm_count = t.plm_count;
                tr.plms_count = t.plms_count, tr.lm_index = per_h(t.lms_count, t.tst_h);
                tr.plms_index = per_h(t.plms_count, t.tst_h), tr.plmw_index = per_h(t.plmw_count, t.wake_h);
                tr.plm_tib_index = per_h(t.plm_count, t.tib_h), tr.plms_a_index = per_h(t.plms_a, t.tst_h);
                tr.periodicity_index = t.clms ? (double)t.plms_count / t.clms : NAN;
                for (size_t f = 0; f < plm_night_nfields; f++) {
                    const plm_night_field *fd = &plm_night_fields[f];
                    if (!(fd->flags & (PLM_NF_ID | PLM_NF_RESULT))) continue;
                    if (fd->type == PLM_NF_STR) fprintf(tn, "%s,", plm_night_text(&tr, fd));
                    else if (fd->type == PLM_NF_I32) fprintf(tn, "%d,", *(const int32_t *)((const char *)&tr + fd->offset));
                    else fprintf(tn, "%.6f,", plm_night_number(&tr, fd));
                }
                fprintf(tn, "%.6f,%.6f,%s,%.6f,%.6f,%.2f\n", nt.lo_s, nt.ln_s, utc,
                        per_h(t.plms_count - t.plms_rem, t.tst_h - t.rem_h), per_h(t.plms_rem, t.rem_h), sn.noise_g * 1e3);
                for (int l = 0; l < cfg->legs; l++)
                    for (int ax = 0; ax < 3; ax++)
                        fprintf(tc, "%s,%s,%c,%.6f,%.6f\n", rec, l ? "R" : "L", "xyz"[ax], sn.offset_g[l][ax],
                                sn.gain[l][ax]);
                done++;
                if (progress) progress(user, done, total, rec);
            }
    }
done:
    if (sf) sf_close(sf);
    if (man && fclose(man) != 0 && !st) st = plm__fail(PLM_EIO, "%s/manifest.csv: write error", dir);
    if (tn && fclose(tn) != 0 && !st) st = plm__fail(PLM_EIO, "%s/nights.csv: write error", truthdir);
    if (tc && fclose(tc) != 0 && !st) st = plm__fail(PLM_EIO, "%s/calibration.csv: write error", truthdir);
    night_clear(&nt);
    free(sp);
    gsl_rng_free(r);
    gsl_rng_free(noise);
    return st;
}
