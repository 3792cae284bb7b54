// expect: directive_error
// problem: small-3x3
// Requests 1 MiB of dynamic shared memory per block, over every device's per-block limit
// (227 KiB on sm_90). The GPU run checks smem against the device's limit at bind time; the
// compile-only check, which has no device, uses a fixed limit that is also below 1 MiB, so it
// reports the same directive error.
// @kgrade launch stage_copy grid(cdiv(Y_ELEMS, 256)) block(256) smem(1048576) args(x, y, Y_ELEMS:i64)

extern "C" __global__ void stage_copy(const float *__restrict__ x, float *__restrict__ y, long long n)
{
    extern __shared__ float buf[];
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    buf[threadIdx.x] = i < n ? x[i] : 0.0f;
    __syncthreads();
    if (i < n)
        y[i] = buf[threadIdx.x];
}
