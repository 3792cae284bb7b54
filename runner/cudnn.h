/* cudnn.h — cuDNN as a baseline, loaded at run time when present.
 *
 * cudnn_load() dlopens libcudnn.so.9 (or $KGRADE_CUDNN_LIB); absence is a normal outcome
 * (ERR_UNSUPPORTED with the reason), reported as "absent" by callers. A struct cudnn_conv binds one
 * spec and one math mode: strict FP32 (CUDNN_FMA_MATH: no tensor cores, no TF32) or TF32
 * (CUDNN_DEFAULT_MATH, which lets cuDNN use TF32 tensor cores for FP32 data, as PyTorch does with
 * allow_tf32). The fastest algorithm is chosen by cuDNN's own timed search on our buffers. Bias,
 * when the spec has one, is added with cudnnAddTensor as a second call (timed with the conv).
 * cuDNN's 4-D descriptors hold fewer than 2^31 elements: a larger problem is run as equal slices
 * of the batch, one call per slice (kb1-87's output has exactly 2^31 elements). */
#ifndef KGRADE_CUDNN_H
#define KGRADE_CUDNN_H

#include <stdbool.h>
#include <stddef.h>

#include <cuda.h>

#include "err.h"
#include "spec.h"

struct cudnn_conv {
    void *handle;
    void *xd, *wd, *yd, *bd, *cd;
    int algo;
    int math;          /* the math type cuDNN reported for the chosen algorithm */
    bool tf32;
    CUdeviceptr ws;
    size_t ws_bytes;
    float search_ms;   /* cuDNN's own time for the chosen algorithm during the search (0 when cached) */
    const char *choice;   /* "search" (timed by cuDNN now) or "cached" (an earlier search) */
    int slices;        /* batch slices per run (1 unless a tensor reaches 2^31 elements) */
    size_t x_slice_bytes, y_slice_bytes;
};

/* cuDNN's names of a forward algorithm ("IMPLICIT_GEMM", "FFT_TILING", ...) and of a math type
 * ("DEFAULT", "TENSOR_OP", "TENSOR_OP_ALLOW_CONVERSION", "FMA"). */
const char *cudnn_algo_name(int algo);
const char *cudnn_math_name(int math);

/* Load the library; idempotent. version receives cudnnGetVersion() (e.g. 91400). */
int cudnn_load(int *version, struct err *e);

/* Where a searched choice is kept. NULL: always search, keep nothing (bench). */
struct cudnn_choice {
    const char *cache_dir;        /* keep searched choices here (NULL: no cache) */
    const char *device;           /* the device's name, part of the cache key */
};

/* A context must be current (the device's primary context). x, w, y are the problem's buffers,
 * used by the algorithm search (y is overwritten). With a cache_dir the searched choice is kept
 * there, keyed by the problem, the math mode, cuDNN's and the driver's versions and the device, and
 * later inits on the same key skip the search. */
int cudnn_conv_init(struct cudnn_conv *c, const struct conv_spec *s, bool tf32, CUdeviceptr x, CUdeviceptr w,
                    CUdeviceptr y, CUstream st, const struct cudnn_choice *how, struct err *e);

int cudnn_conv_run(struct cudnn_conv *c, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, CUdeviceptr y, struct err *e);

void cudnn_conv_free(struct cudnn_conv *c);

#endif
