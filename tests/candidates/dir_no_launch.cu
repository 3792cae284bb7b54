// expect: directive_error
// problem: small-3x3
// A valid kernel but no launch directive anywhere in the file; the worker has nothing to run, and
// a candidate that launches nothing cannot be graded, so it is a directive error.

extern "C" __global__ void conv_unlaunched(const float *__restrict__ x, const float *__restrict__ w,
                                           float *__restrict__ y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i] * w[0];
}
