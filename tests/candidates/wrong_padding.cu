// expect: wrong_answer
// problem: small-stride2-pad1
// The naive kernel with the padding left out of the index math, so the input position is computed
// as oh*SH + kh*DH instead of oh*SH - PH + kh*DH (PH and PW are not even passed). Every output is
// still written and no read goes out of bounds, but with padding 1 each window is shifted one row
// and one column, so nearly every output differs from the reference.
// @kgrade launch conv_nopad grid(cdiv(Y_ELEMS, 256)) block(256) args(x, w, bias, y, N, C_in, H, W, C_out, KH, KW, SH, SW, DH, DW, G, H_out, W_out)

extern "C" __global__ void conv_nopad(const float *__restrict__ x, const float *__restrict__ w,
                                      const float *__restrict__ bias, float *__restrict__ y,
                                      int N, int C_in, int H, int W, int C_out, int KH, int KW,
                                      int SH, int SW, int DH, int DW, int G, int H_out, int W_out)
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
            long long ih = (long long)oh * SH + (long long)kh * DH;  // BUG: no "- PH"
            if (ih >= H)
                continue;
            for (int kw = 0; kw < KW; ++kw) {
                long long iw = (long long)ow * SW + (long long)kw * DW;  // BUG: no "- PW"
                if (iw < W)
                    acc += xc[ih * W + iw] * wc[kh * KW + kw];
            }
        }
    }
    y[i] = acc;
}
