/* gtime.h — cold-L2 GPU timing of one launch sequence with CUDA events.
 *
 * Before each sample the L2 is flushed by writing a buffer of twice the L2 size and persisting L2
 * lines are reset; then events bracket the timed work on the stream. */
#ifndef KGRADE_GTIME_H
#define KGRADE_GTIME_H

#include <cuda.h>

#include "err.h"

struct gtime {
    CUstream st;
    CUevent start, stop;
    CUdeviceptr flush;
    size_t flush_bytes;
    int l2_bytes;
};

/* The work being timed: enqueue it on st. */
typedef int (*gtime_fn)(void *ctx, CUstream st, struct err *e);

int gtime_init(struct gtime *t, CUdevice dev, CUstream st, struct err *e);

/* One cold-L2 sample of fn, in milliseconds (synchronises). */
int gtime_sample(struct gtime *t, gtime_fn fn, void *ctx, double *ms, struct err *e);

void gtime_free(struct gtime *t);

#endif
