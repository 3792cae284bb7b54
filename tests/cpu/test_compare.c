/* test_compare.c — the comparator and the precision contract (compare.c).
 *
 * Tables of edge cases for compare_run (NaN and Inf on either side, the exact edge of the
 * element bound, the first mismatch and its NCHW position, the error measures on vectors whose
 * values are known by hand), the tolerance formula and the classification thresholds per dtype
 * (values worked out by hand), the L2 rule of both policies on cases where no single element
 * fails, and the JSON form. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "compare.h"
#include "portable.h"

#define SKIP (-1.0)   /* an expected measure that the case does not check */

struct run_case {
    const char *name;
    const float *ref, *got;
    int64_t count;
    int64_t shape[4];
    struct compare_tol tol;
    bool pass;
    int64_t mismatches, nonfinite, first_index;
    int64_t nchw[4];
    double max_abs, max_rel, rel_l2;   /* SKIP, a value, or INFINITY */
};

static const struct run_case run_cases[] = {
    { "identical", (const float[]){ 1, -2, 3, 0 }, (const float[]){ 1, -2, 3, 0 }, 4, { 1, 1, 2, 2 },
      { 1e-3, 1e-3, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 0, 0, 0 },
    { "identical, exact", (const float[]){ 1, -2, 3, 0 }, (const float[]){ 1, -2, 3, 0 }, 4,
      { 1, 1, 2, 2 }, { 0, 0, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 0, 0, 0 },
    { "empty", NULL, NULL, 0, { 0, 0, 0, 0 }, { 1e-3, 1e-3, 1e-5 }, true, 0, 0, -1,
      { -1, -1, -1, -1 }, 0, 0, 0 },
    { "NaN in got", (const float[]){ 1, 2, 3, 4 }, (const float[]){ 1, 2, NAN, 4 }, 4, { 1, 1, 2, 2 },
      { 1, 1, 0 }, false, 1, 1, 2, { 0, 0, 1, 0 }, INFINITY, INFINITY, INFINITY },
    { "Inf in got", (const float[]){ 1, 2, 3, 4 }, (const float[]){ 1, INFINITY, 3, 4 }, 4,
      { 1, 1, 2, 2 }, { 1, 1, 0 }, false, 1, 1, 1, { 0, 0, 0, 1 }, INFINITY, INFINITY, INFINITY },
    { "-Inf in got", (const float[]){ 1, 2, 3, 4 }, (const float[]){ 1, 2, 3, -INFINITY }, 4,
      { 1, 1, 2, 2 }, { 1, 1, 0 }, false, 1, 1, 3, { 0, 0, 1, 1 }, INFINITY, INFINITY, INFINITY },
    /* a NaN reference is our bug: always a mismatch, even against a NaN; not counted as
     * nonfinite (that counts the candidate's) and left out of the error measures */
    { "ref NaN, got NaN", (const float[]){ 1, NAN }, (const float[]){ 1, NAN }, 2, { 1, 1, 1, 2 },
      { 1, 1, 0 }, false, 1, 0, 1, { 0, 0, 0, 1 }, 0, 0, 0 },
    { "ref NaN, got finite", (const float[]){ NAN, 1 }, (const float[]){ 0, 1 }, 2, { 1, 1, 1, 2 },
      { 1, 1, 0 }, false, 1, 0, 0, { 0, 0, 0, 0 }, 0, 0, 0 },
    /* an Inf reference passes only against the same Inf */
    { "ref Inf, same Inf", (const float[]){ INFINITY, -INFINITY, 2 },
      (const float[]){ INFINITY, -INFINITY, 2 }, 3, { 1, 1, 1, 3 }, { 0, 0, 0 }, true, 0, 0, -1,
      { -1, -1, -1, -1 }, 0, 0, 0 },
    { "ref Inf, other Inf", (const float[]){ 2, INFINITY }, (const float[]){ 2, -INFINITY }, 2,
      { 1, 1, 1, 2 }, { 1, 1, 0 }, false, 1, 0, 1, { 0, 0, 0, 1 }, 0, 0, 0 },
    { "ref Inf, got finite", (const float[]){ 2, -INFINITY }, (const float[]){ 2, -3e38f }, 2,
      { 1, 1, 1, 2 }, { 1, 1, 0 }, false, 1, 0, 1, { 0, 0, 0, 1 }, 0, 0, 0 },
    /* bound = 0.125 + 0.25 * |2| = 0.625: 2.625 and 1.375 are exactly on it */
    { "on the bound above", (const float[]){ 2 }, (const float[]){ 2.625f }, 1, { 1, 1, 1, 1 },
      { 0.125, 0.25, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 0.625, 0.3125, 0.3125 },
    { "on the bound below", (const float[]){ -2 }, (const float[]){ -1.375f }, 1, { 1, 1, 1, 1 },
      { 0.125, 0.25, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 0.625, 0.3125, 0.3125 },
    { "one ulp outside above", (const float[]){ 2 }, (const float[]){ 0x1.500002p+1f }, 1,
      { 1, 1, 1, 1 }, { 0.125, 0.25, 0 }, false, 1, 0, 0, { 0, 0, 0, 0 }, SKIP, SKIP, SKIP },
    { "one ulp outside below", (const float[]){ 2 }, (const float[]){ 0x1.5ffffep+0f }, 1,
      { 1, 1, 1, 1 }, { 0.125, 0.25, 0 }, false, 1, 0, 0, { 0, 0, 0, 0 }, SKIP, SKIP, SKIP },
    /* rel_l2 = ||(0.75, 0)|| / ||(3, 4)|| = 0.15; max_rel = 0.75 / 3 */
    { "rel_l2 3-4-5", (const float[]){ 3, 4 }, (const float[]){ 3.75f, 4 }, 2, { 1, 1, 1, 2 },
      { 1, 0, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 0.75, 0.25, 0.15 },
    /* ||(0, 0, 0.5)|| / ||(1, -2, 2)|| = 1/6 */
    { "rel_l2 1-2-2", (const float[]){ 1, -2, 2 }, (const float[]){ 1, -2, 2.5f }, 3, { 1, 1, 1, 3 },
      { 1, 0, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 0.5, 0.25, 1.0 / 6.0 },
    /* max_rel skips ref == 0 (with the 1e-6 floor it would be 5e5); rel_l2 = sqrt(0.5) / 2 */
    { "max_rel skips zero ref", (const float[]){ 0, 2 }, (const float[]){ 0.5f, 2.5f }, 2,
      { 1, 1, 1, 2 }, { 1, 0, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 0.5, 0.25, 0.35355339059327373 },
    /* every ref zero: rel_l2 is the plain L2 norm of the difference, ||(0.75, 1)|| = 1.25 */
    { "all-zero ref", (const float[]){ 0, 0 }, (const float[]){ 0.75f, -1 }, 2, { 1, 1, 1, 2 },
      { 2, 0, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 1, 0, 1.25 },
    /* exact policy: +0 and -0 are equal; one ulp is not */
    { "exact +0 -0", (const float[]){ 0.0f, -0.0f, 1 }, (const float[]){ -0.0f, 0.0f, 1 }, 3,
      { 1, 1, 1, 3 }, { 0, 0, 0 }, true, 0, 0, -1, { -1, -1, -1, -1 }, 0, 0, 0 },
    { "exact one ulp", (const float[]){ 0, 1, 5 }, (const float[]){ 0, 1, 0x1.400002p+2f }, 3,
      { 1, 1, 1, 3 }, { 0, 0, 0 }, false, 1, 0, 2, { 0, 0, 0, 2 }, 0x1p-21, 0x1p-21 / 5, SKIP },
    { "exact smallest subnormal", (const float[]){ 0 }, (const float[]){ 0x1p-149f }, 1,
      { 1, 1, 1, 1 }, { 0, 0, 0 }, false, 1, 0, 0, { 0, 0, 0, 0 }, 0x1p-149, 0, 0x1p-149 },
};

static void check_measure(const char *name, const char *what, double got, double want)
{
    if (want == SKIP)
        return;
    bool ok = isinf(want) ? got == want : fabs(got - want) <= 1e-12 * fmax(1.0, fabs(want));
    if (!ok)
        fprintf(stderr, "case \"%s\": %s = %.17g, want %.17g\n", name, what, got, want);
    CHECK(ok);
}

static void test_run_cases(void)
{
    for (size_t i = 0; i < sizeof run_cases / sizeof run_cases[0]; i++) {
        const struct run_case *c = &run_cases[i];
        struct compare_result r;
        compare_run(c->ref, c->got, c->count, c->shape, c->tol, &r);
        if (r.pass != c->pass || r.mismatches != c->mismatches)
            fprintf(stderr, "case \"%s\": pass %d mismatches %lld\n", c->name, r.pass,
                    (long long)r.mismatches);
        CHECK_INT(r.count, c->count);
        CHECK_INT(r.pass, c->pass);
        CHECK_INT(r.mismatches, c->mismatches);
        CHECK_INT(r.nonfinite, c->nonfinite);
        CHECK_INT(r.first_index, c->first_index);
        for (int k = 0; k < 4; k++)
            CHECK_INT(r.first_nchw[k], c->nchw[k]);
        check_measure(c->name, "max_abs", r.max_abs, c->max_abs);
        check_measure(c->name, "max_rel", r.max_rel, c->max_rel);
        check_measure(c->name, "rel_l2", r.rel_l2, c->rel_l2);
        if (c->first_index >= 0) {
            double want_ref = c->ref[c->first_index], want_got = c->got[c->first_index];
            CHECK(isnan(want_ref) ? isnan(r.first_ref) : r.first_ref == want_ref);
            CHECK(isnan(want_got) ? isnan(r.first_got) : r.first_got == want_got);
        }
    }
}

/* The first mismatch of a 2x3x4x5 tensor at flat 87 = ((1*3 + 1)*4 + 1)*5 + 2, a second at 100. */
static void test_first_mismatch(void)
{
    float ref[120], got[120];
    for (int i = 0; i < 120; i++)
        ref[i] = got[i] = (float)i;
    got[87] = 1000;
    got[100] = -1;
    struct compare_result r;
    compare_run(ref, got, 120, (const int64_t[]){ 2, 3, 4, 5 }, (struct compare_tol){ 0.5, 0, 0 }, &r);
    CHECK(!r.pass);
    CHECK_INT(r.mismatches, 2);
    CHECK_INT(r.first_index, 87);
    CHECK_INT(r.first_nchw[0], 1);
    CHECK_INT(r.first_nchw[1], 1);
    CHECK_INT(r.first_nchw[2], 1);
    CHECK_INT(r.first_nchw[3], 2);
    CHECK(r.first_ref == 87 && r.first_got == 1000);
    CHECK(r.max_abs == 913);

    /* the last element: (1, 2, 3, 4) */
    got[87] = 87;
    got[100] = 100;
    got[119] = 0;
    compare_run(ref, got, 120, (const int64_t[]){ 2, 3, 4, 5 }, (struct compare_tol){ 0.5, 0, 0 }, &r);
    CHECK_INT(r.first_index, 119);
    CHECK(r.first_nchw[0] == 1 && r.first_nchw[1] == 2 && r.first_nchw[2] == 3 && r.first_nchw[3] == 4);
}

/* 1e-6 floor of the max_rel denominator for tiny non-zero references. */
static void test_max_rel_floor(void)
{
    const float ref[] = { 1e-9f, 1 }, got[] = { 2e-9f, 1 };
    struct compare_result r;
    compare_run(ref, got, 2, (const int64_t[]){ 1, 1, 1, 2 }, (struct compare_tol){ 1, 0, 0 }, &r);
    CHECK_NEAR(r.max_rel, ((double)2e-9f - (double)1e-9f) / 1e-6, 1e-18);
}

static struct conv_spec spec_of(int64_t c_in, int64_t groups, int64_t k, enum spec_dtype dtype)
{
    struct conv_spec s = { .n = 1, .c_in = c_in, .h = 8, .w = 8, .c_out = groups, .kh = k, .kw = k,
                           .stride_h = 1, .stride_w = 1, .pad_h = 0, .pad_w = 0, .dil_h = 1,
                           .dil_w = 1, .groups = groups, .bias = false, .dtype = dtype };
    return s;
}

/* atol = rtol = base * max(1, sqrt(L/64)) + 2u, base 2^-8 (tf32) or 2^-15 (fp32);
 * max_rel_l2 = max(1e-3, 2u) (tf32) or max(1e-5, 2u) (fp32); worked out by hand. */
static const struct {
    int64_t c_in, groups, k;
    enum spec_dtype dtype;
    enum compare_policy policy;
    double atol, max_rel_l2;
} tol_cases[] = {
    { 1, 1, 3, SPEC_F32, COMPARE_TF32, 0.00390625, 1e-3 },                 /* L 9: 2^-8 */
    { 16, 1, 2, SPEC_F32, COMPARE_TF32, 0.00390625, 1e-3 },                /* L 64: 2^-8 */
    { 64, 1, 1, SPEC_F32, COMPARE_FP32, 0.000030517578125, 1e-5 },         /* L 64: 2^-15 */
    { 64, 1, 3, SPEC_F32, COMPARE_TF32, 0.01171875, 1e-3 },                /* L 576: 3 * 2^-8 */
    { 64, 1, 3, SPEC_F32, COMPARE_FP32, 0.000091552734375, 1e-5 },         /* 3 * 2^-15 */
    { 64, 2, 3, SPEC_F32, COMPARE_TF32, 0.0082864075920298, 1e-3 },        /* L 288: sqrt(4.5)/256 */
    { 16, 1, 2, SPEC_F16, COMPARE_TF32, 0.0048828125, 1e-3 },              /* L 64: 2^-8 + 2^-10 */
    { 256, 1, 1, SPEC_F16, COMPARE_TF32, 0.0087890625, 1e-3 },             /* L 256: 2^-7 + 2^-10 */
    { 256, 1, 4, SPEC_BF16, COMPARE_FP32, 0.008056640625, 0.0078125 },     /* L 4096: 2^-12 + 2^-7 */
    { 64, 16, 2, SPEC_F16, COMPARE_FP32, 0.001007080078125, 0.0009765625 },/* L 16: 2^-15 + 2^-10 */
    { 64, 1, 3, SPEC_BF16, COMPARE_TF32, 0.01953125, 0.0078125 },          /* L 576: 3*2^-8 + 2^-7 */
    { 64, 1, 3, SPEC_F32, COMPARE_EXACT, 0, 0 },
    { 64, 1, 3, SPEC_F16, COMPARE_EXACT, 0, 0 },
};

static void test_tolerance(void)
{
    for (size_t i = 0; i < sizeof tol_cases / sizeof tol_cases[0]; i++) {
        struct conv_spec s = spec_of(tol_cases[i].c_in, tol_cases[i].groups, tol_cases[i].k,
                                     tol_cases[i].dtype);
        struct compare_tol t = compare_tolerance(&s, tol_cases[i].policy);
        CHECK_NEAR(t.atol, tol_cases[i].atol, 1e-15);
        CHECK(t.rtol == t.atol);
        CHECK(t.max_rel_l2 == tol_cases[i].max_rel_l2);
    }
}

static const struct {
    double rel_l2;
    enum spec_dtype dtype;
    enum compare_class cls;
} class_cases[] = {
    { 0, SPEC_F32, CLASS_FP32 },
    { 1e-5, SPEC_F32, CLASS_FP32 },
    { 1.0001e-5, SPEC_F32, CLASS_TF32 },
    { 3e-4, SPEC_F32, CLASS_TF32 },      /* TF32 inputs */
    { 1e-3, SPEC_F32, CLASS_TF32 },
    { 1.0001e-3, SPEC_F32, CLASS_HALF },
    { 2.3e-3, SPEC_F32, CLASS_HALF },    /* bfloat16 inputs */
    { 3e-2, SPEC_F32, CLASS_HALF },
    { 3.0001e-2, SPEC_F32, CLASS_WORSE },
    { INFINITY, SPEC_F32, CLASS_WORSE },
    { NAN, SPEC_F32, CLASS_WORSE },
    /* float16: fp32 up to 2^-10, tf32-like only in (2^-10, 1e-3] */
    { 9.7e-4, SPEC_F16, CLASS_FP32 },
    { 0.0009765625, SPEC_F16, CLASS_FP32 },
    { 9.8e-4, SPEC_F16, CLASS_TF32 },
    { 1e-3, SPEC_F16, CLASS_TF32 },
    { 1.0001e-3, SPEC_F16, CLASS_HALF },
    { 3e-2, SPEC_F16, CLASS_HALF },
    { 3.1e-2, SPEC_F16, CLASS_WORSE },
    { NAN, SPEC_F16, CLASS_WORSE },
    /* bfloat16: fp32 up to 2^-7, which covers the whole tf32-like band */
    { 1e-3, SPEC_BF16, CLASS_FP32 },
    { 5e-3, SPEC_BF16, CLASS_FP32 },
    { 0.0078125, SPEC_BF16, CLASS_FP32 },
    { 7.9e-3, SPEC_BF16, CLASS_HALF },
    { 3e-2, SPEC_BF16, CLASS_HALF },
    { 3.1e-2, SPEC_BF16, CLASS_WORSE },
};

static void test_classify(void)
{
    for (size_t i = 0; i < sizeof class_cases / sizeof class_cases[0]; i++) {
        enum compare_class c = compare_classify(class_cases[i].rel_l2, class_cases[i].dtype);
        if (c != class_cases[i].cls)
            fprintf(stderr, "class_cases[%zu]: %s, want %s\n", i, compare_class_name(c),
                    compare_class_name(class_cases[i].cls));
        CHECK_INT(c, class_cases[i].cls);
    }
}

#define NOUT 1000

/* ref in [0.5, 1.5), got = ref * (1 + noise), noise uniform in [-amp, amp): rel_l2 ~amp/sqrt(3). */
static void perturbed(float amp, float *ref, float *got)
{
    for (int i = 0; i < NOUT; i++) {
        ref[i] = 1.0f + 0.5f * port_sample(1, PORT_STREAM_X, (uint64_t)i, PORT_UNIFORM, 1.0f);
        float noise = amp * port_sample(2, PORT_STREAM_X, (uint64_t)i, PORT_UNIFORM, 1.0f);
        got[i] = ref[i] * (1.0f + noise);
    }
}

/* A TF32-like candidate on a long reduction (L = 16384): every element within the strict
 * element bound, but the relative L2 error (~3e-4) far above 1e-5 — the L2 rule decides. */
static void test_strict_l2(void)
{
    static float ref[NOUT], got[NOUT];
    perturbed(5e-4f, ref, got);
    const int64_t shape[4] = { 1, 10, 10, 10 };
    struct conv_spec s = spec_of(1024, 1, 4, SPEC_F32);
    struct compare_tol strict = compare_tolerance(&s, COMPARE_FP32);
    struct compare_tol loose = compare_tolerance(&s, COMPARE_TF32);
    CHECK_NEAR(strict.atol, 0x1p-11, 1e-18);
    CHECK_NEAR(loose.atol, 0x1p-4, 1e-18);

    struct compare_result r;
    compare_run(ref, got, NOUT, shape, strict, &r);
    CHECK_INT(r.mismatches, 0);            /* no element fails ... */
    CHECK(r.rel_l2 > 1e-4 && r.rel_l2 < 5e-4);
    CHECK(!r.pass);                        /* ... the L2 rule does */
    CHECK_INT(compare_classify(r.rel_l2, SPEC_F32), CLASS_TF32);

    compare_run(ref, got, NOUT, shape, loose, &r);
    CHECK_INT(r.mismatches, 0);
    CHECK(r.pass);                         /* under the TF32 limit 1e-3 */

    /* the same data without the perturbation passes the strict policy */
    compare_run(ref, ref, NOUT, shape, strict, &r);
    CHECK(r.pass);
}

/* A bfloat16-input-like candidate (rel_l2 ~2.3e-3) on L = 2240, where the TF32 element bound
 * 2^-8 * sqrt(35) ~ 2.3e-2 is far above every element's error: the TF32 L2 limit 1e-3 fails it.
 * A candidate just under the limit (rel_l2 ~8e-4, like truncating TF32) passes. */
static void test_tf32_l2(void)
{
    static float ref[NOUT], got[NOUT];
    const int64_t shape[4] = { 1, 10, 10, 10 };
    struct conv_spec s = spec_of(140, 1, 4, SPEC_F32);
    struct compare_tol loose = compare_tolerance(&s, COMPARE_TF32);
    CHECK_NEAR(loose.atol, sqrt(35.0) / 256, 1e-15);
    CHECK(loose.max_rel_l2 == 1e-3);

    struct compare_result r;
    perturbed(4e-3f, ref, got);
    compare_run(ref, got, NOUT, shape, loose, &r);
    CHECK_INT(r.mismatches, 0);            /* no element fails ... */
    CHECK(r.rel_l2 > 2e-3 && r.rel_l2 < 2.6e-3);
    CHECK(!r.pass);                        /* ... the L2 rule does */
    CHECK_INT(compare_classify(r.rel_l2, SPEC_F32), CLASS_HALF);

    perturbed(1.4e-3f, ref, got);
    compare_run(ref, got, NOUT, shape, loose, &r);
    CHECK_INT(r.mismatches, 0);
    CHECK(r.rel_l2 > 6e-4 && r.rel_l2 < 1e-3);
    CHECK(r.pass);
    CHECK_INT(compare_classify(r.rel_l2, SPEC_F32), CLASS_TF32);
}

/* The L2 limit on hand-made vectors (tol {1, 1, 1e-3}): rel_l2 = |d| / ||(3, 4)|| = |d| / 5. */
static void test_l2_limit_edges(void)
{
    const float ref[] = { 3, 4 };
    const float below[] = { 3 + 0x1p-8f, 4 };   /* 2^-8 / 5 = 7.8125e-4 */
    const float above[] = { 3 + 0x1p-7f, 4 };   /* 2^-7 / 5 = 1.5625e-3 */
    struct compare_tol tol = { 1, 1, 1e-3 };
    struct compare_result r;
    compare_run(ref, below, 2, (const int64_t[]){ 1, 1, 1, 2 }, tol, &r);
    CHECK_NEAR(r.rel_l2, 0x1p-8 / 5, 1e-15);
    CHECK(r.pass);
    compare_run(ref, above, 2, (const int64_t[]){ 1, 1, 1, 2 }, tol, &r);
    CHECK_NEAR(r.rel_l2, 0x1p-7 / 5, 1e-15);
    CHECK_INT(r.mismatches, 0);
    CHECK(!r.pass);
    CHECK_INT(r.first_index, -1);          /* an L2 failure has no first mismatch */
}

/* A 16-bit output correctly rounded from the exact result classifies as fp32 and passes both
 * policies; the rounding alone is far above 1e-5 in rel_l2. */
static void test_rounded_outputs(void)
{
    static float ref[NOUT], got[NOUT];
    const enum spec_dtype dts[] = { SPEC_F16, SPEC_BF16 };
    for (size_t d = 0; d < 2; d++) {
        for (int i = 0; i < NOUT; i++) {
            ref[i] = port_sample(3, PORT_STREAM_X, (uint64_t)i, PORT_NORMAL, 1.0f);
            got[i] = dts[d] == SPEC_F16 ? port_f16_to_f32(port_f32_to_f16(ref[i]))
                                        : port_bf16_to_f32(port_f32_to_bf16(ref[i]));
        }
        struct conv_spec s = spec_of(64, 1, 3, dts[d]);
        struct compare_result r;
        compare_run(ref, got, NOUT, (const int64_t[]){ 1, 1, 1, NOUT }, compare_tolerance(&s, COMPARE_FP32), &r);
        CHECK(r.rel_l2 > 1e-5);
        CHECK_INT(r.mismatches, 0);
        CHECK(r.pass);
        CHECK_INT(compare_classify(r.rel_l2, dts[d]), CLASS_FP32);
        compare_run(ref, got, NOUT, (const int64_t[]){ 1, 1, 1, NOUT },
                    compare_tolerance(&s, COMPARE_TF32), &r);
        CHECK(r.pass);
    }
}

static void test_names(void)
{
    CHECK_STR(compare_policy_name(COMPARE_TF32), "tf32");
    CHECK_STR(compare_policy_name(COMPARE_FP32), "fp32");
    CHECK_STR(compare_policy_name(COMPARE_EXACT), "exact");
    CHECK_INT(compare_policy_parse("tf32"), COMPARE_TF32);
    CHECK_INT(compare_policy_parse("fp32"), COMPARE_FP32);
    CHECK_INT(compare_policy_parse("exact"), COMPARE_EXACT);
    CHECK_INT(compare_policy_parse("FP32"), -1);
    CHECK_INT(compare_policy_parse(""), -1);
    CHECK_INT(compare_policy_parse(NULL), -1);
    CHECK_STR(compare_class_name(CLASS_FP32), "fp32");
    CHECK_STR(compare_class_name(CLASS_TF32), "tf32-like");
    CHECK_STR(compare_class_name(CLASS_HALF), "half-like");
    CHECK_STR(compare_class_name(CLASS_WORSE), "worse");
}

static void test_json(void)
{
    static const char *const keys[] = { "pass", "count", "mismatches", "nonfinite", "max_abs",
                                        "max_rel", "rel_l2", "atol", "rtol", "precision_class" };
    static const char *const mkeys[] = { "index", "n", "c", "h", "w", "ref", "got" };
    const float ref[] = { 1, 2, 3, 4, 5, 6 }, got[] = { 1, 2, 3, 4, 9, NAN };
    struct compare_tol tol = { 0.5, 0.5, 0 };
    struct compare_result r;

    /* a failing result: every key, the first mismatch, non-finite measures as null */
    compare_run(ref, got, 6, (const int64_t[]){ 1, 2, 1, 3 }, tol, &r);
    cJSON *j = compare_to_json(&r, tol, SPEC_F32);
    CHECK(j != NULL);
    if (j) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            CHECK(cJSON_HasObjectItem(j, keys[i]));
        CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "pass")));
        CHECK(cJSON_GetObjectItem(j, "mismatches")->valuedouble == 2);
        CHECK(cJSON_GetObjectItem(j, "nonfinite")->valuedouble == 1);
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "rel_l2")));
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(j, "max_abs")));
        CHECK(cJSON_GetObjectItem(j, "atol")->valuedouble == 0.5);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "precision_class")), "worse");
        cJSON *m = cJSON_GetObjectItem(j, "first_mismatch");
        CHECK(cJSON_IsObject(m));
        if (m) {
            for (size_t i = 0; i < sizeof mkeys / sizeof mkeys[0]; i++)
                CHECK(cJSON_HasObjectItem(m, mkeys[i]));
            CHECK(cJSON_GetObjectItem(m, "index")->valuedouble == 4);
            CHECK(cJSON_GetObjectItem(m, "c")->valuedouble == 1);
            CHECK(cJSON_GetObjectItem(m, "w")->valuedouble == 1);
            CHECK(cJSON_GetObjectItem(m, "ref")->valuedouble == 5);
            CHECK(cJSON_GetObjectItem(m, "got")->valuedouble == 9);
        }
        char *text = cJSON_PrintUnformatted(j);
        CHECK(text != NULL);
        if (text)
            printf("json: %s\n", text);
        cJSON_free(text);
        cJSON_Delete(j);
    }

    /* a passing result: no first_mismatch */
    compare_run(ref, ref, 6, (const int64_t[]){ 1, 2, 1, 3 }, tol, &r);
    j = compare_to_json(&r, tol, SPEC_F16);
    CHECK(j != NULL);
    if (j) {
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            CHECK(cJSON_HasObjectItem(j, keys[i]));
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "pass")));
        CHECK(!cJSON_HasObjectItem(j, "first_mismatch"));
        CHECK(cJSON_GetObjectItem(j, "rel_l2")->valuedouble == 0);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(j, "precision_class")), "fp32");
        cJSON_Delete(j);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    test_run_cases();
    test_first_mismatch();
    test_max_rel_floor();
    test_tolerance();
    test_classify();
    test_strict_l2();
    test_tf32_l2();
    test_l2_limit_edges();
    test_rounded_outputs();
    test_names();
    test_json();
    return check_summary("test_compare");
}
