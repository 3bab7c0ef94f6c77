/* report.c -- a results file as one self-contained HTML page (plm/report.h). */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plm/figure.h"
#include "plm/nights.h"
#include "plm/report.h"
#include "plm/store.h"
#include "plm/study.h"
#include "internal.h"

typedef struct {
    plm_bytes b;
    int oom;
} page;

static void put(page *p, const char *s, size_t n)
{
    if (p->oom || !plm__grow((void **)&p->b.data, &p->b.cap, p->b.n + n + 1, 1, 1 << 16)) {
        p->oom = 1;
        return;
    }
    memcpy(p->b.data + p->b.n, s, n);
    p->b.n += n;
    p->b.data[p->b.n] = '\0';
}

#define PUT(p, lit) put(p, lit, sizeof(lit) - 1) /* a string literal */

static void putf(page *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(page *p, const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (k > 0) put(p, buf, (size_t)k < sizeof buf ? (size_t)k : sizeof buf - 1);
}

/* Text with &, <, >, " escaped. */
static void esc(page *p, const char *s)
{
    for (; s && *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" : *s == '"' ? "&quot;" : NULL;
        if (e) put(p, e, strlen(e));
        else put(p, s, 1);
    }
}

/* An id safe in HTML and as an SVG id prefix: letters, digits, '-' and '_' kept, others '_'. */
static void anchor(char *out, size_t n, const char *id)
{
    size_t k = 0;
    for (; *id && k + 1 < n; id++)
        out[k++] = (*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') || (*id >= '0' && *id <= '9') || *id == '-' ? *id : '_';
    out[k] = '\0';
}

static void num(page *p, double v, int dec)
{
    if (isfinite(v)) putf(p, "%.*f", dec, v);
    else PUT(p, "&ndash;");
}

static void pval(page *p, double v)
{
    if (!isfinite(v)) PUT(p, "&ndash;");
    else if (v < 0.0001) PUT(p, "&lt;0.0001");
    else putf(p, "%.4f", v);
}

static const char *const css =
    "body{font-family:'DejaVu Sans',Verdana,sans-serif;font-size:14px;color:#222;max-width:1000px;margin:1em auto;"
    "padding:0 1em}h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #999;padding-bottom:2px;margin-top:1.6em}"
    "h3{font-size:15px;margin-top:1.2em}table{border-collapse:collapse;margin:.4em 0}"
    "td,th{border-bottom:1px solid #ddd;padding:2px 6px;text-align:right;white-space:nowrap}"
    ".wide{overflow-x:auto}table.stats,table.nights,table.inputs{font-size:12.5px}"
    "th{border-bottom:1px solid #666;background:#f4f4f4}td.l,th.l{text-align:left}"
    ".note{color:#444;font-size:12.5px;max-width:60em}.flag{color:#a34700;font-weight:bold}"
    "figure{margin:.6em 0}figcaption{font-size:12px;color:#444}svg{max-width:100%;height:auto}"
    ".paired{display:flex;flex-wrap:wrap;gap:8px}.paired figure{margin:0}"
    "dl{display:grid;grid-template-columns:max-content auto;gap:2px 12px;font-size:12.5px}dt{color:#555}"
    "dd{margin:0;word-break:break-all}.keys td{text-align:left;white-space:normal}"
    "@media print{section.night{break-before:page}body{max-width:none}}";

/* One figure as inline SVG in a <figure> of class cls. */
static plm_status figure(page *p, const char *results, plm_figure_kind kind, const char *rec, const char *outcome,
                         const char *prefix, const char *cls, const char *caption)
{
    plm_figure_cfg fc = {.kind = kind, .format = PLM_FIGURE_SVG, .recording = rec, .outcome = outcome, .id_prefix = prefix};
    plm_bytes b = {0};
    plm_status st = plm_figure_draw(results, &fc, &b);
    if (st) {
        plm_bytes_free(&b);
        return st;
    }
    putf(p, "<figure class=\"%s\"", cls);
    if (outcome) putf(p, " data-outcome=\"%s\"", outcome); /* a /nights column name: no escaping needed */
    PUT(p, ">");
    const char *svg = b.data ? strstr((const char *)b.data, "<svg") : NULL; /* without the XML declaration */
    if (svg) put(p, svg, b.n - (size_t)(svg - (const char *)b.data));
    if (caption) {
        PUT(p, "<figcaption>");
        esc(p, caption);
        PUT(p, "</figcaption>");
    }
    PUT(p, "</figure>\n");
    plm_bytes_free(&b);
    return PLM_OK;
}

static double attr_f64(const char *path, const char *grp, const char *name)
{
    double v;
    return plm_store_read_attr_f64(path, grp, name, &v) == PLM_OK ? v : NAN;
}

static void study_section(page *p, const char *results, const plm_night *nights, size_t nn, const char *ctl,
                          const char *trt)
{
    plm_stat_row *st = NULL;
    size_t ns = 0;
    int est = 0;
    for (size_t i = 0; i < nn; i++) est += nights[i].sleep_source && !strcmp(nights[i].sleep_source, "actigraphy");
    putf(p, "<section id=\"study\" class=\"study\"><h2>Study: ");
    esc(p, trt);
    PUT(p, " vs ");
    esc(p, ctl);
    PUT(p, "</h2>\n");
    if (plm_store_read_stats(results, &st, &ns) != PLM_OK || !ns) {
        putf(p, "<p class=\"note\">No statistics in this file: no comparison could be made (a condition without nights, "
                "or fewer than two subjects with both); <code>actiplm run</code> and <code>actiplm stats</code> say "
                "why.</p>\n");
    } else {
        int paired = 0;
        for (size_t i = 0; i < ns; i++) paired |= isfinite(st[i].cohen_dz);
        putf(p, "<div class=\"wide\"><table class=\"stats\"><tr><th class=\"l\">outcome</th><th>n</th><th>");
        esc(p, ctl);
        PUT(p, "<br>mean &plusmn; SD</th><th>");
        esc(p, trt);
        putf(p, "<br>mean &plusmn; SD</th><th>difference<br>[95 %% CI]</th><th>Hodges-Lehmann<br>[95 %% CI]</th>"
                "<th>%s</th><th>%s</th><th>%s</th><th>Holm p</th></tr>\n",
             paired ? "paired t p" : "Welch p", paired ? "Wilcoxon p" : "WMW p", paired ? "d<sub>z</sub>" : "g");
        for (size_t i = 0; i < ns; i++) {
            const plm_stat_row *r = &st[i];
            PUT(p, "<tr><td class=\"l\">");
            esc(p, r->outcome);
            if (est && plm_outcome_needs_sleep(r->outcome)) PUT(p, " *");
            putf(p, "</td><td>%d</td><td>", r->n);
            num(p, r->control_mean, 1), PUT(p, " &plusmn; "), num(p, r->control_sd, 1);
            PUT(p, "</td><td>");
            num(p, r->treatment_mean, 1), PUT(p, " &plusmn; "), num(p, r->treatment_sd, 1);
            PUT(p, "</td><td>");
            num(p, r->diff_mean, 2), PUT(p, " ["), num(p, r->diff_ci_low, 2), PUT(p, ", "), num(p, r->diff_ci_high, 2);
            PUT(p, "]</td><td>");
            num(p, r->hl_estimate, 2), PUT(p, " ["), num(p, r->hl_ci_low, 2), PUT(p, ", "), num(p, r->hl_ci_high, 2);
            PUT(p, "]</td><td>");
            pval(p, r->ttest_p);
            PUT(p, "</td><td>");
            pval(p, r->wilcoxon_p);
            PUT(p, "</td><td>");
            num(p, paired ? r->cohen_dz : r->hedges_g, 2);
            PUT(p, "</td><td>");
            pval(p, r->holm_p);
            PUT(p, "</td></tr>\n");
        }
        PUT(p, "</table></div>\n");
        putf(p, "<p class=\"note\">Nights averaged within subject and condition. Holm p: the Wilcoxon p adjusted over "
                "the primary outcomes (&ndash; for the others).");
        if (est)
            putf(p, " * Sleep/wake was estimated from the leg on %d of %zu nights: a leg alone cannot tell quiet wake "
                    "from sleep, so PLMW counts as PLMS and TST/SE run high; <code>plm_tib_index</code> (PLM per hour "
                    "in bed) does not depend on it. Give stage annotations (PSG) for these outcomes.",
                 est, nn);
        PUT(p, "</p>\n");
        putf(p, "<h3>Per subject, %s to %s (primary outcomes)</h3>\n<div class=\"paired\">\n", ctl, trt);
        const plm_night_field *prim[16];
        size_t np = 0;
        for (size_t k = 0; k < plm_night_nfields && np < 16; k++) /* in the study's order */
            if (plm_night_fields[k].flags & PLM_NF_PRIMARY) {
                size_t j = np++;
                while (j > 0 && prim[j - 1]->study_rank > plm_night_fields[k].study_rank) prim[j] = prim[j - 1], j--;
                prim[j] = &plm_night_fields[k];
            }
        for (size_t k = 0; k < np; k++) {
            const plm_night_field *fd = prim[k];
            char prefix[64];
            snprintf(prefix, sizeof prefix, "paired-%s-", fd->name);
            if (figure(p, results, PLM_FIGURE_PAIRED, NULL, fd->name, prefix, "paired-figure", NULL))
                putf(p, "<p class=\"note\">%s: not drawn (%s)</p>\n", fd->name, plm_last_error());
        }
        PUT(p, "</div>\n");
    }
    for (size_t i = 0; i < ns; i++) free((char *)st[i].outcome);
    free(st);
}

/* 1 if id is one of the comma-separated names of list. */
static int in_list(const char *list, const char *id)
{
    size_t n = strlen(id);
    for (const char *t = list; *t;) {
        size_t len = strcspn(t, ",");
        if (len == n && !strncmp(t, id, n)) return 1;
        t += len + (t[len] == ',');
    }
    return 0;
}

static void param_row(void *user, const char *name, const char *value)
{
    page *p = user;
    PUT(p, "<tr><td class=\"l\">");
    esc(p, name);
    PUT(p, "</td><td class=\"l\">");
    esc(p, value);
    PUT(p, "</td></tr>\n");
}

/* The page; failed rows of /failures listed too. */
static plm_status build(page *p, const char *results, const plm_report_cfg *cfg, plm_report_result *res)
{
    plm_night *nights = NULL;
    size_t nn = 0, nf = 0;
    plm_failure *fails = NULL;
    plm_status st = plm_store_read_nights(results, &nights, &nn);
    if (st) return st;
    if (plm_store_read_failures(results, &fails, &nf) != PLM_OK) nf = 0, fails = NULL;
    char ctl[128] = "control", trt[128] = "magnesium", ver[64] = "", created[64] = "", fp[80] = "", msha[80] = "",
         mpath[1024] = "", cmd[2048] = "";
    plm_store_read_attr_str(results, "/", "param.stats.control", ctl, sizeof ctl);
    plm_store_read_attr_str(results, "/", "param.stats.treatment", trt, sizeof trt);
    plm_store_read_attr_str(results, "/", "software_version", ver, sizeof ver);
    plm_store_read_attr_str(results, "/", "created_utc", created, sizeof created);
    plm_store_read_attr_str(results, "/", "params_fingerprint", fp, sizeof fp);
    plm_store_read_attr_str(results, "/", "manifest_sha256", msha, sizeof msha);
    plm_store_read_attr_str(results, "/", "manifest_path", mpath, sizeof mpath);
    plm_store_read_attr_str(results, "/", "command_line", cmd, sizeof cmd);
    /* the nights to draw: each one named must exist */
    const char *want = cfg ? cfg->nights : NULL;
    for (const char *t = want; t && *t;) {
        size_t len = strcspn(t, ","), i = 0;
        while (i < nn && (strlen(nights[i].recording) != len || strncmp(nights[i].recording, t, len))) i++;
        if (len && i == nn) {
            st = plm__fail(PLM_EFORMAT, "%s: no night '%.*s' in /nights", results, (int)len, t);
            goto done;
        }
        t += len + (t[len] == ',');
    }
    putf(p, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>actiplm report: ");
    esc(p, plm__basename(results));
    putf(p, "</title>\n<style>%s</style></head><body>\n<h1>actiplm report</h1>\n<p class=\"note\">", css);
    esc(p, results);
    putf(p, ": %zu night%s, %zu failed; written by actiplm ", nn, nn == 1 ? "" : "s", nf);
    esc(p, ver);
    PUT(p, " on ");
    esc(p, created);
    putf(p, ". <a href=\"#nights\">Nights</a> &middot; <a href=\"#provenance\">Provenance</a></p>\n");
    study_section(p, results, nights, nn, ctl, trt);
    /* failures */
    putf(p, "<h3>Failures</h3>\n");
    if (!nf) putf(p, "<p class=\"note\">None: every recording was processed.</p>\n");
    else {
        putf(p, "<table class=\"failures\"><tr><th class=\"l\">recording</th><th class=\"l\">reason</th></tr>\n");
        for (size_t i = 0; i < nf; i++) {
            PUT(p, "<tr><td class=\"l\">");
            esc(p, fails[i].recording);
            PUT(p, "</td><td class=\"l\">");
            esc(p, fails[i].error);
            PUT(p, "</td></tr>\n");
        }
        PUT(p, "</table>\n");
    }
    /* nights table */
    putf(p, "<h3 id=\"nights\">Nights</h3>\n<table class=\"nights\"><tr><th class=\"l\">night</th><th class=\"l\">"
            "subject</th><th class=\"l\">condition</th><th>TIB h</th><th>TST h</th><th>SE %%</th><th>PLMS /h</th>"
            "<th>PLM /h in bed</th><th class=\"l\">lights</th><th class=\"l\">sleep/wake</th><th class=\"l\">flags</th></tr>\n");
    for (size_t i = 0; i < nn; i++) {
        const plm_night *r = &nights[i];
        char a[256], grp[1100];
        anchor(a, sizeof a, r->recording);
        snprintf(grp, sizeof grp, "/recordings/%s", r->recording);
        putf(p, "<tr><td class=\"l\"><a href=\"#night-%s\">", a);
        esc(p, r->recording);
        PUT(p, "</a></td><td class=\"l\">");
        esc(p, r->subject);
        PUT(p, "</td><td class=\"l\">");
        esc(p, r->condition);
        PUT(p, "</td><td>");
        num(p, r->tib_h, 2), PUT(p, "</td><td>"), num(p, r->tst_h, 2), PUT(p, "</td><td>"), num(p, r->se_pct, 1);
        PUT(p, "</td><td>"), num(p, r->plms_index, 1), PUT(p, "</td><td>"), num(p, r->plm_tib_index, 1);
        PUT(p, "</td><td class=\"l\">");
        esc(p, r->lights_source);
        PUT(p, "</td><td class=\"l\">");
        esc(p, r->sleep_source);
        PUT(p, "</td><td class=\"l flag\">");
        double ex = 0;
        static const char *const qc[] = {"excluded_nonwear_s", "excluded_clipping_s", "excluded_dropout_s"};
        for (int k = 0; k < 3; k++) {
            double v = attr_f64(results, grp, qc[k]);
            if (isfinite(v)) ex += v;
        }
        int64_t gaps = 0;
        if (plm_store_read_attr_i64(results, grp, "gap_count", &gaps) != PLM_OK) gaps = 0;
        int first = 1;
#define FLAG(...) (putf(p, "%s", first ? "" : ", "), putf(p, __VA_ARGS__), first = 0)
        if (r->lights_source && !strcmp(r->lights_source, "estimated")) FLAG("time in bed estimated");
        if (r->tib_implausible == 1) FLAG("implausible time in bed");
        if (ex > 0) FLAG("QC excluded %.0f s", ex);
        if (gaps > 0) FLAG("%lld gap%s", (long long)gaps, gaps == 1 ? "" : "s");
#undef FLAG
        PUT(p, "</td></tr>\n");
    }
    for (size_t i = 0; i < nf; i++) {
        PUT(p, "<tr><td class=\"l\">");
        esc(p, fails[i].recording);
        putf(p, "</td><td class=\"l\" colspan=\"9\"></td><td class=\"l flag\">failed (see Failures)</td></tr>\n");
    }
    PUT(p, "</table>\n");
    /* provenance */
    putf(p, "<h3 id=\"provenance\">Provenance</h3>\n<dl><dt>software</dt><dd>actiplm ");
    esc(p, ver);
    putf(p, "</dd><dt>created (UTC)</dt><dd>");
    esc(p, created);
    putf(p, "</dd><dt>parameters (SHA-256 fingerprint; every value is a root attribute param.*)</dt><dd>");
    esc(p, fp);
    putf(p, "</dd><dt>manifest</dt><dd>");
    esc(p, mpath);
    putf(p, " (SHA-256 ");
    esc(p, msha);
    putf(p, ")</dd><dt>command</dt><dd><code>");
    esc(p, cmd);
    putf(p, "</code></dd></dl>\n<details><summary>every parameter</summary><table class=\"params\">\n");
    plm_store_root_attrs_text(results, "param.", param_row, p);
    putf(p, "</table></details>\n<table class=\"inputs\"><tr><th class=\"l\">recording</th><th class=\"l\">input</th>"
            "<th class=\"l\">SHA-256</th></tr>\n");
    for (size_t i = 0; i < nn; i++) {
        char grp[1100], src[1024] = "", sha[80] = "", rsrc[1024] = "", rsha[80] = "";
        snprintf(grp, sizeof grp, "/recordings/%s", nights[i].recording);
        plm_store_read_attr_str(results, grp, "source_path", src, sizeof src);
        plm_store_read_attr_str(results, grp, "sha256", sha, sizeof sha);
        PUT(p, "<tr><td class=\"l\">");
        esc(p, nights[i].recording);
        PUT(p, "</td><td class=\"l\">");
        esc(p, src);
        PUT(p, "</td><td class=\"l\"><code>");
        esc(p, sha);
        PUT(p, "</code></td></tr>\n");
        if (plm_store_read_attr_str(results, grp, "right_source_path", rsrc, sizeof rsrc) == PLM_OK &&
            plm_store_read_attr_str(results, grp, "right_sha256", rsha, sizeof rsha) == PLM_OK) {
            PUT(p, "<tr><td class=\"l\"></td><td class=\"l\">");
            esc(p, rsrc);
            PUT(p, " (right ankle)</td><td class=\"l\"><code>");
            esc(p, rsha);
            PUT(p, "</code></td></tr>\n");
        }
    }
    PUT(p, "</table>\n</section>\n");
    /* one section per night */
    for (size_t i = 0; i < nn && !p->oom; i++) {
        const plm_night *r = &nights[i];
        if (want && !in_list(want, r->recording)) continue;
        char a[256], grp[1100], start[64] = "", device[64] = "";
        anchor(a, sizeof a, r->recording);
        snprintf(grp, sizeof grp, "/recordings/%s", r->recording);
        plm_store_read_attr_str(results, grp, "start_local", start, sizeof start);
        plm_store_read_attr_str(results, grp, "device", device, sizeof device);
        putf(p, "<section class=\"night\" id=\"night-%s\"><h2>", a);
        esc(p, r->recording);
        PUT(p, "</h2>\n<table class=\"keys\"><tr><td>subject ");
        esc(p, r->subject);
        PUT(p, ", ");
        esc(p, r->condition);
        putf(p, ", night %d</td><td>start ", r->night);
        esc(p, start[0] ? start : "unknown");
        if (device[0]) PUT(p, ", "), esc(p, device);
        putf(p, "</td></tr><tr><td>time in bed ");
        num(p, r->tib_h, 2);
        putf(p, " h (lights: ");
        esc(p, r->lights_source);
        putf(p, "), total sleep ");
        num(p, r->tst_h, 2);
        putf(p, " h, efficiency ");
        num(p, r->se_pct, 1);
        putf(p, " %% (sleep/wake: ");
        esc(p, r->sleep_source);
        putf(p, ")</td><td>%d LM, %d PLM, PLMS index ", r->lm_count, r->plm_count);
        num(p, r->plms_index, 1);
        putf(p, "/h, PLMW index ");
        num(p, r->plmw_index, 1);
        putf(p, "/h, PLM per hour in bed ");
        num(p, r->plm_tib_index, 1);
        putf(p, "</td></tr></table>\n");
        static const struct {
            plm_figure_kind k;
            const char *cls, *tag, *cap;
        } figs[] = {
            {PLM_FIGURE_ACTIVITY, "fig-activity", "a", "Activity per leg (mean absolute deviation of |a| per second; "
                                                       "min-max per pixel), lights off/on dashed."},
            {PLM_FIGURE_SLEEP, "fig-sleep", "s", "Sleep/wake per 30-s epoch."},
            {PLM_FIGURE_RASTER, "fig-raster", "r", "Scored leg movements, one row per hour."},
            {PLM_FIGURE_IMI, "fig-imi", "i", "Intervals between consecutive leg movements in sleep."},
        };
        putf(p, "<div class=\"figures\">\n");
        for (size_t k = 0; k < sizeof figs / sizeof *figs; k++) {
            char prefix[300];
            snprintf(prefix, sizeof prefix, "n%zu%s-", i, figs[k].tag);
            if ((st = figure(p, results, figs[k].k, r->recording, NULL, prefix, figs[k].cls, figs[k].cap))) goto done;
        }
        PUT(p, "</div></section>\n");
        res->nights++;
    }
    PUT(p, "</body></html>\n");
    if (p->oom) st = plm__fail(PLM_ENOMEM, "out of memory writing the report");
done:
    plm_nights_free(nights, nn);
    for (size_t i = 0; i < nf; i++) {
        free(fails[i].recording);
        free(fails[i].path);
        free(fails[i].error);
    }
    free(fails);
    return st;
}

plm_status plm_report_write(const char *results, const char *out_html, const plm_report_cfg *cfg, plm_report_result *res)
{
    memset(res, 0, sizeof *res);
    page p = {{0}, 0};
    plm_status st = build(&p, results, cfg, res);
    if (st) {
        plm_bytes_free(&p.b);
        return st;
    }
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", out_html, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        plm_bytes_free(&p.b);
        PLM_FAIL(PLM_EIO, "%s: cannot create: %s", out_html, strerror(errno));
    }
    int ok = fwrite(p.b.data, 1, p.b.n, f) == p.b.n;
    ok &= fclose(f) == 0;
    res->bytes = p.b.n;
    plm_bytes_free(&p.b);
    if (!ok || rename(tmp, out_html) != 0) {
        int e = errno;
        unlink(tmp);
        PLM_FAIL(PLM_EIO, "%s: cannot write: %s", out_html, strerror(e));
    }
    return PLM_OK;
}
