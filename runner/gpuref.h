/* gpuref.h — the GPU reference convolution (source: reference/conv_ref.cu) and the GPU input
 * generator (reference/inputs.cu), compiled by NVRTC for the device's own architecture.
 *
 * A struct gpuref is bound to one spec: gpuref_init picks the kernel (implicit GEMM, or the direct
 * kernel for depthwise and thin groups) and its tiles, compiles (or loads from the cache) and
 * allocates the weight workspace; gpuref_run computes y from x, w, b on a stream. */
#ifndef KGRADE_GPUREF_H
#define KGRADE_GPUREF_H

#include <stdbool.h>
#include <stddef.h>

#include <cuda.h>

#include "err.h"
#include "jit.h"
#include "portable.h"
#include "spec.h"

enum gpuref_kind { GPUREF_IGEMM = 0, GPUREF_DIRECT = 1 };

/* A kernel choice; zeros mean "pick automatically". */
struct gpuref_config {
    int kind;            /* -1 auto, else enum gpuref_kind */
    int bm, bn, bk;      /* implicit GEMM tile */
    int owt;             /* direct kernel: outputs per thread */
};

struct gpuref {
    struct conv_spec spec;
    struct gpuref_config cfg;  /* what was chosen */
    CUmodule mod;
    CUfunction f_wt, f_main;
    CUdeviceptr wt;            /* re-laid-out weight (implicit GEMM only) */
    size_t wt_elems;
    unsigned grid[3], block;
    unsigned wt_grid;
    struct jit_result jit;     /* log, cache hit, compile time (image freed after load) */
};

/* The SM architecture of dev as NVRTC's number (e.g. 90 for compute capability 9.0). */
int gpuref_device_arch(CUdevice dev, int *arch, struct err *e);

/* Build the compile options of the reference for spec under cfg (the chosen config is written back).
 * opts receives up to 32 pointers into storage (caller-provided, >= 32*32 bytes). Used by
 * gpuref_init and by the GPU-less compile check. Returns the option count. */
int gpuref_options(const struct conv_spec *s, struct gpuref_config *cfg, const char **opts, char *storage);

/* The embedded source as a jit_program over opts. */
void gpuref_program(struct jit_program *p, int n_options, const char *const *opts);

/* A context must be current. cfg may be NULL (automatic). cache_dir NULL = no disk cache. */
int gpuref_init(struct gpuref *g, const struct conv_spec *s, const struct gpuref_config *cfg, int arch,
                const char *cache_dir, struct err *e);

/* y = conv(x, w) + b, asynchronously on stream (b ignored when the spec has no bias). */
int gpuref_run(struct gpuref *g, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, CUdeviceptr y, CUstream stream,
               struct err *e);

void gpuref_free(struct gpuref *g);

/* A one-line description of the chosen kernel, e.g. "igemm 128x128x8". */
void gpuref_describe(const struct gpuref *g, char *buf, size_t len);

#endif
