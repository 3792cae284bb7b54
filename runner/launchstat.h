/* launchstat.h — the launch__* metrics and theoretical occupancy of one kernel launch, from the
 * launch's parameters, cuFuncGetAttribute, the device's attributes and the CUDA occupancy
 * calculator's rules: what Nsight Compute reports without counters or replay. docs/metrics.md,
 * "Collection", lists the rules. A context must be current. No state. */
#ifndef KGRADE_LAUNCHSTAT_H
#define KGRADE_LAUNCHSTAT_H

#include <cuda.h>

/* What the device contributes; read once per collection. */
struct launchstat_dev {
    int sms, max_threads_sm, max_blocks_sm, regs_sm, reserved_smem, warp;
};

/* Everything a launch's values are computed from; filled once per launch. */
struct launchstat {
    double grid;
    int block, dynamic_smem, regs, static_smem, blocks_per_sm;
    const struct launchstat_dev *dev;
};

void launchstat_device(CUdevice d, struct launchstat_dev *a);

void launchstat_compute(const struct launchstat_dev *a, CUfunction f, const unsigned grid[3],
                        const unsigned block[3], unsigned dynamic_smem, struct launchstat *s);

/* The value of launch metric name (metricname_is_launch); NAN for a name that cannot be known
 * from the driver API: launch__occupancy_limit_shared_mem depends on the shared-memory carveout the
 * driver picks for the launch, which it does not expose (ncu showed 32, 100 and 132 KiB for three
 * kernels on the H200): null rather than guessed. */
double launchstat_value(const struct launchstat *s, const char *name);

#endif
