/* bench.c — reference vs cuDNN benchmark (see bench.h).
 *
 * For each problem: inputs from the GPU generator (normal), one output buffer per implementation,
 * an untimed warm-up run of each, the relative L2 and max abs error of each cuDNN mode against our
 * reference (the measured error levels of docs/precision.md), then rounds in which every
 * implementation takes one cold-L2 sample in turn, until each has at least min_samples and a relative
 * standard error under target_rse, or the budget is spent. Interleaving spreads clock and thermal
 * drift over all implementations alike. */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cudnn.h"
#include "cudrv.h"
#include "gpuinput.h"
#include "gpuref.h"
#include "gtime.h"
#include "registry.h"
#include "stats.h"

enum { IMPL_REF, IMPL_FP32, IMPL_TF32, IMPL_N };
static const char *impl_names[IMPL_N] = {"reference", "cudnn_fp32", "cudnn_tf32"};

struct impl {
    bool on;
    char why[400];            /* why it is off */
    struct gpuref ref;
    struct cudnn_conv dnn;
    CUdeviceptr x, w, b, y;
    double *samples;
    int n;
};

static int run_impl(void *p, CUstream st, struct err *e)
{
    struct impl *im = p;
    if (im->dnn.handle)
        return cudnn_conv_run(&im->dnn, im->x, im->w, im->b, im->y, e);
    return gpuref_run(&im->ref, im->x, im->w, im->b, im->y, st, e);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int bench_one(const struct bench_opts *o, int arch, CUstream st, struct gpuinput *gi,
                     struct gtime *gt, double peak_tflops, const char *id, cJSON *out, struct err *e)
{
    int rc = 0;
    const struct registry_entry *re = registry_find(id);
    if (!re)
        return err_set(e, ERR_NOTFOUND, "problem", "unknown problem '%s'", id);
    const struct conv_spec *s = &re->spec;
    struct spec_derived d;
    spec_derive(s, &d);
    size_t sz = (size_t)d.dtype_size;
    struct gpuinput_tensors t = {0};
    struct impl im[IMPL_N];
    memset(im, 0, sizeof im);
    const int cap = 100000;

    if ((rc = gpuinput_tensors_alloc(s, false, &t, e)))
        goto out;
    if ((rc = gpuinput_fill_problem(gi, s, 0x5eedull, PORT_NORMAL, &t, st, e)))
        goto out;
    for (int i = 0; i < IMPL_N; i++) {
        im[i].x = t.x, im[i].w = t.w, im[i].b = s->bias ? t.b : 0;
        CU_CHECK(cu.cuMemAlloc(&im[i].y, (size_t)d.y_elems * sz));
        if (!(im[i].samples = malloc(cap * sizeof(double)))) {
            rc = err_set(e, ERR_NOMEM, "", "out of memory");
            goto out;
        }
    }
    if ((rc = gpuref_init(&im[IMPL_REF].ref, s, NULL, arch, o->cache_dir, e)))
        goto out;
    im[IMPL_REF].on = true;
    for (int i = IMPL_FP32; i <= IMPL_TF32; i++) {
        struct err de;
        if (cudnn_conv_init(&im[i].dnn, s, i == IMPL_TF32, t.x, t.w, im[i].y, st, NULL, &de) == 0)
            im[i].on = true;
        else
            snprintf(im[i].why, sizeof im[i].why, "%s", de.msg);
    }
    /* warm-up and correctness of the baselines against the reference */
    for (int i = 0; i < IMPL_N; i++)
        if (im[i].on && (rc = run_impl(&im[i], st, e)))
            goto out;
    CU_CHECK(cu.cuStreamSynchronize(st));

    cJSON *p = cJSON_CreateObject();
    cJSON_AddItemToArray(out, p);
    cJSON_AddStringToObject(p, "id", id);
    char desc[160];
    spec_describe(s, desc, sizeof desc);
    cJSON_AddStringToObject(p, "spec", desc);
    cJSON_AddNumberToObject(p, "gflop", d.flops / 1e9);
    gpuref_describe(&im[IMPL_REF].ref, desc, sizeof desc);
    cJSON_AddStringToObject(p, "reference_kernel", desc);
    cJSON_AddNumberToObject(p, "reference_compile_ms", im[IMPL_REF].ref.jit.compile_ms);
    cJSON_AddBoolToObject(p, "reference_compile_cached", im[IMPL_REF].ref.jit.cached);

    double t0 = now_ms();
    for (;;) {
        for (int i = 0; i < IMPL_N; i++) {
            if (!im[i].on || im[i].n >= cap)
                continue;
            if ((rc = gtime_sample(gt, NULL, run_impl, &im[i], &im[i].samples[im[i].n], NULL, e)))
                goto out;
            im[i].n++;
        }
        bool done = true;
        for (int i = 0; i < IMPL_N; i++) {
            if (!im[i].on)
                continue;
            struct stats stt;
            stats_compute(im[i].samples, im[i].n, &stt);
            if (im[i].n < o->min_samples || stt.rse > o->target_rse)
                done = false;
        }
        if (done || now_ms() - t0 > o->budget_ms)
            break;
    }
    double med[IMPL_N] = {0};
    for (int i = 0; i < IMPL_N; i++) {
        cJSON *j;
        if (!im[i].on) {
            j = cJSON_CreateObject();
            cJSON_AddStringToObject(j, "absent", im[i].why);
            cJSON_AddItemToObject(p, impl_names[i], j);
            continue;
        }
        struct stats stt;
        stats_compute(im[i].samples, im[i].n, &stt);
        med[i] = stt.median;
        j = stats_to_json(&stt);
        cJSON_AddNumberToObject(j, "tflops", d.flops / (stt.median * 1e-3) / 1e12);
        cJSON_AddNumberToObject(j, "fraction_of_fp32_peak", d.flops / (stt.median * 1e-3) / 1e12 / peak_tflops);
        if (i != IMPL_REF) {
            cJSON_AddStringToObject(j, "algorithm", cudnn_algo_name(im[i].dnn.algo));
            cJSON_AddStringToObject(j, "math", cudnn_math_name(im[i].dnn.math));
            cJSON_AddNumberToObject(j, "batch_slices", im[i].dnn.slices);
            if (s->dtype == SPEC_F32) {
                struct gpuinput_diff df;
                if ((rc = gpuinput_diff(gi, im[IMPL_REF].y, im[i].y, d.y_elems, st, &df, e)))
                    goto out;
                cJSON_AddNumberToObject(j, "rel_l2_vs_reference", df.rel_l2);
                cJSON_AddNumberToObject(j, "max_abs_vs_reference", df.max_abs);
            }
        }
        cJSON_AddItemToObject(p, impl_names[i], j);
    }
    if (med[IMPL_FP32] > 0)
        cJSON_AddNumberToObject(p, "ratio_ref_over_cudnn_fp32", med[IMPL_REF] / med[IMPL_FP32]);
    if (med[IMPL_TF32] > 0)
        cJSON_AddNumberToObject(p, "ratio_ref_over_cudnn_tf32", med[IMPL_REF] / med[IMPL_TF32]);
    fprintf(stderr, "%-8s ref %8.3f ms  cudnn-fp32 %8.3f ms  cudnn-tf32 %8.3f ms  ratio %.3f\n", id, med[IMPL_REF],
            med[IMPL_FP32], med[IMPL_TF32], med[IMPL_FP32] > 0 ? med[IMPL_REF] / med[IMPL_FP32] : 0.0);
out:
    for (int i = 0; i < IMPL_N; i++) {
        gpuref_free(&im[i].ref);
        cudnn_conv_free(&im[i].dnn);
        if (im[i].y)
            cu.cuMemFree(im[i].y);
        free(im[i].samples);
    }
    gpuinput_tensors_free(&t);
    return rc;
}

int bench_run(const struct bench_opts *o, cJSON **report, struct err *e)
{
    int rc;
    CUdevice dev;
    CUcontext ctx;
    CUstream st = NULL;
    struct gpuinput gi;
    struct gtime gt;
    memset(&gi, 0, sizeof gi);
    memset(&gt, 0, sizeof gt);
    *report = NULL;
    cJSON *probs = NULL;
    if ((rc = cudrv_open_device(o->device, &dev, &ctx, e)))
        return rc;
    int arch = 0, sms = 0, clock_khz = 0, dnn_version = 0;
    if ((rc = gpuref_device_arch(dev, &arch, e)))
        goto out;
    CU_CHECK(cu.cuDeviceGetAttribute(&sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
    CU_CHECK(cu.cuDeviceGetAttribute(&clock_khz, CU_DEVICE_ATTRIBUTE_CLOCK_RATE, dev));
    CU_CHECK(cu.cuStreamCreate(&st, CU_STREAM_NON_BLOCKING));
    if ((rc = gpuinput_init(&gi, dev, arch, o->cache_dir, e)) || (rc = gtime_init(&gt, dev, st, NULL, e)))
        goto out;
    struct err de;
    bool have_dnn = cudnn_load(&dnn_version, &de) == 0;
    /* FP32 peak: 128 FP32 lanes per SM (sm_80 and later), 2 FLOP per FMA, at the boost clock */
    double peak = sms * 128.0 * 2.0 * clock_khz * 1e3 / 1e12;

    static const char *kb[] = {"kb1-50", "kb1-55", "kb1-56", "kb1-62", "kb1-63", "kb1-80",
                               "kb1-82", "kb1-83", "kb1-84", "kb1-85", "kb1-87"};
    const char *const *ids = o->n_ids ? o->ids : kb;
    int n = o->n_ids ? o->n_ids : (int)(sizeof kb / sizeof kb[0]);
    probs = cJSON_CreateArray();
    for (int i = 0; i < n && !rc; i++)
        rc = bench_one(o, arch, st, &gi, &gt, peak, ids[i], probs, e);
    if (rc)
        goto out;
    double logsum = 0;
    int cnt = 0;
    cJSON *it;
    cJSON_ArrayForEach(it, probs) {
        cJSON *r = cJSON_GetObjectItemCaseSensitive(it, "ratio_ref_over_cudnn_fp32");
        if (cJSON_IsNumber(r)) {
            logsum += log(r->valuedouble);
            cnt++;
        }
    }
    char name[128] = "";
    cu.cuDeviceGetName(name, sizeof name, dev);
    *report = cJSON_CreateObject();
    cJSON_AddStringToObject(*report, "device", name);
    cJSON_AddNumberToObject(*report, "arch", arch);
    cJSON_AddNumberToObject(*report, "driver", cu.driver_version);
    if (have_dnn)
        cJSON_AddNumberToObject(*report, "cudnn", dnn_version);
    else
        cJSON_AddStringToObject(*report, "cudnn", de.msg);
    cJSON_AddNumberToObject(*report, "sms", sms);
    cJSON_AddNumberToObject(*report, "boost_clock_mhz", clock_khz / 1e3);
    cJSON_AddNumberToObject(*report, "fp32_peak_tflops", peak);
    cJSON_AddItemToObject(*report, "problems", probs);
    probs = NULL;
    if (cnt)
        cJSON_AddNumberToObject(*report, "geomean_ref_over_cudnn_fp32", exp(logsum / cnt));
out:
    cJSON_Delete(probs);
    gtime_free(&gt);
    gpuinput_free(&gi);
    if (st)
        cu.cuStreamDestroy(st);
    cu.cuDevicePrimaryCtxRelease(dev);
    return rc;
}
