// expect: wrong_answer
// problem: small-3x3
// A shared-memory tiled conv with the classic halo bug. Each 8x8 block computes an 8x8 output
// tile and needs a (8 + KH - 1) x (8 + KW - 1) input patch (10x10 for 3x3), but every thread
// stages only "its" element, so only the top-left 8x8 of the patch is ever written; the last
// KH-1 rows and KW-1 columns (the halo) are never stored by anyone. Outputs in the last two rows
// and columns of each tile read that uninitialised shared memory (whatever an earlier kernel
// left there, or zeros), so with a 14x14 output (tiles 0-7 and 8-13) many outputs are garbage.
// Written for stride 1, no padding, one group, as in this problem.
// @kgrade launch conv_halo_bug grid(cdiv(W_out, 8), cdiv(H_out, 8), N * C_out) block(8, 8) smem((8 + KH - 1) * (8 + KW - 1) * 4) args(x, w, y, C_in, H, W, C_out, KH, KW, H_out, W_out)

extern "C" __global__ void conv_halo_bug(const float *__restrict__ x, const float *__restrict__ w,
                                         float *__restrict__ y, int C_in, int H, int W, int C_out,
                                         int KH, int KW, int H_out, int W_out)
{
    extern __shared__ float patch[];  // [8 + KH - 1][8 + KW - 1]
    const int pw = 8 + KW - 1;
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int oh = blockIdx.y * 8 + ty, ow = blockIdx.x * 8 + tx;
    const int n = blockIdx.z / C_out, co = blockIdx.z % C_out;

    float acc = 0.0f;
    for (int ci = 0; ci < C_in; ++ci) {
        const float *xc = x + ((long long)n * C_in + ci) * H * W;
        // BUG: one element per thread, the halo (rows/columns 8 and up) is never loaded.
        patch[ty * pw + tx] = (oh < H && ow < W) ? xc[(long long)oh * W + ow] : 0.0f;
        __syncthreads();
        for (int kh = 0; kh < KH; ++kh)
            for (int kw = 0; kw < KW; ++kw)
                acc += patch[(ty + kh) * pw + tx + kw] * w[(((long long)co * C_in + ci) * KH + kh) * KW + kw];
        __syncthreads();
    }
    if (oh < H_out && ow < W_out)
        y[(((long long)n * C_out + co) * H_out + oh) * W_out + ow] = acc;
}
