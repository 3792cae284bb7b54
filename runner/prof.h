/* prof.h — Nsight-Compute-named metrics for every kernel one forward launches, collected with
 * CUPTI's range profiler; the launch__* values and occupancy from the driver API.
 *
 * The caller hands two functions: restore (puts the forward's inputs back, e.g. poisons its output)
 * and forward (enqueues the forward's launches on the current context). prof_collect replays the
 * forward as many times as the counters need passes (user replay). In every pass each kernel the
 * forward launches is a range of its own (CUPTI's auto ranges), and right before it the L2 is
 * emptied by reading a clean buffer of twice its size, so every pass of every kernel starts with
 * cold caches: Nsight Compute's default cache control ("flush all caches before each replay pass").
 * Launches are seen by CUPTI's driver-API callbacks on cuLaunchKernel(Ex) and
 * cuLaunchCooperativeKernel, the ways NVRTC modules and Triton launch.
 *
 * The result, in JSON:
 *   metrics  {"<kernel>": {"<metric>": value}}: the shape of the prompts' [NCU PROFILING METRICS].
 *            The kernel's readable name (kname.h). A kernel
 *            launched several times in one forward: its first launch under its name, the k-th
 *            under "<name>#k". Counter metrics are null when counters were not available.
 *   detail   {"source": "cupti" | "unavailable", "reason" (when unavailable), "chip", "passes",
 *            "cost_ms", "launches", "profiled", "cache_control", "replay"}.
 * Without counters (no permission, an unsupported or virtual GPU) the forward still runs once under
 * the callbacks, so launch__* and occupancy values are real, and detail says why the counters are
 * missing. With another profiler attached (CUPTI allows one subscriber) nothing is collected and
 * detail says so. Nothing is estimated here.
 *
 * Not thread-safe: one collection per process at a time (CUPTI allows one subscriber). The first
 * collection pays for CUPTI's setup (detail.cost_breakdown_ms.setup); later ones reuse it. */
#ifndef KGRADE_PROF_H
#define KGRADE_PROF_H

#include <cjson/cJSON.h>
#include <cuda.h>

#include "err.h"

#define PROF_MAX_LAUNCHES 32   /* kernels of one forward that get ranges; later ones are counted only */
#define PROF_MAX_PASSES 64     /* a configuration needing more passes is refused */
#define PROF_MAX_NAMES 64      /* metric names per collection */

/* Run work on the current context and wait for it (every stream it used); 0 or a negative ERR_*
 * (e filled). */
typedef int (*prof_fn)(void *arg, struct err *e);

struct prof_request {
    CUcontext ctx;                 /* the context the forward runs in (current on this thread) */
    int device;                    /* the device's ordinal in this process */
    const char *const *names;      /* metric names: counters and launch metrics, in output order */
    int n;
    prof_fn restore, forward;      /* restore may be NULL */
    void *arg;
};

/* Collect. Returns 0 with *metrics and *detail (caller deletes) whether or not counters were
 * available; a negative ERR_* when the forward itself failed (e names it) or memory ran out. */
int prof_collect(const struct prof_request *r, cJSON **metrics, cJSON **detail, struct err *e);

/* The CUPTI session (profiler, configuration, callbacks, the L2 evictor's buffer) is set up by the
 * first collection and kept for the next ones with the same counters and context; this ends it. */
void prof_release(void);

/* For callers that cannot pass C function pointers conveniently (the Triton harness, through
 * ctypes): the same collection with the names as one comma-separated string, answered as one
 * JSON text {"metrics": ..., "detail": ...} or {"error": "..."}; free it with prof_free. */
char *prof_collect_json(int device, const char *names_csv, int (*restore)(void), int (*forward)(void));
void prof_free(char *p);

#endif
