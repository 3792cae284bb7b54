/* cudrv.c — load the CUDA driver API at run time (see cudrv.h).
 *
 * One idea: resolve by name through cuGetProcAddress with our headers' CUDA_VERSION, which returns
 * the ABI version of each entry point that matches the prototypes in cuda.h (the _v2 variants and
 * so on), instead of guessing suffixed symbol names with dlsym. Only cuGetProcAddress itself is
 * taken from dlsym. Nothing here allocates GPU resources. */
#include "cudrv.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

struct cudrv cu;

int cudrv_load(struct err *e)
{
    if (cu.lib)
        return 0;
    const char *names[] = {"libcuda.so.1", "libcuda.so"};
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !lib; i++)
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return err_set(e, ERR_UNSUPPORTED, "", "no CUDA driver: cannot load libcuda.so.1 (%s)", dlerror());

    __typeof__(&cuGetProcAddress) getproc;
    *(void **)&getproc = dlsym(lib, "cuGetProcAddress_v2");
    if (!getproc) {
        dlclose(lib);
        return err_set(e, ERR_UNSUPPORTED, "", "CUDA driver too old: no cuGetProcAddress_v2");
    }
    struct cudrv t;
    memset(&t, 0, sizeof t);
#define CUDRV_RESOLVE(f)                                                                          \
    {                                                                                             \
        CUdriverProcAddressQueryResult q = CU_GET_PROC_ADDRESS_SUCCESS;                                                       \
        if (getproc(#f, (void **)&t.f, CUDA_VERSION, CU_GET_PROC_ADDRESS_DEFAULT, &q) != CUDA_SUCCESS \
            || !t.f) {                                                                            \
            dlclose(lib);                                                                         \
            return err_set(e, ERR_UNSUPPORTED, "", "CUDA driver lacks %s (query result %d)", #f, (int)q); \
        }                                                                                         \
    }
    CUDRV_FUNCS(CUDRV_RESOLVE)
#undef CUDRV_RESOLVE
    if (t.cuDriverGetVersion(&t.driver_version) != CUDA_SUCCESS)
        t.driver_version = 0;
    t.lib = lib;
    cu = t;
    return 0;
}

int cudrv_fail(struct err *e, CUresult rc, const char *what, const char *file, int line)
{
    const char *name = NULL, *text = NULL;
    if (cu.cuGetErrorName)
        cu.cuGetErrorName(rc, &name);
    if (cu.cuGetErrorString)
        cu.cuGetErrorString(rc, &text);
    const char *base = strrchr(file, '/');
    char call[96];
    /* keep the API name, drop the argument list */
    snprintf(call, sizeof call, "%.*s", (int)strcspn(what, "("), what);
    return err_set(e, ERR_CUDA, "", "%s: %s (%s) at %s:%d", call, name ? name : "CUDA_ERROR_?",
                   text ? text : "?", base ? base + 1 : file, line);
}

int cudrv_open_device(int ordinal, CUdevice *dev, CUcontext *ctx, struct err *e)
{
    int rc = cudrv_load(e);
    if (rc)
        return rc;
    CUresult r = cu.cuInit(0);
    if (r == CUDA_ERROR_NO_DEVICE)
        return err_set(e, ERR_UNSUPPORTED, "", "no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)");
    if (r != CUDA_SUCCESS)
        return cudrv_fail(e, r, "cuInit", __FILE__, __LINE__);
    int n = 0;
    if ((r = cu.cuDeviceGetCount(&n)) != CUDA_SUCCESS)
        return cudrv_fail(e, r, "cuDeviceGetCount", __FILE__, __LINE__);
    if (ordinal < 0 || ordinal >= n)
        return err_set(e, ERR_UNSUPPORTED, "device", "device %d does not exist (%d visible)", ordinal, n);
    if ((r = cu.cuDeviceGet(dev, ordinal)) != CUDA_SUCCESS)
        return cudrv_fail(e, r, "cuDeviceGet", __FILE__, __LINE__);
    if ((r = cu.cuDevicePrimaryCtxRetain(ctx, *dev)) != CUDA_SUCCESS)
        return cudrv_fail(e, r, "cuDevicePrimaryCtxRetain", __FILE__, __LINE__);
    if ((r = cu.cuCtxSetCurrent(*ctx)) != CUDA_SUCCESS) {
        cu.cuDevicePrimaryCtxRelease(*dev);
        return cudrv_fail(e, r, "cuCtxSetCurrent", __FILE__, __LINE__);
    }
    return 0;
}
