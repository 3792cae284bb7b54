// expect: compile_error
// problem: small-3x3
// error-line: 21
// A naive conv with a typo, the accumulation uses `wgt`, which is not declared (the parameter is
// `w`). NVRTC reports "identifier "wgt" is undefined" on line 21; the compile log and that line
// number must reach the report.
// @kgrade launch conv_typo grid(cdiv(Y_ELEMS, 256)) block(256) args(x, w, y, N, C_in, H, W, C_out, KH, KW, H_out, W_out)

extern "C" __global__ void conv_typo(const float *__restrict__ x, const float *__restrict__ w,
                                     float *__restrict__ y, int N, int C_in, int H, int W,
                                     int C_out, int KH, int KW, int H_out, int W_out)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)N * C_out * H_out * W_out)
        return;
    int ow = (int)(i % W_out), oh = (int)(i / W_out % H_out);
    int co = (int)(i / ((long long)W_out * H_out) % C_out), n = (int)(i / ((long long)W_out * H_out * C_out));
    float acc = 0.0f;
    for (int ci = 0; ci < C_in; ++ci)
        for (int k = 0; k < KH * KW; ++k)
            acc += x[(((long long)n * C_in + ci) * H + oh + k / KW) * W + ow + k % KW] * wgt[(co * C_in + ci) * KH * KW + k];
    y[i] = acc;
}
