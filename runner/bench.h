/* bench.h — the reference against cuDNN (strict FP32 and TF32) on registry problems, timed
 * interleaved in one process with cold L2, plus the error of each cuDNN mode against the reference. */
#ifndef KGRADE_BENCH_H
#define KGRADE_BENCH_H

#include <cjson/cJSON.h>

#include "err.h"

struct bench_opts {
    const char *const *ids;   /* problem ids; NULL/0 = the kernelbench set */
    int n_ids;
    double budget_ms;         /* wall-clock budget of the timing loop per problem (default 3000) */
    int min_samples;          /* default 10 */
    double target_rse;        /* default 0.005 */
    const char *cache_dir;
    int device;
};

/* *report receives {"device", "driver", "cudnn", "problems": [...], "geomean_ref_over_cudnn_fp32"}. */
int bench_run(const struct bench_opts *o, cJSON **report, struct err *e);

#endif
