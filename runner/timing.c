/* timing.c - the timing stage of an evaluation (see timing.h).
 *
 * The candidate, our reference and cuDNN strict FP32 and TF32 are timed in the rounds of
 * interleave.h on one input set; the speedups come from the pairs of each round. Afterwards the
 * last timed output is compared with a fresh reference output and the inputs' hash with the one
 * taken before: a candidate that is only correct while being checked is caught here. */
#include "timing.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cudnn.h"
#include "cudrv.h"
#include "interleave.h"

enum { BASE_REF, BASE_FP32, BASE_TF32, BASE_N };

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The implementations' context: the environment and the cuDNN convolutions this stage owns. */
struct run {
    const struct timing_env *t;
    struct cudnn_conv dnn[2];
};

static int prep_candidate(void *p, CUstream st, struct err *e)
{
    const struct run *v = p;
    return correct_poison(v->t->env, st, e);
}

static int run_candidate(void *p, CUstream st, struct err *e)
{
    const struct run *v = p;
    int failed;
    return launch_run(v->t->ls, st, 0, "timing", &failed, e);
}

static int run_reference(void *p, CUstream st, struct err *e)
{
    const struct run *v = p;
    const struct gpuinput_tensors *t = &v->t->env->priv;
    return gpuref_run(v->t->ref, t->x, t->w, t->b, t->y, st, e);
}

static int run_dnn(struct run *v, int i, struct err *e)
{
    const struct gpuinput_tensors *t = &v->t->env->priv;   /* no bias pointer without bias: cuDNN would add it */
    return cudnn_conv_run(&v->dnn[i], t->x, t->w, v->t->o->spec.bias ? t->b : 0, t->y, e);
}

static int run_fp32(void *p, CUstream st, struct err *e)
{
    return run_dnn(p, 0, e);
}

static int run_tf32(void *p, CUstream st, struct err *e)
{
    return run_dnn(p, 1, e);
}

static void roofline(const struct timing_env *v, cJSON *rec, double ms)
{
    struct spec_derived d;
    spec_derive(&v->o->spec, &d);
    double s = ms * 1e-3;
    double peak_flops = v->sms * 128.0 * 2.0 * v->clock_khz * 1e3;   /* FP32 lanes per SM on sm_80+ */
    double peak_bytes = 2.0 * v->mem_khz * 1e3 * v->bus_bits / 8.0;  /* double data rate */
    cJSON *j = cJSON_AddObjectToObject(rec, "roofline");
    cJSON_AddNumberToObject(j, "flops", d.flops);
    cJSON_AddNumberToObject(j, "min_bytes", d.min_bytes);
    cJSON_AddNumberToObject(j, "tflops", d.flops / s / 1e12);
    cJSON_AddNumberToObject(j, "gbytes_per_s", d.min_bytes / s / 1e9);
    cJSON_AddNumberToObject(j, "pct_of_fp32_peak", 100.0 * d.flops / s / peak_flops);
    cJSON_AddNumberToObject(j, "pct_of_dram_peak", 100.0 * d.min_bytes / s / peak_bytes);
    cJSON_AddNumberToObject(j, "fp32_peak_tflops", peak_flops / 1e12);
    cJSON_AddNumberToObject(j, "dram_peak_gbytes_per_s", peak_bytes / 1e9);
}

int timing_run(const struct timing_env *te, cJSON *rec, struct correct_outcome *oc, struct err *e)
{
    int rc = 0;
    double t0 = now_ms();
    const struct eval_opts *o = te->o;
    struct correct_env *env = te->env;
    struct run runner = {.t = te}, *v = &runner;
    struct interleave_impl im[1 + BASE_N];
    int n = 0, idx[BASE_N] = {-1, -1, -1};
    memset(im, 0, sizeof im);
    memset(oc, 0, sizeof *oc);
    oc->failed_launch = -1;
    cJSON *tj = cJSON_AddObjectToObject(rec, "timing");
    uint64_t seed = o->seed + 1000, h0 = 0, h1 = 0;
    if ((rc = correct_fill(env, seed, PORT_NORMAL, e)) || (rc = correct_input_hash(env, &h0, e)) ||
        (rc = run_reference(v, env->st, e)))
        goto out;

    if (te->remote_sample)
        im[n++] = (struct interleave_impl){.name = "candidate", .sample = te->remote_sample, .ctx = te->remote,
                                           .warmup = o->warmup};
    else
        im[n++] = (struct interleave_impl){.name = "candidate", .prep = prep_candidate, .fn = run_candidate,
                                           .ctx = v, .warmup = o->warmup};
    cJSON *bl = cJSON_AddObjectToObject(rec, "baselines");
    if (o->baselines) {
        idx[BASE_REF] = n;
        im[n++] = (struct interleave_impl){.name = "reference", .fn = run_reference, .ctx = v, .warmup = o->warmup};
        int version = 0;
        struct err de;
        struct cudnn_choice how = {o->cache_dir, te->device_name};
        bool have = cudnn_load(&version, &de) == 0;
        if (have)
            cJSON_AddNumberToObject(cJSON_GetObjectItemCaseSensitive(rec, "device"), "cudnn", version);
        for (int i = 0; i < 2; i++) {
            const char *name = i ? "cudnn_tf32" : "cudnn_fp32";
            if (have && cudnn_conv_init(&v->dnn[i], &o->spec, i == 1, env->priv.x, env->priv.w, env->priv.y, env->st,
                                        &how, &de) == 0) {
                idx[BASE_FP32 + i] = n;
                im[n++] = (struct interleave_impl){.name = name, .fn = i ? run_tf32 : run_fp32, .ctx = v,
                                                   .warmup = o->warmup};
            } else {
                cJSON *a = cJSON_AddObjectToObject(bl, name);
                cJSON_AddStringToObject(a, "absent", de.msg);
            }
        }
    }
    struct interleave_opts io = {.budget_ms = o->budget_ms, .min_samples = o->min_samples,
                                 .max_samples = o->max_samples, .target_rse = o->target_rse,
                                 .throttle_mhz = o->throttle_fraction * te->clock_khz / 1e3,
                                 .sample_timeout_ms = o->launch_timeout_ms};
    struct interleave_report rep;
    cJSON_AddNumberToObject(tj, "setup_ms", now_ms() - t0);
    if ((rc = interleave_run(te->gt, im, n, &io, &rep, e))) {
        if (rep.failed == 0) {   /* the candidate's fault */
            oc->kind = CORRECT_FAULT;
            snprintf(oc->message, sizeof oc->message, "%s", e->msg);
            rc = 0;
        }
        goto out;
    }
    if (te->remote_sample) {
        cJSON_AddStringToObject(tj, "method", "CUDA events in the candidate's process around forward, closed by a "
                                "device-wide synchronisation; L2 flushed before every sample");
        cJSON_AddStringToObject(tj, "trust", "candidate-process");
    } else {
        cJSON_AddStringToObject(tj, "method", "CUDA events around the launch sequence; L2 flushed before every sample");
        cJSON_AddStringToObject(tj, "trust", "worker-process");
    }
    cJSON_AddNumberToObject(tj, "l2_flush_bytes", (double)te->gt->flush_bytes);
    cJSON_AddNumberToObject(tj, "input_seed", (double)seed);
    cJSON_AddNumberToObject(tj, "rounds", rep.rounds);
    cJSON_AddStringToObject(tj, "stopped_by", rep.stopped_by);
    cJSON_AddNumberToObject(tj, "warmup_ms", rep.warmup_ms);
    cJSON_AddNumberToObject(tj, "wall_ms", rep.wall_ms);
    cJSON_AddNumberToObject(tj, "throttle_below_mhz", io.throttle_mhz);
    cJSON_AddItemToObject(tj, "candidate", interleave_stats_json(&im[0], rep.rounds));
    cJSON *sp = cJSON_AddObjectToObject(rec, "speedup");
    static const char *const vs[BASE_N] = {"vs_reference", "vs_cudnn_fp32", "vs_cudnn_tf32"};
    for (int b = 0; b < BASE_N; b++) {
        if (idx[b] < 0)
            continue;
        cJSON *s = interleave_stats_json(&im[idx[b]], rep.rounds);
        if (b == BASE_REF) {
            char desc[128];
            gpuref_describe(te->ref, desc, sizeof desc);
            cJSON_AddStringToObject(s, "kernel", desc);
        } else {
            cJSON_AddStringToObject(s, "algorithm", cudnn_algo_name(v->dnn[b - 1].algo));
            cJSON_AddStringToObject(s, "math", cudnn_math_name(v->dnn[b - 1].math));
            cJSON_AddStringToObject(s, "algorithm_choice", v->dnn[b - 1].choice);
        }
        cJSON_AddItemToObject(bl, im[idx[b]].name, s);
        cJSON_AddItemToObject(sp, vs[b], interleave_speedup(&im[idx[b]], &im[0], rep.rounds, o->tie_margin));
    }
    roofline(te, rec, interleave_median(&im[0], rep.rounds));

    /* the output of the last timed run, against a fresh reference output on the same inputs; a
     * remote candidate gets fresh inputs first and one more timed call on them */
    if (te->remote_last) {
        double ms;
        if ((rc = correct_fill(env, seed + 1, PORT_UNIFORM, e)) || (rc = correct_input_hash(env, &h0, e)) ||
            (rc = cu.cuStreamSynchronize(env->st) ? ERR_CUDA : 0))
            goto out;
        if ((rc = te->remote_last(te->remote, &ms, NULL, e))) {
            oc->kind = CORRECT_FAULT;
            snprintf(oc->message, sizeof oc->message, "%s", e->msg);
            rc = 0;
            goto out;
        }
    }
    struct compare_result cr;
    if ((rc = run_reference(v, env->st, e)) || (rc = correct_compare(env, o->policy, &cr, e)) ||
        (rc = correct_input_hash(env, &h1, e)))
        goto out;
    struct compare_tol tol = compare_tolerance(&o->spec, o->policy);
    cJSON_AddItemToObject(tj, "last_output", compare_to_json(&cr, tol, o->spec.dtype));
    cJSON_AddBoolToObject(tj, "inputs_unchanged", h0 == h1);
    if (h0 != h1) {
        oc->kind = CORRECT_WRONG;
        snprintf(oc->message, sizeof oc->message, "timing: the candidate modified its inputs (x, w or bias)");
    } else if (!cr.pass) {
        char why[400];
        correct_describe(&cr, &tol, why, sizeof why);
        oc->kind = CORRECT_WRONG;
        snprintf(oc->message, sizeof oc->message, "timing: the output of the last timed run is wrong: %s", why);
    }
out:
    interleave_free(im, n);
    for (int i = 0; i < 2; i++)
        cudnn_conv_free(&v->dnn[i]);
    return rc;
}

