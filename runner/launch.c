/* launch.c — prepare, check and run a candidate's launch sequence (see launch.h).
 *
 * Argument values live in ls->val, one 8-byte slot per argument, and ls->params points at them:
 * cuLaunchKernel copies as many bytes as the kernel's parameter has, which launch_prepare has
 * checked equals the directive's size, and the low bytes of a little-endian slot are the 32-bit
 * value. Pointer slots are filled by launch_bind, so the same prepared set runs on any buffers. */
#include "launch.h"

#include <stdio.h>
#include <string.h>

#include "cudrv.h"
#include "watchdog.h"

static int fail(int *err_line, const struct directive_launch_plan *lp, struct err *e, const char *fmt,
                const char *detail)
{
    if (err_line)
        *err_line = lp->line;
    return err_set(e, ERR_INVALID, "directive", "line %d: launch %s: %s%s", lp->line, lp->kernel, fmt, detail);
}

static int check_params(struct launch_kernel *k, const struct directive_launch_plan *lp, int *err_line, struct err *e)
{
    size_t sizes[DIRECTIVE_MAX_ARGS + 1];
    int n = 0;
    for (; n <= DIRECTIVE_MAX_ARGS; n++) {
        size_t off, sz;
        if (cu.cuFuncGetParamInfo(k->f, (size_t)n, &off, &sz) != CUDA_SUCCESS)
            break;
        sizes[n] = sz;
    }
    k->nparams = n;
    char msg[256] = "", list[160] = "";
    for (int i = 0; i < n && i < 16; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%zu", i ? ", " : "", sizes[i]);
    if (n != lp->nargs) {
        snprintf(msg, sizeof msg, "the kernel takes %d parameter%s (bytes: %s), the directive passes %d", n,
                 n == 1 ? "" : "s", n ? list : "none", lp->nargs);
        return fail(err_line, lp, e, msg, "");
    }
    for (int i = 0; i < n; i++)
        if (sizes[i] != (size_t)lp->args[i].size) {
            snprintf(msg, sizeof msg, "argument %d is %d bytes but the kernel's parameter %d is %zu bytes (%s)", i + 1,
                     lp->args[i].size, i + 1, sizes[i],
                     sizes[i] == 4 ? "use :i32" : sizes[i] == 8 ? "use :i64 or a pointer" : "not supported");
            return fail(err_line, lp, e, msg, "");
        }
    return 0;
}

int launch_prepare(struct launch_set *ls, CUmodule mod, CUdevice dev, const struct directive_plan *plan,
                   const char (*symbols)[DIRECTIVE_MAX_KERNEL + 1], int *err_line, struct err *e)
{
    int rc = 0, optin = 0, max_threads_sm = 0;
    memset(ls, 0, sizeof *ls);
    ls->plan = plan;
    CU_CHECK(cu.cuDeviceGetAttribute(&ls->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
    CU_CHECK(cu.cuDeviceGetAttribute(&optin, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN, dev));
    CU_CHECK(cu.cuDeviceGetAttribute(&max_threads_sm, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR, dev));
    for (int i = 0; i < plan->nlaunch; i++) {
        const struct directive_launch_plan *lp = &plan->launch[i];
        struct launch_kernel *k = &ls->k[i];
        char msg[256];
        snprintf(k->symbol, sizeof k->symbol, "%s", symbols[i]);
        CU_CHECK(cu.cuModuleGetFunction(&k->f, mod, k->symbol));
        CU_CHECK(cu.cuFuncGetAttribute(&k->regs, CU_FUNC_ATTRIBUTE_NUM_REGS, k->f));
        CU_CHECK(cu.cuFuncGetAttribute(&k->static_smem, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, k->f));
        CU_CHECK(cu.cuFuncGetAttribute(&k->local_bytes, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, k->f));
        CU_CHECK(cu.cuFuncGetAttribute(&k->const_bytes, CU_FUNC_ATTRIBUTE_CONST_SIZE_BYTES, k->f));
        CU_CHECK(cu.cuFuncGetAttribute(&k->max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, k->f));
        if ((rc = check_params(k, lp, err_line, e)))
            goto out;
        int threads = (int)(lp->block[0] * lp->block[1] * lp->block[2]);
        if (threads > k->max_threads) {
            snprintf(msg, sizeof msg, "block of %d threads, but the kernel allows at most %d (it uses %d registers per thread)",
                     threads, k->max_threads, k->regs);
            rc = fail(err_line, lp, e, msg, "");
            goto out;
        }
        if ((long long)lp->smem + k->static_smem > optin) {
            snprintf(msg, sizeof msg, "%u bytes of dynamic plus %d of static shared memory exceed the device's %d per block",
                     lp->smem, k->static_smem, optin);
            rc = fail(err_line, lp, e, msg, "");
            goto out;
        }
        int allowed = 0;
        CU_CHECK(cu.cuFuncGetAttribute(&allowed, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, k->f));
        if ((int)lp->smem > allowed)
            CU_CHECK(cu.cuFuncSetAttribute(k->f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, (int)lp->smem));
        CU_CHECK(cu.cuOccupancyMaxActiveBlocksPerMultiprocessor(&k->active_blocks, k->f, threads, lp->smem));
        if (k->active_blocks < 1) {
            snprintf(msg, sizeof msg, "a block of %d threads with %u bytes of shared memory does not fit on an SM",
                     threads, lp->smem + (unsigned)k->static_smem);
            rc = fail(err_line, lp, e, msg, "");
            goto out;
        }
        int warps = (threads + 31) / 32;
        k->occupancy = (double)k->active_blocks * warps / (max_threads_sm / 32);
        double blocks = (double)lp->grid[0] * lp->grid[1] * lp->grid[2];
        k->waves = blocks / ((double)k->active_blocks * ls->sms);
        for (int a = 0; a < lp->nargs; a++) {
            ls->val[i][a] = (unsigned long long)lp->args[a].value;
            ls->params[i][a] = &ls->val[i][a];
        }
    }
out:
    return rc;
}

void launch_bind(struct launch_set *ls, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, CUdeviceptr y, CUdeviceptr ws)
{
    const CUdeviceptr ptr[] = {[DIRECTIVE_ARG_X] = x, [DIRECTIVE_ARG_W] = w, [DIRECTIVE_ARG_BIAS] = b,
                               [DIRECTIVE_ARG_Y] = y, [DIRECTIVE_ARG_WORKSPACE] = ws};
    for (int i = 0; i < ls->plan->nlaunch; i++) {
        const struct directive_launch_plan *lp = &ls->plan->launch[i];
        for (int a = 0; a < lp->nargs; a++)
            if (lp->args[a].kind <= DIRECTIVE_ARG_WORKSPACE)
                ls->val[i][a] = (unsigned long long)ptr[lp->args[a].kind];
    }
}

int launch_run(struct launch_set *ls, CUstream st, double timeout_ms, const char *stage, int *failed, struct err *e)
{
    *failed = -1;
    for (int i = 0; i < ls->plan->nlaunch; i++) {
        const struct directive_launch_plan *lp = &ls->plan->launch[i];
        char what[200];
        snprintf(what, sizeof what, "%s, launch %d (line %d, kernel %s)", stage, i + 1, lp->line, lp->kernel);
        CUresult r = cu.cuLaunchKernel(ls->k[i].f, lp->grid[0], lp->grid[1], lp->grid[2], lp->block[0], lp->block[1],
                                       lp->block[2], lp->smem, st, ls->params[i], NULL);
        if (r == CUDA_SUCCESS && timeout_ms > 0) {
            watchdog_arm(timeout_ms, what);
            r = cu.cuStreamSynchronize(st);
            watchdog_disarm();
        }
        if (r != CUDA_SUCCESS) {
            const char *name = "CUDA_ERROR_?", *text = "?";
            cu.cuGetErrorName(r, &name);
            cu.cuGetErrorString(r, &text);
            *failed = i;
            return err_set(e, ERR_CUDA, "launch", "%s: %s (%s)", what, name, text);
        }
    }
    return 0;
}

cJSON *launch_to_json(const struct launch_set *ls)
{
    cJSON *arr = directive_plan_to_json(ls->plan), *o;
    int i = 0;
    cJSON_ArrayForEach(o, arr) {
        const struct directive_launch_plan *lp = &ls->plan->launch[i];
        const struct launch_kernel *k = &ls->k[i++];
        double threads = (double)lp->grid[0] * lp->grid[1] * lp->grid[2] * lp->block[0] * lp->block[1] * lp->block[2];
        cJSON_AddStringToObject(o, "symbol", k->symbol);
        cJSON_AddNumberToObject(o, "threads", threads);
        cJSON_AddNumberToObject(o, "shared_mem_static", k->static_smem);
        cJSON_AddNumberToObject(o, "registers_per_thread", k->regs);
        cJSON_AddNumberToObject(o, "local_bytes_per_thread", k->local_bytes);
        cJSON_AddNumberToObject(o, "blocks_per_sm", k->active_blocks);
        cJSON_AddNumberToObject(o, "theoretical_occupancy", k->occupancy);
        cJSON_AddNumberToObject(o, "waves_per_sm", k->waves);
    }
    return arr;
}
