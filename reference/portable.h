/* portable.h - numerics compiled twice: by the host C compiler and, embedded as a named header, by
 * NVRTC for the GPU. Same text, same integer and IEEE operations, so the CPU and the GPU produce
 * the same bits: the random inputs of a seed and the float <-> float16/bfloat16 conversions.
 *
 * The one idea: inputs are a pure function of (seed, stream, index). Philox-4x32-10 (Salmon et al.,
 * "Parallel random numbers: as easy as 1, 2, 3", SC'11) maps a 128-bit counter to 128 random bits
 * with a 64-bit key; any element can be generated independently, so a 1 GB tensor fills in
 * milliseconds on the GPU and a test can regenerate any element on the CPU.
 *
 * Distributions (value of element i of stream s under seed k):
 *   PORT_UNIFORM  u in [-1, 1), 24-bit grid: exact in float, bitwise equal CPU/GPU.
 *   PORT_NORMAL   Box-Muller in double from two 32-bit uniforms, rounded to float. Uses log, sqrt,
 *                 cos; CPU libm and CUDA agree to the last float bit except in rare rounding ties
 *                 (documented in docs/precision.md and measured by the GPU tests).
 *   PORT_EXACT    an integer in {-2, -1, 0, 1, 2}: products and sums of such values are exact in FP32
 *                 while |sum| < 2^24, so an exact-mode comparison can be bitwise.
 * A scale multiplies the value (power-of-two scales keep PORT_EXACT exact).
 *
 * Conversions: float -> half/bfloat16 round to nearest even (NaN stays NaN, overflow -> Inf),
 * half/bfloat16 -> float exact. */
#ifndef KGRADE_PORTABLE_H
#define KGRADE_PORTABLE_H

#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
#define PORT_FN static __device__ __forceinline__
typedef unsigned int port_u32;
typedef unsigned long long port_u64;
typedef unsigned short port_u16;
#else
#include <math.h>
#include <stdint.h>
#include <string.h>
#define PORT_FN static inline
typedef uint32_t port_u32;
typedef uint64_t port_u64;
typedef uint16_t port_u16;
#endif

enum port_dist { PORT_UNIFORM = 0, PORT_NORMAL = 1, PORT_EXACT = 2 };

/* The streams of one problem's inputs. */
enum port_stream { PORT_STREAM_X = 1, PORT_STREAM_W = 2, PORT_STREAM_B = 3 };

PORT_FN port_u32 port_mulhilo(port_u32 a, port_u32 b, port_u32 *hi)
{
    port_u64 p = (port_u64)a * (port_u64)b;
    *hi = (port_u32)(p >> 32);
    return (port_u32)p;
}

/* Philox-4x32-10: counter c[4], key k[2] -> out[4]. */
PORT_FN void port_philox(const port_u32 c[4], const port_u32 k[2], port_u32 out[4])
{
    port_u32 x0 = c[0], x1 = c[1], x2 = c[2], x3 = c[3];
    port_u32 k0 = k[0], k1 = k[1];
    for (int r = 0; r < 10; r++) {
        port_u32 hi0, hi1;
        port_u32 lo0 = port_mulhilo(0xD2511F53u, x0, &hi0);
        port_u32 lo1 = port_mulhilo(0xCD9E8D57u, x2, &hi1);
        port_u32 y0 = hi1 ^ x1 ^ k0, y1 = lo1, y2 = hi0 ^ x3 ^ k1, y3 = lo0;
        x0 = y0; x1 = y1; x2 = y2; x3 = y3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = x0; out[1] = x1; out[2] = x2; out[3] = x3;
}

/* Element idx of stream under seed, as a float of the distribution, times scale. */
PORT_FN float port_sample(port_u64 seed, port_u32 stream, port_u64 idx, int dist, float scale)
{
    port_u32 c[4], k[2], r[4];
    c[0] = (port_u32)idx;
    c[1] = (port_u32)(idx >> 32);
    c[2] = stream;
    c[3] = 0x6b677264u; /* "kgrd" */
    k[0] = (port_u32)seed;
    k[1] = (port_u32)(seed >> 32);
    port_philox(c, k, r);
    float v;
    if (dist == PORT_UNIFORM) {
        v = (float)(r[0] >> 8) * (1.0f / 8388608.0f) - 1.0f;     /* exact: 24-bit grid in [-1,1) */
    } else if (dist == PORT_EXACT) {
        v = (float)((int)(r[0] % 5u) - 2);
    } else {
        /* u1 in (0,1], u2 in [0,1): 32-bit grids, exact in double */
        double u1 = ((double)r[0] + 1.0) * (1.0 / 4294967296.0);
        double u2 = (double)r[1] * (1.0 / 4294967296.0);
        double rad = sqrt(-2.0 * log(u1));
        v = (float)(rad * cos(6.283185307179586 * u2));
    }
    return v * scale;
}

/* float <-> IEEE binary16, round to nearest even. */
PORT_FN port_u32 port_f2u(float f)
{
    port_u32 u;
#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
    u = __float_as_uint(f);
#else
    memcpy(&u, &f, 4);
#endif
    return u;
}

PORT_FN float port_u2f(port_u32 u)
{
#if defined(__CUDACC_RTC__) || defined(__CUDACC__)
    return __uint_as_float(u);
#else
    float f;
    memcpy(&f, &u, 4);
    return f;
#endif
}

PORT_FN port_u16 port_f32_to_f16(float f)
{
    port_u32 x = port_f2u(f);
    port_u32 sign = (x >> 16) & 0x8000u;
    port_u32 absx = x & 0x7fffffffu;
    if (absx > 0x7f800000u)                     /* NaN: keep it quiet and non-zero */
        return (port_u16)(sign | 0x7e00u | ((absx >> 13) & 0x3ffu));
    if (absx >= 0x477ff000u)                    /* rounds to >= 65520: Inf */
        return (port_u16)(sign | 0x7c00u);
    if (absx < 0x38800000u) {                   /* below 2^-14: subnormal half or zero */
        if (absx < 0x33000000u)                 /* below 2^-25: rounds to zero */
            return (port_u16)sign;
        port_u32 e = absx >> 23;                /* 102..112 */
        port_u32 m = (absx & 0x7fffffu) | 0x800000u;
        port_u32 shift = 126u - e;              /* 14..24 */
        port_u32 h = m >> shift;
        port_u32 rem = m & ((1u << shift) - 1u);
        port_u32 half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (h & 1u)))
            h++;
        return (port_u16)(sign | h);
    }
    port_u32 h = ((absx - 0x38000000u) >> 13);  /* rebias exponent 127 -> 15 */
    port_u32 rem = absx & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u)))
        h++;
    return (port_u16)(sign | h);
}

PORT_FN float port_f16_to_f32(port_u16 h)
{
    port_u32 sign = ((port_u32)h & 0x8000u) << 16;
    port_u32 e = ((port_u32)h >> 10) & 0x1fu;
    port_u32 m = (port_u32)h & 0x3ffu;
    if (e == 0x1fu)
        return port_u2f(sign | 0x7f800000u | (m << 13));
    if (e == 0) {
        if (m == 0)
            return port_u2f(sign);
        float v = (float)m * (1.0f / 16777216.0f);   /* m * 2^-24, exact */
        return sign ? -v : v;
    }
    return port_u2f(sign | ((e + 112u) << 23) | (m << 13));
}

PORT_FN port_u16 port_f32_to_bf16(float f)
{
    port_u32 x = port_f2u(f);
    if ((x & 0x7fffffffu) > 0x7f800000u)
        return (port_u16)((x >> 16) | 0x40u);    /* quiet NaN */
    port_u32 lsb = (x >> 16) & 1u;
    x += 0x7fffu + lsb;
    return (port_u16)(x >> 16);
}

PORT_FN float port_bf16_to_f32(port_u16 b)
{
    return port_u2f((port_u32)b << 16);
}

#endif
