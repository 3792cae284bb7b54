/* test_rng.c — the deterministic inputs and the 16-bit conversions (rng.c, portable.h).
 *
 * Philox-4x32-10 is checked against the published Random123 known-answer vectors; port_sample
 * against a table of golden bit patterns (cross-checked once against an independent
 * implementation of the same formulas), including seeds and indices above 2^32 so that the high
 * key and counter words are known to be used. The distributions are checked for their grid, range
 * and moments; the float16/bfloat16 conversions exhaustively on the 16-bit side and over several
 * million float patterns against independent references (the compiler's _Float16 where it has
 * one, and a rounding formulated in double arithmetic). */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "portable.h"
#include "rng.h"

#if defined(__FLT16_MAX__) && (defined(__x86_64__) || defined(__aarch64__))
#define HAVE_FLOAT16 1
__extension__ typedef _Float16 cc_half;
#else
#define HAVE_FLOAT16 0
#endif

static uint32_t fbits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bitsf(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* ---- Philox known-answer tests (Random123 kat_vectors, philox4x32 with 10 rounds) ---- */

static const struct {
    uint32_t ctr[4], key[2], out[4];
} philox_kat[] = {
    { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
    { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff }, { 0xffffffff, 0xffffffff },
      { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
    { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 }, { 0xa4093822, 0x299f31d0 },
      { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
};

static void test_philox_kat(void)
{
    for (size_t i = 0; i < sizeof philox_kat / sizeof philox_kat[0]; i++) {
        uint32_t out[4];
        port_philox(philox_kat[i].ctr, philox_kat[i].key, out);
        for (int j = 0; j < 4; j++)
            CHECK_INT(out[j], philox_kat[i].out[j]);
    }
}

/* ---- golden samples ---- */

static const struct {
    uint64_t seed;
    uint32_t stream;
    uint64_t idx;
    int dist;
    float scale;
    uint32_t bits;
} golden[] = {
    { 0, PORT_STREAM_X, 0, PORT_UNIFORM, 1.0f, 0xbecbdab8 },
    { 42, PORT_STREAM_X, 12345, PORT_UNIFORM, 1.0f, 0x3e445c18 },
    { 0x123456789abcdef0ull, PORT_STREAM_W, 7, PORT_UNIFORM, 1.0f, 0xbf69389a },
    { 1, PORT_STREAM_X, 0x100000005ull, PORT_UNIFORM, 1.0f, 0xbf0105e2 },
    { 0xfedcba9876543210ull, PORT_STREAM_B, 0xffffffffffffffffull, PORT_UNIFORM, 1.0f, 0xbf74a67c },
    { 42, PORT_STREAM_W, 99, PORT_UNIFORM, 0.125f, 0xbda47bc6 },
    { 42, PORT_STREAM_X, 0, PORT_NORMAL, 1.0f, 0x3fc1600e },
    { 0x123456789abcdef0ull, PORT_STREAM_W, 1ull << 40, PORT_NORMAL, 1.0f, 0x3f1883d6 },
    { 3, PORT_STREAM_X, 1000, PORT_NORMAL, 1.0f, 0x3f6573b3 },
    { 7, PORT_STREAM_B, 3, PORT_EXACT, 1.0f, 0x3f800000 },
    { 0x100000000ull, PORT_STREAM_X, 0x1ffffffffull, PORT_EXACT, 1.0f, 0x00000000 },
    { 0x100000000ull, PORT_STREAM_W, 0x1ffffffffull, PORT_EXACT, 0.25f, 0xbf000000 },
};

static void test_golden(void)
{
    for (size_t i = 0; i < sizeof golden / sizeof golden[0]; i++) {
        float v = port_sample(golden[i].seed, golden[i].stream, golden[i].idx, golden[i].dist,
                              golden[i].scale);
        if (fbits(v) != golden[i].bits)
            fprintf(stderr, "golden[%zu]: got 0x%08" PRIx32 " want 0x%08" PRIx32 "\n", i, fbits(v),
                    golden[i].bits);
        CHECK_INT(fbits(v), golden[i].bits);
    }
}

/* ---- distributions ---- */

#define NSAMPLES 1000000

static void test_uniform(void)
{
    double sum = 0, sum2 = 0;
    int64_t off_grid = 0, out_of_range = 0;
    for (int64_t i = 0; i < NSAMPLES; i++) {
        float v = port_sample(11, PORT_STREAM_X, (uint64_t)i, PORT_UNIFORM, 1.0f);
        double g = (double)v * 8388608.0;   /* multiple of 2^-23 */
        if (g != floor(g))
            off_grid++;
        if (!(v >= -1.0f && v < 1.0f))
            out_of_range++;
        sum += v;
        sum2 += (double)v * v;
    }
    CHECK_INT(off_grid, 0);
    CHECK_INT(out_of_range, 0);
    double mean = sum / NSAMPLES, var = sum2 / NSAMPLES - mean * mean;
    /* sd of the mean: sqrt(1/3 / n) = 5.8e-4; of the variance: sqrt((1/5 - 1/9) / n) = 3e-4 */
    CHECK_NEAR(mean, 0.0, 5 * 5.8e-4);
    CHECK_NEAR(var, 1.0 / 3.0, 5 * 3e-4);
}

static void test_exact(void)
{
    int64_t hist[5] = { 0 }, other = 0;
    for (int64_t i = 0; i < NSAMPLES; i++) {
        float v = port_sample(12, PORT_STREAM_W, (uint64_t)i, PORT_EXACT, 1.0f);
        int k = (int)v;
        if ((float)k != v || k < -2 || k > 2)
            other++;
        else
            hist[k + 2]++;
    }
    CHECK_INT(other, 0);
    /* each value with probability 1/5 (2^32 mod 5 = 1: a bias of 2^-32, invisible here);
     * sd of a frequency: sqrt(0.16 / n) = 4e-4 */
    for (int k = 0; k < 5; k++)
        CHECK_NEAR((double)hist[k] / NSAMPLES, 0.2, 5 * 4e-4);
}

static void test_normal(void)
{
    double sum = 0, sum2 = 0, sum4 = 0;
    int64_t nonfinite = 0;
    for (int64_t i = 0; i < NSAMPLES; i++) {
        float v = port_sample(13, PORT_STREAM_X, (uint64_t)i + (1ull << 33), PORT_NORMAL, 1.0f);
        if (!isfinite(v) || fabsf(v) > 6.7f)   /* Box-Muller radius <= sqrt(-2 ln 2^-32) = 6.66 */
            nonfinite++;
        double d = v;
        sum += d;
        sum2 += d * d;
        sum4 += d * d * d * d;
    }
    CHECK_INT(nonfinite, 0);
    double mean = sum / NSAMPLES, var = sum2 / NSAMPLES - mean * mean;
    /* sd of the mean 1e-3, of the variance sqrt(2/n) = 1.41e-3, of the 4th moment sqrt(96/n) ~ 1e-2 */
    CHECK_NEAR(mean, 0.0, 5 * 1e-3);
    CHECK_NEAR(var, 1.0, 5 * 1.41e-3);
    CHECK_NEAR(sum4 / NSAMPLES, 3.0, 5 * 1e-2);
}

/* ---- rng.c ---- */

static void test_scale(void)
{
    struct conv_spec s = { .n = 2, .c_in = 64, .h = 8, .w = 8, .c_out = 32, .kh = 3, .kw = 3,
                           .stride_h = 1, .stride_w = 1, .pad_h = 0, .pad_w = 0, .dil_h = 1,
                           .dil_w = 1, .groups = 2, .bias = true, .dtype = SPEC_F32 };
    float want = (float)(1.0 / sqrt(288.0));   /* 64/2 * 3 * 3 */
    CHECK(rng_scale(&s, PORT_STREAM_X, PORT_UNIFORM) == 1.0f);
    CHECK(rng_scale(&s, PORT_STREAM_X, PORT_NORMAL) == 1.0f);
    CHECK(rng_scale(&s, PORT_STREAM_W, PORT_UNIFORM) == want);
    CHECK(rng_scale(&s, PORT_STREAM_B, PORT_UNIFORM) == want);
    CHECK(rng_scale(&s, PORT_STREAM_W, PORT_NORMAL) == want);
    CHECK(rng_scale(&s, PORT_STREAM_W, PORT_EXACT) == 1.0f);
    CHECK(rng_scale(&s, PORT_STREAM_B, PORT_EXACT) == 1.0f);
    s.c_in = 16;
    s.groups = 1;
    s.kh = s.kw = 1;
    CHECK(rng_scale(&s, PORT_STREAM_W, PORT_UNIFORM) == 0.25f);
}

#define NFILL 4096

static void test_fill(void)
{
    static float f[NFILL], f2[NFILL], back[NFILL];
    static uint16_t h[NFILL], h2[NFILL];
    const uint64_t first = (1ull << 32) - 100;   /* crosses the 32-bit boundary of the counter */
    const float scale = (float)(1.0 / sqrt(27.0));
    const int dists[] = { PORT_UNIFORM, PORT_NORMAL, PORT_EXACT };

    for (size_t di = 0; di < 3; di++) {
        enum port_dist d = (enum port_dist)dists[di];
        rng_fill(f, SPEC_F32, 5, PORT_STREAM_W, first, NFILL, d, scale);
        int64_t bad = 0;
        for (int64_t i = 0; i < NFILL; i++)
            if (fbits(f[i]) != fbits(port_sample(5, PORT_STREAM_W, first + (uint64_t)i, d, scale)))
                bad++;
        CHECK_INT(bad, 0);

        /* 16-bit storage is the port conversion of the float path */
        rng_fill(h, SPEC_F16, 5, PORT_STREAM_W, first, NFILL, d, scale);
        bad = 0;
        for (int64_t i = 0; i < NFILL; i++)
            if (h[i] != port_f32_to_f16(f[i]))
                bad++;
        CHECK_INT(bad, 0);
        rng_from_float(f, SPEC_F16, NFILL, h2);
        CHECK(memcmp(h, h2, sizeof h) == 0);
        rng_to_float(h, SPEC_F16, NFILL, back);
        bad = 0;
        for (int64_t i = 0; i < NFILL; i++)
            if (fbits(back[i]) != fbits(port_f16_to_f32(h[i])))
                bad++;
        CHECK_INT(bad, 0);

        rng_fill(h, SPEC_BF16, 5, PORT_STREAM_W, first, NFILL, d, scale);
        bad = 0;
        for (int64_t i = 0; i < NFILL; i++)
            if (h[i] != port_f32_to_bf16(f[i]))
                bad++;
        CHECK_INT(bad, 0);
        rng_from_float(f, SPEC_BF16, NFILL, h2);
        CHECK(memcmp(h, h2, sizeof h) == 0);
        rng_to_float(h, SPEC_BF16, NFILL, back);
        bad = 0;
        for (int64_t i = 0; i < NFILL; i++)
            if (fbits(back[i]) != (uint32_t)h[i] << 16)
                bad++;
        CHECK_INT(bad, 0);

        /* float32 storage: to/from float are copies */
        rng_from_float(f, SPEC_F32, NFILL, f2);
        CHECK(memcmp(f, f2, sizeof f) == 0);
        rng_to_float(f, SPEC_F32, NFILL, f2);
        CHECK(memcmp(f, f2, sizeof f) == 0);
    }

    /* exact values convert exactly to both 16-bit formats */
    rng_fill(f, SPEC_F32, 6, PORT_STREAM_X, 0, NFILL, PORT_EXACT, 1.0f);
    rng_fill(h, SPEC_F16, 6, PORT_STREAM_X, 0, NFILL, PORT_EXACT, 1.0f);
    rng_to_float(h, SPEC_F16, NFILL, back);
    CHECK(memcmp(f, back, sizeof f) == 0);
    rng_fill(h, SPEC_BF16, 6, PORT_STREAM_X, 0, NFILL, PORT_EXACT, 1.0f);
    rng_to_float(h, SPEC_BF16, NFILL, back);
    CHECK(memcmp(f, back, sizeof f) == 0);
}

/* Count of equal elements of two fills. */
static int64_t same(const float *a, const float *b, int64_t n)
{
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        k += fbits(a[i]) == fbits(b[i]);
    return k;
}

static void test_determinism(void)
{
    static float a[NFILL], b[NFILL];
    const uint64_t seed = 0xabcdef0123ull;

    /* same arguments, same bits; filling in pieces gives the same as in one call */
    rng_fill(a, SPEC_F32, seed, PORT_STREAM_X, 1000, NFILL, PORT_NORMAL, 1.0f);
    rng_fill(b, SPEC_F32, seed, PORT_STREAM_X, 1000, 1000, PORT_NORMAL, 1.0f);
    rng_fill(b + 1000, SPEC_F32, seed, PORT_STREAM_X, 2000, NFILL - 1000, PORT_NORMAL, 1.0f);
    CHECK_INT(same(a, b, NFILL), NFILL);
    rng_fill(b, SPEC_F32, seed, PORT_STREAM_X, 1000, NFILL, PORT_NORMAL, 1.0f);
    CHECK_INT(same(a, b, NFILL), NFILL);

    /* streams, seeds, seed high word, index high word: all change the values. Two uniform
     * values agree with probability 2^-24, so a handful of agreements would already be a bug. */
    rng_fill(a, SPEC_F32, seed, PORT_STREAM_X, 0, NFILL, PORT_UNIFORM, 1.0f);
    rng_fill(b, SPEC_F32, seed, PORT_STREAM_W, 0, NFILL, PORT_UNIFORM, 1.0f);
    CHECK(same(a, b, NFILL) <= 2);
    rng_fill(b, SPEC_F32, seed, PORT_STREAM_B, 0, NFILL, PORT_UNIFORM, 1.0f);
    CHECK(same(a, b, NFILL) <= 2);
    rng_fill(b, SPEC_F32, seed + 1, PORT_STREAM_X, 0, NFILL, PORT_UNIFORM, 1.0f);
    CHECK(same(a, b, NFILL) <= 2);
    rng_fill(b, SPEC_F32, seed ^ (1ull << 40), PORT_STREAM_X, 0, NFILL, PORT_UNIFORM, 1.0f);
    CHECK(same(a, b, NFILL) <= 2);
    rng_fill(b, SPEC_F32, seed, PORT_STREAM_X, 1ull << 32, NFILL, PORT_UNIFORM, 1.0f);
    CHECK(same(a, b, NFILL) <= 2);
}

static void test_dist_names(void)
{
    CHECK_STR(rng_dist_name(PORT_UNIFORM), "uniform");
    CHECK_STR(rng_dist_name(PORT_NORMAL), "normal");
    CHECK_STR(rng_dist_name(PORT_EXACT), "exact");
    CHECK_INT(rng_dist_parse("uniform"), PORT_UNIFORM);
    CHECK_INT(rng_dist_parse("normal"), PORT_NORMAL);
    CHECK_INT(rng_dist_parse("exact"), PORT_EXACT);
    CHECK_INT(rng_dist_parse("Uniform"), -1);
    CHECK_INT(rng_dist_parse(""), -1);
    CHECK_INT(rng_dist_parse(NULL), -1);
}

/* ---- float16 ---- */

/* Independent reference: round |f| to a multiple of the half quantum in double arithmetic
 * (nearbyint rounds ties to even), then assemble the half from the rounded value. NaN excluded. */
static uint16_t ref_f16(float f)
{
    uint16_t sign = (fbits(f) >> 31) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (isinf(a))
        return sign | 0x7c00;
    double q;
    int e;
    if (a < 0x1p-14) {
        q = 0x1p-24;
    } else {
        frexp(a, &e);             /* a in [2^(e-1), 2^e): 11 significant bits -> quantum 2^(e-11) */
        q = ldexp(1.0, e - 11);
    }
    double r = nearbyint(a / q) * q;
    if (r >= 65536.0)
        return sign | 0x7c00;
    if (r < 0x1p-14)
        return sign | (uint16_t)(r / 0x1p-24);
    double fr = frexp(r, &e);     /* r = fr * 2^e, fr in [0.5, 1) = (1 + m/1024) * 2^(e-1) */
    uint16_t m = (uint16_t)((fr * 2.0 - 1.0) * 1024.0);
    return (uint16_t)(sign | (uint16_t)((e - 1 + 15) << 10) | m);
}

/* The value of a non-NaN half pattern, computed from its definition. */
static double f16_value(uint16_t h)
{
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0x1f ? INFINITY : e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
    return (h & 0x8000) ? -v : v;
}

static const struct {
    uint32_t in;   /* float bits */
    uint16_t out;
} f16_cases[] = {
    { 0x3f800000, 0x3c00 },   /* 1.0 */
    { 0xc0000000, 0xc000 },   /* -2.0 */
    { 0x3dcccccd, 0x2e66 },   /* 0.1f */
    { 0x00000000, 0x0000 },   /* +0 */
    { 0x80000000, 0x8000 },   /* -0 */
    { 0x45001000, 0x6800 },   /* 2049: tie between 2048 and 2050 -> even 2048 */
    { 0x45003000, 0x6802 },   /* 2051: tie between 2050 and 2052 -> even 2052 */
    { 0x45001001, 0x6801 },   /* just above 2049 -> 2050 */
    { 0x3f801000, 0x3c00 },   /* 1 + 2^-11: tie -> 1 */
    { 0x3f803000, 0x3c02 },   /* 1 + 3*2^-11: tie -> 1 + 2^-9 */
    { 0x477fe000, 0x7bff },   /* 65504: largest half */
    { 0x477fef00, 0x7bff },   /* 65519 -> 65504 */
    { 0x477fefff, 0x7bff },   /* just below 65520 -> 65504 */
    { 0x477ff000, 0x7c00 },   /* 65520: tie, odd 0x7bff -> Inf */
    { 0x47800000, 0x7c00 },   /* 65536 -> Inf */
    { 0x7f7fffff, 0x7c00 },   /* FLT_MAX -> Inf */
    { 0xc77ff000, 0xfc00 },   /* -65520 -> -Inf */
    { 0x7f800000, 0x7c00 },   /* Inf */
    { 0xff800000, 0xfc00 },   /* -Inf */
    { 0x7fc00000, 0x7e00 },   /* quiet NaN */
    { 0xffc00000, 0xfe00 },   /* negative quiet NaN */
    { 0x7f800001, 0x7e00 },   /* signalling NaN, payload below half's mantissa -> quiet */
    { 0x33000000, 0x0000 },   /* 2^-25: tie between 0 and 2^-24 -> 0 */
    { 0x33000001, 0x0001 },   /* just above 2^-25 -> smallest subnormal */
    { 0x32ffffff, 0x0000 },   /* just below 2^-25 -> 0 */
    { 0x33400000, 0x0001 },   /* 1.5*2^-25 -> smallest subnormal */
    { 0xb3400000, 0x8001 },   /* -1.5*2^-25 */
    { 0x33800000, 0x0001 },   /* 2^-24: smallest subnormal */
    { 0x33c00000, 0x0002 },   /* 3*2^-25 = 1.5*2^-24: tie between 1 and 2 units -> 2 */
    { 0x34200000, 0x0002 },   /* 5*2^-25 = 2.5*2^-24: tie -> 2 */
    { 0x387fc000, 0x03ff },   /* 1023*2^-24: largest subnormal */
    { 0x387fe000, 0x0400 },   /* 1023.5*2^-24: tie -> 1024 (smallest normal) */
    { 0x38800000, 0x0400 },   /* 2^-14: smallest normal */
    { 0x38801000, 0x0400 },   /* 2^-14 (1 + 2^-11): tie -> even */
    { 0x322bcc77, 0x0000 },   /* 1e-8 -> 0 */
};

static void test_f16_cases(void)
{
    for (size_t i = 0; i < sizeof f16_cases / sizeof f16_cases[0]; i++) {
        uint16_t got = port_f32_to_f16(bitsf(f16_cases[i].in));
        if (got != f16_cases[i].out)
            fprintf(stderr, "f16_cases[%zu] 0x%08" PRIx32 ": got 0x%04x want 0x%04x\n", i,
                    f16_cases[i].in, got, f16_cases[i].out);
        CHECK_INT(got, f16_cases[i].out);
    }
    /* 65519.0f and 65520.0f as written in decimal */
    CHECK_INT(port_f32_to_f16(65519.0f), 0x7bff);
    CHECK_INT(port_f32_to_f16(65520.0f), 0x7c00);
    CHECK_INT(port_f32_to_f16(2049.0f), 0x6800);
    CHECK_INT(port_f32_to_f16(2051.0f), 0x6802);
}

static void test_f16_exhaustive(void)
{
    int64_t bad_value = 0, bad_trip = 0, bad_cc = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = port_f16_to_f32((uint16_t)h);
        uint16_t back = port_f32_to_f16(f);
        bool is_nan = ((h >> 10) & 0x1f) == 0x1f && (h & 0x3ff);
        if (is_nan) {
            /* NaN stays NaN of the same sign with its payload; the quiet bit is set */
            if (!isnan(f) || back != (h | 0x200))
                bad_trip++;
            continue;
        }
        if ((double)f != f16_value((uint16_t)h) || (signbit(f) != 0) != ((h & 0x8000) != 0))
            bad_value++;
        if (back != h)
            bad_trip++;
#if HAVE_FLOAT16
        uint16_t hh = (uint16_t)h;
        cc_half c;
        memcpy(&c, &hh, 2);
        if (fbits((float)c) != fbits(f))
            bad_cc++;
#endif
    }
    CHECK_INT(bad_value, 0);
    CHECK_INT(bad_trip, 0);
    CHECK_INT(bad_cc, 0);
}

/* Compare port_f32_to_f16 on one float pattern with the references; returns 1 on a difference. */
static int f16_differs(uint32_t u)
{
    float f = bitsf(u);
    uint16_t got = port_f32_to_f16(f);
    if (isnan(f))
        return !(((got >> 10) & 0x1f) == 0x1f && (got & 0x3ff) && (got >> 15) == (u >> 31));
    if (got != ref_f16(f))
        return 1;
#if HAVE_FLOAT16
    cc_half c = (cc_half)f;
    uint16_t cb;
    memcpy(&cb, &c, 2);
    if (got != cb)
        return 1;
#endif
    return 0;
}

/* ---- bfloat16 ---- */

/* Independent reference: round |f| to a multiple of the bfloat16 quantum in double (8 significant
 * bits; fixed quantum 2^-133 below the smallest normal), then take the top half of the float. */
static uint16_t ref_bf16(float f)
{
    uint16_t sign = (fbits(f) >> 31) ? 0x8000 : 0;
    double a = fabs((double)f);
    if (isinf(a))
        return sign | 0x7f80;
    double q;
    if (a < 0x1p-126) {
        q = 0x1p-133;
    } else {
        int e;
        frexp(a, &e);
        q = ldexp(1.0, e - 8);
    }
    double r = nearbyint(a / q) * q;
    if (r >= 0x1p128)
        return sign | 0x7f80;
    return (uint16_t)(sign | (fbits((float)r) >> 16));
}

static const struct {
    uint32_t in;
    uint16_t out;
} bf16_cases[] = {
    { 0x3f800000, 0x3f80 },   /* 1.0 */
    { 0x80000000, 0x8000 },   /* -0 */
    { 0x3f808000, 0x3f80 },   /* 1 + 2^-8: tie -> even */
    { 0x3f818000, 0x3f82 },   /* 1 + 3*2^-8: tie -> even */
    { 0x3f808001, 0x3f81 },   /* just above the tie */
    { 0x3f807fff, 0x3f80 },   /* just below the tie */
    { 0x3dcccccd, 0x3dcd },   /* 0.1f */
    { 0x7f7f7fff, 0x7f7f },   /* just below the tie at the top: largest bfloat16 */
    { 0x7f7f8000, 0x7f80 },   /* tie, odd 0x7f7f -> Inf */
    { 0x7f7fffff, 0x7f80 },   /* FLT_MAX -> Inf */
    { 0xff7fffff, 0xff80 },   /* -FLT_MAX -> -Inf */
    { 0x7f800000, 0x7f80 },   /* Inf */
    { 0x7fc00000, 0x7fc0 },   /* quiet NaN */
    { 0x7f800001, 0x7fc0 },   /* signalling NaN, payload in the low half -> still NaN */
    { 0xff800001, 0xffc0 },
    { 0x00008000, 0x0000 },   /* float subnormal tie -> 0 */
    { 0x00018000, 0x0002 },   /* float subnormal tie, odd -> 2 */
    { 0x00000001, 0x0000 },   /* smallest float subnormal -> 0 */
    { 0x007fffff, 0x0080 },   /* largest float subnormal -> smallest normal */
};

static void test_bf16(void)
{
    for (size_t i = 0; i < sizeof bf16_cases / sizeof bf16_cases[0]; i++) {
        uint16_t got = port_f32_to_bf16(bitsf(bf16_cases[i].in));
        if (got != bf16_cases[i].out)
            fprintf(stderr, "bf16_cases[%zu] 0x%08" PRIx32 ": got 0x%04x want 0x%04x\n", i,
                    bf16_cases[i].in, got, bf16_cases[i].out);
        CHECK_INT(got, bf16_cases[i].out);
    }
    int64_t bad = 0;
    for (uint32_t b = 0; b < 65536; b++) {
        float f = port_bf16_to_f32((uint16_t)b);
        if (fbits(f) != b << 16)
            bad++;
        uint16_t back = port_f32_to_bf16(f);
        bool is_nan = ((b >> 7) & 0xff) == 0xff && (b & 0x7f);
        if (back != (is_nan ? (b | 0x40) : b))
            bad++;
    }
    CHECK_INT(bad, 0);
}

static int bf16_differs(uint32_t u)
{
    float f = bitsf(u);
    uint16_t got = port_f32_to_bf16(f);
    if (isnan(f))
        return !(((got >> 7) & 0xff) == 0xff && (got & 0x7f) && (got >> 15) == (u >> 31));
    return got != ref_bf16(f);
}

/* ---- sweeps over float patterns ---- */

static void test_sweeps(void)
{
    int64_t n16 = 0, bad16 = 0, nbf = 0, badbf = 0;
    uint32_t first16 = 0, firstbf = 0;

    /* every 1021st pattern of the whole 32-bit space */
    for (uint64_t u = 0; u < (1ull << 32); u += 1021) {
        if (f16_differs((uint32_t)u) && bad16++ == 0)
            first16 = (uint32_t)u;
        if (bf16_differs((uint32_t)u) && badbf++ == 0)
            firstbf = (uint32_t)u;
        n16++;
        nbf++;
    }
    /* every sign, exponent and upper mantissa, with the low bits at and around the rounding
     * points (the ties of subnormal halves sit in the upper bits, so they are covered too) */
    static const uint32_t low13[] = { 0x0000, 0x0001, 0x0fff, 0x1000, 0x1001, 0x1fff };
    for (uint32_t hi = 0; hi < (1u << 19); hi++)
        for (size_t j = 0; j < sizeof low13 / sizeof low13[0]; j++) {
            uint32_t u = hi << 13 | low13[j];
            if (f16_differs(u) && bad16++ == 0)
                first16 = u;
            n16++;
        }
    static const uint32_t low16[] = { 0x0000, 0x0001, 0x7fff, 0x8000, 0x8001, 0xffff };
    for (uint32_t hi = 0; hi < (1u << 16); hi++)
        for (size_t j = 0; j < sizeof low16 / sizeof low16[0]; j++) {
            uint32_t u = hi << 16 | low16[j];
            if (bf16_differs(u) && badbf++ == 0)
                firstbf = u;
            nbf++;
        }
    if (bad16)
        fprintf(stderr, "float16 sweep: first difference at 0x%08" PRIx32 "\n", first16);
    if (badbf)
        fprintf(stderr, "bfloat16 sweep: first difference at 0x%08" PRIx32 "\n", firstbf);
    printf("sweeps: %" PRId64 " float16 and %" PRId64 " bfloat16 patterns%s\n", n16, nbf,
           HAVE_FLOAT16 ? " (float16 also against _Float16)" : "");
    CHECK_INT(bad16, 0);
    CHECK_INT(badbf, 0);
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_philox_kat();
    test_golden();
    test_uniform();
    test_exact();
    test_normal();
    test_scale();
    test_fill();
    test_determinism();
    test_dist_names();
    test_f16_cases();
    test_f16_exhaustive();
    test_bf16();
    test_sweeps();
    return check_summary("test_rng");
}
