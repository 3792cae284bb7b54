// expect: directive_error
// problem: small-3x3
// block(64, 32) asks for 2048 threads per block, over the CUDA limit of 1024 on every device, so
// the launch directive is rejected without launching (the compile-only check sees it too).
// @kgrade launch copy_first grid(cdiv(Y_ELEMS, 2048)) block(64, 32) args(x, y, Y_ELEMS:i64)

extern "C" __global__ void copy_first(const float *__restrict__ x, float *__restrict__ y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i];
}
