/* gpuinput.h — deterministic inputs generated on the GPU (reference/inputs.cu), the same values
 * as rng_fill on the CPU: element i of a stream is the same bits on both; and a GPU summary of the
 * difference between two float tensors too large to bring to the host. */
#ifndef KGRADE_GPUINPUT_H
#define KGRADE_GPUINPUT_H

#include <stdbool.h>

#include <cuda.h>

#include "err.h"
#include "jit.h"
#include "portable.h"
#include "spec.h"

struct gpuinput {
    CUmodule mod;
    CUfunction fill, diff;
    int sms;
};

/* The embedded source as a jit_program (no options). */
void gpuinput_program(struct jit_program *p);

/* A context must be current; compiles (or loads from cache_dir) the generator for sm_<arch>. */
int gpuinput_init(struct gpuinput *gi, CUdevice dev, int arch, const char *cache_dir, struct err *e);

/* Fill count elements [0, count) of stream into out (dtype storage), asynchronously. */
int gpuinput_fill(struct gpuinput *gi, CUdeviceptr out, enum spec_dtype dtype, unsigned long long seed,
                  enum port_stream stream, long long count, enum port_dist dist, float scale, CUstream st,
                  struct err *e);

/* The device tensors of one problem in its dtype. b has at least 4 bytes even without bias, so it
 * is always a valid pointer; y is allocated only when with_y. gpuinput_tensors_free(NULL) and a
 * partly allocated set are fine. */
struct gpuinput_tensors {
    CUdeviceptr x, w, b, y;
};
int gpuinput_tensors_alloc(const struct conv_spec *s, bool with_y, struct gpuinput_tensors *t, struct err *e);
void gpuinput_tensors_free(struct gpuinput_tensors *t);

/* Fill t's x, w and b (b only with bias) the way rng.h describes. */
int gpuinput_fill_problem(struct gpuinput *gi, const struct conv_spec *s, unsigned long long seed,
                          enum port_dist dist, const struct gpuinput_tensors *t, CUstream st, struct err *e);

/* Set count elements of dtype at p to NaN (0x7fc00000 for float32, 0x7fff for float16 and
 * bfloat16), asynchronously: an element a kernel never writes can then never pass a comparison. */
int gpuinput_poison(CUdeviceptr p, enum spec_dtype dtype, long long count, CUstream st, struct err *e);

/* Difference of two float tensors of n elements: relative L2 error, max abs error, and the count of
 * elements not bitwise equal (NaN/Inf in either counted too). Synchronises. */
struct gpuinput_diff {
    double rel_l2, max_abs;
    long long unequal, nonfinite;
};
int gpuinput_diff(struct gpuinput *gi, CUdeviceptr ref, CUdeviceptr got, long long n, CUstream st,
                  struct gpuinput_diff *d, struct err *e);

void gpuinput_free(struct gpuinput *gi);

#endif
