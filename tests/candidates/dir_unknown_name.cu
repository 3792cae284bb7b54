// expect: directive_error
// problem: small-3x3
// The grid expression uses `Hout`, which is not a directive variable (the name is H_out).
// Variable names are exact, so the launch directive is rejected before anything runs; the
// compile-only check sees it too.
// @kgrade launch copy_first grid(cdiv(Hout * W_out, 256)) block(256) args(x, y, Y_ELEMS:i64)

extern "C" __global__ void copy_first(const float *__restrict__ x, float *__restrict__ y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i];
}
