// expect: ok
// problem: small-stride2-pad1
// Shared-memory tiled direct convolution with compile-time shapes (the worker's -DKG_* defines).
// Each 16x16 block computes a 16x16 tile of one output plane (n, co) = blockIdx.z. For every input
// channel of co's group it stages the input patch the tile needs (the tile's rows and columns at
// stride SH/SW plus the dilated kernel's halo, zeros where padding) and that channel's KH*KW
// weights in dynamic shared memory, then each thread accumulates its output from shared memory.
// The smem(E) directive sizes the buffer with the same formula as IT_H/IT_W below. General in
// stride, padding, dilation, groups and bias (as long as the patch fits in shared memory).
// @kgrade launch conv_tiled grid(cdiv(W_out, 16), cdiv(H_out, 16), N * C_out) block(16, 16) smem((((16 - 1) * SH + (KH - 1) * DH + 1) * ((16 - 1) * SW + (KW - 1) * DW + 1) + KH * KW) * 4) args(x, w, bias, y)

#define TILE 16
#define CIN_G (KG_C_IN / KG_G)
#define COUT_G (KG_C_OUT / KG_G)
#define IT_H ((TILE - 1) * KG_SH + (KG_KH - 1) * KG_DH + 1)  // input patch rows
#define IT_W ((TILE - 1) * KG_SW + (KG_KW - 1) * KG_DW + 1)  // input patch columns
#define KK (KG_KH * KG_KW)

extern "C" __global__ void __launch_bounds__(TILE * TILE)
conv_tiled(const float *__restrict__ x, const float *__restrict__ w,
           const float *__restrict__ bias, float *__restrict__ y)
{
    extern __shared__ float smem[];
    float *patch = smem;              // [IT_H][IT_W]
    float *wk = smem + IT_H * IT_W;   // [KH][KW]

    const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * TILE + tx;
    const int ow0 = blockIdx.x * TILE, oh0 = blockIdx.y * TILE;
    const int n = blockIdx.z / KG_C_OUT, co = blockIdx.z % KG_C_OUT, g = co / COUT_G;
    const int oh = oh0 + ty, ow = ow0 + tx;
    const long long ih0 = (long long)oh0 * KG_SH - KG_PH;  // input row of patch row 0
    const long long iw0 = (long long)ow0 * KG_SW - KG_PW;

    float acc = 0.0f;
    for (int ci = 0; ci < CIN_G; ++ci) {
        const float *xc = x + ((long long)n * KG_C_IN + (long long)g * CIN_G + ci) * KG_H * KG_W;
        for (int e = tid; e < IT_H * IT_W; e += TILE * TILE) {
            long long ih = ih0 + e / IT_W, iw = iw0 + e % IT_W;
            patch[e] = (ih >= 0 && ih < KG_H && iw >= 0 && iw < KG_W) ? xc[ih * KG_W + iw] : 0.0f;
        }
        for (int e = tid; e < KK; e += TILE * TILE)
            wk[e] = w[((long long)co * CIN_G + ci) * KK + e];
        __syncthreads();

        if (oh < KG_H_OUT && ow < KG_W_OUT) {
#pragma unroll
            for (int kh = 0; kh < KG_KH; ++kh)
#pragma unroll
                for (int kw = 0; kw < KG_KW; ++kw)
                    acc += patch[(ty * KG_SH + kh * KG_DH) * IT_W + tx * KG_SW + kw * KG_DW]
                           * wk[kh * KG_KW + kw];
        }
        __syncthreads();  // the next channel overwrites the patch
    }

    if (oh < KG_H_OUT && ow < KG_W_OUT) {
#if KG_HAS_BIAS
        acc += bias[co];
#endif
        y[(((long long)n * KG_C_OUT + co) * KG_H_OUT + oh) * KG_W_OUT + ow] = acc;
    }
}
