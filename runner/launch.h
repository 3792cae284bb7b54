/* launch.h — the launch sequence of a CUDA C candidate: its kernels resolved in the loaded module,
 * checked against the bound directives, and run.
 *
 * launch_prepare checks, before anything launches, what only the loaded kernels can tell: the
 * parameter count and sizes (cuFuncGetParamInfo) against the directive's arguments, the block
 * size against the kernel's own limit (registers), static plus dynamic shared memory against the
 * device's opt-in limit, and that at least one block fits on an SM; it records each kernel's
 * registers, shared and local memory, occupancy and waves. Errors are directive errors: ERR_INVALID
 * with the directive's line in *err_line. launch_run enqueues the sequence; with a timeout it
 * synchronises after each launch under the watchdog, so a fault or a hang names its launch. */
#ifndef KGRADE_LAUNCH_H
#define KGRADE_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <cuda.h>

#include "directive.h"
#include "err.h"

struct launch_kernel {
    CUfunction f;
    char symbol[DIRECTIVE_MAX_KERNEL + 1];
    int regs, static_smem, local_bytes, const_bytes, max_threads;
    int active_blocks;     /* resident blocks per SM at this block size and shared memory */
    double occupancy;      /* theoretical: resident warps / the SM's maximum warps */
    double waves;          /* grid blocks / (active_blocks * SMs) */
    int nparams;
};

struct launch_set {
    const struct directive_plan *plan;
    int sms;
    struct launch_kernel k[DIRECTIVE_MAX_LAUNCHES];
    unsigned long long val[DIRECTIVE_MAX_LAUNCHES][DIRECTIVE_MAX_ARGS];
    void *params[DIRECTIVE_MAX_LAUNCHES][DIRECTIVE_MAX_ARGS + 1];
};

/* Resolve plan's kernels in mod by their cubin symbols (symbols[i] for launch i) and check them
 * (see above). plan must outlive ls. */
int launch_prepare(struct launch_set *ls, CUmodule mod, CUdevice dev, const struct directive_plan *plan,
                   const char (*symbols)[DIRECTIVE_MAX_KERNEL + 1], int *err_line, struct err *e);

/* The buffers the pointer arguments name (b may be 0: no bias; ws 0: no workspace). */
void launch_bind(struct launch_set *ls, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, CUdeviceptr y, CUdeviceptr ws);

/* Enqueue the sequence on st. timeout_ms > 0: after each launch synchronise with the watchdog armed
 * for timeout_ms, described as "<stage>, launch i (line L, kernel K)". On failure *failed is the
 * launch's index (-1 when unknown) and e names the CUDA error and the launch. */
int launch_run(struct launch_set *ls, CUstream st, double timeout_ms, const char *stage, int *failed, struct err *e);

/* The bound plan's objects (directive_plan_to_json: line, kernel, grid, block, smem, args), each
 * with the loaded kernel's facts added: symbol, threads, static shared memory, registers, local
 * bytes (spills and stack), blocks per SM, theoretical occupancy, waves. */
cJSON *launch_to_json(const struct launch_set *ls);

#endif
