/* gpucheck.h — the worker's checks on the GPU (source: reference/verify.cu).
 *
 * gpucheck_compare applies the rules of compare_run (compare.h) to two device tensors of a dtype
 * without bringing them to the host, and returns the same struct compare_result, so the CPU
 * comparator is the readable reference of this path (the GPU tests check they agree).
 * gpucheck_hash is a keyed, order-independent 64-bit hash of a buffer: inputs unchanged and
 * outputs reproducible are decided by hashes, which costs no extra copy of a tensor.
 * The clock probe is used by gtime (see gtime.h). */
#ifndef KGRADE_GPUCHECK_H
#define KGRADE_GPUCHECK_H

#include <stdint.h>

#include <cuda.h>

#include "compare.h"
#include "err.h"
#include "spec.h"

struct gpucheck {
    CUmodule mod;
    CUfunction compare, hash, clock_probe;
    CUdeviceptr acc;   /* scratch for the reductions */
    int sms;
};

/* A context must be current; compiles (or loads from cache_dir) verify.cu for sm_<arch>. */
int gpucheck_init(struct gpucheck *gc, CUdevice dev, int arch, const char *cache_dir, struct err *e);

/* Compare count elements of dtype at got against ref under tol; shape is the NCHW shape (for the
 * first mismatch). Synchronises st. */
int gpucheck_compare(struct gpucheck *gc, CUdeviceptr ref, CUdeviceptr got, enum spec_dtype dtype, int64_t count,
                     const int64_t shape[4], struct compare_tol tol, CUstream st, struct compare_result *r,
                     struct err *e);

/* Hash bytes (a multiple of 2) at p with key. Synchronises st. */
int gpucheck_hash(struct gpucheck *gc, CUdeviceptr p, size_t bytes, uint64_t key, CUstream st, uint64_t *h,
                  struct err *e);

void gpucheck_free(struct gpucheck *gc);

#endif
