/* cudrv.h — the CUDA driver API, loaded at run time.
 *
 * The worker never links libcuda: cudrv_load() dlopens libcuda.so.1 and resolves every entry point
 * through cuGetProcAddress for the CUDA version of our headers, so the worker starts (and NVRTC
 * compiles) on a machine without a GPU driver. Call through the table: cu.cuMemAlloc(&p, n).
 * Types come from cuda.h, which is used as a header only. */
#ifndef KGRADE_CUDRV_H
#define KGRADE_CUDRV_H

#include <cuda.h>
#include <cudaProfiler.h>

#include "err.h"

#define CUDRV_FUNCS(X)                                                                           \
    X(cuInit) X(cuDriverGetVersion) X(cuDeviceGet) X(cuDeviceGetCount) X(cuDeviceGetName)        \
    X(cuDeviceGetAttribute) X(cuDeviceTotalMem) X(cuDeviceGetUuid)                               \
    X(cuDevicePrimaryCtxRetain) X(cuDevicePrimaryCtxRelease) X(cuCtxSetCurrent)                  \
    X(cuCtxResetPersistingL2Cache) X(cuCtxSetLimit) X(cuCtxGetCurrent) X(cuProfilerStart) X(cuProfilerStop)                      \
    X(cuModuleLoadData) X(cuModuleUnload) X(cuModuleGetFunction) X(cuFuncGetAttribute)           \
    X(cuFuncSetAttribute) X(cuFuncGetParamInfo)                                                  \
    X(cuLaunchKernel) X(cuMemAlloc) X(cuMemFree) X(cuMemcpyHtoD) X(cuMemcpyDtoH) X(cuMemcpyDtoD) \
    X(cuMemsetD8) X(cuMemsetD8Async) X(cuMemsetD32) X(cuMemcpyDtoDAsync) X(cuMemsetD16Async) X(cuMemsetD32Async) X(cuMemGetInfo) X(cuMemAllocHost)          \
    X(cuMemFreeHost) X(cuStreamCreate) X(cuStreamDestroy) X(cuStreamSynchronize) X(cuStreamQuery) \
    X(cuEventCreate) X(cuEventDestroy) X(cuEventRecord) X(cuEventSynchronize) X(cuEventQuery)\
    X(cuOccupancyMaxActiveBlocksPerMultiprocessor) X(cuIpcGetMemHandle)                  \
    X(cuEventElapsedTime) X(cuGetErrorName) X(cuGetErrorString)

struct cudrv {
#define CUDRV_MEMBER(f) __typeof__(&f) f;
    CUDRV_FUNCS(CUDRV_MEMBER)
#undef CUDRV_MEMBER
    void *lib;
    int driver_version;
};

/* The process-wide table, filled by cudrv_load. */
extern struct cudrv cu;

/* Load libcuda and resolve the table; idempotent. Fails with ERR_UNSUPPORTED (no driver) when
 * libcuda is absent, naming what was tried. Does not call cuInit. */
int cudrv_load(struct err *e);

/* cuInit(0), then retain device ordinal's primary context and make it current (the primary context
 * is what cuDNN and other runtime-API libraries use). ERR_UNSUPPORTED when there is no device. */
int cudrv_open_device(int ordinal, CUdevice *dev, CUcontext *ctx, struct err *e);

/* Record a failed driver call in e: "what: CUDA_ERROR_NAME (text) at file:line". Returns ERR_CUDA. */
int cudrv_fail(struct err *e, CUresult rc, const char *what, const char *file, int line);

/* Run a driver call; on failure record it in `e` (a struct err * in scope) and jump to `out`
 * after setting `rc`. The one cleanup path convention of the worker. */
#define CU_CHECK(call)                                                                           \
    do {                                                                                         \
        CUresult cu_rc_ = (call);                                                                \
        if (cu_rc_ != CUDA_SUCCESS) {                                                            \
            rc = cudrv_fail(e, cu_rc_, #call, __FILE__, __LINE__);                               \
            goto out;                                                                            \
        }                                                                                        \
    } while (0)

#endif
