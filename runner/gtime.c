/* gtime.c — cold-L2 event timing (see gtime.h).
 * Invariant: the flush is enqueued on the same stream before the start event, so it is never inside
 * the timed interval, and the sample ends with an event synchronisation so errors surface here. */
#include "gtime.h"

#include <string.h>

#include "cudrv.h"

int gtime_init(struct gtime *t, CUdevice dev, CUstream st, struct err *e)
{
    int rc = 0;
    memset(t, 0, sizeof *t);
    t->st = st;
    CU_CHECK(cu.cuDeviceGetAttribute(&t->l2_bytes, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE, dev));
    t->flush_bytes = 2 * (size_t)(t->l2_bytes > 0 ? t->l2_bytes : 64 << 20);
    CU_CHECK(cu.cuMemAlloc(&t->flush, t->flush_bytes));
    CU_CHECK(cu.cuEventCreate(&t->start, CU_EVENT_DEFAULT));
    CU_CHECK(cu.cuEventCreate(&t->stop, CU_EVENT_DEFAULT));
out:
    if (rc)
        gtime_free(t);
    return rc;
}

int gtime_sample(struct gtime *t, gtime_fn fn, void *ctx, double *ms, struct err *e)
{
    int rc = 0;
    static unsigned pattern;
    cu.cuCtxResetPersistingL2Cache();
    CU_CHECK(cu.cuMemsetD32Async(t->flush, ++pattern, t->flush_bytes / 4, t->st));
    CU_CHECK(cu.cuEventRecord(t->start, t->st));
    if ((rc = fn(ctx, t->st, e)))
        goto out;
    CU_CHECK(cu.cuEventRecord(t->stop, t->st));
    CU_CHECK(cu.cuEventSynchronize(t->stop));
    float f = 0;
    CU_CHECK(cu.cuEventElapsedTime(&f, t->start, t->stop));
    *ms = f;
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
    memset(t, 0, sizeof *t);
}
