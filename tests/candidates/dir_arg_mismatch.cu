// expect: directive_error
// problem: small-3x3
// compile-only: ok
// The args list has 3 arguments (x, y, Y_ELEMS) but the kernel takes 4 parameters (x, w, y, n).
// Only the driver knows a kernel's parameter list (cuFuncGetParamInfo on a loaded module), so the
// GPU run rejects the launch before it happens, while the GPU-less compile-only check cannot see
// the mismatch and reports ok.
// @kgrade launch scale_copy grid(cdiv(Y_ELEMS, 256)) block(256) args(x, y, Y_ELEMS:i64)

extern "C" __global__ void scale_copy(const float *__restrict__ x, const float *__restrict__ w,
                                      float *__restrict__ y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i] * w[0];
}
