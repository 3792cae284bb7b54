/* triton.c — the worker's side of a Triton candidate (see triton.h).
 *
 * DESIGN. The worker never trusts what the harness says about correctness: it only accepts the
 * harness's output in y and compares it on its own. What it must take from the harness are the
 * timed samples and the list of launches, and the record says so. A failed call becomes the
 * verdict it means: the harness's own verdict (runtime_error, output_mismatch, ...), timeout at
 * the deadline, runtime_error when the candidate's process died. */
#include "triton.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cudrv.h"
#include "eval.h"
#include "gpuinput.h"

static void fail(struct triton *t, int rc, const char *what, double timeout_ms, const struct err *e)
{
    if (rc == ERR_LIMIT) {
        snprintf(t->verdict, sizeof t->verdict, "timeout");
        snprintf(t->message, sizeof t->message, "%s did not finish within %.0f ms (the worker's deadline)", what,
                 timeout_ms);
    } else if (rc == ERR_INVALID) {
        snprintf(t->verdict, sizeof t->verdict, "%s", t->py->verdict);
        snprintf(t->message, sizeof t->message, "%s: %.1900s", what, t->py->message);
        snprintf(t->traceback, sizeof t->traceback, "%s", t->py->traceback);
    } else if (rc == ERR_IO) {
        snprintf(t->verdict, sizeof t->verdict, "runtime_error");
        snprintf(t->message, sizeof t->message, "%s: %s", what, e->msg);
    } else {
        snprintf(t->verdict, sizeof t->verdict, "internal_error");
        snprintf(t->message, sizeof t->message, "%s: %s", what, e->msg);
    }
}

static void check(struct triton *t, const char *what)
{
    cJSON_AddItemToArray(t->checks, cJSON_CreateString(what));
}

static int export(CUdeviceptr p, cJSON *bufs, const char *name, struct err *e)
{
    CUipcMemHandle h;
    int rc = 0;
    CU_CHECK(cu.cuIpcGetMemHandle(&h, p));
    char hex[2 * sizeof h.reserved + 1];
    for (size_t i = 0; i < sizeof h.reserved; i++)
        snprintf(hex + 2 * i, 3, "%02x", (unsigned char)h.reserved[i]);
    cJSON *b = cJSON_AddObjectToObject(bufs, name);
    cJSON_AddStringToObject(b, "handle", hex);
    cJSON_AddNumberToObject(b, "offset", 0);   /* every tensor is its own cuMemAlloc */
out:
    return rc;
}

static cJSON *spec_json(const struct conv_spec *s)
{
    cJSON *j = cJSON_CreateObject();
    const struct { const char *k; int64_t v; } f[] = {
        {"n", s->n}, {"c_in", s->c_in}, {"h", s->h}, {"w", s->w}, {"c_out", s->c_out}, {"kh", s->kh},
        {"kw", s->kw}, {"sh", s->stride_h}, {"sw", s->stride_w}, {"ph", s->pad_h}, {"pw", s->pad_w},
        {"dh", s->dil_h}, {"dw", s->dil_w}, {"g", s->groups}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        cJSON_AddNumberToObject(j, f[i].k, (double)f[i].v);
    cJSON_AddBoolToObject(j, "bias", s->bias);
    cJSON_AddStringToObject(j, "dtype", spec_dtype_name(s->dtype));
    return j;
}

static int write_source(const struct triton *t, char *path, size_t len, struct err *e)
{
    if (pyharness_path(t->py, "candidate.py", path, len))
        return err_set(e, ERR_LIMIT, "", "the harness directory's path is too long");
    FILE *f = fopen(path, "wx");
    if (!f)
        return err_set(e, ERR_IO, "", "cannot write %s", path);
    size_t w = fwrite(t->o->source, 1, t->o->source_len, f);
    if (fclose(f) || w != t->o->source_len)
        return err_set(e, ERR_IO, "", "cannot write %s", path);
    return 0;
}

int triton_load(struct triton *t, int l2_bytes, cJSON *rec, struct err *e)
{
    struct correct_env *env = t->env;
    const struct eval_opts *o = t->o;
    int rc = 0;
    struct spec_derived d;
    spec_derive(&o->spec, &d);
    cJSON *cmd = cJSON_CreateObject(), *reply = NULL;
    t->checks = cJSON_CreateArray();
    cJSON *integ = cJSON_AddObjectToObject(rec, "integrity");
    cJSON_AddItemToObject(integ, "checks", t->checks);
    cJSON_AddArrayToObject(integ, "flags");

    /* the second input set, at its own address, with its own values */
    CU_CHECK(cu.cuMemAlloc(&t->x_alt, (size_t)d.x_elems * (size_t)d.dtype_size));
    struct gpuinput_tensors alt = {.x = t->x_alt, .w = env->cand.w, .b = env->cand.b};
    if ((rc = gpuinput_fill_problem(env->gi, &o->spec, o->seed + 2000, PORT_NORMAL, &alt, env->st, e)))
        goto out;
    CU_CHECK(cu.cuStreamSynchronize(env->st));
    cJSON *bufs = cJSON_AddObjectToObject(cmd, "buffers");
    if ((rc = export(env->cand.x, bufs, "x", e)) || (rc = export(t->x_alt, bufs, "x_alt", e)) ||
        (rc = export(env->cand.w, bufs, "w", e)) || (o->spec.bias && (rc = export(env->cand.b, bufs, "b", e))) ||
        (rc = export(env->cand.y, bufs, "y", e)))
        goto out;
    char path[300];
    if ((rc = write_source(t, path, sizeof path, e)))
        goto out;

    cJSON *hj = cJSON_AddObjectToObject(rec, "harness");
    rc = pyharness_ready(t->py, o->compile_timeout_ms, &reply, e);
    if (rc) {
        fail(t, rc, "starting python3 with torch and Triton", o->compile_timeout_ms, e);
        rc = rc == ERR_NOMEM ? rc : 1;
        goto out;
    }
    cJSON_AddItemToObject(hj, "versions", cJSON_DetachItemFromObject(reply, "versions"));
    cJSON_AddItemToObject(hj, "ready_ms", cJSON_DetachItemFromObject(reply, "ready_ms"));
    if (cJSON_GetObjectItemCaseSensitive(reply, "warm_ms"))
        cJSON_AddItemToObject(hj, "warm_ms", cJSON_DetachItemFromObject(reply, "warm_ms"));
    cJSON_Delete(reply);
    reply = NULL;

    cJSON_AddStringToObject(cmd, "op", "load");
    cJSON_AddStringToObject(cmd, "source_path", path);
    cJSON_AddItemToObject(cmd, "spec", spec_json(&o->spec));
    cJSON_AddNumberToObject(cmd, "l2_flush_bytes", 2.0 * l2_bytes);
    cJSON_AddItemToObject(cmd, "lint_policy", o->lint_policy ? cJSON_Parse(o->lint_policy) : cJSON_CreateNull());
    if (o->autotune_max > 0)
        cJSON_AddNumberToObject(cmd, "autotune_max", o->autotune_max);
    rc = pyharness_call(t->py, cmd, o->compile_timeout_ms, &reply, e);
    cJSON *lint = cJSON_DetachItemFromObject(reply, "lint");
    if (lint)
        cJSON_AddItemToObject(rec, "lint", lint);
    check(t, "static checks (kglint) before the candidate was imported");
    if (rc) {
        fail(t, rc, "loading the candidate", o->compile_timeout_ms, e);
        rc = rc == ERR_NOMEM ? rc : 1;
        goto out;
    }
    cJSON_AddItemToObject(hj, "import_ms", cJSON_DetachItemFromObject(reply, "import_ms"));
    cJSON_AddItemToObject(hj, "parameters", cJSON_DetachItemFromObject(reply, "params"));
    check(t, "timer, event and synchronisation functions captured before the import");
    check(t, "the model's weight and bias are the worker's buffers, refilled for every trial");
out:
    cJSON_Delete(cmd);
    cJSON_Delete(reply);
    return rc;
}

static int call(struct triton *t, const char *op, const char *x, double timeout_ms, const char *what, cJSON **reply,
                struct err *e)
{
    cJSON *cmd = cJSON_CreateObject();
    cJSON_AddStringToObject(cmd, "op", op);
    if (x)
        cJSON_AddStringToObject(cmd, "x", x);
    int rc = pyharness_call(t->py, cmd, timeout_ms, reply, e);
    cJSON_Delete(cmd);
    if (rc) {
        fail(t, rc, what, timeout_ms, e);
        cJSON_Delete(*reply);
        *reply = NULL;
        if (rc != ERR_NOMEM)
            err_set(e, rc, "", "%s", t->message);
    }
    return rc;
}

int triton_run(void *p, CUstream st, double timeout_ms, const char *stage, int *failed, struct err *e)
{
    struct triton *t = p;
    int rc = 0;
    cJSON *reply = NULL;
    *failed = -1;
    CU_CHECK(cu.cuStreamSynchronize(st));   /* the inputs and the poisoned y are in place */
    /* the first forward compiles the candidate's kernels (and runs its autotuner) */
    double limit = t->runs ? timeout_ms : t->o->compile_timeout_ms + timeout_ms;
    char what[96];
    snprintf(what, sizeof what, "forward (%s)", stage);
    if ((rc = call(t, "run", "x", limit, what, &reply, e)))
        goto out;
    if (!t->kernels)
        t->kernels = cJSON_DetachItemFromObject(reply, "kernels");
    t->runs++;
out:
    cJSON_Delete(reply);
    return rc;
}

static int sample(struct triton *t, const char *x, double *ms, double *mhz, struct err *e)
{
    cJSON *reply = NULL;
    double limit = t->o->launch_timeout_ms;
    int rc;
    if (t->tail_ms < 0) {
        if ((rc = call(t, "calibrate", NULL, limit, "calibration", &reply, e)))
            return rc;
        const cJSON *tails = cJSON_GetObjectItemCaseSensitive(reply, "tails_ms");
        int n = cJSON_GetArraySize(tails);
        t->tail_ms = n ? cJSON_GetNumberValue(cJSON_GetArrayItem(tails, n / 2)) : 0;
        cJSON_Delete(reply);
    }
    if ((rc = call(t, "sample", x, limit, "timed forward", &reply, e)))
        return rc;
    double s = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "stream_ms"));
    double dv = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "device_ms"));
    /* The region ends at the device-wide synchronisation, less its tail when nothing was left to
     * wait for: work on other streams counts, and a sample never counts less than its own stream. */
    *ms = fmax(s, dv - t->tail_ms);
    /* the flag only: the time above counts such work either way; below 0.1 ms it is sync jitter */
    if (dv - t->tail_ms - s > fmax(0.1, 0.05 * s))
        t->side_stream_samples++;
    if (mhz)
        *mhz = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "mhz"));
    t->samples++;
    cJSON_Delete(reply);
    return 0;
}

int triton_sample(void *p, double *ms, double *mhz, struct err *e)
{
    struct triton *t = p;
    return sample(t, t->samples % 2 ? "x_alt" : "x", ms, mhz, e);
}

int triton_sample_last(void *p, double *ms, double *mhz, struct err *e)
{
    return sample(p, "x", ms, mhz, e);
}

static void flag(cJSON *rec, const char *id, const char *msg)
{
    cJSON *flags = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "integrity"), "flags");
    cJSON *f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "id", id);
    cJSON_AddStringToObject(f, "message", msg);
    cJSON_AddItemToArray(flags, f);
}

int triton_diagnose(struct triton *t, cJSON *rec, struct err *e)
{
    cJSON *reply = NULL;
    int rc = call(t, "diagnose", "x", t->o->launch_timeout_ms, "forward (diagnosis)", &reply, e);
    if (rc)
        return rc;
    double total = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "total_ms"));
    double tri = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "triton_ms"));
    int launches = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "launches"));
    int streams = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(reply, "streams_created_total"));
    cJSON *j = cJSON_AddObjectToObject(rec, "triton");
    cJSON_AddItemToObject(j, "kernels", t->kernels ? t->kernels : cJSON_CreateArray());
    t->kernels = NULL;
    cJSON_AddNumberToObject(j, "launches_per_forward", launches);
    cJSON_AddNumberToObject(j, "forward_gpu_ms", total);
    cJSON_AddNumberToObject(j, "triton_kernel_ms", tri);
    double share = total > 0 ? fmin(1.0, tri / total) : 0;
    cJSON_AddNumberToObject(j, "triton_share", share);
    check(t, "the Triton launches of one forward listed, with their share of its GPU time");
    check(t, "streams created by the candidate counted");
    char m[200];
    if (launches == 0)
        flag(rec, "no_triton_kernel", "forward launched no Triton kernel");
    else if (share < 0.5 && total - tri > 0.1) {   /* below 0.1 ms it is launch gaps, not a library */
        snprintf(m, sizeof m, "Triton kernels took %.0f%% of forward's GPU time; the rest ran in other (library) "
                 "kernels", 100 * share);
        flag(rec, "library_time", m);
    }
    if (streams > 0) {
        snprintf(m, sizeof m, "the candidate created %d CUDA stream(s)", streams);
        flag(rec, "new_stream", m);
    }
    cJSON_Delete(reply);
    return 0;
}

/* The collector library's path: next to the worker's executable. */
static int prof_library(char *path, size_t len, struct err *e)
{
    ssize_t n = readlink("/proc/self/exe", path, len - 1);
    if (n <= 0)
        return err_set(e, ERR_IO, "", "cannot find the worker's executable");
    path[n] = 0;
    char *slash = strrchr(path, '/');
    if (!slash || (size_t)(slash - path) + sizeof "/libkgprof.so" > len)
        return err_set(e, ERR_IO, "", "the worker's path is too long");
    strcpy(slash, "/libkgprof.so");
    return access(path, R_OK) ? err_set(e, ERR_NOTFOUND, "", "%s is missing", path) : 0;
}

int triton_metrics(struct triton *t, const char *const *names, int n, cJSON *rec, struct err *e)
{
    char lib[1024], csv[4096];
    size_t len = 0;
    csv[0] = 0;
    for (int i = 0; i < n && len < sizeof csv; i++)
        len += (size_t)snprintf(csv + len, sizeof csv - len, "%s%s", i ? "," : "", names[i]);
    cJSON *reply = NULL, *m = NULL, *d = NULL;
    const char *why = NULL;
    int rc = prof_library(lib, sizeof lib, e);
    if (rc)
        why = e->msg;
    else {
        cJSON *cmd = cJSON_CreateObject();
        cJSON_AddStringToObject(cmd, "op", "metrics");
        cJSON_AddStringToObject(cmd, "lib", lib);
        cJSON_AddStringToObject(cmd, "names", csv);
        cJSON_AddNumberToObject(cmd, "device", t->o->device);
        /* every pass is one forward; 64 passes at most */
        double limit = 30000 + 64 * t->o->launch_timeout_ms;
        rc = pyharness_call(t->py, cmd, limit, &reply, e);
        cJSON_Delete(cmd);
        if (rc) {
            fail(t, rc, "forward (metrics)", limit, e);
            cJSON_Delete(reply);
            return 1;
        }
        why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(reply, "error"));
        m = cJSON_DetachItemFromObjectCaseSensitive(reply, "metrics");
        d = cJSON_DetachItemFromObjectCaseSensitive(reply, "detail");
    }
    if (!m || !d) {
        cJSON_Delete(m);
        cJSON_Delete(d);
        m = cJSON_CreateObject();
        d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "source", "unavailable");
        cJSON_AddStringToObject(d, "reason", why ? why : "the harness returned no metrics");
    }
    cJSON_AddItemToObject(rec, "metrics", m);
    cJSON_AddItemToObject(rec, "metrics_source", cJSON_DetachItemFromObjectCaseSensitive(d, "source"));
    cJSON_AddItemToObject(rec, "metrics_detail", d);
    check(t, "metrics collected around one forward after timing; its output delivered and compared");
    cJSON_Delete(reply);
    return 0;
}

int triton_window(struct triton *t, struct err *e)
{
    cJSON *reply = NULL;
    int rc = call(t, "window", "x", t->o->launch_timeout_ms, "forward (profiler window)", &reply, e);
    cJSON_Delete(reply);
    return rc;
}

int triton_finish(struct triton *t, cJSON *rec, struct err *e)
{
    cJSON *reply = NULL;
    int rc = call(t, "finish", NULL, t->o->launch_timeout_ms, "the integrity check", &reply, e);
    if (rc)
        return rc;
    check(t, "timed calls alternated two input sets at different addresses");
    check(t, "the output of a timed call validated after the inputs were refreshed");
    check(t, "every output copied out, then poisoned with NaN in the candidate's own block");
    check(t, "each timed region ends with a device-wide synchronisation");
    if (t->side_stream_samples * 10 > t->samples) {
        char m[200];
        snprintf(m, sizeof m, "%d of %d timed samples had GPU work left after the stream's end event (other "
                 "streams): it is counted", t->side_stream_samples, t->samples);
        flag(rec, "side_stream_work", m);
    }
    const cJSON *patched = cJSON_GetObjectItemCaseSensitive(reply, "patched");
    cJSON_AddItemToObject(cJSON_GetObjectItemCaseSensitive(rec, "integrity"), "patched",
                          cJSON_Duplicate(patched, 1));
    check(t, "identity of the captured functions checked after the run");
    rc = 0;
    if (cJSON_GetArraySize(patched) > 0) {
        char list[400] = "";
        const cJSON *p;
        cJSON_ArrayForEach(p, patched) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", cJSON_GetStringValue(p));
        }
        snprintf(t->verdict, sizeof t->verdict, "integrity_violation");
        snprintf(t->message, sizeof t->message, "the candidate replaced %s: its times cannot be trusted", list);
        rc = 1;
    }
    cJSON_Delete(reply);
    return rc;
}

void triton_free(struct triton *t)
{
    if (t->x_alt)
        cu.cuMemFree(t->x_alt);
    t->x_alt = 0;
    cJSON_Delete(t->kernels);
    t->kernels = NULL;
}

int triton_check(const struct eval_opts *o, const char *python, cJSON **record)
{
    struct err e;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cJSON *rec = *record = cJSON_CreateObject(), *lint = NULL;
    cJSON_AddStringToObject(rec, "schema", "kgrade.result/1");
    cJSON_AddNullToObject(rec, "verdict");
    int rc = pyharness_lint(python, o->source, o->source_len, o->lint_policy, o->autotune_max,
                            o->compile_timeout_ms, &lint, &e);
    const char *v = "ok";
    char msg[600] = "";
    const cJSON *se = cJSON_GetObjectItemCaseSensitive(lint, "syntax_error");
    const char *lint_err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(lint, "error"));
    if (rc || lint_err) {
        v = "internal_error";
        snprintf(msg, sizeof msg, "static checker: %s", rc ? e.msg : lint_err);
        if (!rc)
            rc = ERR_INTERNAL;
    } else if (cJSON_IsObject(se)) {
        v = "syntax_error";
        snprintf(msg, sizeof msg, "line %d, column %d: %s",
                 (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(se, "line")),
                 (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(se, "col")),
                 cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(se, "message")));
    } else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(lint, "rejected"))) {
        const cJSON *f;
        v = "lint_rejected";
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(lint, "findings")) {
            const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "action"));
            if (act && !strcmp(act, "reject")) {
                snprintf(msg, sizeof msg, "line %d: %s (%s)",
                         (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(f, "line")),
                         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "message")),
                         cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f, "id")));
                break;
            }
        }
    }
    cJSON_ReplaceItemInObjectCaseSensitive(rec, "verdict", cJSON_CreateString(v));
    if (msg[0]) {
        cJSON *er = cJSON_AddObjectToObject(rec, "error");
        cJSON_AddStringToObject(er, "stage", "lint");
        cJSON_AddStringToObject(er, "message", msg);
        if (cJSON_IsObject(se))
            cJSON_AddNumberToObject(er, "line", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(se, "line")));
    }
    eval_candidate_json(o, rec);
    if (lint)
        cJSON_AddItemToObject(rec, "lint", lint);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    cJSON *st = cJSON_AddObjectToObject(rec, "stages_ms");
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    cJSON_AddNumberToObject(st, "lint", ms);
    cJSON_AddNumberToObject(st, "total", ms);
    return rc;
}
