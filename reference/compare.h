/* compare.h — the comparator and the precision contract.
 *
 * An element passes when |got - ref| <= atol + rtol * |ref|; a NaN or Inf in got where ref is finite
 * never passes (nor does a finite got where ref is NaN/Inf). Besides the verdict the comparison
 * reports max abs error, max relative error (|got-ref| / max(|ref|, 1e-6), elements whose ref is
 * exactly 0 left out), the relative L2 error
 * ||got - ref|| / ||ref||, the mismatch count and the first mismatching index as (n, c, h, w).
 *
 * Tolerance policies (docs/precision.md gives the reasoning and measured error levels):
 *   COMPARE_TF32   default: FP32 and TF32-level candidates pass, bfloat16-input ones fail
 *   COMPARE_FP32   strict: TF32-level error fails
 *   COMPARE_EXACT  bitwise (atol = rtol = 0); meant for exact-mode inputs
 * atol = rtol = base(policy) * max(1, sqrt(L / 64)) + output rounding of the dtype, where L is the
 * reduction length c_in/groups*kh*kw; base is 2^-8 (TF32) or 2^-15 (FP32). Both policies also
 * require rel_l2 <= max(limit, 2u) with limit 1e-3 (TF32) or 1e-5 (FP32) (u: the unit roundoff of
 * a 16-bit output dtype, 0 for float32): input-rounding error does not grow with L while the
 * element bound does, so without it a lower input precision (TF32 under FP32, bfloat16 under TF32)
 * would pass on long reductions, or on a problem too small for any single element to exceed the
 * element-wise bound. Classes by rel_l2 (float32): fp32 <= 1e-5, tf32-like <= 1e-3,
 * half-like <= 3e-2, else worse; each threshold is raised to 2u for 16-bit dtypes. */
#ifndef KGRADE_COMPARE_H
#define KGRADE_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "spec.h"

enum compare_policy { COMPARE_TF32 = 0, COMPARE_FP32 = 1, COMPARE_EXACT = 2 };

enum compare_class { CLASS_FP32 = 0, CLASS_TF32 = 1, CLASS_HALF = 2, CLASS_WORSE = 3 };

struct compare_tol {
    double atol, rtol;
    double max_rel_l2;   /* > 0: rel_l2 must not exceed it (tf32, fp32); 0: no limit (exact) */
};

struct compare_result {
    int64_t count;            /* elements compared */
    int64_t mismatches;       /* elements outside tolerance (NaN/Inf included) */
    int64_t nonfinite;        /* elements of got that are NaN/Inf where ref is finite */
    int64_t first_index;      /* flat index of the first mismatch, -1 when none */
    int64_t first_nchw[4];    /* the same as (n, c, h, w) */
    double first_ref, first_got;
    double max_abs, max_rel, rel_l2;
    bool pass;
};

/* The tolerance of policy for spec. */
struct compare_tol compare_tolerance(const struct conv_spec *s, enum compare_policy p);

/* Compare count elements; shape is the NCHW shape of the tensor (for first_nchw). */
void compare_run(const float *ref, const float *got, int64_t count, const int64_t shape[4],
                 struct compare_tol tol, struct compare_result *r);

/* The precision class implied by a result's relative L2 error for a problem of dtype. */
enum compare_class compare_classify(double rel_l2, enum spec_dtype dtype);

/* Names: "tf32"|"fp32"|"exact" (policy; parse returns -1 if unknown), "fp32"|"tf32-like"|
 * "half-like"|"worse" (class). */
const char *compare_policy_name(enum compare_policy p);
int compare_policy_parse(const char *name);
const char *compare_class_name(enum compare_class c);

/* {"pass","count","mismatches","nonfinite","max_abs","max_rel","rel_l2","atol","rtol","max_rel_l2"(when set),
 *  "first_mismatch":{"index","n","c","h","w","ref","got"}?, "precision_class"}; caller deletes. */
cJSON *compare_to_json(const struct compare_result *r, struct compare_tol tol, enum spec_dtype dtype);

#endif
