// expect: compile_error
// problem: small-3x3
// Uses dynamic parallelism, the parent kernel launches a child grid with <<<...>>> from device
// code. Device-side launches need relocatable device code (-rdc=true) and linking with cudadevrt;
// the worker compiles whole-program without -rdc (and refuses that option), so NVRTC rejects the
// source ("device-side kernel launch could not be processed as the required runtime APIs are not
// declared"; nvcc without -rdc says "requires separate compilation mode"): a compile error.
// @kgrade launch conv_parent grid(1) block(1) args(x, w, y, Y_ELEMS:i64)

extern "C" __global__ void conv_child(const float *__restrict__ x, const float *__restrict__ w,
                                      float *__restrict__ y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i] * w[0];
}

extern "C" __global__ void conv_parent(const float *__restrict__ x, const float *__restrict__ w,
                                       float *__restrict__ y, long long n)
{
    conv_child<<<(unsigned)((n + 255) / 256), 256>>>(x, w, y, n);
}
