// expect: directive_error
// problem: small-3x3
// The launch names conv_kernel but the source defines conv_kernl (a typo), so the compiled
// module has no such kernel. The error names the launch directive's line (line 6); it is found
// right after compilation by looking the name up in the module, so no GPU is needed.
// @kgrade launch conv_kernel grid(cdiv(Y_ELEMS, 256)) block(256) args(x, w, y, Y_ELEMS:i64)

extern "C" __global__ void conv_kernl(const float *__restrict__ x, const float *__restrict__ w,
                                      float *__restrict__ y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i] * w[0];
}
