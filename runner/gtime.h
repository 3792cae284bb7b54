/* gtime.h — cold-L2 GPU timing of one launch sequence with CUDA events, and the SM clock.
 *
 * A sample: the untimed preparation (e.g. poisoning an output), the L2 flush (writing a buffer of
 * twice the L2 size) and a reset of persisting L2 lines, then the start event, the timed work and
 * the stop event, then — when a clock probe is given — a one-thread kernel that measures the SM
 * clock against the global timer over a short window (see verify.cu), so each sample carries the
 * clock the GPU ran at right after it. */
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
    CUfunction probe;          /* NULL: no clock measurement */
    CUdeviceptr probe_out;
    unsigned probe_window_ns;
};

/* Work enqueued on st. */
typedef int (*gtime_fn)(void *ctx, CUstream st, struct err *e);

/* probe: verify.cu's clock_probe, or NULL. */
int gtime_init(struct gtime *t, CUdevice dev, CUstream st, CUfunction probe, struct err *e);

/* One cold-L2 sample of fn, in milliseconds (synchronises). prep (may be NULL) runs before the
 * flush, outside the timed interval. mhz (may be NULL; 0 without a probe) receives the SM clock. */
int gtime_sample(struct gtime *t, gtime_fn prep, gtime_fn fn, void *ctx, double *ms, double *mhz, struct err *e);

void gtime_free(struct gtime *t);

#endif
