/* selfcheck.h — the GPU reference checked against the CPU oracle on this machine's GPU.
 *
 * Three parts: (1) the GPU input generator against the CPU one (bitwise for uniform and exact,
 * at most 1 ulp for normal), for each dtype; (2) every registry shape of the small and edge sets plus
 * the shapes of a file (one spec JSON per line), with random inputs (fp32: relative L2 <= 1e-6;
 * 16-bit: within one unit of the dtype's rounding) and with exact inputs (bitwise), outputs poisoned
 * with NaN beforehand; (3) the seed shapes (kb1-55, kb1-56) on sampled points of the full output. */
#ifndef KGRADE_SELFCHECK_H
#define KGRADE_SELFCHECK_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "err.h"

struct selfcheck_opts {
    const char *shapes_file;  /* NULL: registry shapes only */
    bool skip_large;          /* skip part (3) */
    unsigned long long seed;
    const char *cache_dir;
    int device;
};

/* Runs all parts; *report receives {"device", "parts": [...], "passed", "failed"} (caller deletes).
 * Returns 0 when it ran (whatever the verdicts), ERR_UNSUPPORTED without a GPU. */
int selfcheck_run(const struct selfcheck_opts *o, cJSON **report, struct err *e);

#endif
