// expect: directive_error
// problem: small-3x3
// Asks for the NVRTC option -rdc=true (relocatable device code), which is not on the allow-list:
// the worker links no device libraries and never enables separate compilation, so the option
// directive is refused before compiling.
// @kgrade option -rdc=true
// @kgrade launch copy_first grid(cdiv(Y_ELEMS, 256)) block(256) args(x, y, Y_ELEMS:i64)

extern "C" __global__ void copy_first(const float *__restrict__ x, float *__restrict__ y, long long n)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = x[i];
}
