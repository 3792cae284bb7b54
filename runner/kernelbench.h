/* kernelbench.h — the KernelBench view of a result record (kgrade-worker --format kernelbench).
 *
 * {compiled, correctness, runtime, runtime_stats, metadata, ref_runtime, ref_runtime_stats}, with
 * KernelBench's meanings: runtime is the mean in milliseconds (-1 when not timed), runtime_stats
 * {mean, std, min, max, num_trials, hardware, device}, metadata carrying the error texts under
 * KernelBench's keys (compilation_error, runtime_error, correctness_issue, correctness_trials,
 * max_difference) plus kgrade_verdict. ref_runtime is our strict FP32 reference
 * timed in the same rounds (not PyTorch's eager model, which KernelBench uses). */
#ifndef KGRADE_KERNELBENCH_H
#define KGRADE_KERNELBENCH_H

#include <cjson/cJSON.h>

/* A new object (the caller deletes it) built from record; never NULL unless out of memory. */
cJSON *kernelbench_from_record(const cJSON *record);

#endif
