/* canary.c — a known-answer kernel on one GPU (see canary.h).
 *
 * The kernel writes a hash of each index into 1 Mi words; the host recomputes and compares all of
 * them. It is compiled with NVRTC each time (no cache: the canary must not depend on any file) and
 * is small enough that context creation dominates. A wrong word means the GPU (or the driver)
 * cannot be trusted with a timing; a failed driver call names the call. */
#include "canary.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cudrv.h"
#include "gpuref.h"
#include "jit.h"

#define WORDS (1u << 20)

static const char kernel_src[] =
    "extern \"C\" __global__ void canary(unsigned *y, unsigned n, unsigned salt) {\n"
    "    for (unsigned i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x)\n"
    "        y[i] = (i * 2654435761u) ^ salt;\n"
    "}\n";

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

int canary_run(int ordinal, struct canary_result *r, struct err *e)
{
    int rc = 0, have_ctx = 0;
    CUdevice dev = 0;
    CUcontext ctx = NULL;
    CUmodule mod = NULL;
    CUdeviceptr y = 0;
    unsigned *host = NULL;
    struct jit_program p = {.name = "canary.cu", .source = kernel_src};
    struct jit_result j;
    memset(&j, 0, sizeof j);
    memset(r, 0, sizeof *r);
    double t0 = now_ms();
    if ((rc = cudrv_load(e)) || (rc = cudrv_open_device(ordinal, &dev, &ctx, e)))
        return rc;
    have_ctx = 1;
    cu.cuDeviceGetName(r->device, sizeof r->device, dev);
    if ((rc = gpuref_device_arch(dev, &r->arch, e)) || (rc = jit_compile(&p, r->arch, NULL, 4096, &j, e)))
        goto out;
    if (!(host = malloc(WORDS * sizeof *host))) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    CUfunction f;
    unsigned n = WORDS, salt = (unsigned)(t0 * 1000.0);
    void *args[] = {&y, &n, &salt};
    CU_CHECK(cu.cuModuleLoadData(&mod, j.image));
    CU_CHECK(cu.cuModuleGetFunction(&f, mod, "canary"));
    CU_CHECK(cu.cuMemAlloc(&y, WORDS * sizeof *host));
    CU_CHECK(cu.cuMemsetD32(y, 0xdeadbeefu, WORDS));
    CU_CHECK(cu.cuLaunchKernel(f, 256, 1, 1, 256, 1, 1, 0, NULL, args, NULL));
    CU_CHECK(cu.cuStreamSynchronize(NULL));   /* the legacy stream: the launch is on it */
    CU_CHECK(cu.cuMemcpyDtoH(host, y, WORDS * sizeof *host));
    unsigned bad = 0, first = 0;
    for (unsigned i = 0; i < WORDS; i++)
        if (host[i] != ((i * 2654435761u) ^ salt) && bad++ == 0)
            first = i;
    if (bad) {
        rc = err_set(e, ERR_INTERNAL, "", "%u of %u words wrong, the first at %u (0x%08x)", bad, WORDS, first,
                     host[first]);
        goto out;
    }
    CU_CHECK(cu.cuMemGetInfo(&r->mem_free, &r->mem_total));
    r->ms = now_ms() - t0;
out:
    free(host);
    if (y)
        cu.cuMemFree(y);
    if (mod)
        cu.cuModuleUnload(mod);
    jit_result_free(&j);
    if (have_ctx)
        cu.cuDevicePrimaryCtxRelease(dev);
    return rc;
}
