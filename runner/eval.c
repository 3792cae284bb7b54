/* eval.c — the evaluation pipeline (see eval.h).
 *
 * DESIGN. One struct ev holds everything the evaluation owns; every stage is a function that
 * returns 0 to go on, or sets the verdict and returns non-zero to stop; eval_run frees everything
 * on one path. The record is built as the stages run, so whatever stops the evaluation — a verdict,
 * a system failure, the watchdog — finds the stages so far already written.
 *
 * The watchdog handler reads and completes the record on its own thread. That is safe because
 * the main thread arms the watchdog only around blocking GPU or NVRTC calls, after its last write
 * to the record, and the arm/disarm mutex orders those writes before the handler's reads; the
 * handler ends the process, so the main thread never resumes. */
#include "eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "candidate.h"
#include "correct.h"
#include "cudrv.h"
#include "gpucheck.h"
#include "gpuinput.h"
#include "gpuref.h"
#include "gtime.h"
#include "jit.h"
#include "launch.h"
#include "metricname.h"
#include "prof.h"
#include "timing.h"
#include "triton.h"
#include "sha256.h"
#include "watchdog.h"

#ifndef KGRADE_VERSION
#define KGRADE_VERSION "dev"
#endif

struct ev {
    const struct eval_opts *o;
    cJSON *rec, *stages;
    double t_start, t_stage;
    const char *stage;
    CUdevice dev;
    bool have_ctx;
    int arch, sms, clock_khz, mem_khz, bus_bits, optin;
    char device_name[128];
    struct candidate cand;
    CUmodule mod;
    struct launch_set ls;
    struct gpuref ref;
    struct gpuinput gi;
    struct gpucheck gc;
    struct correct_env env;
    struct gtime gt;
    struct triton tri;
    int l2;
};

void eval_opts_default(struct eval_opts *o)
{
    memset(o, 0, sizeof *o);
    o->trials = 3;
    o->exact_trial = true;
    o->policy = COMPARE_TF32;
    o->timing = true;
    o->baselines = true;
    o->budget_ms = 2000;
    o->min_samples = 10;
    o->max_samples = 10000;
    o->target_rse = 0.005;
    o->warmup = 2;
    o->throttle_fraction = 0.75;
    o->tie_margin = 0.005;
    o->launch_timeout_ms = 10000;
    o->compile_timeout_ms = 60000;
    o->max_workspace = 1ll << 30;
    o->log_cap = 64 << 10;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void stage_end(struct ev *v);

static void stage_begin(struct ev *v, const char *name)
{
    stage_end(v);
    v->stage = name;
    v->t_stage = now_ms();
}

static void stage_end(struct ev *v)
{
    if (!v->stage)
        return;
    cJSON_DeleteItemFromObjectCaseSensitive(v->stages, v->stage);
    cJSON_AddNumberToObject(v->stages, v->stage, now_ms() - v->t_stage);
    v->stage = NULL;
}

/* Set the verdict (and an error object naming the stage) unless one is set; returns 1 (stop). */
static int verdict(struct ev *v, const char *name, const char *msg, int line)
{
    if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v->rec, "verdict")))
        return 1;
    cJSON_ReplaceItemInObjectCaseSensitive(v->rec, "verdict", cJSON_CreateString(name));
    if (msg) {
        cJSON *er = cJSON_AddObjectToObject(v->rec, "error");
        cJSON_AddStringToObject(er, "stage", v->stage ? v->stage : "setup");
        cJSON_AddStringToObject(er, "message", msg);
        if (line > 0)
            cJSON_AddNumberToObject(er, "line", line);
    }
    return 1;
}

static bool verdict_is(const struct ev *v, const char *name)
{
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v->rec, "verdict"));
    return s && !strcmp(s, name);
}

static void finish(struct ev *v)
{
    stage_end(v);
    cJSON_DeleteItemFromObjectCaseSensitive(v->stages, "total");
    cJSON_AddNumberToObject(v->stages, "total", now_ms() - v->t_start);
}

static void on_timeout(void *p, const char *what, double limit_ms)
{
    struct ev *v = p;
    char msg[400];
    snprintf(msg, sizeof msg, "%s did not finish within %.0f ms (the worker's deadline)", what, limit_ms);
    verdict(v, "timeout", msg, 0);
    finish(v);
    if (v->o->emit)
        v->o->emit(v->rec);
    fflush(stdout);
    _exit(0);
}

void eval_candidate_json(const struct eval_opts *o, cJSON *rec)
{
    cJSON *c = cJSON_AddObjectToObject(rec, "candidate");
    cJSON_AddStringToObject(c, "language", o->triton ? "triton" : "cuda");
    if (o->source_name)
        cJSON_AddStringToObject(c, "file", o->source_name);
    cJSON_AddNumberToObject(c, "bytes", (double)o->source_len);
    char hex[65];
    sha256_hex(o->source, o->source_len, hex);
    cJSON_AddStringToObject(c, "sha256", hex);
    const cJSON *it;
    cJSON_ArrayForEach(it, o->ingest_info)
        if (!cJSON_GetObjectItemCaseSensitive(c, it->string))
            cJSON_AddItemToObject(c, it->string, cJSON_Duplicate(it, 1));
    if (o->prompt)
        cJSON_AddItemToObject(rec, "prompt", cJSON_Duplicate(o->prompt, 1));
}

static void record_skeleton(struct ev *v)
{
    const struct eval_opts *o = v->o;
    cJSON_AddStringToObject(v->rec, "schema", "kgrade.result/1");
    cJSON_AddNullToObject(v->rec, "verdict");   /* near the top; set once by verdict() */
    if (!o->no_problem) {
        cJSON *p = cJSON_AddObjectToObject(v->rec, "problem");
        if (o->problem_id)
            cJSON_AddStringToObject(p, "id", o->problem_id);
        cJSON_AddItemToObject(p, "spec", spec_to_json(&o->spec));
        spec_derived_to_json(&o->spec, p);
    }
    eval_candidate_json(o, v->rec);
    char hex[65];
    sha256_hex(o->source, o->source_len, hex);
    v->stages = cJSON_AddObjectToObject(v->rec, "stages_ms");
    if (o->prestart_wait_ms > 0)
        cJSON_AddNumberToObject(v->stages, "prestart_wait_ms", o->prestart_wait_ms);
    cJSON *prov = cJSON_AddObjectToObject(v->rec, "provenance");
    cJSON_AddStringToObject(prov, "worker_version", KGRADE_VERSION);
    cJSON_AddStringToObject(prov, "source_sha256", hex);
    cJSON_AddNumberToObject(prov, "seed", (double)o->seed);
    cJSON_AddNumberToObject(prov, "nvrtc", jit_nvrtc_version());
    cJSON_AddStringToObject(prov, "timer", o->triton ? "candidate-process" : "worker-process");
}

/* ---- stage: context ---- */

static int stage_context(struct ev *v)
{
    struct err e;
    CUcontext ctx;
    stage_begin(v, "context");
    int rc = cudrv_open_device(v->o->device, &v->dev, &ctx, &e);
    if (rc) {   /* no_device, or a system failure: stop with the code itself */
        verdict(v, rc == ERR_UNSUPPORTED ? "no_device" : "internal_error", e.msg, 0);
        return rc;
    }
    v->have_ctx = true;
    char *name = v->device_name;
    int major = 0, minor = 0, l2 = 0;
    size_t mem = 0;
    CUdevice d = v->dev;
    cu.cuDeviceGetName(name, sizeof v->device_name, d);
    cu.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
    cu.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
    cu.cuDeviceGetAttribute(&v->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d);
    cu.cuDeviceGetAttribute(&l2, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, d);
    v->l2 = l2;
    cu.cuDeviceGetAttribute(&v->clock_khz, CU_DEVICE_ATTRIBUTE_CLOCK_RATE, d);
    cu.cuDeviceGetAttribute(&v->mem_khz, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE, d);
    cu.cuDeviceGetAttribute(&v->bus_bits, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH, d);
    cu.cuDeviceGetAttribute(&v->optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, d);
    cu.cuDeviceTotalMem(&mem, d);
    v->arch = major * 10 + minor;
    cJSON *j = cJSON_AddObjectToObject(v->rec, "device");
    cJSON_AddNumberToObject(j, "ordinal", v->o->device);
    cJSON_AddStringToObject(j, "name", name);
    char cc[16];
    snprintf(cc, sizeof cc, "%d.%d", major, minor);
    cJSON_AddStringToObject(j, "compute_capability", cc);
    cJSON_AddNumberToObject(j, "sms", v->sms);
    cJSON_AddNumberToObject(j, "l2_bytes", l2);
    cJSON_AddNumberToObject(j, "memory_bytes", (double)mem);
    cJSON_AddNumberToObject(j, "max_sm_clock_mhz", v->clock_khz / 1e3);
    cJSON_AddNumberToObject(j, "memory_clock_mhz", v->mem_khz / 1e3);
    cJSON_AddNumberToObject(j, "memory_bus_bits", v->bus_bits);
    cJSON_AddNumberToObject(j, "driver", cu.driver_version);
    cJSON_AddNumberToObject(j, "nvrtc", jit_nvrtc_version());
    return 0;
}

/* ---- stage: compile ---- */

static int stage_compile(struct ev *v)
{
    struct err e;
    stage_begin(v, "compile");
    struct candidate_opts co = {.spec = v->o->no_problem ? NULL : &v->o->spec, .arch = v->arch, .sms = v->sms, .max_smem = v->optin,
                                .max_workspace = v->o->max_workspace,
                                .cache_dir = v->o->candidate_cache_dir ? v->o->candidate_cache_dir : v->o->cache_dir,
                                .log_cap = v->o->log_cap};
    watchdog_arm(v->o->compile_timeout_ms, "compile (NVRTC)");
    int rc = candidate_build(&v->cand, v->o->source, v->o->source_len, &co, &e);
    watchdog_disarm();
    if (v->cand.dirs || v->cand.compiled || v->cand.jit.log)
        cJSON_AddItemToObject(v->rec, "compile", candidate_compile_json(&v->cand, v->arch));
    if (v->cand.bound) {
        cJSON_AddItemToObject(v->rec, "launches", directive_plan_to_json(&v->cand.plan));
        cJSON_AddNumberToObject(v->rec, "workspace_bytes", (double)v->cand.plan.workspace_bytes);
    }
    if (v->cand.failure == CANDIDATE_DIRECTIVE)
        return verdict(v, "directive_error", e.msg, v->cand.err_line);
    if (v->cand.failure == CANDIDATE_COMPILE)
        return verdict(v, "compile_error", e.msg, v->cand.err_line);
    if (rc)
        return verdict(v, "internal_error", e.msg, 0);
    return 0;
}

/* ---- stage: load ---- */

static int alloc_problem(struct ev *v, struct err *e)
{
    const struct conv_spec *s = &v->o->spec;
    struct correct_env *env = &v->env;
    int rc;
    if ((rc = gpuinput_tensors_alloc(s, true, &env->cand, e)))
        return rc;
    /* the reference's private inputs when they fit; otherwise it shares the candidate's and runs first */
    struct err ignored;
    env->private_inputs = gpuinput_tensors_alloc(s, true, &env->priv, &ignored) == 0;
    if (!env->private_inputs) {
        if ((rc = gpuinput_tensors_alloc(s, true, &env->priv, e)))
            return rc;
        CUdeviceptr y = env->priv.y;
        env->priv.y = 0;
        gpuinput_tensors_free(&env->priv);
        env->priv = env->cand;
        env->priv.y = y;
    }
    return 0;
}

/* Our own kernels, the stream, the timer and the problem's tensors: what every candidate needs. */
static int setup(struct ev *v)
{
    struct err e;
    int rc = 0;
    const struct eval_opts *o = v->o;
    CUresult r;
    CUstream st = NULL;
    if ((r = cu.cuStreamCreate(&st, CU_STREAM_NON_BLOCKING)) != CUDA_SUCCESS) {
        cudrv_fail(&e, r, "cuStreamCreate", __FILE__, __LINE__);
        return verdict(v, "internal_error", e.msg, 0);
    }
    v->env.st = st;
    double t0 = now_ms();
    if ((rc = gpuref_init(&v->ref, &o->spec, NULL, v->arch, o->cache_dir, &e)) ||
        (rc = gpuinput_init(&v->gi, v->dev, v->arch, o->cache_dir, &e)) ||
        (rc = gpucheck_init(&v->gc, v->dev, v->arch, o->cache_dir, &e)) ||
        (rc = gtime_init(&v->gt, v->dev, st, v->gc.clock_probe, &e)))
        return verdict(v, "internal_error", e.msg, 0);
    cJSON *ref = cJSON_AddObjectToObject(v->rec, "reference");
    char desc[128];
    gpuref_describe(&v->ref, desc, sizeof desc);
    cJSON_AddStringToObject(ref, "kernel", desc);
    cJSON_AddBoolToObject(ref, "compile_cached", v->ref.jit.cached);
    cJSON_AddNumberToObject(ref, "setup_ms", now_ms() - t0);

    struct correct_env *env = &v->env;
    env->spec = &o->spec;
    env->gi = &v->gi;
    env->gc = &v->gc;
    env->ref = &v->ref;
    env->ls = &v->ls;
    env->launch_timeout_ms = o->launch_timeout_ms;
    if (getrandom(&env->hash_key, sizeof env->hash_key, 0) != sizeof env->hash_key)
        env->hash_key = (uint64_t)now_ms() * 0x9e3779b97f4a7c15ull;
    if ((rc = alloc_problem(v, &e))) {
        if (rc == ERR_CUDA && strstr(e.msg, "OUT_OF_MEMORY"))
            return verdict(v, "resource_error", "the problem's tensors do not fit in the GPU's memory", 0);
        return verdict(v, "internal_error", e.msg, 0);
    }
    return 0;
}

static int stage_load(struct ev *v)
{
    struct err e;
    int rc = 0;
    stage_begin(v, "load");
    const struct eval_opts *o = v->o;
    struct correct_env *env = &v->env;
    CUresult r = cu.cuModuleLoadData(&v->mod, v->cand.jit.image);
    if (r != CUDA_SUCCESS) {
        cudrv_fail(&e, r, "cuModuleLoadData", __FILE__, __LINE__);
        return verdict(v, "runtime_error", e.msg, 0);
    }
    int line = 0;
    if ((rc = launch_prepare(&v->ls, v->mod, v->dev, &v->cand.plan, (const char(*)[DIRECTIVE_MAX_KERNEL + 1])v->cand.symbols,
                             &line, &e)))
        return verdict(v, rc == ERR_CUDA ? "internal_error" : "directive_error", e.msg, line);
    cJSON_ReplaceItemInObjectCaseSensitive(v->rec, "launches", launch_to_json(&v->ls));
    if ((rc = setup(v)))
        return rc;
    env->ws_bytes = (size_t)v->cand.plan.workspace_bytes;
    if (env->ws_bytes && (r = cu.cuMemAlloc(&env->ws, env->ws_bytes)) != CUDA_SUCCESS) {
        char m[200];
        snprintf(m, sizeof m, "line %d: a workspace of %zu bytes cannot be allocated on this GPU",
                 v->cand.plan.workspace_line, env->ws_bytes);
        return verdict(v, r == CUDA_ERROR_OUT_OF_MEMORY ? "resource_error" : "internal_error", m,
                       v->cand.plan.workspace_line);
    }
    launch_bind(&v->ls, env->cand.x, env->cand.w, o->spec.bias ? env->cand.b : 0, env->cand.y, env->ws);
    return 0;
}

/* ---- Triton: load, diagnosis, integrity ---- */

/* The verdict a failed harness call stands for, with the candidate's traceback. */
static int triton_verdict(struct ev *v)
{
    verdict(v, v->tri.verdict[0] ? v->tri.verdict : "runtime_error", v->tri.message, 0);
    cJSON *er = cJSON_GetObjectItemCaseSensitive(v->rec, "error");
    if (er && v->tri.traceback[0])
        cJSON_AddStringToObject(er, "traceback", v->tri.traceback);
    return 1;
}

static int stage_triton_load(struct ev *v)
{
    struct err e;
    stage_begin(v, "load");
    int rc = setup(v);
    if (rc)
        return rc;
    v->tri = (struct triton){.py = v->o->py, .o = v->o, .env = &v->env, .tail_ms = -1};
    v->env.run = triton_run;
    v->env.run_ctx = &v->tri;
    watchdog_arm(v->o->compile_timeout_ms * 2 + 10000, "loading the candidate in python3");
    rc = triton_load(&v->tri, v->l2, v->rec, &e);
    watchdog_disarm();
    if (rc < 0)
        return verdict(v, rc == ERR_CUDA && strstr(e.msg, "OUT_OF_MEMORY") ? "resource_error" : "internal_error",
                       e.msg, 0);
    return rc ? triton_verdict(v) : 0;
}

static int stage_triton_diagnose(struct ev *v)
{
    struct err e;
    stage_begin(v, "diagnose");
    return triton_diagnose(&v->tri, v->rec, &e) ? triton_verdict(v) : 0;
}

static int stage_triton_finish(struct ev *v)
{
    struct err e;
    stage_begin(v, "integrity");
    return triton_finish(&v->tri, v->rec, &e) ? triton_verdict(v) : 0;
}

/* ---- stage: correctness ---- */

static int stage_correctness(struct ev *v)
{
    struct err e;
    stage_begin(v, "correctness");
    struct correct_opts co = {.seed = v->o->seed, .trials = v->o->trials, .exact = v->o->exact_trial,
                              .policy = v->o->policy};
    struct correct_outcome oc;
    cJSON *c = cJSON_AddObjectToObject(v->rec, "correctness");
    int rc = correct_run(&v->env, &co, c, &oc, &e);
    if (rc)
        return verdict(v, "internal_error", e.msg, 0);
    if (oc.kind == CORRECT_FAULT && v->o->triton)
        return triton_verdict(v);
    if (oc.kind == CORRECT_FAULT) {
        int line = oc.failed_launch >= 0 ? v->cand.plan.launch[oc.failed_launch].line : 0;
        return verdict(v, "runtime_error", oc.message, line);
    }
    /* coverage: launch geometry against the output size, and whether any output stayed NaN */
    struct spec_derived d;
    spec_derive(&v->o->spec, &d);
    double most = 0;
    for (int i = 0; i < v->cand.plan.nlaunch; i++) {
        const struct directive_launch_plan *lp = &v->cand.plan.launch[i];
        double t = (double)lp->grid[0] * lp->grid[1] * lp->grid[2] * lp->block[0] * lp->block[1] * lp->block[2];
        most = t > most ? t : most;
    }
    bool written = true;
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(c, "trials"))
        written &= cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
                       cJSON_GetObjectItemCaseSensitive(t, "comparison"), "nonfinite")) == 0;
    cJSON *cov = cJSON_AddObjectToObject(v->rec, "output_coverage");
    cJSON_AddNumberToObject(cov, "outputs", (double)d.y_elems);
    if (!v->o->triton) {
        cJSON_AddNumberToObject(cov, "threads_of_largest_launch", most);
        cJSON_AddNumberToObject(cov, "threads_per_output", most / (double)d.y_elems);
    }
    cJSON_AddBoolToObject(cov, "every_output_written", written);
    if (oc.kind == CORRECT_WRONG)
        return verdict(v, "wrong_answer", oc.message, 0);
    return 0;
}

/* ---- stage: timing ---- */

static int stage_timing(struct ev *v)
{
    struct err e;
    struct correct_outcome oc;
    stage_begin(v, "timing");
    struct timing_env t = {.env = &v->env, .ref = &v->ref, .ls = &v->ls, .gt = &v->gt, .o = v->o, .sms = v->sms,
                           .clock_khz = v->clock_khz, .mem_khz = v->mem_khz, .bus_bits = v->bus_bits,
                           .device_name = v->device_name};
    if (v->o->triton)
        t.remote_sample = triton_sample, t.remote_last = triton_sample_last, t.remote = &v->tri;
    if (timing_run(&t, v->rec, &oc, &e))
        return verdict(v, "internal_error", e.msg, 0);
    if (oc.kind == CORRECT_FAULT && v->o->triton)
        return triton_verdict(v);
    if (oc.kind == CORRECT_FAULT)
        return verdict(v, "runtime_error", oc.message, 0);
    if (oc.kind == CORRECT_WRONG)
        return verdict(v, "wrong_answer", oc.message, 0);
    return 0;
}

/* ---- stage: metrics ---- */

/* The candidate's forward as the worker runs it, with its output poisoned before each pass. */
static int metrics_restore(void *arg, struct err *e)
{
    struct ev *v = arg;
    return correct_poison(&v->env, v->env.st, e);
}

static int metrics_candidate(void *arg, struct err *e)
{
    struct ev *v = arg;
    int failed, rc = launch_run(&v->ls, v->env.st, 0, "metrics", &failed, e);
    CU_CHECK(cu.cuStreamSynchronize(v->env.st));
out:
    return rc;
}

static int metrics_reference(void *arg, struct err *e)
{
    struct ev *v = arg;
    const struct gpuinput_tensors *p = &v->env.priv;
    int rc = gpuref_run(&v->ref, p->x, p->w, p->b, p->y, v->env.st, e);
    CU_CHECK(cu.cuStreamSynchronize(v->env.st));
out:
    return rc;
}

/* Collect for forward into rec[key] (and, for the candidate, metrics_source and metrics_detail). */
static void metrics_collect(struct ev *v, const char *const *names, int n, prof_fn restore, prof_fn forward,
                            const char *key, bool candidate)
{
    struct err e;
    cJSON *m = NULL, *d = NULL;
    CUcontext ctx = NULL;
    cu.cuCtxGetCurrent(&ctx);
    struct prof_request r = {.ctx = ctx, .device = v->o->device, .names = names, .n = n, .restore = restore,
                             .forward = forward, .arg = v};
    if (prof_collect(&r, &m, &d, &e)) {
        m = cJSON_CreateObject();
        d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "source", "unavailable");
        cJSON_AddStringToObject(d, "reason", e.msg);
    }
    cJSON_AddItemToObject(v->rec, key, m);
    if (!candidate) {
        cJSON_AddItemToObject(v->rec, "reference_metrics_detail", d);
        return;
    }
    cJSON *src = cJSON_DetachItemFromObjectCaseSensitive(d, "source");
    cJSON_AddItemToObject(v->rec, "metrics_source", src);
    cJSON_AddItemToObject(v->rec, "metrics_detail", d);
}

/* A forward replayed for its counters must leave the output it would leave without them. */
static void metrics_output_check(struct ev *v)
{
    struct err e;
    struct compare_result cr;
    cJSON *d = cJSON_GetObjectItemCaseSensitive(v->rec, "metrics_detail");
    if (!d || cu.cuStreamSynchronize(v->env.st) != CUDA_SUCCESS)
        return;
    if (correct_compare(&v->env, v->o->policy, &cr, &e))
        cJSON_AddStringToObject(d, "output_after", e.msg);
    else
        cJSON_AddStringToObject(d, "output_after", cr.pass ? "matches the reference" : "differs from the reference");
}

/* --metrics external: one forward of the candidate and one of the reference between
 * cuProfilerStart and cuProfilerStop, for a profiler of one's own (ncu --profile-from-start off). */
static int stage_profile_window(struct ev *v)
{
    struct err er, *e = &er;
    int rc = 0;
    stage_begin(v, "metrics");
    CU_CHECK(cu.cuStreamSynchronize(v->env.st));
    if (v->o->triton) {
        if (triton_window(&v->tri, e))
            return triton_verdict(v);
    } else {
        if ((rc = metrics_restore(v, e)))
            goto out;
        CU_CHECK(cu.cuStreamSynchronize(v->env.st));
        CU_CHECK(cu.cuProfilerStart());
        rc = metrics_candidate(v, e);
        CU_CHECK(cu.cuProfilerStop());
        if (rc)
            goto out;
    }
    CU_CHECK(cu.cuProfilerStart());
    rc = metrics_reference(v, e);
    CU_CHECK(cu.cuProfilerStop());
out:
    cJSON_AddStringToObject(v->rec, "metrics_source", "external");
    if (rc)
        cJSON_AddStringToObject(cJSON_AddObjectToObject(v->rec, "metrics_detail"), "reason", e->msg);
    return 0;
}

static int stage_metrics(struct ev *v, const char *const *names, int n)
{
    stage_begin(v, "metrics");
    watchdog_arm(120000 + 64 * v->o->launch_timeout_ms, "collecting metrics");
    if (v->o->triton) {
        struct err e;
        if (triton_metrics(&v->tri, names, n, v->rec, &e)) {
            watchdog_disarm();
            return triton_verdict(v);
        }
    } else
        metrics_collect(v, names, n, metrics_restore, metrics_candidate, "metrics", true);
    metrics_output_check(v);
    metrics_collect(v, names, n, NULL, metrics_reference, "reference_metrics", false);
    watchdog_disarm();
    return 0;
}

static void release(struct ev *v)
{
    prof_release();
    triton_free(&v->tri);
    gtime_free(&v->gt);
    struct correct_env *env = &v->env;
    if (env->ws)
        cu.cuMemFree(env->ws);
    if (!env->private_inputs)
        env->priv.x = env->priv.w = env->priv.b = 0;   /* aliases of the candidate's */
    gpuinput_tensors_free(&env->priv);
    gpuinput_tensors_free(&env->cand);
    gpucheck_free(&v->gc);
    gpuinput_free(&v->gi);
    gpuref_free(&v->ref);
    if (v->mod)
        cu.cuModuleUnload(v->mod);
    if (env->st)
        cu.cuStreamDestroy(env->st);
    candidate_free(&v->cand);
    if (v->have_ctx)
        cu.cuDevicePrimaryCtxRelease(v->dev);
}

/* The evaluation's fixed options (a seed drawn when none was given) and the record's skeleton. */
static int begin(struct ev *v, struct eval_opts *o, const struct eval_opts *opts)
{
    *o = *opts;
    memset(v, 0, sizeof *v);
    v->o = o;
    v->t_start = now_ms();
    if (!o->seed_given && getrandom(&o->seed, sizeof o->seed, 0) != sizeof o->seed)
        o->seed = (uint64_t)(now_ms() * 1e3);
    o->seed &= (1u << 30) - 1;   /* 30 bits: every derived seed prints as a JSON integer */
    if (!(v->rec = cJSON_CreateObject()))
        return ERR_NOMEM;
    record_skeleton(v);
    return 0;
}

int eval_compile(const struct eval_opts *opts, int arch, cJSON **record)
{
    static struct ev v;
    struct eval_opts o;
    struct err e;
    if (begin(&v, &o, opts))
        return ERR_NOMEM;
    v.arch = arch;
    int rc = watchdog_start(on_timeout, &v, &e);
    if (rc)
        verdict(&v, "internal_error", e.msg, 0);
    else if (!stage_compile(&v))
        verdict(&v, "ok", NULL, 0);
    watchdog_stop();
    finish(&v);
    if (!rc && verdict_is(&v, "internal_error"))
        rc = ERR_INTERNAL;
    candidate_free(&v.cand);
    *record = v.rec;
    return rc;
}

int eval_run(const struct eval_opts *opts, cJSON **record)
{
    static struct ev v;   /* static: the watchdog handler may read it after eval_run's frame is gone */
    struct eval_opts o;
    struct err e;
    int rc = 0;
    if (begin(&v, &o, opts))
        return ERR_NOMEM;
    if (watchdog_start(on_timeout, &v, &e)) {
        verdict(&v, "internal_error", e.msg, 0);
        rc = ERR_INTERNAL;
        goto out;
    }
    int stop = stage_context(&v);
    if (stop < 0)
        rc = stop;   /* no_device or a system failure */
    if (!stop && o.triton)
        stop = stage_triton_load(&v);
    if (!stop && !o.triton)
        stop = stage_compile(&v);
    if (!stop && !o.triton)
        stop = stage_load(&v);
    if (!stop)
        stop = stage_correctness(&v);
    if (!stop && o.triton)
        stop = stage_triton_diagnose(&v);
    if (!stop && o.timing)
        stop = stage_timing(&v);
    static struct metricname_list names;   /* static: 8 KiB of names */
    names.n = 0;
    if (!stop && o.metrics && !strcmp(o.metrics, "external"))
        stop = stage_profile_window(&v);
    else if (!stop && metricname_parse_list(o.metrics, &names, &e))
        stop = verdict(&v, "internal_error", e.msg, 0);
    if (!stop && names.n > 0)
        stop = stage_metrics(&v, names.names, (int)names.n);
    if (!stop && o.triton)
        stop = stage_triton_finish(&v);
    if (!stop)
        verdict(&v, "ok", NULL, 0);
    watchdog_stop();
out:
    finish(&v);
    if (!rc && verdict_is(&v, "internal_error"))
        rc = ERR_INTERNAL;
    release(&v);
    *record = v.rec;
    return rc;
}
