// expect: wrong_answer
// problem: small-3x3
// Correct general math on a 2-D grid, where blockIdx.y is the output plane n*C_out + co and
// blockIdx.x a run of 64 pixels of that plane. But a leftover debugging guard returns early in
// every block with blockIdx.y == 1, so plane (n = 0, co = 1) is never written; those outputs keep
// the NaN the worker poisons y with, and the comparison must fail.
// @kgrade launch conv_planes grid(cdiv(H_out * W_out, 64), N * C_out) block(64) args(x, w, bias, y, C_in, H, W, C_out, KH, KW, SH, SW, PH, PW, DH, DW, G, H_out, W_out)

extern "C" __global__ void conv_planes(const float *__restrict__ x, const float *__restrict__ w,
                                       const float *__restrict__ bias, float *__restrict__ y,
                                       int C_in, int H, int W, int C_out, int KH, int KW, int SH,
                                       int SW, int PH, int PW, int DH, int DW, int G, int H_out,
                                       int W_out)
{
    if (blockIdx.y == 1)
        return;  // BUG: the whole plane (0, 1) is skipped
    long long p = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= (long long)H_out * W_out)
        return;
    int oh = (int)(p / W_out), ow = (int)(p % W_out);
    int n = blockIdx.y / C_out, co = blockIdx.y % C_out;
    int cin_g = C_in / G, g = co / (C_out / G);

    float acc = bias ? bias[co] : 0.0f;
    for (int ci = 0; ci < cin_g; ++ci) {
        const float *xc = x + ((long long)n * C_in + (long long)g * cin_g + ci) * H * W;
        const float *wc = w + ((long long)co * cin_g + ci) * KH * KW;
        for (int kh = 0; kh < KH; ++kh) {
            long long ih = (long long)oh * SH - PH + (long long)kh * DH;
            if (ih < 0 || ih >= H)
                continue;
            for (int kw = 0; kw < KW; ++kw) {
                long long iw = (long long)ow * SW - PW + (long long)kw * DW;
                if (iw >= 0 && iw < W)
                    acc += xc[ih * W + iw] * wc[kh * KW + kw];
            }
        }
    }
    y[((long long)blockIdx.y * H_out + oh) * W_out + ow] = acc;
}
