/* baseline.c — the "baseline" object of a candidate's record (see baseline.h).
 *
 * DESIGN
 *   The baseline is an ordinary evaluation (its own job, GET-able by its id) of the prompt's
 *   current code, queued one priority above the candidate so that it is usually finished when the
 *   candidate's GPU step ends. The two ran in separate worker processes, perhaps on different
 *   GPUs, so the comparison cannot pair samples of the same round as the worker's own speedups do;
 *   it uses what each record reports of its candidate's kept samples (timing.candidate: median,
 *   mean, stdev, n):
 *       estimate = median_base / median_cand
 *       se       = sqrt((sd_b / mean_b)^2 / n_b + (sd_c / mean_c)^2 / n_c)    (delta method, log ratio)
 *       ci95     = estimate * exp(-1.96 se) .. estimate * exp(+1.96 se)
 *   decision: faster when the interval lies above 1 + margin, slower when below 1 - margin, else
 *   tie; undetermined when either side has no timing (not done, not correct, or fewer than two
 *   samples).
 *
 *   The metrics table has the prompt's NCU values, per kernel and metric, with the stage's
 *   threshold for that metric; "before" (the baseline's collected value) and "after" (the
 *   candidate's), matched by kernel name (or the only kernel when the prompt and the record have
 *   one each), and "met" (after against the threshold). Null where a value was not collected —
 *   never invented.
 *
 * Does not: wait for the baseline (a pending baseline is reported as it stands), or write. */
#include "baseline.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define METHOD "ratio of the two evaluations' median times; 95% interval by the delta method on the " \
               "log ratio from each side's mean, standard deviation and sample count; tie margin 0.005"

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Add v to o under k: 0, or -1 (v deleted) when o or v is NULL or it cannot be added. */
static int put(cJSON *o, const char *k, cJSON *v)
{
    if (o && v && cJSON_AddItemToObject(o, k, v))
        return 0;
    cJSON_Delete(v);
    return -1;
}

/* A record's timing.candidate: 1 with its figures when usable for the interval. */
static int timing_of(const cJSON *rec, double *median, double *mean, double *sd, double *n)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "timing"), "candidate");
    *median = num(t, "median");
    *mean = num(t, "mean");
    *sd = num(t, "stdev");
    *n = num(t, "n");
    return *median > 0 && *mean > 0 && *sd >= 0 && *n >= 2 && isfinite(*median + *mean + *sd + *n);
}

static double round6(double v)
{
    return round(v * 1e6) / 1e6;
}

cJSON *baseline_speedup(const cJSON *base_rec, const cJSON *cand_rec)
{
    double mb, ab, sb, nb, mc, ac, sc, nc;
    cJSON *o = cJSON_CreateObject();
    int bad;
    if (timing_of(base_rec, &mb, &ab, &sb, &nb) && timing_of(cand_rec, &mc, &ac, &sc, &nc)) {
        double est = mb / mc;
        double se = sqrt((sb / ab) * (sb / ab) / nb + (sc / ac) * (sc / ac) / nc);
        double lo = est * exp(-1.96 * se), hi = est * exp(1.96 * se);
        const char *d = lo > 1 + BASELINE_TIE_MARGIN ? "faster" : hi < 1 - BASELINE_TIE_MARGIN ? "slower" : "tie";
        cJSON *ci = cJSON_CreateArray();
        bad = put(o, "estimate", cJSON_CreateNumber(round6(est)));
        if (ci && !(cJSON_AddItemToArray(ci, cJSON_CreateNumber(round6(lo))) &&
                    cJSON_AddItemToArray(ci, cJSON_CreateNumber(round6(hi))) && cJSON_GetArraySize(ci) == 2))
            bad = 1;
        bad |= put(o, "ci95", ci);
        bad |= put(o, "decision", cJSON_CreateString(d));
    } else {
        bad = put(o, "estimate", cJSON_CreateNull());
        bad |= put(o, "ci95", cJSON_CreateNull());
        bad |= put(o, "decision", cJSON_CreateString("undetermined"));
    }
    bad |= put(o, "method", cJSON_CreateString(METHOD));
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* The stage's threshold for metric name, a copy; null when it sets none. */
static cJSON *threshold(const cJSON *prompt, const char *name)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(prompt, "stage"), "metrics")) {
        const char *n = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "name"));
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(m, "threshold");
        if (n && !strcmp(n, name) && cJSON_IsObject(t))
            return cJSON_Duplicate(t, 1);
    }
    return cJSON_CreateNull();
}

/* The kernel of metrics (a record's {"<kernel>": {...}}) that stands for the prompt's kernel name:
 * the one of that name, else the only one when both the prompt and the record have one kernel. */
static const cJSON *kernel_of(const cJSON *metrics, const cJSON *prompt_ncu, const char *name)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(metrics, name);
    if (k)
        return k;
    return cJSON_GetArraySize(metrics) == 1 && cJSON_GetArraySize(prompt_ncu) == 1 ? metrics->child : NULL;
}

/* Whether value meets threshold {"op", "value"}: true / false, null when either is unknown. */
static cJSON *met(const cJSON *value, const cJSON *threshold)
{
    const char *op = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(threshold, "op"));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(threshold, "value");
    if (!cJSON_IsNumber(value) || !cJSON_IsNumber(t) || !op)
        return cJSON_CreateNull();
    double v = value->valuedouble, x = t->valuedouble;
    if (!strcmp(op, ">"))
        return cJSON_CreateBool(v > x);
    if (!strcmp(op, ">="))
        return cJSON_CreateBool(v >= x);
    if (!strcmp(op, "<"))
        return cJSON_CreateBool(v < x);
    if (!strcmp(op, "<="))
        return cJSON_CreateBool(v <= x);
    return cJSON_CreateNull();
}

cJSON *baseline_metrics(const cJSON *prompt, const cJSON *before, const cJSON *after)
{
    cJSON *o = cJSON_CreateObject();
    const cJSON *k, *m, *ncu = cJSON_GetObjectItemCaseSensitive(prompt, "ncu_metrics");
    int bad = !o;
    cJSON_ArrayForEach(k, ncu) {
        cJSON *kern = cJSON_IsObject(k) && !bad ? cJSON_CreateObject() : NULL;
        const cJSON *metrics = kern ? k : NULL;
        const cJSON *kb = kernel_of(before, ncu, k->string), *ka = kernel_of(after, ncu, k->string);
        cJSON_ArrayForEach(m, metrics) {
            cJSON *e = cJSON_CreateObject(), *th = threshold(prompt, m->string);
            const cJSON *vb = cJSON_GetObjectItemCaseSensitive(kb, m->string);
            const cJSON *va = cJSON_GetObjectItemCaseSensitive(ka, m->string);
            int b = put(e, "prompt", cJSON_Duplicate(m, 1));
            b |= put(e, "before", cJSON_IsNumber(vb) ? cJSON_Duplicate(vb, 1) : cJSON_CreateNull());
            b |= put(e, "after", cJSON_IsNumber(va) ? cJSON_Duplicate(va, 1) : cJSON_CreateNull());
            b |= put(e, "met", met(va, th));
            b |= put(e, "threshold", th);
            if (b)
                cJSON_Delete(e);
            bad |= b || put(kern, m->string, e);
        }
        if (kern)
            bad |= put(o, k->string, kern);
    }
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Why before or after may be null: the metrics' source of each record. */
static cJSON *metrics_note(const cJSON *brec, const cJSON *rec)
{
    const char *sb = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(brec, "metrics_source"));
    const char *sa = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "metrics_source"));
    char note[300];
    if (sb && sa && !strcmp(sb, "cupti") && !strcmp(sa, "cupti"))
        snprintf(note, sizeof note, "before: the baseline's metrics, after: the candidate's (CUPTI)");
    else
        snprintf(note, sizeof note, "metrics: baseline %s, candidate %s (metrics_detail.reason says why)",
                 sb ? sb : brec ? "none" : "not finished", sa ? sa : "none");
    return cJSON_CreateString(note);
}

/* A copy of src[key] (null when absent). */
static cJSON *copy(const cJSON *src, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
    return v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
}

int baseline_add(struct store *st, const char *base_id, cJSON *rec)
{
    cJSON *job = NULL, *brec = NULL, *b = cJSON_CreateObject();
    struct err e;
    int bad = put(b, "id", cJSON_CreateString(base_id));
    bad |= put(b, "source", cJSON_CreateString("prompt.current_code"));
    if (store_job_get(st, base_id, 1, &job, &e) == 0) {
        const cJSON *raw = cJSON_GetObjectItemCaseSensitive(job, "result");
        if (cJSON_IsRaw(raw))
            brec = cJSON_ParseWithLengthOpts(raw->valuestring, strlen(raw->valuestring), NULL, 0);
    } else {
        bad |= put(b, "error", cJSON_CreateString(e.msg));
    }
    const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(job, "status"));
    const cJSON *timing = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(brec, "timing"), "candidate");
    double median = num(timing, "median");
    int final = status && (!strcmp(status, "done") || !strcmp(status, "cancelled"));
    bad |= put(b, "status", copy(job, "status"));
    bad |= put(b, "verdict", copy(job, "verdict"));
    bad |= put(b, "median_ms", isfinite(median) ? cJSON_CreateNumber(median) : cJSON_CreateNull());
    bad |= put(b, "speedup", final ? baseline_speedup(brec, rec) : cJSON_CreateNull());
    bad |= put(b, "metrics", baseline_metrics(cJSON_GetObjectItemCaseSensitive(rec, "prompt"),
                                              cJSON_GetObjectItemCaseSensitive(brec, "metrics"),
                                              cJSON_GetObjectItemCaseSensitive(rec, "metrics")));
    bad |= put(b, "metrics_note", metrics_note(brec, rec));
    cJSON_Delete(brec);
    cJSON_Delete(job);
    if (bad) {
        cJSON_Delete(b);
        return -1;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "baseline");
    return put(rec, "baseline", b);
}
