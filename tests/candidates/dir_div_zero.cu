// expect: directive_error
// problem: small-3x3
// The grid expression N / (H - 16) divides by zero for this problem (H = 16). Expressions are
// evaluated per problem, so the error appears as soon as the problem is known: at compile-only
// time (which is given the file's problem) as well as in a GPU run.
// @kgrade launch copy_first grid(N / (H - 16)) block(256) args(x, y, Y_ELEMS:i64)

extern "C" __global__ void copy_first(const float *__restrict__ x, float *__restrict__ y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i];
}
