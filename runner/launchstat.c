/* launchstat.c — launch metrics from the driver API (see launchstat.h).
 *
 * The occupancy limits follow the CUDA occupancy calculator: warps per SM over warps per block;
 * registers allocated per warp in units of 256, per sub-partition (4 per SM); the device's blocks
 * per SM. The overall blocks per SM come from cuOccupancyMaxActiveBlocksPerMultiprocessor.
 * launch__registers_per_thread is what is allocated: never fewer than 16, as ncu reports it. */
#include "launchstat.h"

#include <math.h>
#include <string.h>

#include "cudrv.h"

void launchstat_device(CUdevice d, struct launchstat_dev *a)
{
    memset(a, 0, sizeof *a);
    cu.cuDeviceGetAttribute(&a->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d);
    cu.cuDeviceGetAttribute(&a->max_threads_sm, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, d);
    cu.cuDeviceGetAttribute(&a->max_blocks_sm, CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR, d);
    cu.cuDeviceGetAttribute(&a->regs_sm, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR, d);
    cu.cuDeviceGetAttribute(&a->reserved_smem, CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK, d);
    cu.cuDeviceGetAttribute(&a->warp, CU_DEVICE_ATTRIBUTE_WARP_SIZE, d);
    if (a->warp <= 0)
        a->warp = 32;
}

void launchstat_compute(const struct launchstat_dev *a, CUfunction f, const unsigned grid[3],
                        const unsigned block[3], unsigned dynamic_smem, struct launchstat *s)
{
    memset(s, 0, sizeof *s);
    s->dev = a;
    s->grid = (double)grid[0] * grid[1] * grid[2];
    s->block = (int)(block[0] * block[1] * block[2]);
    s->dynamic_smem = (int)dynamic_smem;
    cu.cuFuncGetAttribute(&s->regs, CU_FUNC_ATTRIBUTE_NUM_REGS, f);
    cu.cuFuncGetAttribute(&s->static_smem, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, f);
    cu.cuOccupancyMaxActiveBlocksPerMultiprocessor(&s->blocks_per_sm, f, s->block, dynamic_smem);
}

double launchstat_value(const struct launchstat *s, const char *name)
{
    const struct launchstat_dev *a = s->dev;
    int warps_block = (s->block + a->warp - 1) / a->warp, warps_sm = a->max_threads_sm / a->warp;
    int nb = s->blocks_per_sm;
    if (!strcmp(name, "launch__grid_size"))
        return s->grid;
    if (!strcmp(name, "launch__block_size"))
        return s->block;
    if (!strcmp(name, "launch__thread_count"))
        return s->grid * s->block;
    if (!strcmp(name, "launch__registers_per_thread"))
        return s->regs > 16 ? s->regs : 16;
    if (!strcmp(name, "launch__shared_mem_per_block_static"))
        return s->static_smem;
    if (!strcmp(name, "launch__shared_mem_per_block_dynamic"))
        return s->dynamic_smem;
    if (!strcmp(name, "launch__shared_mem_per_block_driver"))
        return a->reserved_smem;
    if (!strcmp(name, "launch__sm_count"))
        return a->sms;
    if (!strcmp(name, "launch__occupancy_limit_blocks"))
        return a->max_blocks_sm;
    if (!strcmp(name, "launch__occupancy_limit_warps"))
        return warps_block ? warps_sm / warps_block : 0;
    if (!strcmp(name, "launch__occupancy_limit_registers")) {
        int per_warp = (s->regs * a->warp + 255) / 256 * 256;
        return per_warp && warps_block ? (a->regs_sm / 4 / per_warp) * 4 / warps_block : a->max_blocks_sm;
    }
    if (!strcmp(name, "launch__waves_per_multiprocessor"))
        return nb && a->sms ? s->grid / ((double)nb * a->sms) : NAN;
    if (!strcmp(name, "sm__maximum_warps_avg_per_active_cycle"))
        return (double)nb * warps_block;
    if (!strcmp(name, "sm__maximum_warps_per_active_cycle_pct"))
        return warps_sm ? 100.0 * nb * warps_block / warps_sm : NAN;
    return NAN;
}
