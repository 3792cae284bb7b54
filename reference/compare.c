/* compare.c — the comparator and the precision contract (see compare.h).
 *
 * The one idea: a candidate's output is judged element by element against a tolerance that grows
 * with the reduction length (rounding error of a sum of L terms grows like sqrt(L) for random
 * inputs), and, separately, its overall relative L2 error is measured and classified. The element
 * rule catches wrong answers; the L2 rule catches a systematically lower precision (TF32 under the
 * strict policy, bfloat16 inputs under the default one) that hides under the element bound.
 *
 * Tolerance (compare_tolerance), with L = c_in/groups*kh*kw and u the unit roundoff of the dtype
 * (float16 2^-11, bfloat16 2^-8; none for float32):
 *   atol = rtol = base * max(1, sqrt(L / 64)) + 2u        base = 2^-8 (tf32), 2^-15 (fp32)
 *   max_rel_l2  = max(1e-3, 2u) for tf32, max(1e-5, 2u) for fp32
 *   exact: atol = rtol = max_rel_l2 = 0, i.e. got == ref as floats (bitwise, except that +0 and
 *   -0 are equal; a NaN is never equal to anything).
 * The 2u term is the rounding of a 16-bit output: a value correctly rounded from an FP32 result is
 * within u of it, and two independently rounded values within 2u. For the same reason the L2
 * limits are raised to 2u on 16-bit problems: an output that is exactly the rounded FP32 result
 * already has a relative L2 error near u/2, so a fixed 1e-5 would fail every correct candidate.
 * The element bound grows with L, input-rounding error does not: the L2 limit is what rejects a
 * lower input precision (TF32 measures rel_l2 ~3e-4, bfloat16 inputs ~2.3e-3) on long reductions.
 *
 * Classification (compare_classify) of rel_l2 for a problem of dtype:
 *   <= max(1e-5, 2u) fp32, <= max(1e-3, 2u) tf32-like, <= max(3e-2, 2u) half-like, else worse.
 * For float32 that is 1e-5 / 1e-3 / 3e-2, so the tf32-like band ends where the tf32 policy's L2
 * limit does. For float16 the fp32 threshold becomes 2^-10 (~9.77e-4), which leaves the tf32-like
 * band only (2^-10, 1e-3]; for bfloat16 it becomes 2^-7 (~7.8e-3), which swallows the band. Under
 * a 16-bit output rounding, TF32-level error can hardly (float16) or not at all (bfloat16) be told
 * apart from FP32-level error. The
 * factor 2 is chosen so that a correctly rounded output (rel_l2 <= u, typically ~u/2) classifies
 * as fp32 with room for the FP32 accumulation error of the candidate and of the reference. A NaN
 * rel_l2 classifies as worse.
 *
 * Per-element rules of compare_run:
 *   - ref finite, got finite: passes when |got - ref| <= atol + rtol*|ref| (written so that a NaN
 *     difference fails);
 *   - ref finite, got NaN/Inf: fails and counts as nonfinite; then max_abs, max_rel and rel_l2
 *     are reported as INFINITY;
 *   - ref +-Inf: passes only when got is the same Inf (overflow that the reference also has);
 *   - ref NaN: always a mismatch. The reference never produces NaN from finite inputs, so a NaN
 *     there is our bug, and it must not let anything pass silently.
 * Elements with a non-finite ref take no part in max_abs, max_rel and rel_l2.
 *   max_rel = max |got - ref| / max(|ref|, 1e-6) over elements with ref != 0; an element whose
 *             ref is exactly 0 is skipped (any error on it would be an infinite or, with the
 *             1e-6 floor, meaningless ratio; max_abs covers it).
 *   rel_l2  = sqrt(sum (got-ref)^2 / sum ref^2) in double; sqrt(sum (got-ref)^2) when every ref
 *             is 0.
 *   pass    = no mismatch and (max_rel_l2 == 0 or rel_l2 <= max_rel_l2).
 *
 * What it does not do: round or convert data (callers pass floats: 16-bit outputs converted
 * exactly), allocate (except the JSON object), or decide which policy a job uses. */
#include "compare.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* Twice the unit roundoff of the output dtype: the output rounding allowance (0 for float32). */
static double rounding_allowance(enum spec_dtype dtype)
{
    if (dtype == SPEC_F16)
        return 0x1p-10;   /* 2 * 2^-11 */
    if (dtype == SPEC_BF16)
        return 0x1p-7;    /* 2 * 2^-8 */
    return 0.0;
}

struct compare_tol compare_tolerance(const struct conv_spec *s, enum compare_policy p)
{
    struct compare_tol t = { 0.0, 0.0, 0.0 };
    if (p == COMPARE_EXACT)
        return t;

    struct spec_derived d;
    spec_derive(s, &d);
    double factor = sqrt((double)d.reduction_len / 64.0);
    if (!(factor > 1.0))
        factor = 1.0;
    double base = p == COMPARE_FP32 ? 0x1p-15 : 0x1p-8;
    double rounding = rounding_allowance(s->dtype);

    t.atol = base * factor + rounding;
    t.rtol = t.atol;
    t.max_rel_l2 = fmax(p == COMPARE_FP32 ? 1e-5 : 1e-3, rounding);
    return t;
}

/* Flat NCHW index -> (n, c, h, w); a NULL shape or a zero extent gives (0, 0, 0, i). */
static void decompose(int64_t i, const int64_t shape[4], int64_t out[4])
{
    if (!shape || shape[1] <= 0 || shape[2] <= 0 || shape[3] <= 0) {
        out[0] = out[1] = out[2] = 0;
        out[3] = i;
        return;
    }
    out[3] = i % shape[3];
    i /= shape[3];
    out[2] = i % shape[2];
    i /= shape[2];
    out[1] = i % shape[1];
    out[0] = i / shape[1];
}

void compare_run(const float *ref, const float *got, int64_t count, const int64_t shape[4],
                 struct compare_tol tol, struct compare_result *r)
{
    double sum_d2 = 0.0, sum_r2 = 0.0, max_abs = 0.0, max_rel = 0.0;

    memset(r, 0, sizeof *r);
    r->count = count;
    r->first_index = -1;
    for (int k = 0; k < 4; k++)
        r->first_nchw[k] = -1;

    for (int64_t i = 0; i < count; i++) {
        double rv = ref[i], gv = got[i];
        bool ok;
        if (!isfinite(rv)) {
            ok = isinf(rv) && gv == rv;        /* ref NaN: never ok (see the top comment) */
        } else if (!isfinite(gv)) {
            ok = false;
            r->nonfinite++;
        } else {
            double diff = fabs(gv - rv);
            double mag = fabs(rv);
            ok = diff <= tol.atol + tol.rtol * mag;
            sum_d2 += diff * diff;
            sum_r2 += rv * rv;
            if (diff > max_abs)
                max_abs = diff;
            if (mag > 0.0) {
                double rel = diff / fmax(mag, 1e-6);
                if (rel > max_rel)
                    max_rel = rel;
            }
        }
        if (!ok) {
            if (r->mismatches == 0) {
                r->first_index = i;
                decompose(i, shape, r->first_nchw);
                r->first_ref = rv;
                r->first_got = gv;
            }
            r->mismatches++;
        }
    }

    r->max_abs = max_abs;
    r->max_rel = max_rel;
    r->rel_l2 = sum_r2 > 0.0 ? sqrt(sum_d2 / sum_r2) : sqrt(sum_d2);
    if (r->nonfinite > 0) {
        r->max_abs = INFINITY;
        r->max_rel = INFINITY;
        r->rel_l2 = INFINITY;
    }
    r->pass = r->mismatches == 0 && (tol.max_rel_l2 == 0.0 || r->rel_l2 <= tol.max_rel_l2);
}

enum compare_class compare_classify(double rel_l2, enum spec_dtype dtype)
{
    double floor2u = rounding_allowance(dtype);
    if (rel_l2 <= fmax(1e-5, floor2u))
        return CLASS_FP32;
    if (rel_l2 <= fmax(1e-3, floor2u))
        return CLASS_TF32;
    if (rel_l2 <= fmax(3e-2, floor2u))
        return CLASS_HALF;
    return CLASS_WORSE;   /* NaN included */
}

static const char *const policy_names[] = {
    [COMPARE_TF32] = "tf32",
    [COMPARE_FP32] = "fp32",
    [COMPARE_EXACT] = "exact",
};

static const char *const class_names[] = {
    [CLASS_FP32] = "fp32",
    [CLASS_TF32] = "tf32-like",
    [CLASS_HALF] = "half-like",
    [CLASS_WORSE] = "worse",
};

const char *compare_policy_name(enum compare_policy p)
{
    if ((int)p < 0 || (size_t)p >= sizeof policy_names / sizeof policy_names[0])
        return "unknown";
    return policy_names[p];
}

int compare_policy_parse(const char *name)
{
    if (!name)
        return -1;
    for (size_t i = 0; i < sizeof policy_names / sizeof policy_names[0]; i++)
        if (strcmp(name, policy_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *compare_class_name(enum compare_class c)
{
    if ((int)c < 0 || (size_t)c >= sizeof class_names / sizeof class_names[0])
        return "unknown";
    return class_names[c];
}

/* JSON has no Inf or NaN: such values are written as null. Returns 0 when out of memory. */
static int add_number(cJSON *obj, const char *key, double v)
{
    if (isfinite(v))
        return cJSON_AddNumberToObject(obj, key, v) != NULL;
    return cJSON_AddNullToObject(obj, key) != NULL;
}

cJSON *compare_to_json(const struct compare_result *r, struct compare_tol tol, enum spec_dtype dtype)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int ok = cJSON_AddBoolToObject(o, "pass", r->pass) != NULL;
    ok &= add_number(o, "count", (double)r->count);
    ok &= add_number(o, "mismatches", (double)r->mismatches);
    ok &= add_number(o, "nonfinite", (double)r->nonfinite);
    ok &= add_number(o, "max_abs", r->max_abs);
    ok &= add_number(o, "max_rel", r->max_rel);
    ok &= add_number(o, "rel_l2", r->rel_l2);
    ok &= add_number(o, "atol", tol.atol);
    ok &= add_number(o, "rtol", tol.rtol);
    if (tol.max_rel_l2 > 0)
        ok &= add_number(o, "max_rel_l2", tol.max_rel_l2);
    if (r->first_index >= 0) {
        cJSON *m = cJSON_AddObjectToObject(o, "first_mismatch");
        ok &= m != NULL;
        if (m) {
            ok &= add_number(m, "index", (double)r->first_index);
            ok &= add_number(m, "n", (double)r->first_nchw[0]);
            ok &= add_number(m, "c", (double)r->first_nchw[1]);
            ok &= add_number(m, "h", (double)r->first_nchw[2]);
            ok &= add_number(m, "w", (double)r->first_nchw[3]);
            ok &= add_number(m, "ref", r->first_ref);
            ok &= add_number(m, "got", r->first_got);
        }
    }
    const char *cls = compare_class_name(compare_classify(r->rel_l2, dtype));
    ok &= cJSON_AddStringToObject(o, "precision_class", cls) != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}
