/* kernelbench.c — KernelBench's field names over a kgrade record (see kernelbench.h).
 * A pure mapping: it reads the record and invents nothing; a field the record lacks is absent or
 * takes KernelBench's own "not measured" value (-1). */
#include "kernelbench.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static const cJSON *get(const cJSON *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        if (n >= sizeof key)
            return NULL;
        memcpy(key, path, n);
        key[n] = 0;
        o = cJSON_GetObjectItemCaseSensitive(o, key);
        path += n + (path[n] == '.');
    }
    return o;
}

static double num(const cJSON *o, const char *path, double dflt)
{
    const cJSON *j = get(o, path);
    return cJSON_IsNumber(j) ? j->valuedouble : dflt;
}

static const char *str(const cJSON *o, const char *path)
{
    const cJSON *j = get(o, path);
    return cJSON_IsString(j) ? j->valuestring : NULL;
}

static cJSON *runtime_stats(const cJSON *stats, const cJSON *rec)
{
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "mean", num(stats, "mean", -1));
    cJSON_AddNumberToObject(r, "std", num(stats, "stdev", -1));
    cJSON_AddNumberToObject(r, "min", num(stats, "min", -1));
    cJSON_AddNumberToObject(r, "max", num(stats, "max", -1));
    cJSON_AddNumberToObject(r, "median", num(stats, "median", -1));
    cJSON_AddNumberToObject(r, "num_trials", num(stats, "n", 0));
    const char *dev = str(rec, "device.name");
    cJSON_AddStringToObject(r, "hardware", dev ? dev : "");
    cJSON_AddStringToObject(r, "device", "cuda:0");
    return r;
}

cJSON *kernelbench_from_record(const cJSON *rec)
{
    const char *verdict = str(rec, "verdict");
    const char *msg = str(rec, "error.message");
    verdict = verdict ? verdict : "internal_error";
    bool compiled = get(rec, "compile.ok") && cJSON_IsTrue(get(rec, "compile.ok")) &&
                    strcmp(verdict, "directive_error") != 0;
    bool correct = !strcmp(verdict, "ok");
    const cJSON *cand = get(rec, "timing.candidate");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddBoolToObject(o, "compiled", compiled);
    cJSON_AddBoolToObject(o, "correctness", correct);
    cJSON_AddNumberToObject(o, "runtime", correct && cand ? num(cand, "mean", -1) : -1);
    cJSON_AddItemToObject(o, "runtime_stats", correct && cand ? runtime_stats(cand, rec) : cJSON_CreateObject());
    const cJSON *ref = get(rec, "baselines.reference");
    if (correct && cJSON_IsNumber(get(ref, "mean"))) {
        cJSON_AddNumberToObject(o, "ref_runtime", num(ref, "mean", -1));
        cJSON_AddItemToObject(o, "ref_runtime_stats", runtime_stats(ref, rec));
    }
    cJSON *m = cJSON_AddObjectToObject(o, "metadata");
    const char *dev = str(rec, "device.name");
    cJSON_AddStringToObject(m, "hardware", dev ? dev : "");
    cJSON_AddStringToObject(m, "device", "cuda:0");
    cJSON_AddStringToObject(m, "kgrade_verdict", verdict);
    if (msg) {
        const char *key = !strcmp(verdict, "compile_error") || !strcmp(verdict, "directive_error")
                              ? "compilation_error"
                          : !strcmp(verdict, "wrong_answer") ? "correctness_issue"
                                                             : "runtime_error";
        cJSON_AddStringToObject(m, key, msg);
    }
    const char *log = str(rec, "compile.log");
    if (log && *log && !strcmp(verdict, "compile_error"))
        cJSON_AddStringToObject(m, "compilation_error_log", log);
    const cJSON *trials = get(rec, "correctness.trials");
    if (cJSON_IsArray(trials)) {
        int pass = 0, n = cJSON_GetArraySize(trials);
        cJSON *maxd = cJSON_AddArrayToObject(m, "max_difference");
        const cJSON *t;
        cJSON_ArrayForEach(t, trials) {
            pass += cJSON_IsTrue(get(t, "comparison.pass"));
            cJSON_AddItemToArray(maxd, cJSON_CreateNumber(num(t, "comparison.max_abs", -1)));
        }
        char buf[48];
        snprintf(buf, sizeof buf, "(%d / %d)", pass, (int)num(rec, "correctness.trials_planned", n));
        cJSON_AddStringToObject(m, "correctness_trials", buf);
    }
    return o;
}
