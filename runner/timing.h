/* timing.h - the timing stage of an evaluation: the candidate against our reference and cuDNN
 * (strict FP32 and TF32, when libcudnn is present), in alternating cold-L2 rounds, then the last
 * timed output and the inputs checked again. It fills the record's "timing", "baselines",
 * "speedup" and "roofline" (docs/result.md). */
#ifndef KGRADE_TIMING_H
#define KGRADE_TIMING_H

#include <cjson/cJSON.h>

#include "correct.h"
#include "eval.h"
#include "gtime.h"

/* What the stage works on; all owned by the evaluation. */
struct timing_env {
    struct correct_env *env;     /* buffers, stream, checks */
    struct gpuref *ref;
    struct launch_set *ls;       /* the candidate, bound to env's buffers */
    struct gtime *gt;
    const struct eval_opts *o;   /* budget, stopping rule, baselines, cache, seed */
    int sms, clock_khz, mem_khz, bus_bits;
    const char *device_name;     /* part of the cuDNN choice's cache key */
    /* A candidate timed in its own process (Triton): its samples come from remote_sample, and
     * remote_last times one more call on x after the inputs were refilled with fresh values; that
     * call's output is the one validated. NULL for a CUDA C candidate. */
    int (*remote_sample)(void *ctx, double *ms, double *mhz, struct err *e);
    int (*remote_last)(void *ctx, double *ms, double *mhz, struct err *e);
    void *remote;
};

/* Run the stage. Returns non-zero only for a system failure (e); a fault of the candidate while
 * timed (CORRECT_FAULT) or a wrong last output or modified inputs (CORRECT_WRONG) are in oc. */
int timing_run(const struct timing_env *t, cJSON *rec, struct correct_outcome *oc, struct err *e);

#endif
