// expect: wrong_answer
// problem: small-3x3
// The output is exactly right (the general naive kernel), but a second launch then "cleans up"
// by zeroing the input x in place. Candidates must leave their inputs untouched; the worker
// checks x after the run, so this is a wrong answer even though y matches the reference.
// @kgrade launch conv_naive grid(cdiv(Y_ELEMS, 256)) block(256) args(x, w, bias, y, N, C_in, H, W, C_out, KH, KW, SH, SW, PH, PW, DH, DW, G, H_out, W_out)
// @kgrade launch clear_input grid(cdiv(X_ELEMS, 256)) block(256) args(x, X_ELEMS:i64)

extern "C" __global__ void conv_naive(const float *__restrict__ x, const float *__restrict__ w,
                                      const float *__restrict__ bias, float *__restrict__ y,
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
    y[i] = acc;
}

extern "C" __global__ void clear_input(float *x, long long x_elems)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (i < x_elems)
        x[i] = 0.0f;  // BUG: overwrites the input
}
