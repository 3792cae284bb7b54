/* cupti.h — CUPTI, loaded at run time: the profiler host API (metric names, configuration images,
 * pass counts, evaluation; no GPU needed), the range profiler (counters per kernel launch) and the
 * callback API (which kernels a forward launches).
 *
 * Like libcuda (cudrv.h), libcupti is never linked: cupti_load() dlopens libcupti.so.13 (it dlopens
 * libnvperf_host.so itself), so the worker starts, and reports metrics as unavailable, where CUPTI is
 * missing. Call through the table: cupti.cuptiProfilerInitialize(&p). Types come from the CUPTI
 * headers, used as headers only. (cupti_profiler_host.h includes the C++ header <string> without using
 * it; the build puts an empty file of that name first on the include path.) */
#ifndef KGRADE_CUPTI_H
#define KGRADE_CUPTI_H

#include <cupti_callbacks.h>
#include <cupti_driver_cbid.h>
#include <cupti_result.h>
#include <cupti_profiler_host.h>
#include <cupti_profiler_target.h>
#include <cupti_range_profiler.h>
#include <cupti_target.h>

#include "err.h"

#define CUPTI_FUNCS(X)                                                                                   \
    X(cuptiGetResultString) X(cuptiSubscribe) X(cuptiUnsubscribe) X(cuptiEnableCallback)                 \
    X(cuptiProfilerInitialize) X(cuptiProfilerDeInitialize) X(cuptiProfilerDeviceSupported)              \
    X(cuptiDeviceGetChipName) X(cuptiProfilerGetCounterAvailability)                                     \
    X(cuptiProfilerHostInitialize) X(cuptiProfilerHostDeinitialize) X(cuptiProfilerHostConfigAddMetrics) \
    X(cuptiProfilerHostGetConfigImageSize) X(cuptiProfilerHostGetConfigImage)                            \
    X(cuptiProfilerHostGetNumOfPasses) X(cuptiProfilerHostEvaluateToGpuValues)                           \
    X(cuptiRangeProfilerEnable) X(cuptiRangeProfilerDisable) X(cuptiRangeProfilerSetConfig)              \
    X(cuptiRangeProfilerStart) X(cuptiRangeProfilerStop) \
    X(cuptiRangeProfilerDecodeData)                                        \
    X(cuptiRangeProfilerGetCounterDataSize) X(cuptiRangeProfilerCounterDataImageInitialize)              \
    X(cuptiRangeProfilerGetCounterDataInfo)

struct cupti_table {
#define CUPTI_MEMBER(f) __typeof__(&f) f;
    CUPTI_FUNCS(CUPTI_MEMBER)
#undef CUPTI_MEMBER
    void *lib;
};

/* The process-wide table, filled by cupti_load. */
extern struct cupti_table cupti;

/* Load libcupti and resolve the table; idempotent and thread-safe. ERR_UNSUPPORTED naming what was
 * tried when the library or one of its functions is missing. */
int cupti_load(struct err *e);

/* Record a failed CUPTI call in e: "what: CUPTI_ERROR_NAME at file:line". Returns ERR_CUDA. */
int cupti_fail(struct err *e, CUptiResult rc, const char *what, const char *file, int line);

/* Run a CUPTI call through the table; on failure set rc (an int in scope), record it in e and jump
 * to out, like CU_CHECK. The failing code is kept in *cupti_last for callers that tell privilege
 * errors apart (cupti_last_result). */
#define CUPTI_CHECK(call)                                                                        \
    do {                                                                                         \
        CUptiResult cp_rc_ = (call);                                                             \
        if (cp_rc_ != CUPTI_SUCCESS) {                                                           \
            rc = cupti_fail(e, cp_rc_, #call, __FILE__, __LINE__);                               \
            goto out;                                                                            \
        }                                                                                        \
    } while (0)

/* The CUPTI result of the last failure cupti_fail recorded on this thread (CUPTI_SUCCESS: none). */
CUptiResult cupti_last_result(void);

#endif
