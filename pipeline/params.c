/* params.c -- every processing parameter in one table (plm/batch.h): root attributes and fingerprint. */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "plm/plm.h"
#include "internal.h"

#define M(member) offsetof(plm_process_cfg, member), sizeof(((plm_process_cfg *)0)->member)
#define NUM(name, type, member) {name, type, M(member), 1, NULL, 1}
#define F64(name, member) NUM(name, PLM_PARAM_F64, member)
#define INT(name, member) NUM(name, PLM_PARAM_INT, member)
#define ENUM(name, member, names) {name, PLM_PARAM_ENUM, M(member), 1, names, 1}
#define ROW(name, member) {name, PLM_PARAM_ROW, M(member), 1, NULL, 1}

static const char *const rules_names[] = {"wasm2016", "aasm2007", "legacy1998", NULL};
static const char *const short_imi_names[] = {"break", "starts", "skip", NULL};
static const char *const resp_names[] = {"none", "after_end", "around", NULL};
static const char *const algo_names[] = {"cole-kripke", "sadeh", "oakley", NULL};

const plm_param plm_params[] = {
    ROW("read.full_scale_g", read.full_scale_g),
    ROW("read.channels", read.channels),
    ROW("read.timezone", read.timezone),
    {"param.read.block_frames", PLM_PARAM_I64, M(read.block_frames), 1, NULL, 0},
    {"param.threads", PLM_PARAM_INT, M(threads), 1, NULL, 0},
    ROW("read.right_path", read.right_path),
    F64("param.activity.epoch_s", activity_epoch_s),
    F64("param.read.min_fs_hz", min_fs_hz),
    F64("param.read.max_fs_hz", max_fs_hz),
    F64("param.read.min_duration_s", min_duration_s),
    F64("param.night.tib_min_plausible_h", tib_min_plausible_h),
    F64("param.night.tib_min_plausible_frac", tib_min_plausible_frac),
    F64("param.filter.pass_lo_hz", detect.filter.pass_lo_hz),
    F64("param.filter.pass_hi_hz", detect.filter.pass_hi_hz),
    F64("param.filter.transition_hz", detect.filter.transition_hz),
    F64("param.filter.atten_db", detect.filter.atten_db),
    F64("param.detect.despike_g", detect.despike_g),
    F64("param.detect.env_window_s", detect.env_window_s),
    F64("param.detect.floor_max_s", detect.floor_max_s),
    F64("param.detect.floor_min_s", detect.floor_min_s),
    F64("param.detect.hi_min_g", detect.hi_min_g),
    F64("param.detect.hi_factor", detect.hi_factor),
    F64("param.detect.lo_fraction", detect.lo_fraction),
    F64("param.detect.quiet_s", detect.quiet_s),
    F64("param.detect.ceiling_g", detect.ceiling_g),
    F64("param.detect.tilt_window_s", detect.tilt_window_s),
    F64("param.detect.tilt_ref_s", detect.tilt_ref_s),
    F64("param.detect.tilt_gap_s", detect.tilt_gap_s),
    F64("param.detect.tilt_factor", detect.tilt_factor),
    F64("param.detect.tilt_min_g", detect.tilt_min_g),
    F64("param.detect.tilt_floor_max_s", detect.tilt_floor_max_s),
    F64("param.detect.onset_fraction", detect.onset_fraction),
    F64("param.detect.peak_fraction", detect.peak_fraction),
    F64("param.detect.backtrack_max_s", detect.backtrack_max_s),
    F64("param.detect.width_fraction", detect.width_fraction),
    F64("param.detect.min_width_s", detect.min_width_s),
    F64("param.detect.hold_max_s", detect.hold_max_s),
    F64("param.detect.hold_tilt_deg", detect.hold_tilt_deg),
    F64("param.qc.clip_fraction", detect.clip_fraction),
    F64("param.qc.flat_s", detect.flat_s),
    F64("param.qc.nonwear_window_s", detect.nonwear_window_s),
    F64("param.qc.nonwear_step_s", detect.nonwear_step_s),
    F64("param.qc.nonwear_sd_g", detect.nonwear_sd_g),
    F64("param.qc.nonwear_range_g", detect.nonwear_range_g),
    F64("param.qc.nonwear_flat_deg", detect.nonwear_flat_deg),
    F64("param.calib.window_s", detect.calib_window_s),
    F64("param.calib.sd_g", detect.calib_sd_g),
    F64("param.calib.cover_g", detect.calib_cover_g),
    F64("param.calib.max_error_g", detect.calib_max_error_g),
    F64("param.calib.max_se", detect.calib_max_se),
    NUM("param.calib.max_windows", PLM_PARAM_SIZE, detect.calib_max_windows),
    ENUM("param.score.rules", night.score.rules, rules_names),
    F64("param.score.lm_min_s", night.score.lm_min_s),
    F64("param.score.lm_max_mono_s", night.score.lm_max_mono_s),
    F64("param.score.lm_max_bi_s", night.score.lm_max_bi_s),
    INT("param.score.bi_by_onset", night.score.bi_by_onset),
    F64("param.score.bi_gap_s", night.score.bi_gap_s),
    F64("param.score.bi_onset_s", night.score.bi_onset_s),
    INT("param.score.bi_max_parts", night.score.bi_max_parts),
    F64("param.score.imi_min_s", night.score.imi_min_s),
    F64("param.score.imi_max_s", night.score.imi_max_s),
    ENUM("param.score.short_imi", night.score.short_imi, short_imi_names),
    INT("param.score.min_series", night.score.min_series),
    F64("param.score.arousal_pad_s", night.score.arousal_pad_s),
    ENUM("param.score.resp_rule", night.score.resp_rule, resp_names),
    F64("param.score.resp_before_s", night.score.resp_before_s),
    F64("param.score.resp_after_s", night.score.resp_after_s),
    F64("param.score.epoch_s", night.score.epoch_s),
    ENUM("param.sleep.algorithm", night.algo, algo_names),
    F64("param.sleep.sadeh_count_scale", night.sadeh_count_scale),
    F64("param.sleep.oakley_threshold", night.oakley_threshold),
    {"param.sleep.ck_weights", PLM_PARAM_F64, offsetof(plm_process_cfg, night.ck.weights),
     sizeof(((plm_process_cfg *)0)->night.ck.weights), 7, NULL, 1},
    F64("param.sleep.ck_scale", night.ck.scale),
    F64("param.sleep.ck_threshold", night.ck.threshold),
    INT("param.sleep.webster", night.webster),
    INT("param.sleep.mask_plm", night.mask_plm),
    F64("param.sleep.mask_pad_s", night.mask_pad_s),
    F64("param.tib.lying_deg", night.lying_deg),
    F64("param.tib.walk_g", night.walk_g),
    F64("param.sleep.act_thr_g", night.act_thr_g),
    F64("param.tib.min_s", night.tib_min_s),
    F64("param.tib.gap_s", night.tib_gap_s),
};
const size_t plm_nparams = sizeof plm_params / sizeof plm_params[0];

double plm_param_value(const plm_process_cfg *cfg, const plm_param *p, int k)
{
    const char *m = (const char *)cfg + p->offset;
    switch (p->type) {
    case PLM_PARAM_F64: return ((const double *)m)[k];
    case PLM_PARAM_INT: return *(const int *)m;
    case PLM_PARAM_ENUM: {
        int v; /* an enum is int-sized here (checked by test_batch) */
        memcpy(&v, m, sizeof v);
        return v;
    }
    case PLM_PARAM_I64: return (double)*(const int64_t *)m;
    case PLM_PARAM_SIZE: return (double)*(const size_t *)m;
    default: return NAN;
    }
}

static const char *enum_name(const plm_param *p, double v)
{
    int n = 0;
    while (p->enum_names[n]) n++;
    return v >= 0 && v < n ? p->enum_names[(int)v] : "unknown";
}

void plm_params_fingerprint(const plm_process_cfg *cfg, char fp[65])
{
    char text[16384];
    size_t len = (size_t)snprintf(text, sizeof text, "actiplm %s;", plm_version());
    for (size_t i = 0; i < plm_nparams && len < sizeof text; i++) {
        const plm_param *p = &plm_params[i];
        if (p->type == PLM_PARAM_ROW || !p->results) continue;
        for (int k = 0; k < p->count && len < sizeof text; k++) {
            double v = plm_param_value(cfg, p, k);
            if (p->type == PLM_PARAM_ENUM)
                len += (size_t)snprintf(text + len, sizeof text - len, "%s=%s;", p->name, enum_name(p, v));
            else len += (size_t)snprintf(text + len, sizeof text - len, "%s[%d]=%.17g;", p->name, k, v);
        }
    }
    plm_sha256_buffer(text, len < sizeof text ? len : sizeof text - 1, fp);
}

static plm_status write_params(plm_store *s, const plm_process_cfg *cfg)
{
    plm_status st = PLM_OK;
    for (size_t i = 0; i < plm_nparams && !st; i++) {
        const plm_param *p = &plm_params[i];
        if (p->type == PLM_PARAM_ROW) continue;
        if (p->type == PLM_PARAM_ENUM) st = plm_store_attr_str(s, NULL, p->name, enum_name(p, plm_param_value(cfg, p, 0)));
        else if (p->count > 1) st = plm_store_attr_f64v(s, NULL, p->name, (const double *)((const char *)cfg + p->offset), (size_t)p->count);
        else st = plm_store_attr_f64(s, NULL, p->name, plm_param_value(cfg, p, 0));
    }
    char fp[65];
    plm_params_fingerprint(cfg, fp);
    return st ? st : plm_store_attr_str(s, NULL, "params_fingerprint", fp);
}

plm_status plm_batch_write_root(plm_store *s, const char *manifest, const plm_process_cfg *cfg,
                                const char *command_line)
{
    char now[32], sha[65] = "";
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
    plm_status st;
    if (manifest && (st = plm_sha256_file(manifest, sha))) return st;
    if ((st = plm_store_attr_str(s, NULL, "software", "actiplm")) ||
        (st = plm_store_attr_str(s, NULL, "software_version", plm_version())) ||
        (st = plm_store_attr_str(s, NULL, "command_line", command_line ? command_line : "")) ||
        (st = plm_store_attr_str(s, NULL, "created_utc", now)) ||
        (st = plm_store_attr_str(s, NULL, "manifest_sha256", sha)) ||
        (st = plm_store_attr_str(s, NULL, "manifest_path", manifest ? manifest : "")))
        return st;
    return write_params(s, cfg);
}
