/* prof_session — what CUPTI's session costs a collection, and what keeping it would cost timing.
 *
 * The metrics stage pays a fixed cost (docs/benchmarks.md, "Cost"). This program takes
 * it apart on one short kernel of our own, in one process, with the collector the worker uses
 * (prof.c) and the default metric list:
 *   1. the kernel timed with events, and the host cost of one launch (a burst of tiny launches),
 *      before CUPTI is loaded;
 *   2. a collection on a fresh session, then prof_release: the timing probe again;
 *   3. a second fresh collection (what survives a release), kept: the probe with the session alive;
 *   4. a third collection on the kept session (a warm one), released.
 * It prints one line per collection (setup, first pass, cost) and one per timing probe. A benchmark,
 * run by tests/gpu/run.sh: exit 1 when a collection had no counters or CUDA failed, 77 without a
 * GPU. (That a kept session's values are right is checked against ncu by tests/gpu/metrics.py: the
 * worker collects our reference on the session the candidate's collection set up.) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cudrv.h"
#include "jit.h"
#include "metricname.h"
#include "prof.h"

#define THREADS 256
#define BLOCKS 1024
#define BUSY_ITERS 20000   /* about 0.2 ms on an H200 */

static const char busy_src[] =
    "extern \"C\" __global__ void busy(float *y, int iters)\n"
    "{\n"
    "    int i = blockIdx.x * blockDim.x + threadIdx.x;\n"
    "    float a = y[i];\n"
    "    for (int k = 0; k < iters; k++)\n"
    "        a = a * 1.0001f + 0.5f;\n"
    "    y[i] = a;\n"
    "}\n";

struct busy {
    CUfunction f;
    CUdeviceptr y;
    int iters;
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static CUresult launch(struct busy *b)
{
    void *args[] = {&b->y, &b->iters};
    return cu.cuLaunchKernel(b->f, BLOCKS, 1, 1, THREADS, 1, 1, 0, NULL, args, NULL);
}

static int restore(void *arg, struct err *e)
{
    struct busy *b = arg;
    int rc = 0;
    CU_CHECK(cu.cuMemsetD8(b->y, 0, sizeof(float) * BLOCKS * THREADS));
out:
    return rc;
}

static int forward(void *arg, struct err *e)
{
    struct busy *b = arg;
    int rc = 0;
    CU_CHECK(launch(b));
    CU_CHECK(cu.cuStreamSynchronize(NULL));
out:
    return rc;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The kernel's median time over 31 event-timed launches, and the host time of one launch in a
 * burst of 2000 one-iteration launches. */
static int probe(struct busy *b, const char *when, struct err *e)
{
    int rc = 0;
    CUevent a = NULL, z = NULL;
    float ms[31];
    CU_CHECK(cu.cuEventCreate(&a, 0));
    CU_CHECK(cu.cuEventCreate(&z, 0));
    for (int i = 0; i < 31; i++) {
        CU_CHECK(cu.cuEventRecord(a, NULL));
        CU_CHECK(launch(b));
        CU_CHECK(cu.cuEventRecord(z, NULL));
        CU_CHECK(cu.cuEventSynchronize(z));
        CU_CHECK(cu.cuEventElapsedTime(&ms[i], a, z));
    }
    qsort(ms, 31, sizeof *ms, cmp_float);
    b->iters = 1;
    double t0 = now_ms();
    for (int i = 0; i < 2000; i++)
        CU_CHECK(launch(b));
    double burst_us = (now_ms() - t0) / 2000 * 1e3;
    CU_CHECK(cu.cuStreamSynchronize(NULL));
    printf("timing  %-34s kernel median %.4f ms (min %.4f)  one launch %.2f us\n", when, ms[15], ms[0], burst_us);
out:
    b->iters = BUSY_ITERS;
    if (a)
        cu.cuEventDestroy(a);
    if (z)
        cu.cuEventDestroy(z);
    return rc;
}

static double num(const cJSON *o, const char *path0, const char *path1)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, path0);
    if (path1)
        x = cJSON_GetObjectItemCaseSensitive(x, path1);
    return cJSON_IsNumber(x) ? x->valuedouble : NAN;
}

/* One collection and its line: 0, 1 without counters, or a negative ERR_* (e says why). */
static int collect(struct busy *b, CUcontext ctx, const char *what, struct err *e)
{
    struct prof_request r = {.ctx = ctx, .device = 0, .names = (const char *const *)metricname_default,
                             .n = (int)metricname_default_count, .restore = restore, .forward = forward, .arg = b};
    cJSON *m = NULL, *d = NULL;
    double t0 = now_ms();
    int rc = prof_collect(&r, &m, &d, e);
    if (rc)
        return rc;
    double wall = now_ms() - t0;
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(d, "source");
    const cJSON *pass = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(d, "cost_breakdown_ms"),
                                                         "each_pass");
    int ok = cJSON_IsString(src) && !strcmp(src->valuestring, "cupti");
    printf("collect %-34s %s, %d passes, setup %.1f ms (CUPTI init %.1f), first pass %.1f, second %.1f, last %.1f, "
           "cost %.1f ms (wall %.1f)\n", what, ok ? "cupti" : "UNAVAILABLE", (int)num(d, "passes", NULL),
           num(d, "cost_breakdown_ms", "setup"),
           num(cJSON_GetObjectItemCaseSensitive(d, "cost_breakdown_ms"), "setup_steps", "cupti_init"),
           cJSON_GetArraySize(pass) > 0 ? cJSON_GetArrayItem(pass, 0)->valuedouble : NAN,
           cJSON_GetArraySize(pass) > 1 ? cJSON_GetArrayItem(pass, 1)->valuedouble : NAN,
           cJSON_GetArraySize(pass) > 0 ? cJSON_GetArrayItem(pass, cJSON_GetArraySize(pass) - 1)->valuedouble : NAN,
           num(d, "cost_ms", NULL), wall);
    if (!ok)
        printf("        reason: %s\n", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "reason")));
    cJSON_Delete(m);
    cJSON_Delete(d);
    return ok ? 0 : 1;
}

/* The program, in order: timing probes, collections, and where the session is released. */
enum step { PROBE, COLLECT, RELEASE };
static const struct {
    enum step step;
    const char *what;
} steps[] = {
    {PROBE, "before CUPTI is loaded"},  {COLLECT, "1: fresh session, released"}, {RELEASE, NULL},
    {PROBE, "after a released session"}, {COLLECT, "2: fresh session again, kept"},
    {PROBE, "with the session kept"},    {COLLECT, "3: on the kept session"},     {RELEASE, NULL},
};

int main(void)
{
    struct err er, *e = &er;
    err_clear(e);
    int rc = 0, attr_major = 0, attr_minor = 0, bad = 0;
    CUdevice dev;
    CUcontext ctx;
    struct jit_result jr = {0};
    struct busy b = {.iters = BUSY_ITERS};
    CUmodule mod = NULL;
    struct jit_program p = {.name = "busy.cu", .source = busy_src};
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cudrv_load(e) || cudrv_open_device(0, &dev, &ctx, e)) {
        printf("no GPU: %s\n", e->msg);
        return 77;
    }
    CU_CHECK(cu.cuDeviceGetAttribute(&attr_major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
    CU_CHECK(cu.cuDeviceGetAttribute(&attr_minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev));
    if ((rc = jit_compile(&p, attr_major * 10 + attr_minor, NULL, 1 << 16, &jr, e)))
        goto out;
    CU_CHECK(cu.cuModuleLoadData(&mod, jr.image));
    CU_CHECK(cu.cuModuleGetFunction(&b.f, mod, "busy"));
    CU_CHECK(cu.cuMemAlloc(&b.y, sizeof(float) * BLOCKS * THREADS));
    CU_CHECK(cu.cuMemsetD8(b.y, 0, sizeof(float) * BLOCKS * THREADS));
    CU_CHECK(launch(&b));   /* the module's first launch, outside every measurement */
    CU_CHECK(cu.cuStreamSynchronize(NULL));

    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        if (steps[i].step == PROBE)
            rc = probe(&b, steps[i].what, e);
        else if (steps[i].step == COLLECT && (rc = collect(&b, ctx, steps[i].what, e)) > 0)
            bad = 1, rc = 0;
        else if (steps[i].step == RELEASE)
            prof_release();
        if (rc)
            goto out;
    }
    if (bad)
        printf("FAIL a collection had no counters\n");
    rc = bad;
out:
    if (rc < 0) {
        printf("FAIL %s\n", e->msg);
        rc = 1;
    }
    if (b.y)
        cu.cuMemFree(b.y);
    if (mod)
        cu.cuModuleUnload(mod);
    jit_result_free(&jr);
    return rc;
}
