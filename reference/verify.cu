// verify.cu - the worker's checks on the GPU: tolerance comparison (the GPU twin of compare.c),
// a keyed order-independent hash of a buffer, and an SM clock probe.
// Outputs of tens of gigabytes never travel to the host; each kernel reduces in registers, then
// per warp, then with one atomic per warp.
#include "portable.h"

static __device__ __forceinline__ double load_elem(const void *p, int dtype, long long i)
{
    if (dtype == 0)
        return ((const float *)p)[i];
    unsigned short h = ((const unsigned short *)p)[i];
    return dtype == 1 ? port_f16_to_f32(h) : port_bf16_to_f32(h);
}

static __device__ __forceinline__ bool finite_d(double v)
{
    return v - v == 0.0;
}

// The rules of compare_run (compare.c), element by element. acc: [0] sum (got-ref)^2, [1] sum
// ref^2, [2] max |got-ref| and [3] max relative error (both as ordered bits of a non-negative
// double), [4] mismatches, [5] nonfinite got, [6] elements not bitwise equal. first: the smallest
// mismatching index (initialised to ~0 by the host).
extern "C" __global__ void compare_tol(const void *ref, const void *got, int dtype, long long n, double atol,
                                       double rtol, double *acc, unsigned long long *first)
{
    double d2 = 0, r2 = 0, mabs = 0, mrel = 0, bad = 0, nf = 0, neq = 0;
    unsigned long long my_first = ~0ull;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (long long)gridDim.x * blockDim.x) {
        double rv = load_elem(ref, dtype, i), gv = load_elem(got, dtype, i);
        bool ok;
        if (!finite_d(rv)) {
            ok = rv == gv && rv == rv;   // the same infinity; a NaN reference never passes
        } else if (!finite_d(gv)) {
            ok = false;
            nf += 1;
        } else {
            double diff = fabs(gv - rv), mag = fabs(rv);
            ok = diff <= atol + rtol * mag;
            d2 += diff * diff;
            r2 += rv * rv;
            mabs = fmax(mabs, diff);
            if (mag > 0.0)
                mrel = fmax(mrel, diff / fmax(mag, 1e-6));
        }
        neq += !(rv == gv) ? 1 : 0;
        if (!ok) {
            bad += 1;
            if ((unsigned long long)i < my_first)
                my_first = (unsigned long long)i;
        }
    }
    for (int o = 16; o > 0; o >>= 1) {
        d2 += __shfl_down_sync(0xffffffffu, d2, o);
        r2 += __shfl_down_sync(0xffffffffu, r2, o);
        mabs = fmax(mabs, __shfl_down_sync(0xffffffffu, mabs, o));
        mrel = fmax(mrel, __shfl_down_sync(0xffffffffu, mrel, o));
        bad += __shfl_down_sync(0xffffffffu, bad, o);
        nf += __shfl_down_sync(0xffffffffu, nf, o);
        neq += __shfl_down_sync(0xffffffffu, neq, o);
        unsigned long long f = __shfl_down_sync(0xffffffffu, my_first, o);
        my_first = f < my_first ? f : my_first;
    }
    if ((threadIdx.x & 31) == 0) {
        atomicAdd(&acc[0], d2);
        atomicAdd(&acc[1], r2);
        atomicMax((unsigned long long *)&acc[2], (unsigned long long)__double_as_longlong(mabs));
        atomicMax((unsigned long long *)&acc[3], (unsigned long long)__double_as_longlong(mrel));
        atomicAdd(&acc[4], bad);
        atomicAdd(&acc[5], nf);
        atomicAdd(&acc[6], neq);
        if (my_first != ~0ull)
            atomicMin(first, my_first);
    }
}

static __device__ __forceinline__ unsigned long long mix64(unsigned long long z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

// Keyed hash of n 16-bit units (n even: 32-bit loads): the wrapping sum over positions of
// mix(key, position, word). Order-independent, so it is deterministic under any schedule, and a
// change of any unit changes it unless the change is crafted against the key, which lives only in
// the worker's memory and differs for every evaluation.
extern "C" __global__ void hash_units(const unsigned short *p, long long n, unsigned long long key,
                                      unsigned long long *acc)
{
    unsigned long long h = 0;
    bool wide = (n & 1) == 0;
    long long m = wide ? n / 2 : n;
    for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < m;
         i += (long long)gridDim.x * blockDim.x) {
        unsigned long long v = wide ? ((const unsigned *)p)[i] : p[i];
        h += mix64(key ^ mix64((unsigned long long)i * 0x9e3779b97f4a7c15ull + v));
    }
    for (int o = 16; o > 0; o >>= 1)
        h += __shfl_down_sync(0xffffffffu, h, o);
    if ((threadIdx.x & 31) == 0)
        atomicAdd(acc, h);
}

static __device__ __forceinline__ unsigned long long global_ns(void)
{
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// The SM clock, as nvbench measures it: SM cycles (clock64) against the global nanosecond timer
// over a window of window_ns, started on a timer tick. out[2*slot] = cycles, out[2*slot+1] = ns.
extern "C" __global__ void clock_probe(unsigned long long *out, int slot, unsigned window_ns)
{
    unsigned long long t = global_ns(), t0;
    while ((t0 = global_ns()) == t)
        ;
    long long c0 = clock64();
    unsigned long long t1;
    long long c1;
    do {
        t1 = global_ns();
        c1 = clock64();
    } while (t1 - t0 < window_ns);
    out[2 * slot] = (unsigned long long)(c1 - c0);
    out[2 * slot + 1] = t1 - t0;
}
