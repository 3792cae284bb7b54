// expect: ok
// problem: small-groups4
// Implicit GEMM per group in two launches, with plain C++ (mangled) kernel names.
// relayout_weights copies w[co][k] into the workspace as wt[g][k][j] (k = ci*KH*KW + kh*KW + kw,
// co = g*COUT_G + j), so the GEMM reads weight rows contiguously. igemm_conv then computes, for
// group g = blockIdx.z, Y[m][j] = sum_k A[m][k] * wt[g][k][j] with M = N*H_out*W_out output
// pixels (a 64-bit argument: it can reach 2^31), N = COUT_G, K = CIN_G*KH*KW, where A is the
// im2col matrix gathered on the fly (zeros for padding). 64x64 block tiles, 16-deep K slices in
// static shared memory, 256 threads with 4x4 outputs each. General in stride, padding, dilation,
// groups and bias.
// @kgrade workspace(W_ELEMS * 4)
// @kgrade launch relayout_weights grid(cdiv(W_ELEMS, 256)) block(256) args(w, workspace, W_ELEMS:i64, COUT_G, CIN_G * KH * KW)
// @kgrade launch igemm_conv grid(cdiv(N * H_out * W_out, 64), cdiv(COUT_G, 64), G) block(256) args(x, workspace, bias, y, N * H_out * W_out:i64, C_in, H, W, C_out, KH, KW, SH, SW, PH, PW, DH, DW, H_out, W_out, CIN_G, COUT_G)

#define BM 64  // output pixels per block
#define BN 64  // output channels per block
#define BK 16  // reduction slice
#define NT 256 // threads: a 16x16 grid, each thread owns 4 pixels x 4 channels

__global__ void relayout_weights(const float *__restrict__ w, float *__restrict__ wt,
                                 long long w_elems, int cout_g, int kred)
{
    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;  // index into w[co][k]
    if (i >= w_elems)
        return;
    long long co = i / kred;
    int k = (int)(i % kred);
    wt[((co / cout_g) * kred + k) * cout_g + co % cout_g] = w[i];
}

__global__ void __launch_bounds__(NT)
igemm_conv(const float *__restrict__ x, const float *__restrict__ wt,
           const float *__restrict__ bias, float *__restrict__ y, long long M, int C_in, int H,
           int W, int C_out, int KH, int KW, int SH, int SW, int PH, int PW, int DH, int DW,
           int H_out, int W_out, int cin_g, int cout_g)
{
    __shared__ float As[BK][BM];  // im2col slice, As[k][m]
    __shared__ float Bs[BK][BN];  // weight slice, Bs[k][j]
    const int tid = threadIdx.x, tx = tid % 16, ty = tid / 16;
    const long long m0 = (long long)blockIdx.x * BM, HWo = (long long)H_out * W_out;
    const int j0 = blockIdx.y * BN, g = blockIdx.z, kred = cin_g * KH * KW;
    const float *wg = wt + (long long)g * kred * cout_g;

    // The A column this thread gathers: pixel m0 + am, rows ak, ak + 4, ..., of each K slice.
    const int am = tid % BM, ak = tid / BM;
    const long long m = m0 + am;
    const bool mvalid = m < M;
    const long long n = mvalid ? m / HWo : 0, pix = mvalid ? m % HWo : 0;
    const long long ihb = (pix / W_out) * SH - PH, iwb = (pix % W_out) * SW - PW;
    const float *xn = x + (n * C_in + (long long)g * cin_g) * H * W;

    float acc[4][4] = {};
    for (int k0 = 0; k0 < kred; k0 += BK) {
        for (int kk = ak; kk < BK; kk += NT / BM) {
            int k = k0 + kk;
            float v = 0.0f;
            if (mvalid && k < kred) {
                int ci = k / (KH * KW), kh = k % (KH * KW) / KW, kw = k % KW;
                long long ih = ihb + (long long)kh * DH, iw = iwb + (long long)kw * DW;
                if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                    v = xn[((long long)ci * H + ih) * W + iw];
            }
            As[kk][am] = v;
        }
        for (int e = tid; e < BK * BN; e += NT) {
            int kk = e / BN, jj = e % BN, k = k0 + kk, j = j0 + jj;
            Bs[kk][jj] = (k < kred && j < cout_g) ? wg[(long long)k * cout_g + j] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < BK; ++kk) {
            float a[4], b[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                a[i] = As[kk][tx + 16 * i];
                b[i] = Bs[kk][ty + 16 * i];
            }
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j)
                    acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }

    for (int i = 0; i < 4; ++i) {
        long long mm = m0 + tx + 16 * i;
        if (mm >= M)
            continue;
        long long nn = mm / HWo, p = mm % HWo;
        for (int j = 0; j < 4; ++j) {
            int jj = j0 + ty + 16 * j;
            if (jj >= cout_g)
                continue;
            long long co = (long long)g * cout_g + jj;
            y[(nn * C_out + co) * HWo + p] = acc[i][j] + (bias ? bias[co] : 0.0f);
        }
    }
}
