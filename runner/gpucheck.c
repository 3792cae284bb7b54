/* gpucheck.c — comparisons and hashes on the GPU (see gpucheck.h).
 *
 * Each reduction zeroes a small accumulator, runs one grid-stride kernel sized to a few waves and
 * copies the accumulator back: one synchronisation per check. The first mismatch's values are
 * fetched with two element-sized copies. */
#include "gpucheck.h"

#include <math.h>
#include <string.h>

#include "cudrv.h"
#include "embedded.h"
#include "jit.h"
#include "rng.h"

enum { ACC_DOUBLES = 7 };

int gpucheck_init(struct gpucheck *gc, CUdevice dev, int arch, const char *cache_dir, struct err *e)
{
    int rc = 0;
    static const char *names[] = {"portable.h"};
    static const char *sources[1];
    static const char *opts[] = {"--ftz=false", "--prec-div=true", "--prec-sqrt=true", "--fmad=false"};
    struct jit_program p = {.name = "verify.cu", .n_headers = 1, .header_names = names, .header_sources = sources,
                            .n_options = 4, .options = opts};
    struct jit_result r;
    sources[0] = embedded_portable;
    p.source = embedded_verify;
    memset(gc, 0, sizeof *gc);
    if ((rc = jit_compile(&p, arch, cache_dir, 16 << 10, &r, e)))
        goto out;
    CU_CHECK(cu.cuModuleLoadData(&gc->mod, r.image));
    CU_CHECK(cu.cuModuleGetFunction(&gc->compare, gc->mod, "compare_tol"));
    CU_CHECK(cu.cuModuleGetFunction(&gc->hash, gc->mod, "hash_units"));
    CU_CHECK(cu.cuModuleGetFunction(&gc->clock_probe, gc->mod, "clock_probe"));
    CU_CHECK(cu.cuDeviceGetAttribute(&gc->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
    CU_CHECK(cu.cuMemAlloc(&gc->acc, (ACC_DOUBLES + 1) * sizeof(double)));
out:
    jit_result_free(&r);
    if (rc)
        gpucheck_free(gc);
    return rc;
}

static double element(CUdeviceptr p, enum spec_dtype dtype, int64_t i)
{
    int sz = spec_dtype_size(dtype);
    unsigned char raw[4] = {0};
    float f = NAN;
    if (cu.cuMemcpyDtoH(raw, p + (CUdeviceptr)(i * sz), (size_t)sz) == CUDA_SUCCESS)
        rng_to_float(raw, dtype, 1, &f);
    return f;
}

int gpucheck_compare(struct gpucheck *gc, CUdeviceptr ref, CUdeviceptr got, enum spec_dtype dtype, int64_t count,
                     const int64_t shape[4], struct compare_tol tol, CUstream st, struct compare_result *r,
                     struct err *e)
{
    int rc = 0;
    double acc[ACC_DOUBLES];
    unsigned long long first = ~0ull;
    CUdeviceptr first_p = gc->acc + ACC_DOUBLES * sizeof(double);
    int dt = (int)dtype;
    long long n = count;
    double atol = tol.atol, rtol = tol.rtol;
    void *args[] = {&ref, &got, &dt, &n, &atol, &rtol, &gc->acc, &first_p};
    memset(r, 0, sizeof *r);
    CU_CHECK(cu.cuMemsetD8Async(gc->acc, 0, ACC_DOUBLES * sizeof(double), st));
    CU_CHECK(cu.cuMemsetD8Async(first_p, 0xff, sizeof first, st));
    CU_CHECK(cu.cuLaunchKernel(gc->compare, (unsigned)gc->sms * 8, 1, 1, 256, 1, 1, 0, st, args, NULL));
    CU_CHECK(cu.cuStreamSynchronize(st));
    CU_CHECK(cu.cuMemcpyDtoH(acc, gc->acc, sizeof acc));
    CU_CHECK(cu.cuMemcpyDtoH(&first, first_p, sizeof first));
    r->count = count;
    r->max_abs = acc[2];   /* non-negative doubles: their bit order, used by atomicMax, is their value order */
    r->max_rel = acc[3];
    r->mismatches = (int64_t)acc[4];
    r->nonfinite = (int64_t)acc[5];
    r->rel_l2 = acc[1] > 0 ? sqrt(acc[0] / acc[1]) : sqrt(acc[0]);
    if (r->nonfinite) {
        r->max_abs = r->max_rel = r->rel_l2 = INFINITY;
    }
    r->first_index = -1;
    for (int k = 0; k < 4; k++)
        r->first_nchw[k] = -1;
    if (r->mismatches > 0 && first < (unsigned long long)count) {
        int64_t i = (int64_t)first;
        r->first_index = i;
        r->first_nchw[3] = i % shape[3];
        r->first_nchw[2] = i / shape[3] % shape[2];
        r->first_nchw[1] = i / shape[3] / shape[2] % shape[1];
        r->first_nchw[0] = i / shape[3] / shape[2] / shape[1];
        r->first_ref = element(ref, dtype, i);
        r->first_got = element(got, dtype, i);
    }
    r->pass = r->mismatches == 0 && (tol.max_rel_l2 == 0.0 || r->rel_l2 <= tol.max_rel_l2);
out:
    return rc;
}

int gpucheck_hash(struct gpucheck *gc, CUdeviceptr p, size_t bytes, uint64_t key, CUstream st, uint64_t *h,
                  struct err *e)
{
    int rc = 0;
    long long n = (long long)(bytes / 2);
    unsigned long long k = key;
    void *args[] = {&p, &n, &k, &gc->acc};
    CU_CHECK(cu.cuMemsetD8Async(gc->acc, 0, sizeof(uint64_t), st));
    CU_CHECK(cu.cuLaunchKernel(gc->hash, (unsigned)gc->sms * 8, 1, 1, 256, 1, 1, 0, st, args, NULL));
    CU_CHECK(cu.cuStreamSynchronize(st));
    CU_CHECK(cu.cuMemcpyDtoH(h, gc->acc, sizeof *h));
out:
    return rc;
}

void gpucheck_free(struct gpucheck *gc)
{
    if (!gc)
        return;
    if (gc->acc)
        cu.cuMemFree(gc->acc);
    if (gc->mod)
        cu.cuModuleUnload(gc->mod);
    memset(gc, 0, sizeof *gc);
}
