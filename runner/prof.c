/* prof.c — per-kernel metrics of one forward with CUPTI's range profiler (see prof.h).
 *
 * DESIGN
 *   setup     cuptiProfilerInitialize; DeviceSupported (a refusal names its cause: vGPU,
 *             confidential computing, WSL, ...); the chip's name; the counter-availability image;
 *             the profiler host's configuration image for the counter names and its pass count;
 *             cuptiRangeProfilerEnable on the forward's context (privileges are checked here);
 *             a counter-data image with room for two ranges per launch; SetConfig with
 *             CUPTI_AutoRange + CUPTI_UserReplay. All of it once per process (the session), kept
 *             for later collections with the same counters.
 *   passes    until Stop says every pass was submitted: restore(), Start, forward() with the
 *             callbacks armed, Stop. The callback (driver API, launch entry) counts the forward's
 *             launches and, before launch k (< PROF_MAX_LAUNCHES), launches the L2 evictor on the
 *             launch's stream. Auto ranges make every kernel a range of its own, bounded by the
 *             kernel itself, so launch k is range 2k+1 of the pass (the evictor's is 2k). Pass 0
 *             records each launch (name, function, grid, block, dynamic shared memory); a later
 *             pass that launches a different number of kernels is an error (the forward is not
 *             replayable).
 *   evictor   a PTX kernel that reads a zeroed buffer of twice the L2's size with 16-byte loads.
 *             Reading (not writing) leaves L2 full of clean lines of ours, so the profiled kernel
 *             finds nothing of its own and its misses cause no write-backs of ours: what a cache
 *             flush leaves. Its own range is skipped.
 *   decode    DecodeData, then the values of each launch's range with EvaluateToGpuValues.
 *   launch    the launch__* values of each recorded launch (launchstat.h).
 *   degrade   any CUPTI failure before the passes (privileges, an unsupported device) leaves the
 *             counters null and detail.reason set; the forward then runs once under the callbacks
 *             alone, for the launch values. Without callbacks (another profiler subscribed) there
 *             are no launches to describe: metrics is empty and the reason says so.
 *
 * All state the callbacks touch is in `S` (one collection per process at a time). */
#include "prof.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cudrv.h"
#include "cupti.h"
#include "kname.h"
#include "launchstat.h"
#include "metricname.h"

/* The parameter blocks CUPTI hands the callbacks: the launch functions' arguments in order (as
 * generated_cuda_meta.h declares them; that header needs the driver's internal typedefs). */
struct params_launch {      /* cuLaunchKernel(_ptsz), cuLaunchCooperativeKernel(_ptsz) */
    CUfunction f;
    unsigned gx, gy, gz, bx, by, bz, smem;
    CUstream st;
};
struct params_launch_ex {   /* cuLaunchKernelEx(_ptsz) */
    const CUlaunchConfig *config;
    CUfunction f;
};

/* Ranges per pass: each profiled launch and the evictor before it. */
#define MAX_RANGES (2 * PROF_MAX_LAUNCHES + 2)

struct launch {
    char name[128];
    CUfunction f;
    unsigned grid[3], block[3], smem;
};

static struct {
    int armed, counters, in_evict;
    int nranges;                        /* kernels of this pass so far, the evictor's included */
    double pass_ms[PROF_MAX_PASSES];
    int range_of[PROF_MAX_LAUNCHES];    /* launch k's range (its index in execution order) */
    int nlaunch;                        /* launches seen in the current pass */
    int recorded;                       /* launches recorded in pass 0 */
    int pass;
    struct launch l[PROF_MAX_LAUNCHES];
    CUpti_RangeProfiler_Object *obj;
    CUfunction evict;
    CUdeviceptr evict_buf;
    size_t evict_vecs;                  /* 16-byte vectors in evict_buf */
    int cb_failed;
    char cb_err[200];
} S;

static const char evict_ptx[] =
    ".version 7.0\n.target sm_50\n.address_size 64\n"
    ".visible .entry kgprof_evict(.param .u64 p_buf, .param .u64 p_n)\n{\n"
    "  .reg .pred %p<3>;\n  .reg .b32 %r<12>;\n  .reg .b64 %rd<12>;\n"
    "  ld.param.u64 %rd1, [p_buf];\n  ld.param.u64 %rd2, [p_n];\n"
    "  cvta.to.global.u64 %rd1, %rd1;\n"
    "  mov.u32 %r1, %ctaid.x;\n  mov.u32 %r2, %ntid.x;\n  mov.u32 %r3, %tid.x;\n  mov.u32 %r4, %nctaid.x;\n"
    "  mul.wide.u32 %rd4, %r1, %r2;\n  cvt.u64.u32 %rd5, %r3;\n  add.u64 %rd4, %rd4, %rd5;\n"
    "  mul.wide.u32 %rd6, %r4, %r2;\n  mov.u32 %r5, 0;\n"
    "LOOP:\n  setp.ge.u64 %p1, %rd4, %rd2;\n  @%p1 bra DONE;\n"
    "  shl.b64 %rd7, %rd4, 4;\n  add.u64 %rd8, %rd1, %rd7;\n"
    "  ld.global.v4.u32 {%r6, %r7, %r8, %r9}, [%rd8];\n"
    "  xor.b32 %r5, %r5, %r6;\n  xor.b32 %r5, %r5, %r7;\n  xor.b32 %r5, %r5, %r8;\n  xor.b32 %r5, %r5, %r9;\n"
    "  add.u64 %rd4, %rd4, %rd6;\n  bra LOOP;\n"
    "DONE:\n  setp.ne.u32 %p2, %r5, 2143354862;\n  @%p2 bra END;\n"
    "  st.global.u32 [%rd1], %r5;\n"   /* never taken: the buffer is zero; keeps the loads alive */
    "END:\n  ret;\n}\n";

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- callbacks ---- */

static void evict_l2(CUstream st)
{
    if (!S.evict)
        return;
    void *args[] = {&S.evict_buf, &S.evict_vecs};
    S.in_evict = 1;
    CUresult rc = cu.cuLaunchKernel(S.evict, 264, 1, 1, 512, 1, 1, 0, st, args, NULL);
    S.in_evict = 0;
    if (rc != CUDA_SUCCESS && !S.cb_failed) {
        S.cb_failed = 1;
        snprintf(S.cb_err, sizeof S.cb_err, "the L2 evictor's launch failed (CUresult %d)", (int)rc);
    }
}

static void CUPTIAPI on_launch(void *ud, CUpti_CallbackDomain dom, CUpti_CallbackId cbid, const void *data)
{
    (void)ud, (void)dom;
    const CUpti_CallbackData *cd = data;
    if (!S.armed || S.in_evict)
        return;
    if (cd->callbackSite != CUPTI_API_ENTER)
        return;
    struct launch l = {.f = NULL};
    CUstream st = NULL;
    const void *p = cd->functionParams;
    switch (cbid) {
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz: {
        const struct params_launch *k = p;
        l = (struct launch){.f = k->f, .grid = {k->gx, k->gy, k->gz}, .block = {k->bx, k->by, k->bz},
                            .smem = k->smem};
        st = k->st;
        break;
    }
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx:
    case CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz: {
        const struct params_launch_ex *k = p;
        const CUlaunchConfig *c = k->config;
        l = (struct launch){.f = k->f, .grid = {c->gridDimX, c->gridDimY, c->gridDimZ},
                            .block = {c->blockDimX, c->blockDimY, c->blockDimZ}, .smem = c->sharedMemBytes};
        st = c->hStream;
        break;
    }
    default:
        return;
    }
    int k = S.nlaunch++;
    if (k >= PROF_MAX_LAUNCHES)
        return;
    if (S.pass == 0) {
        kname_readable(cd->symbolName, l.name, sizeof l.name);
        S.l[k] = l;
        S.recorded = k + 1;
    }
    if (!S.counters)
        return;
    /* auto ranges: every kernel is a range, ours too, in execution order */
    evict_l2(st);
    S.nranges++;
    if (S.pass == 0)
        S.range_of[k] = S.nranges;
    S.nranges++;
}

/* ---- CUPTI session: set up once per process, armed for each collection ---- */

struct session {
    int tried, ok;                      /* set up (ok) or failed for good (why) */
    struct err why;
    char key[4096];                     /* the context and the counter names, comma-joined */
    char names[4096];                   /* the counter names, split: counters[] point here */
    CUcontext ctx;
    const char *counters[PROF_MAX_NAMES];
    int ncounters;
    CUpti_Profiler_Host_Object *host;
    uint8_t *config, *avail, *data;
    size_t config_size, data_size, passes;
    char chip[64];
    int initialized, enabled;
    CUpti_SubscriberHandle sub;
    CUmodule mod;                       /* the L2 evictor */
    double t[5];                        /* when setup steps ended: init, host, enable, evictor */
};

static struct session SS;

static void session_end(void)
{
    struct session *s = &SS;
    if (s->enabled) {
        CUpti_RangeProfiler_Disable_Params p = {.structSize = CUpti_RangeProfiler_Disable_Params_STRUCT_SIZE};
        p.pRangeProfilerObject = S.obj;
        cupti.cuptiRangeProfilerDisable(&p);
    }
    if (s->host) {
        CUpti_Profiler_Host_Deinitialize_Params p = {.structSize = CUpti_Profiler_Host_Deinitialize_Params_STRUCT_SIZE};
        p.pHostObject = s->host;
        cupti.cuptiProfilerHostDeinitialize(&p);
    }
    if (s->initialized) {
        CUpti_Profiler_DeInitialize_Params p = {.structSize = CUpti_Profiler_DeInitialize_Params_STRUCT_SIZE};
        cupti.cuptiProfilerDeInitialize(&p);
    }
    if (s->sub)
        cupti.cuptiUnsubscribe(s->sub);
    if (S.evict_buf)
        cu.cuMemFree(S.evict_buf);
    if (s->mod)
        cu.cuModuleUnload(s->mod);
    free(s->config);
    free(s->avail);
    free(s->data);
    memset(s, 0, sizeof *s);
    S.obj = NULL;
    S.evict = NULL;
    S.evict_buf = 0;
}

void prof_release(void)
{
    session_end();
}

static int evict_setup(CUdevice dev, struct err *e)
{
    int rc = 0, l2 = 0;
    CU_CHECK(cu.cuDeviceGetAttribute(&l2, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev));
    size_t bytes = (size_t)(l2 > 0 ? l2 : 1 << 20) * 2;
    CU_CHECK(cu.cuModuleLoadData(&SS.mod, evict_ptx));
    CU_CHECK(cu.cuModuleGetFunction(&S.evict, SS.mod, "kgprof_evict"));
    CU_CHECK(cu.cuMemAlloc(&S.evict_buf, bytes));
    CU_CHECK(cu.cuMemsetD8(S.evict_buf, 0, bytes));
    S.evict_vecs = bytes / 16;
out:
    return rc;
}

/* The callbacks on the launch functions (needed with or without counters). */
static int subscribe(struct err *e)
{
    int rc = 0;
    static const CUpti_CallbackId ids[] = {
        CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernel_ptsz,
        CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx, CUPTI_DRIVER_TRACE_CBID_cuLaunchKernelEx_ptsz,
        CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel, CUPTI_DRIVER_TRACE_CBID_cuLaunchCooperativeKernel_ptsz};
    CUPTI_CHECK(cupti.cuptiSubscribe(&SS.sub, on_launch, NULL));
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++)
        CUPTI_CHECK(cupti.cuptiEnableCallback(1, SS.sub, CUPTI_CB_DOMAIN_DRIVER_API, ids[i]));
out:
    return rc;
}

/* Everything up to the counter-data image's size. A failure here means "no counters": e says why. */
static int session_counters(struct session *s, CUdevice dev, int device, struct err *e)
{
    int rc = 0;
    CUpti_Profiler_Initialize_Params ip = {.structSize = CUpti_Profiler_Initialize_Params_STRUCT_SIZE};
    CUPTI_CHECK(cupti.cuptiProfilerInitialize(&ip));
    s->initialized = 1;
    CUpti_Profiler_DeviceSupported_Params ds = {.structSize = CUpti_Profiler_DeviceSupported_Params_STRUCT_SIZE};
    ds.cuDevice = dev;
    ds.api = CUPTI_PROFILER_RANGE_PROFILING;
    CUPTI_CHECK(cupti.cuptiProfilerDeviceSupported(&ds));
    if (ds.isSupported != CUPTI_PROFILER_CONFIGURATION_SUPPORTED) {
        const char *why = ds.architecture != CUPTI_PROFILER_CONFIGURATION_SUPPORTED ? "the GPU's architecture"
                          : ds.vGpu != CUPTI_PROFILER_CONFIGURATION_SUPPORTED        ? "a virtual GPU (vGPU)"
                          : ds.confidentialCompute != CUPTI_PROFILER_CONFIGURATION_SUPPORTED
                              ? "confidential computing"
                          : ds.cmp != CUPTI_PROFILER_CONFIGURATION_SUPPORTED ? "a CMP device"
                          : ds.wsl != CUPTI_PROFILER_CONFIGURATION_SUPPORTED ? "WSL"
                                                                             : "this configuration";
        return err_set(e, ERR_UNSUPPORTED, "", "CUPTI's range profiler does not support %s", why);
    }
    CUpti_Device_GetChipName_Params cn = {.structSize = CUpti_Device_GetChipName_Params_STRUCT_SIZE};
    cn.deviceIndex = (size_t)device;
    CUPTI_CHECK(cupti.cuptiDeviceGetChipName(&cn));
    snprintf(s->chip, sizeof s->chip, "%s", cn.pChipName);
    CUpti_Profiler_GetCounterAvailability_Params ca = {.structSize = CUpti_Profiler_GetCounterAvailability_Params_STRUCT_SIZE};
    ca.ctx = s->ctx;
    CUPTI_CHECK(cupti.cuptiProfilerGetCounterAvailability(&ca));
    if (!(s->avail = malloc(ca.counterAvailabilityImageSize)))
        return err_set(e, ERR_NOMEM, "", "out of memory");
    ca.pCounterAvailabilityImage = s->avail;
    CUPTI_CHECK(cupti.cuptiProfilerGetCounterAvailability(&ca));

    s->t[1] = now_ms();
    CUpti_Profiler_Host_Initialize_Params hi = {.structSize = CUpti_Profiler_Host_Initialize_Params_STRUCT_SIZE};
    hi.profilerType = CUPTI_PROFILER_TYPE_RANGE_PROFILER;
    hi.pChipName = s->chip;
    hi.pCounterAvailabilityImage = s->avail;
    CUPTI_CHECK(cupti.cuptiProfilerHostInitialize(&hi));
    s->host = hi.pHostObject;
    CUpti_Profiler_Host_ConfigAddMetrics_Params am = {.structSize = CUpti_Profiler_Host_ConfigAddMetrics_Params_STRUCT_SIZE};
    am.pHostObject = s->host;
    am.ppMetricNames = s->counters;
    am.numMetrics = (size_t)s->ncounters;
    CUPTI_CHECK(cupti.cuptiProfilerHostConfigAddMetrics(&am));
    CUpti_Profiler_Host_GetConfigImageSize_Params cs = {.structSize = CUpti_Profiler_Host_GetConfigImageSize_Params_STRUCT_SIZE};
    cs.pHostObject = s->host;
    CUPTI_CHECK(cupti.cuptiProfilerHostGetConfigImageSize(&cs));
    s->config_size = cs.configImageSize;
    if (!(s->config = malloc(s->config_size)))
        return err_set(e, ERR_NOMEM, "", "out of memory");
    CUpti_Profiler_Host_GetConfigImage_Params ci = {.structSize = CUpti_Profiler_Host_GetConfigImage_Params_STRUCT_SIZE};
    ci.pHostObject = s->host;
    ci.pConfigImage = s->config;
    ci.configImageSize = s->config_size;
    CUPTI_CHECK(cupti.cuptiProfilerHostGetConfigImage(&ci));
    CUpti_Profiler_Host_GetNumOfPasses_Params np = {.structSize = CUpti_Profiler_Host_GetNumOfPasses_Params_STRUCT_SIZE};
    np.pConfigImage = s->config;
    np.configImageSize = s->config_size;
    CUPTI_CHECK(cupti.cuptiProfilerHostGetNumOfPasses(&np));
    s->passes = np.numOfPasses;
    if (s->passes > PROF_MAX_PASSES)
        return err_set(e, ERR_LIMIT, "", "the metrics need %zu replay passes (at most %d)", s->passes,
                       PROF_MAX_PASSES);

    s->t[2] = now_ms();
    CUpti_RangeProfiler_Enable_Params en = {.structSize = CUpti_RangeProfiler_Enable_Params_STRUCT_SIZE};
    en.ctx = s->ctx;
    CUPTI_CHECK(cupti.cuptiRangeProfilerEnable(&en));
    S.obj = en.pRangeProfilerObject;
    s->enabled = 1;
    CUpti_RangeProfiler_GetCounterDataSize_Params gs = {.structSize = CUpti_RangeProfiler_GetCounterDataSize_Params_STRUCT_SIZE};
    gs.pRangeProfilerObject = S.obj;
    gs.pMetricNames = s->counters;
    gs.numMetrics = (size_t)s->ncounters;
    gs.maxNumOfRanges = MAX_RANGES;
    gs.maxNumRangeTreeNodes = MAX_RANGES;
    CUPTI_CHECK(cupti.cuptiRangeProfilerGetCounterDataSize(&gs));
    s->data_size = gs.counterDataSize;
    if (!(s->data = calloc(1, s->data_size)))
        return err_set(e, ERR_NOMEM, "", "out of memory");
out:
    return rc;
}

/* The session for r's counters on r's context: the existing one when it matches, else a new one.
 * 0 when counters can be collected; ERR_UNSUPPORTED with e saying why when they cannot (the
 * callbacks may still work: SS.sub). */
static int session_get(const struct prof_request *r, CUdevice dev, struct err *e)
{
    char key[sizeof SS.key];
    size_t n = (size_t)snprintf(key, sizeof key, "%p", (void *)r->ctx);
    for (int i = 0; i < r->n && n < sizeof key; i++)
        if (!metricname_is_launch(r->names[i]))
            n += (size_t)snprintf(key + n, sizeof key - n, ",%s", r->names[i]);
    if (n >= sizeof key)
        return err_set(e, ERR_LIMIT, "", "too many metric names");
    if (SS.tried && !strcmp(SS.key, key)) {
        if (!SS.ok)
            *e = SS.why;
        return SS.ok ? 0 : ERR_UNSUPPORTED;
    }
    session_end();
    SS.tried = 1;
    SS.ctx = r->ctx;
    memcpy(SS.key, key, sizeof key);
    memcpy(SS.names, key, sizeof key);
    char *first = strchr(SS.names, ',');
    for (char *save = NULL, *t = first ? strtok_r(first + 1, ",", &save) : NULL; t && SS.ncounters < PROF_MAX_NAMES;
         t = strtok_r(NULL, ",", &save))
        SS.counters[SS.ncounters++] = t;
    SS.t[0] = now_ms();
    int rc = cupti_load(&SS.why);
    if (!rc)
        rc = subscribe(&SS.why);
    if (!rc && SS.ncounters)
        rc = session_counters(&SS, dev, r->device, &SS.why);
    SS.t[3] = now_ms();
    if (!rc && SS.ncounters)
        rc = evict_setup(dev, &SS.why);
    SS.t[4] = now_ms();
    SS.ok = rc == 0;
    if (!SS.ok) {
        *e = SS.why;
        return ERR_UNSUPPORTED;
    }
    return 0;
}

/* A fresh counter-data image and the configuration, before each collection. */
static int session_arm(struct session *s, struct err *e)
{
    int rc = 0;
    CUpti_RangeProfiler_CounterDataImage_Initialize_Params di = {
        .structSize = CUpti_RangeProfiler_CounterDataImage_Initialize_Params_STRUCT_SIZE};
    di.pRangeProfilerObject = S.obj;
    di.pCounterData = s->data;
    di.counterDataSize = s->data_size;
    CUPTI_CHECK(cupti.cuptiRangeProfilerCounterDataImageInitialize(&di));
    CUpti_RangeProfiler_SetConfig_Params sc = {.structSize = CUpti_RangeProfiler_SetConfig_Params_STRUCT_SIZE};
    sc.pRangeProfilerObject = S.obj;
    sc.configSize = s->config_size;
    sc.pConfig = s->config;
    sc.counterDataImageSize = s->data_size;
    sc.pCounterDataImage = s->data;
    sc.range = CUPTI_AutoRange;
    sc.replayMode = CUPTI_UserReplay;
    sc.maxRangesPerPass = MAX_RANGES;
    sc.numNestingLevels = 1;
    sc.minNestingLevel = 1;
    sc.passIndex = 0;
    sc.targetNestingLevel = 1;
    CUPTI_CHECK(cupti.cuptiRangeProfilerSetConfig(&sc));
out:
    return rc;
}

/* One pass of the forward with the callbacks armed. */
static int run_pass(const struct prof_request *r, struct err *e)
{
    int rc = 0;
    if (r->restore && (rc = r->restore(r->arg, e)))
        return rc;
    S.nlaunch = S.nranges = 0;
    S.armed = 1;
    rc = r->forward(r->arg, e);
    S.armed = 0;
    if (rc)
        return rc;
    if (S.pass > 0 && S.nlaunch != S.recorded && S.nlaunch < PROF_MAX_LAUNCHES)
        return err_set(e, ERR_INVALID, "", "the forward launched %d kernels in replay pass %d and %d in the first",
                       S.nlaunch, S.pass, S.recorded);
    return 0;
}

/* All passes, then the counter values into vals[launch][counter]. */
static int run_passes(const struct prof_request *r, struct session *s, double *vals, struct err *e)
{
    int rc = 0;
    for (int done = 0; !done;) {
        if (S.pass >= PROF_MAX_PASSES)
            return err_set(e, ERR_LIMIT, "", "CUPTI asked for more than %d passes", PROF_MAX_PASSES);
        CUpti_RangeProfiler_Start_Params st = {.structSize = CUpti_RangeProfiler_Start_Params_STRUCT_SIZE};
        st.pRangeProfilerObject = S.obj;
        double tp = now_ms();
        CUPTI_CHECK(cupti.cuptiRangeProfilerStart(&st));
        int frc = run_pass(r, e);
        CUpti_RangeProfiler_Stop_Params sp = {.structSize = CUpti_RangeProfiler_Stop_Params_STRUCT_SIZE};
        sp.pRangeProfilerObject = S.obj;
        CUptiResult stop = cupti.cuptiRangeProfilerStop(&sp);
        if (frc)
            return frc;
        CUPTI_CHECK(stop);
        if (S.cb_failed)
            return err_set(e, ERR_CUDA, "", "%s", S.cb_err);
        done = sp.isAllPassSubmitted;
        S.pass_ms[S.pass] = now_ms() - tp;
        S.pass++;
    }
    CUpti_RangeProfiler_DecodeData_Params dd = {.structSize = CUpti_RangeProfiler_DecodeData_Params_STRUCT_SIZE};
    dd.pRangeProfilerObject = S.obj;
    CUPTI_CHECK(cupti.cuptiRangeProfilerDecodeData(&dd));
    CUpti_RangeProfiler_GetCounterDataInfo_Params gi = {.structSize = CUpti_RangeProfiler_GetCounterDataInfo_Params_STRUCT_SIZE};
    gi.pCounterDataImage = s->data;
    gi.counterDataImageSize = s->data_size;
    CUPTI_CHECK(cupti.cuptiRangeProfilerGetCounterDataInfo(&gi));
    for (size_t i = 0; i < gi.numTotalRanges; i++) {
        /* ranges are named by a counter that runs on across collections: their index in this
         * collection's image is what counts */
        int k = 0;
        while (k < S.recorded && S.range_of[k] != (int)i)
            k++;
        if (k == S.recorded)
            continue;   /* an evictor's range */
        CUpti_Profiler_Host_EvaluateToGpuValues_Params ev = {.structSize = CUpti_Profiler_Host_EvaluateToGpuValues_Params_STRUCT_SIZE};
        ev.pHostObject = s->host;
        ev.pCounterDataImage = s->data;
        ev.counterDataImageSize = s->data_size;
        ev.rangeIndex = i;
        ev.ppMetricNames = s->counters;
        ev.numMetrics = (size_t)s->ncounters;
        ev.pMetricValues = vals + (size_t)k * (size_t)s->ncounters;
        CUPTI_CHECK(cupti.cuptiProfilerHostEvaluateToGpuValues(&ev));
    }
out:
    return rc;
}

static void json_number(cJSON *o, const char *name, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(o, name, v);
    else
        cJSON_AddNullToObject(o, name);
}

int prof_collect(const struct prof_request *r, cJSON **metrics, cJSON **detail, struct err *e)
{
    int rc = 0;
    double t0 = now_ms(), t_setup, t_passes;
    CUdevice dev;
    double *vals = NULL;
    struct err why;
    err_clear(&why);
    *metrics = *detail = NULL;
    if (r->n > PROF_MAX_NAMES)
        return err_set(e, ERR_LIMIT, "", "more than %d metric names", PROF_MAX_NAMES);
    CUpti_RangeProfiler_Object *obj = S.obj;
    CUfunction evict = S.evict;
    CUdeviceptr evict_buf = S.evict_buf;
    size_t evict_vecs = S.evict_vecs;
    memset(&S, 0, sizeof S);   /* the per-collection state; the session's handles are kept */
    S.obj = obj, S.evict = evict, S.evict_buf = evict_buf, S.evict_vecs = evict_vecs;
    CU_CHECK(cu.cuDeviceGet(&dev, r->device));
    struct launchstat_dev a;
    launchstat_device(dev, &a);
    int counters_ok = session_get(r, dev, &why) == 0;
    if (counters_ok && SS.ncounters && session_arm(&SS, &why))
        counters_ok = 0;
    t_setup = now_ms();
    if (counters_ok && SS.ncounters) {
        if (!(vals = malloc(sizeof *vals * PROF_MAX_LAUNCHES * (size_t)SS.ncounters))) {
            rc = err_set(e, ERR_NOMEM, "", "out of memory");
            goto out;
        }
        for (size_t i = 0; i < (size_t)PROF_MAX_LAUNCHES * (size_t)SS.ncounters; i++)
            vals[i] = NAN;
        S.counters = 1;
        if ((rc = run_passes(r, &SS, vals, e)))
            goto out;
    } else if (SS.sub) {   /* launch values only: one pass under the callbacks */
        if ((rc = run_pass(r, e)))
            goto out;
        S.pass = 1;
    }
    t_passes = now_ms();

    *metrics = cJSON_CreateObject();
    *detail = cJSON_CreateObject();
    for (int k = 0; k < S.recorded; k++) {
        const struct launch *l = &S.l[k];
        int seen = 0;
        for (int j = 0; j < k; j++)
            seen += !strcmp(S.l[j].name, l->name);
        char key[160];
        if (seen)
            snprintf(key, sizeof key, "%s#%d", l->name, seen + 1);
        else
            snprintf(key, sizeof key, "%s", l->name);
        cJSON *m = cJSON_AddObjectToObject(*metrics, key);
        struct launchstat ls;
        launchstat_compute(&a, l->f, l->grid, l->block, l->smem, &ls);
        for (int i = 0, c = 0; i < r->n; i++) {
            if (metricname_is_launch(r->names[i]))
                json_number(m, r->names[i], launchstat_value(&ls, r->names[i]));
            else
                json_number(m, r->names[i], vals ? vals[(size_t)k * (size_t)SS.ncounters + (size_t)c++] : NAN);
        }
    }
    int available = counters_ok && (vals || !SS.ncounters);
    cJSON_AddStringToObject(*detail, "source", available ? "cupti" : "unavailable");
    if (!available)
        cJSON_AddStringToObject(*detail, "reason", why.msg[0] ? why.msg : "CUPTI could not be used");
    if (SS.chip[0])
        cJSON_AddStringToObject(*detail, "chip", SS.chip);
    cJSON_AddNumberToObject(*detail, "passes", S.pass);
    cJSON_AddNumberToObject(*detail, "launches", S.nlaunch);
    cJSON_AddNumberToObject(*detail, "profiled", S.recorded);
    cJSON_AddStringToObject(*detail, "replay", "user: the forward runs once per pass, inputs restored before each");
    cJSON_AddStringToObject(*detail, "cache_control",
                            "L2 evicted before each kernel in each pass (as ncu --cache-control all)");
    double t_end = now_ms();
    cJSON_AddNumberToObject(*detail, "cost_ms", t_end - t0);
    cJSON *b = cJSON_AddObjectToObject(*detail, "cost_breakdown_ms");
    cJSON_AddNumberToObject(b, "setup", t_setup - t0);
    cJSON_AddNumberToObject(b, "passes", t_passes - t_setup);
    cJSON_AddNumberToObject(b, "evaluate", t_end - t_passes);
    if (SS.t[0] >= t0) {   /* set up by this collection */
        static const char *const step[] = {"cupti_init", "host_config", "enable", "evictor"};
        cJSON *st = cJSON_AddObjectToObject(b, "setup_steps");
        for (int i = 0; i < 4; i++)
            if (SS.t[i + 1] > 0 && SS.t[i] > 0)
                cJSON_AddNumberToObject(st, step[i], SS.t[i + 1] - SS.t[i]);
    }
    cJSON *pm = cJSON_AddArrayToObject(b, "each_pass");
    for (int i = 0; i < S.pass && i < PROF_MAX_PASSES && S.counters; i++)
        cJSON_AddItemToArray(pm, cJSON_CreateNumber(round(S.pass_ms[i] * 1000) / 1000));
out:
    S.armed = 0;
    free(vals);
    if (rc) {
        cJSON_Delete(*metrics);
        cJSON_Delete(*detail);
        *metrics = *detail = NULL;
    }
    return rc;
}

/* ---- the ctypes entry ---- */

struct pyfns {
    int (*restore)(void), (*forward)(void);
};

static int py_restore(void *arg, struct err *e)
{
    const struct pyfns *f = arg;
    return f->restore && f->restore() ? err_set(e, ERR_INVALID, "", "the harness's restore failed") : 0;
}

static int py_forward(void *arg, struct err *e)
{
    const struct pyfns *f = arg;
    return f->forward() ? err_set(e, ERR_INVALID, "", "the forward raised an exception") : 0;
}

char *prof_collect_json(int device, const char *names_csv, int (*restore)(void), int (*forward)(void))
{
    struct err e;
    err_clear(&e);
    cJSON *out = cJSON_CreateObject(), *m = NULL, *d = NULL;
    char *copy = strdup(names_csv ? names_csv : "");
    const char *names[128];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t && n < 128; t = strtok_r(NULL, ",", &save))
        names[n++] = t;
    struct pyfns f = {restore, forward};
    CUcontext ctx = NULL;
    int rc = cudrv_load(&e);
    if (!rc && cu.cuCtxGetCurrent(&ctx) != CUDA_SUCCESS)
        rc = err_set(&e, ERR_CUDA, "", "no current CUDA context");
    if (!rc) {
        struct prof_request r = {.ctx = ctx, .device = device, .names = names, .n = n, .restore = py_restore,
                                 .forward = py_forward, .arg = &f};
        rc = prof_collect(&r, &m, &d, &e);
        prof_release();
    }
    if (rc)
        cJSON_AddStringToObject(out, "error", e.msg);
    else {
        cJSON_AddItemToObject(out, "metrics", m);
        cJSON_AddItemToObject(out, "detail", d);
    }
    free(copy);
    char *text = cJSON_PrintUnformatted(out);
    cJSON_Delete(out);
    return text;
}

void prof_free(char *p)
{
    free(p);
}
