/* gtime.c — cold-L2 event timing (see gtime.h).
 * Invariant: the flush is enqueued on the same stream before the start event, so it is never inside
 * the timed interval, and the sample ends with a stream synchronisation so errors surface here.
 * The flush pattern changes every sample so no layer can skip an unchanged write. */
#include "gtime.h"

#include <string.h>

#include "cudrv.h"

int gtime_init(struct gtime *t, CUdevice dev, CUstream st, CUfunction probe, struct err *e)
{
    int rc = 0;
    memset(t, 0, sizeof *t);
    t->st = st;
    t->probe = probe;
    t->probe_window_ns = 20000;
    CU_CHECK(cu.cuDeviceGetAttribute(&t->l2_bytes, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev));
    t->flush_bytes = 2 * (size_t)(t->l2_bytes > 0 ? t->l2_bytes : 64 << 20);
    CU_CHECK(cu.cuMemAlloc(&t->flush, t->flush_bytes));
    CU_CHECK(cu.cuMemAlloc(&t->probe_out, 2 * sizeof(unsigned long long)));
    CU_CHECK(cu.cuEventCreate(&t->start, CU_EVENT_DEFAULT));
    CU_CHECK(cu.cuEventCreate(&t->stop, CU_EVENT_DEFAULT));
out:
    if (rc)
        gtime_free(t);
    return rc;
}

int gtime_sample(struct gtime *t, gtime_fn prep, gtime_fn fn, void *ctx, double *ms, double *mhz, struct err *e)
{
    int rc = 0;
    static unsigned pattern;
    if (prep && (rc = prep(ctx, t->st, e)))
        goto out;
    cu.cuCtxResetPersistingL2Cache();
    CU_CHECK(cu.cuMemsetD32Async(t->flush, ++pattern, t->flush_bytes / 4, t->st));
    CU_CHECK(cu.cuEventRecord(t->start, t->st));
    if ((rc = fn(ctx, t->st, e)))
        goto out;
    CU_CHECK(cu.cuEventRecord(t->stop, t->st));
    if (t->probe && mhz) {
        int slot = 0;
        void *args[] = {&t->probe_out, &slot, &t->probe_window_ns};
        CU_CHECK(cu.cuLaunchKernel(t->probe, 1, 1, 1, 1, 1, 1, 0, t->st, args, NULL));
    }
    CU_CHECK(cu.cuStreamSynchronize(t->st));
    float f = 0;
    CU_CHECK(cu.cuEventElapsedTime(&f, t->start, t->stop));
    *ms = f;
    if (mhz) {
        unsigned long long h[2] = {0, 0};
        if (t->probe)
            CU_CHECK(cu.cuMemcpyDtoH(h, t->probe_out, sizeof h));
        *mhz = h[1] ? (double)h[0] / (double)h[1] * 1e3 : 0;
    }
out:
    return rc;
}

void gtime_free(struct gtime *t)
{
    if (!t)
        return;
    if (t->start)
        cu.cuEventDestroy(t->start);
    if (t->stop)
        cu.cuEventDestroy(t->stop);
    if (t->flush)
        cu.cuMemFree(t->flush);
    if (t->probe_out)
        cu.cuMemFree(t->probe_out);
    memset(t, 0, sizeof *t);
}
