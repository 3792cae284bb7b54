// expect: ok
// problem: kb1-55
// Two launches that update the output in place: fill_bias writes y = bias (or 0), then
// accumulate adds each output's convolution sum to what y already holds (y += ...). Correct when
// the two run in order once; a profiler that replayed accumulate without restoring y would leave
// y = bias + k * conv. The metrics test checks that the output after collection still matches.
// @kgrade launch fill_bias grid(cdiv(Y_ELEMS, 256)) block(256) args(bias, y, Y_ELEMS:i64, C_out, H_out * W_out)
// @kgrade launch accumulate grid(cdiv(Y_ELEMS, 256)) block(256) args(x, w, y, N, C_in, H, W, C_out, KH, KW, SH, SW, PH, PW, DH, DW, G, H_out, W_out)

extern "C" __global__ void fill_bias(const float *__restrict__ bias, float *__restrict__ y, long long n,
                                     int c_out, int plane)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        y[i] = bias ? bias[(i / plane) % c_out] : 0.0f;
}

extern "C" __global__ void accumulate(const float *__restrict__ x, const float *__restrict__ w, float *y,
                                      int N, int C_in, int H, int W, int C_out, int KH, int KW,
                                      int SH, int SW, int PH, int PW, int DH, int DW, int G,
                                      int H_out, int W_out)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= (long long)N * C_out * H_out * W_out)
        return;
    int ow = (int)(i % W_out);
    long long t = i / W_out;
    int oh = (int)(t % H_out);
    t /= H_out;
    int co = (int)(t % C_out);
    int n = (int)(t / C_out);
    int cin_g = C_in / G, g = co / (C_out / G);
    float acc = 0.0f;
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
    y[i] += acc;
}
