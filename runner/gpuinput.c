/* gpuinput.c — the deterministic inputs on the GPU (see gpuinput.h).
 *
 * A grid-stride kernel over the tensor, sized to a few waves of the device, evaluates port_sample
 * for each element: no state, no host round trip, so a 1 GB tensor costs milliseconds. */
#include "gpuinput.h"

#include <math.h>
#include <string.h>

#include "cudrv.h"
#include "embedded.h"
#include "rng.h"

void gpuinput_program(struct jit_program *p)
{
    static const char *names[] = {"portable.h"};
    static const char *sources[1];
    sources[0] = embedded_portable;
    memset(p, 0, sizeof *p);
    p->name = "inputs.cu";
    p->source = embedded_inputs;
    p->n_headers = 1;
    p->header_names = names;
    p->header_sources = sources;
}

int gpuinput_init(struct gpuinput *gi, CUdevice dev, int arch, const char *cache_dir, struct err *e)
{
    int rc = 0;
    struct jit_program p;
    struct jit_result r;
    static const char *opts[] = {"--ftz=false", "--prec-div=true", "--prec-sqrt=true", "--fmad=false"};
    memset(gi, 0, sizeof *gi);
    gpuinput_program(&p);
    p.n_options = 4;
    p.options = opts;
    if ((rc = jit_compile(&p, arch, cache_dir, 16 << 10, &r, e)))
        goto out;
    CU_CHECK(cu.cuModuleLoadData(&gi->mod, r.image));
    CU_CHECK(cu.cuModuleGetFunction(&gi->fill, gi->mod, "fill_inputs"));
    CU_CHECK(cu.cuModuleGetFunction(&gi->diff, gi->mod, "diff_stats"));
    CU_CHECK(cu.cuDeviceGetAttribute(&gi->sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, dev));
out:
    jit_result_free(&r);
    if (rc)
        gpuinput_free(gi);
    return rc;
}

int gpuinput_fill(struct gpuinput *gi, CUdeviceptr out, enum spec_dtype dtype, unsigned long long seed,
                  enum port_stream stream, long long count, enum port_dist dist, float scale, CUstream st,
                  struct err *e)
{
    int rc = 0;
    int dt = (int)dtype, di = (int)dist;
    unsigned sid = (unsigned)stream;
    unsigned long long first = 0;
    void *args[] = {&out, &dt, &seed, &sid, &first, &count, &di, &scale};
    long long blocks = (count + 255) / 256;
    if (blocks > (long long)gi->sms * 16)
        blocks = (long long)gi->sms * 16;
    if (blocks < 1)
        blocks = 1;
    CU_CHECK(cu.cuLaunchKernel(gi->fill, (unsigned)blocks, 1, 1, 256, 1, 1, 0, st, args, NULL));
out:
    return rc;
}

int gpuinput_fill_problem(struct gpuinput *gi, const struct conv_spec *s, unsigned long long seed,
                          enum port_dist dist, const struct gpuinput_tensors *t, CUstream st, struct err *e)
{
    struct spec_derived d;
    spec_derive(s, &d);
    int rc = gpuinput_fill(gi, t->x, s->dtype, seed, PORT_STREAM_X, d.x_elems, dist,
                           rng_scale(s, PORT_STREAM_X, dist), st, e);
    if (!rc)
        rc = gpuinput_fill(gi, t->w, s->dtype, seed, PORT_STREAM_W, d.w_elems, dist,
                           rng_scale(s, PORT_STREAM_W, dist), st, e);
    if (!rc && s->bias)
        rc = gpuinput_fill(gi, t->b, s->dtype, seed, PORT_STREAM_B, d.b_elems, dist,
                           rng_scale(s, PORT_STREAM_B, dist), st, e);
    return rc;
}

int gpuinput_diff(struct gpuinput *gi, CUdeviceptr ref, CUdeviceptr got, long long n, CUstream st,
                  struct gpuinput_diff *d, struct err *e)
{
    int rc = 0;
    CUdeviceptr acc = 0;
    double h[5];
    CU_CHECK(cu.cuMemAlloc(&acc, sizeof h));
    CU_CHECK(cu.cuMemsetD8(acc, 0, sizeof h));
    void *args[] = {&ref, &got, &n, &acc};
    CU_CHECK(cu.cuLaunchKernel(gi->diff, (unsigned)gi->sms * 8, 1, 1, 256, 1, 1, 0, st, args, NULL));
    CU_CHECK(cu.cuStreamSynchronize(st));
    CU_CHECK(cu.cuMemcpyDtoH(h, acc, sizeof h));
    unsigned long long mxbits;
    memcpy(&mxbits, &h[2], sizeof mxbits);
    unsigned u = (unsigned)mxbits;
    float mx;
    memcpy(&mx, &u, sizeof mx);
    d->rel_l2 = h[1] > 0 ? sqrt(h[0] / h[1]) : sqrt(h[0]);
    d->max_abs = mx;
    d->unequal = (long long)h[3];
    d->nonfinite = (long long)h[4];
    if (d->nonfinite)
        d->rel_l2 = d->max_abs = INFINITY;
out:
    if (acc)
        cu.cuMemFree(acc);
    return rc;
}

int gpuinput_poison(CUdeviceptr p, enum spec_dtype dtype, long long count, CUstream st, struct err *e)
{
    int rc = 0;
    if (dtype == SPEC_F32)
        CU_CHECK(cu.cuMemsetD32Async(p, 0x7fc00000u, (size_t)count, st));
    else
        CU_CHECK(cu.cuMemsetD16Async(p, 0x7fff, (size_t)count, st));
out:
    return rc;
}

int gpuinput_tensors_alloc(const struct conv_spec *s, bool with_y, struct gpuinput_tensors *t, struct err *e)
{
    int rc = 0;
    struct spec_derived d;
    spec_derive(s, &d);
    size_t sz = (size_t)d.dtype_size;
    memset(t, 0, sizeof *t);
    CU_CHECK(cu.cuMemAlloc(&t->x, (size_t)d.x_elems * sz));
    CU_CHECK(cu.cuMemAlloc(&t->w, (size_t)d.w_elems * sz));
    CU_CHECK(cu.cuMemAlloc(&t->b, (size_t)d.b_elems * sz + 4));
    if (with_y)
        CU_CHECK(cu.cuMemAlloc(&t->y, (size_t)d.y_elems * sz));
out:
    if (rc)
        gpuinput_tensors_free(t);
    return rc;
}

void gpuinput_tensors_free(struct gpuinput_tensors *t)
{
    if (!t)
        return;
    CUdeviceptr *p[] = {&t->x, &t->w, &t->b, &t->y};
    for (size_t i = 0; i < sizeof p / sizeof p[0]; i++) {
        if (*p[i])
            cu.cuMemFree(*p[i]);
        *p[i] = 0;
    }
}

void gpuinput_free(struct gpuinput *gi)
{
    if (gi && gi->mod)
        cu.cuModuleUnload(gi->mod);
    if (gi)
        gi->mod = NULL;
}
