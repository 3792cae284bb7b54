// conv_ref.cu - kgrade's GPU reference convolution, compiled by NVRTC for the device it runs on.
//
// One idea: the problem is known before compilation, so every shape value is a compile-time
// constant (-D options from runner/gpuref.c). Index arithmetic then becomes multiplications by
// constants, bounds checks vanish where padding is zero, and loops over the kernel window unroll.
//
// Two kernels compute y = conv(x, w) + b, strict FP32 (no TF32; FP32 accumulation for 16-bit
// dtypes; explicit __fmaf_rn so no contraction choice is left to the compiler):
//   conv_igemm   implicit GEMM per group: M = N*HO*WO output pixels, N = CO/G channels,
//                K = CI/G*KH*KW. The weight is first re-laid out by conv_wt as wt[g][KP][COG]
//                (FP32, K zero-padded to a multiple of BK). Tiles BMxBN, BK-deep, double-buffered
//                shared memory with register prefetch, 8x8 outputs per thread.
//   conv_direct  direct convolution for depthwise and small groups (the GEMM would be too thin):
//                each thread computes OWT consecutive outputs of one row, reusing a register copy
//                of each input row segment across the kernel's width.
// Summation order: the GEMM sums k in ascending order within each thread, one term at a time;
// the direct kernel likewise. The CPU oracle (reference/cpuref.c) is the ground truth for both.
//
// Required defines (CV_ prefix): CV_N CV_CI CV_H CV_W CV_CO CV_KH CV_KW CV_SH CV_SW CV_PH CV_PW
// CV_DH CV_DW CV_G CV_HO CV_WO CV_BIAS CV_DT, and for conv_igemm BM BN BK, for conv_direct OWT.
// CV_DT: 0 float32, 1 float16, 2 bfloat16.

#include "portable.h"

#define CIG (CV_CI / CV_G)
#define COG (CV_CO / CV_G)
#define KK (CV_KH * CV_KW)
#define KRED (CIG * KK)
#define HW (CV_H * CV_W)
#define HWO (CV_HO * CV_WO)
#define MTOT (CV_N * HWO)
#define PADDED (CV_PH > 0 || CV_PW > 0)

#if CV_DT == 0
typedef float xt;
static __device__ __forceinline__ float ld(const xt *p) { return __ldg(p); }
static __device__ __forceinline__ void st(xt *p, float v) { *p = v; }
#elif CV_DT == 1
typedef unsigned short xt;
static __device__ __forceinline__ float ld(const xt *p)
{
    unsigned short h = __ldg(p);
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
static __device__ __forceinline__ void st(xt *p, float v)
{
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(v));
    *p = h;
}
#else
typedef unsigned short xt;
static __device__ __forceinline__ float ld(const xt *p) { return __uint_as_float((unsigned)__ldg(p) << 16); }
static __device__ __forceinline__ void st(xt *p, float v)
{
    unsigned short h;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(v));
    *p = h;
}
#endif

#ifdef BM
#define TM 8
#define TN 8
#define TX (BM / TM)
#define TY (BN / TN)
#define NT (TX * TY)
#define KT ((KRED + BK - 1) / BK)
#define KP (KT * BK)
// A-tile loading: each thread owns AM output pixels and loads AKN k-rows for each.
#define AM (BM > NT ? BM / NT : 1)
#define AKS (NT > BM ? NT / BM : 1)
#define AKN (BK / AKS)
#define BLD (BN * BK / NT)
static_assert(BM % 8 == 0 && BN % 8 == 0, "tile");
static_assert((NT % BM == 0) || (BM % NT == 0), "threads vs BM");
static_assert(BK % AKS == 0, "BK vs threads");
static_assert((BN * BK) % NT == 0, "B tile vs threads");
#define MINB (NT >= 256 ? 2 : 4)

// wt[g][k][n] = w[g*COG+n][k] for k < KRED, 0 for KRED <= k < KP.
extern "C" __global__ void conv_wt(const xt *__restrict__ w, float *__restrict__ wt)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= CV_G * KP * COG)
        return;
    int n = i % COG, k = (i / COG) % KP, g = i / (COG * KP);
    wt[i] = k < KRED ? ld(w + (g * COG + n) * KRED + k) : 0.0f;
}

extern "C" __global__ void __launch_bounds__(NT, MINB)
conv_igemm(const xt *__restrict__ x, const float *__restrict__ wt, const xt *__restrict__ b, xt *__restrict__ y)
{
    __shared__ __align__(16) float As[2][BK][BM];
    __shared__ __align__(16) float Bs[2][BK][BN];
    const int tid = threadIdx.x;
    const int g = blockIdx.z;
    const int m0 = blockIdx.x * BM;
    const int n0 = blockIdx.y * BN;

    // The output pixels this thread loads A for, decoded once.
    const int ak0 = tid / BM;
    int aih[AM], aiw[AM], abase[AM];
#pragma unroll
    for (int j = 0; j < AM; j++) {
        int m = m0 + (tid % BM) + j * NT;
        if (m >= MTOT)
            m = MTOT - 1;            // a valid address; the row is never stored
        int img = m / HWO, p = m - img * HWO;
        int oh = p / CV_WO, ow = p - oh * CV_WO;
        aih[j] = oh * CV_SH - CV_PH;
        aiw[j] = ow * CV_SW - CV_PW;
        abase[j] = (img * CV_CI + g * CIG) * HW;
    }
    const float *wtg = wt + g * KP * COG;

    float ra[AM][AKN], rb[BLD];
    auto load = [&](int kt) {
#pragma unroll
        for (int i = 0; i < AKN; i++) {
            int k = kt * BK + ak0 + i * AKS;
            int c = k / KK, rs = k - c * KK, r = rs / CV_KW, s = rs - r * CV_KW;
#pragma unroll
            for (int j = 0; j < AM; j++) {
                int ih = aih[j] + r * CV_DH, iw = aiw[j] + s * CV_DW;
                bool ok = (KRED % BK == 0 || k < KRED);
                if (PADDED)
                    ok = ok && (unsigned)ih < (unsigned)CV_H && (unsigned)iw < (unsigned)CV_W;
                ra[j][i] = ok ? ld(x + abase[j] + c * HW + ih * CV_W + iw) : 0.0f;
            }
        }
#pragma unroll
        for (int i = 0; i < BLD; i++) {
            int e = tid + i * NT, n = e % BN, k = e / BN;
            rb[i] = (COG % BN == 0 || n0 + n < COG) ? __ldg(wtg + (kt * BK + k) * COG + n0 + n) : 0.0f;
        }
    };
    auto store = [&](int buf) {
#pragma unroll
        for (int i = 0; i < AKN; i++)
#pragma unroll
            for (int j = 0; j < AM; j++)
                As[buf][ak0 + i * AKS][(tid % BM) + j * NT] = ra[j][i];
#pragma unroll
        for (int i = 0; i < BLD; i++) {
            int e = tid + i * NT;
            Bs[buf][e / BN][e % BN] = rb[i];
        }
    };

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++)
            acc[i][j] = 0.0f;

    const int tx = tid % TX, ty = tid / TX;
    load(0);
    store(0);
    __syncthreads();
    for (int kt = 0; kt < KT; kt++) {
        const int cur = kt & 1;
        if (kt + 1 < KT)
            load(kt + 1);
#pragma unroll
        for (int kk = 0; kk < BK; kk++) {
            float a[TM], bv[TN];
            float4 t;
            t = *(const float4 *)&As[cur][kk][tx * 4];          a[0] = t.x; a[1] = t.y; a[2] = t.z; a[3] = t.w;
            t = *(const float4 *)&As[cur][kk][BM / 2 + tx * 4]; a[4] = t.x; a[5] = t.y; a[6] = t.z; a[7] = t.w;
            t = *(const float4 *)&Bs[cur][kk][ty * 4];          bv[0] = t.x; bv[1] = t.y; bv[2] = t.z; bv[3] = t.w;
            t = *(const float4 *)&Bs[cur][kk][BN / 2 + ty * 4]; bv[4] = t.x; bv[5] = t.y; bv[6] = t.z; bv[7] = t.w;
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++)
                    acc[i][j] = __fmaf_rn(a[i], bv[j], acc[i][j]);
        }
        if (kt + 1 < KT)
            store(cur ^ 1);
        __syncthreads();
    }

    // Epilogue: y[img][g*COG+n][p] = acc + b.
#pragma unroll
    for (int h = 0; h < 2; h++) {
        const int mb = m0 + h * (BM / 2) + tx * 4;   // 4 consecutive pixels mb..mb+3
        if (mb >= MTOT)
            continue;
        int img = mb / HWO, p = mb - img * HWO;
#pragma unroll
        for (int jh = 0; jh < 2; jh++)
#pragma unroll
            for (int jj = 0; jj < 4; jj++) {
                const int n = n0 + jh * (BN / 2) + ty * 4 + jj;
                if (COG % BN != 0 && n >= COG)
                    continue;
                const int co = g * COG + n;
                const float bias = CV_BIAS ? ld(b + co) : 0.0f;
                float v[4];
#pragma unroll
                for (int i = 0; i < 4; i++)
                    v[i] = acc[h * 4 + i][jh * 4 + jj] + bias;
#if CV_DT == 0 && HWO % 4 == 0
                if (mb + 3 < MTOT) {
                    *(float4 *)(y + (img * CV_CO + co) * HWO + p) = make_float4(v[0], v[1], v[2], v[3]);
                    continue;
                }
#endif
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    int m = mb + i;
                    if (m < MTOT) {
                        int im = m / HWO, pp = m - im * HWO;
                        st(y + (im * CV_CO + co) * HWO + pp, v[i]);
                    }
                }
            }
    }
}
#endif // BM

#ifdef OWT
// One thread: outputs ow0..ow0+OWT-1 of row oh, channel co, image img.
#define OWCH ((CV_WO + OWT - 1) / OWT)
#define SEG ((OWT - 1) * CV_SW + (CV_KW - 1) * CV_DW + 1)
extern "C" __global__ void __launch_bounds__(256)
conv_direct(const xt *__restrict__ x, const xt *__restrict__ w, const xt *__restrict__ b, xt *__restrict__ y)
{
    long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x;
    if (t >= (long long)CV_N * CV_CO * CV_HO * OWCH)
        return;
    int q = (int)t;
    const int owc = q % OWCH; q /= OWCH;
    const int oh = q % CV_HO; q /= CV_HO;
    const int co = q % CV_CO;
    const int img = q / CV_CO;
    const int g = co / COG;
    const int ow0 = owc * OWT;
    const int ih0 = oh * CV_SH - CV_PH, iw0 = ow0 * CV_SW - CV_PW;

    float acc[OWT];
#pragma unroll
    for (int i = 0; i < OWT; i++)
        acc[i] = 0.0f;
    for (int c = 0; c < CIG; c++) {
        const xt *xc = x + (img * CV_CI + g * CIG + c) * HW;
        const xt *wc = w + (co * CIG + c) * KK;
#pragma unroll
        for (int r = 0; r < CV_KH; r++) {
            const int ih = ih0 + r * CV_DH;
            if (PADDED && (unsigned)ih >= (unsigned)CV_H)
                continue;
            float seg[SEG];
#pragma unroll
            for (int u = 0; u < SEG; u++) {
                int iw = iw0 + u;
                bool ok = (!PADDED && CV_WO % OWT == 0) || ((unsigned)iw < (unsigned)CV_W);
                seg[u] = ok ? ld(xc + ih * CV_W + iw) : 0.0f;
            }
#pragma unroll
            for (int s = 0; s < CV_KW; s++) {
                const float wv = ld(wc + r * CV_KW + s);
#pragma unroll
                for (int i = 0; i < OWT; i++)
                    acc[i] = __fmaf_rn(seg[i * CV_SW + s * CV_DW], wv, acc[i]);
            }
        }
    }
    const float bias = CV_BIAS ? ld(b + co) : 0.0f;
    xt *yr = y + ((img * CV_CO + co) * CV_HO + oh) * CV_WO;
#pragma unroll
    for (int i = 0; i < OWT; i++)
        if (CV_WO % OWT == 0 || ow0 + i < CV_WO)
            st(yr + ow0 + i, acc[i] + bias);
}
#endif // OWT
