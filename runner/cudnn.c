/* cudnn.c — the cuDNN baseline through its legacy convolution API, resolved with dlsym (see
 * cudnn.h). Only the dozen entry points used are declared here, with the enum values we pass, so the
 * build needs no cuDNN headers and the worker no cuDNN at link time.
 *
 * cuDNN uses the CUDA runtime, which attaches to the device's primary context: the worker makes
 * that context current (cudrv_open_device), so cuDNN and our driver-API code share memory and
 * streams. */
#include "cudnn.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cudrv.h"
#include "jit.h"
#include "sha256.h"

enum { DNN_DATA_FLOAT = 0, DNN_DATA_HALF = 2, DNN_DATA_BF16 = 9, DNN_NCHW = 0, DNN_XCORR = 1 };
enum { DNN_DEFAULT_MATH = 0, DNN_FMA_MATH = 3 };

struct dnn_perf {   /* cudnnConvolutionFwdAlgoPerf_t */
    int algo;
    int status;
    float time;
    size_t memory;
    int determinism;
    int math;
    int reserved[3];
};

#define DNN_FUNCS(X)                                                                               \
    X(int, cudnnGetVersion_, (void), "cudnnGetVersion")                                          \
    X(const char *, cudnnGetErrorString, (int), "cudnnGetErrorString")                         \
    X(int, cudnnCreate, (void **), "cudnnCreate")                                                 \
    X(int, cudnnDestroy, (void *), "cudnnDestroy")                                                \
    X(int, cudnnSetStream, (void *, CUstream), "cudnnSetStream")                                  \
    X(int, cudnnCreateTensorDescriptor, (void **), "cudnnCreateTensorDescriptor")                 \
    X(int, cudnnDestroyTensorDescriptor, (void *), "cudnnDestroyTensorDescriptor")                \
    X(int, cudnnSetTensor4dDescriptor, (void *, int, int, int, int, int, int), "cudnnSetTensor4dDescriptor") \
    X(int, cudnnCreateFilterDescriptor, (void **), "cudnnCreateFilterDescriptor")                 \
    X(int, cudnnDestroyFilterDescriptor, (void *), "cudnnDestroyFilterDescriptor")                \
    X(int, cudnnSetFilter4dDescriptor, (void *, int, int, int, int, int, int), "cudnnSetFilter4dDescriptor") \
    X(int, cudnnCreateConvolutionDescriptor, (void **), "cudnnCreateConvolutionDescriptor")       \
    X(int, cudnnDestroyConvolutionDescriptor, (void *), "cudnnDestroyConvolutionDescriptor")      \
    X(int, cudnnSetConvolution2dDescriptor, (void *, int, int, int, int, int, int, int, int),     \
      "cudnnSetConvolution2dDescriptor")                                                          \
    X(int, cudnnSetConvolutionGroupCount, (void *, int), "cudnnSetConvolutionGroupCount")         \
    X(int, cudnnSetConvolutionMathType, (void *, int), "cudnnSetConvolutionMathType")             \
    X(int, cudnnGetConvolutionForwardAlgorithmMaxCount, (void *, int *),                          \
      "cudnnGetConvolutionForwardAlgorithmMaxCount")                                              \
    X(int, cudnnGetConvolutionForwardWorkspaceSize, (void *, void *, void *, void *, void *, int, size_t *), \
      "cudnnGetConvolutionForwardWorkspaceSize")                                                  \
    X(int, cudnnFindConvolutionForwardAlgorithmEx,                                                \
      (void *, void *, const void *, void *, const void *, void *, void *, void *, int, int *,     \
       struct dnn_perf *, void *, size_t), "cudnnFindConvolutionForwardAlgorithmEx")              \
    X(int, cudnnConvolutionForward,                                                               \
      (void *, const void *, void *, const void *, void *, const void *, void *, int, void *, size_t, \
       const void *, void *, void *), "cudnnConvolutionForward")                                  \
    X(int, cudnnAddTensor, (void *, const void *, void *, const void *, const void *, void *, void *), \
      "cudnnAddTensor")

static struct {
#define DNN_MEMBER(ret, name, args, sym) ret(*name) args;
    DNN_FUNCS(DNN_MEMBER)
#undef DNN_MEMBER
    void *lib;
    int version;
} dnn;

int cudnn_load(int *version, struct err *e)
{
    if (!dnn.lib) {
        const char *env = getenv("KGRADE_CUDNN_LIB");
        const char *names[] = {env, "libcudnn.so.9", "libcudnn.so"};
        char why[256] = "";
        void *lib = NULL;
        for (size_t i = 0; i < sizeof names / sizeof names[0] && !lib; i++) {
            if (!names[i] || !*names[i])
                continue;
            if (!(lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL)))
                snprintf(why, sizeof why, "%s", dlerror());
        }
        if (!lib)
            return err_set(e, ERR_UNSUPPORTED, "", "cuDNN absent: %s", why);
#define DNN_RESOLVE(ret, name, args, sym)                                                          \
    if (!(*(void **)&dnn.name = dlsym(lib, sym))) {                                                \
        dlclose(lib);                                                                              \
        return err_set(e, ERR_UNSUPPORTED, "", "cuDNN lacks %s", sym);                             \
    }
        DNN_FUNCS(DNN_RESOLVE)
#undef DNN_RESOLVE
        dnn.lib = lib;
        dnn.version = dnn.cudnnGetVersion_();
    }
    if (version)
        *version = dnn.version;
    return 0;
}

#define DNN_CHECK(call)                                                                            \
    do {                                                                                           \
        int dnn_rc_ = (call);                                                                      \
        if (dnn_rc_ != 0) {                                                                        \
            rc = err_set(e, ERR_CUDA, "", "%.*s: %s (%d) at cudnn.c:%d", (int)strcspn(#call, "("), \
                         #call, dnn.cudnnGetErrorString(dnn_rc_), dnn_rc_, __LINE__);              \
            goto out;                                                                              \
        }                                                                                          \
    } while (0)

static int dnn_type(enum spec_dtype t)
{
    return t == SPEC_F16 ? DNN_DATA_HALF : t == SPEC_BF16 ? DNN_DATA_BF16 : DNN_DATA_FLOAT;
}

/* The algorithm choice cache: one small text file "ALGO MATH" per (problem, math mode, cuDNN
 * version, driver, device), named by the SHA-256 of that key, written atomically. A search on a
 * large problem tries every algorithm (FFT and GEMM variants with gigabytes of workspace) and costs
 * hundreds of milliseconds; the choice does not change between evaluations of the same problem.
 * Reusing it also keeps a baseline's algorithm the same from one evaluation to the next; on a
 * problem of a few microseconds the search's own timings are noisy, and the algorithm it keeps may
 * not be the fastest. */
static void choice_path(const char *dir, const struct conv_spec *s, bool tf32, const char *device, char *path,
                        size_t len)
{
    char key[512], hex[65];
    spec_describe(s, key, 256);
    size_t n = strlen(key);
    snprintf(key + n, sizeof key - n, "|%s|cudnn %d|driver %d|%s", tf32 ? "tf32" : "fp32",
             dnn.lib ? (int)dnn.cudnnGetVersion_() : 0, cu.driver_version, device ? device : "");
    struct sha256 h;
    sha256_init(&h);
    sha256_update(&h, key, strlen(key));
    sha256_final_hex(&h, hex);
    snprintf(path, len, "%s/cudnn-%s.algo", dir, hex);
}

static bool choice_read(const char *path, int *algo, int *math)
{
    FILE *f = fopen(path, "r");
    bool ok = f && fscanf(f, "%d %d", algo, math) == 2 && *algo >= 0 && *algo < 8 && *math >= 0 && *math < 4;
    if (f)
        fclose(f);
    return ok;
}

static void choice_write(const char *path, int algo, int math)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    bool ok = fprintf(f, "%d %d\n", algo, math) > 0;
    ok &= fclose(f) == 0;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
}

int cudnn_conv_init(struct cudnn_conv *c, const struct conv_spec *s, bool tf32, CUdeviceptr x, CUdeviceptr w,
                    CUdeviceptr y, CUstream st, const struct cudnn_choice *how, struct err *e)
{
    const char *cache_dir = how ? how->cache_dir : NULL;
    int rc = 0;
    struct dnn_perf *perf = NULL;
    memset(c, 0, sizeof *c);
    c->tf32 = tf32;
    if ((rc = cudnn_load(NULL, e)))
        return rc;
    struct spec_derived d;
    spec_derive(s, &d);
    int t = dnn_type(s->dtype);
    /* the fewest equal batch slices whose tensors stay under 2^31 elements */
    const int64_t x_img = d.x_elems / s->n, y_img = d.y_elems / s->n;
    int64_t nb = s->n;
    for (c->slices = 1; c->slices <= s->n; c->slices++) {
        nb = s->n / c->slices;
        if (s->n % c->slices == 0 && x_img * nb < (1ll << 31) && y_img * nb < (1ll << 31))
            break;
    }
    if (c->slices > s->n) {
        rc = err_set(e, ERR_UNSUPPORTED, "", "a single image exceeds cuDNN's 2^31-element tensor limit");
        goto out;
    }
    c->x_slice_bytes = (size_t)(x_img * nb) * (size_t)d.dtype_size;
    c->y_slice_bytes = (size_t)(y_img * nb) * (size_t)d.dtype_size;
    DNN_CHECK(dnn.cudnnCreate(&c->handle));
    DNN_CHECK(dnn.cudnnSetStream(c->handle, st));
    DNN_CHECK(dnn.cudnnCreateTensorDescriptor(&c->xd));
    DNN_CHECK(dnn.cudnnCreateTensorDescriptor(&c->yd));
    DNN_CHECK(dnn.cudnnCreateTensorDescriptor(&c->bd));
    DNN_CHECK(dnn.cudnnCreateFilterDescriptor(&c->wd));
    DNN_CHECK(dnn.cudnnCreateConvolutionDescriptor(&c->cd));
    DNN_CHECK(dnn.cudnnSetTensor4dDescriptor(c->xd, DNN_NCHW, t, (int)nb, (int)s->c_in, (int)s->h, (int)s->w));
    DNN_CHECK(dnn.cudnnSetTensor4dDescriptor(c->yd, DNN_NCHW, t, (int)nb, (int)s->c_out, (int)d.h_out,
                                             (int)d.w_out));
    DNN_CHECK(dnn.cudnnSetTensor4dDescriptor(c->bd, DNN_NCHW, t, 1, (int)s->c_out, 1, 1));
    DNN_CHECK(dnn.cudnnSetFilter4dDescriptor(c->wd, t, DNN_NCHW, (int)s->c_out, (int)(s->c_in / s->groups),
                                             (int)s->kh, (int)s->kw));
    DNN_CHECK(dnn.cudnnSetConvolution2dDescriptor(c->cd, (int)s->pad_h, (int)s->pad_w, (int)s->stride_h,
                                                  (int)s->stride_w, (int)s->dil_h, (int)s->dil_w, DNN_XCORR,
                                                  DNN_DATA_FLOAT));
    DNN_CHECK(dnn.cudnnSetConvolutionGroupCount(c->cd, (int)s->groups));
    DNN_CHECK(dnn.cudnnSetConvolutionMathType(c->cd, tf32 ? DNN_DEFAULT_MATH : DNN_FMA_MATH));

    char path[4200] = "";
    int algo = 0, math = 0, got = 0, maxalgo = 0;
    DNN_CHECK(dnn.cudnnGetConvolutionForwardAlgorithmMaxCount(c->handle, &maxalgo));
    if (!(perf = calloc((size_t)maxalgo + 1, sizeof *perf))) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    if (cache_dir) {
        choice_path(cache_dir, s, tf32, how->device, path, sizeof path);
        size_t sz = 0;
        if (choice_read(path, &algo, &math) &&
            dnn.cudnnSetConvolutionMathType(c->cd, math) == 0 &&
            dnn.cudnnGetConvolutionForwardWorkspaceSize(c->handle, c->xd, c->wd, c->cd, c->yd, algo, &sz) == 0) {
            if (sz)
                CU_CHECK(cu.cuMemAlloc(&c->ws, sz));
            c->ws_bytes = sz;
            c->algo = algo;
            c->math = math;
            c->choice = "cached";
            goto out;
        }
        DNN_CHECK(dnn.cudnnSetConvolutionMathType(c->cd, tf32 ? DNN_DEFAULT_MATH : DNN_FMA_MATH));
    }

    /* workspace: the largest any algorithm asks for, capped at 4 GiB */
    size_t ws = 0;
    for (int a = 0; a < maxalgo; a++) {
        size_t sz = 0;
        if (dnn.cudnnGetConvolutionForwardWorkspaceSize(c->handle, c->xd, c->wd, c->cd, c->yd, a, &sz) == 0 &&
            sz > ws && sz <= (4ull << 30))
            ws = sz;
    }
    if (ws)
        CU_CHECK(cu.cuMemAlloc(&c->ws, ws));
    c->ws_bytes = ws;
    DNN_CHECK(dnn.cudnnFindConvolutionForwardAlgorithmEx(c->handle, c->xd, (const void *)x, c->wd,
                                                         (const void *)w, c->cd, c->yd, (void *)y, maxalgo,
                                                         &got, perf, (void *)c->ws, ws));
    int best = -1;
    for (int i = 0; i < got && best < 0; i++)   /* sorted fastest first */
        if (perf[i].status == 0 && (tf32 || perf[i].math == DNN_FMA_MATH))
            best = i;
    if (best < 0) {
        rc = err_set(e, ERR_UNSUPPORTED, "", "cuDNN found no %s algorithm for this problem",
                     tf32 ? "TF32" : "strict FP32");
        goto out;
    }
    c->algo = perf[best].algo;
    c->math = perf[best].math;
    c->search_ms = perf[best].time;
    c->choice = "search";
    DNN_CHECK(dnn.cudnnSetConvolutionMathType(c->cd, c->math));
    if (path[0])
        choice_write(path, c->algo, c->math);
out:
    free(perf);
    if (rc)
        cudnn_conv_free(c);
    return rc;
}

int cudnn_conv_run(struct cudnn_conv *c, CUdeviceptr x, CUdeviceptr w, CUdeviceptr b, CUdeviceptr y, struct err *e)
{
    int rc = 0;
    const float one = 1.0f, zero = 0.0f;
    for (int i = 0; i < c->slices; i++) {
        CUdeviceptr xs = x + i * c->x_slice_bytes, ys = y + i * c->y_slice_bytes;
        DNN_CHECK(dnn.cudnnConvolutionForward(c->handle, &one, c->xd, (const void *)xs, c->wd, (const void *)w,
                                              c->cd, c->algo, (void *)c->ws, c->ws_bytes, &zero, c->yd,
                                              (void *)ys));
        if (b)
            DNN_CHECK(dnn.cudnnAddTensor(c->handle, &one, c->bd, (const void *)b, &one, c->yd, (void *)ys));
    }
out:
    return rc;
}

const char *cudnn_algo_name(int algo)
{
    static const char *names[] = {"IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM", "DIRECT",
                                  "FFT", "FFT_TILING", "WINOGRAD", "WINOGRAD_NONFUSED"};
    return algo >= 0 && algo < 8 ? names[algo] : "UNKNOWN";
}

const char *cudnn_math_name(int math)
{
    static const char *names[] = {"DEFAULT", "TENSOR_OP", "TENSOR_OP_ALLOW_CONVERSION", "FMA"};
    return math >= 0 && math < 4 ? names[math] : "UNKNOWN";
}

void cudnn_conv_free(struct cudnn_conv *c)
{
    if (!c || !dnn.lib)
        return;
    if (c->cd)
        dnn.cudnnDestroyConvolutionDescriptor(c->cd);
    if (c->wd)
        dnn.cudnnDestroyFilterDescriptor(c->wd);
    if (c->xd)
        dnn.cudnnDestroyTensorDescriptor(c->xd);
    if (c->yd)
        dnn.cudnnDestroyTensorDescriptor(c->yd);
    if (c->bd)
        dnn.cudnnDestroyTensorDescriptor(c->bd);
    if (c->handle)
        dnn.cudnnDestroy(c->handle);
    if (c->ws)
        cu.cuMemFree(c->ws);
    memset(c, 0, sizeof *c);
}
