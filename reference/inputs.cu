// inputs.cu - fills a tensor with the deterministic inputs of portable.h, on the GPU.
// The same port_sample as the CPU (reference/rng.c), so element i is the same bits on both.
#include "portable.h"

extern "C" __global__ void fill_inputs(void *out, int dtype, unsigned long long seed, unsigned stream,
                                       unsigned long long first, long long count, int dist, float scale)
{
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < count;
         i += (long long)gridDim.x * blockDim.x) {
        float v = port_sample(seed, stream, first + (unsigned long long)i, dist, scale);
        if (dtype == 0)
            ((float *)out)[i] = v;
        else if (dtype == 1)
            ((unsigned short *)out)[i] = port_f32_to_f16(v);
        else
            ((unsigned short *)out)[i] = port_f32_to_bf16(v);
    }
}

// Summary of got - ref over n floats: out[0] += sum (got-ref)^2, out[1] += sum ref^2,
// out[2] = max |got-ref| (float bits; atomicMax orders non-negative floats correctly),
// out[3] += elements not bitwise equal, out[4] += elements where got - ref is NaN or Inf.
extern "C" __global__ void diff_stats(const float *ref, const float *got, long long n, double *out)
{
    double d2 = 0, r2 = 0, bad = 0, nf = 0;
    float mx = 0;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        float r = ref[i], g = got[i];
        float d = fabsf(g - r);
        if (!(d <= 3.0e38f)) {   // NaN or Inf
            bad += 1;
            nf += 1;
            continue;
        }
        d2 += (double)d * d;
        r2 += (double)r * r;
        mx = fmaxf(mx, d);
        bad += (g != r);
    }
    for (int o = 16; o > 0; o >>= 1) {
        d2 += __shfl_down_sync(0xffffffffu, d2, o);
        r2 += __shfl_down_sync(0xffffffffu, r2, o);
        bad += __shfl_down_sync(0xffffffffu, bad, o);
        nf += __shfl_down_sync(0xffffffffu, nf, o);
        mx = fmaxf(mx, __shfl_down_sync(0xffffffffu, mx, o));
    }
    if ((threadIdx.x & 31) == 0) {
        atomicAdd(&out[0], d2);
        atomicAdd(&out[1], r2);
        atomicMax((unsigned long long *)&out[2], (unsigned long long)__float_as_uint(mx));
        atomicAdd(&out[3], bad);
        atomicAdd(&out[4], nf);
    }
}
