/* correct.c — the correctness stage (see correct.h).
 *
 * Every check works on the GPU and returns small summaries: comparisons and hashes never copy a
 * tensor to the host, so a 2 GB output costs a few milliseconds per check. The stage stops at the
 * first failing trial; the trials run so far are all reported. */
#include "correct.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cudrv.h"
#include "rng.h"

static void shape_of(const struct conv_spec *s, int64_t shape[4])
{
    struct spec_derived d;
    spec_derive(s, &d);
    shape[0] = s->n, shape[1] = s->c_out, shape[2] = d.h_out, shape[3] = d.w_out;
}

int correct_fill(const struct correct_env *env, uint64_t seed, enum port_dist dist, struct err *e)
{
    int rc = gpuinput_fill_problem(env->gi, env->spec, seed, dist, &env->cand, env->st, e);
    if (!rc && env->private_inputs)
        rc = gpuinput_fill_problem(env->gi, env->spec, seed, dist, &env->priv, env->st, e);
    return rc;
}

static int poison(const struct correct_env *env, CUstream st, struct err *e)
{
    struct spec_derived d;
    int rc = 0;
    spec_derive(env->spec, &d);
    if ((rc = gpuinput_poison(env->cand.y, env->spec->dtype, d.y_elems, st, e)))
        return rc;
    if (env->ws_bytes)   /* 0xff bytes: NaN as float32, float16 and bfloat16 */
        CU_CHECK(cu.cuMemsetD8Async(env->ws, 0xff, env->ws_bytes, st));
out:
    return rc;
}

int correct_poison(void *env, CUstream st, struct err *e)
{
    return poison(env, st, e);
}

int correct_input_hash(const struct correct_env *env, uint64_t *h, struct err *e)
{
    struct spec_derived d;
    spec_derive(env->spec, &d);
    size_t sz = (size_t)d.dtype_size;
    uint64_t hx = 0, hw = 0, hb = 0;
    int rc = gpucheck_hash(env->gc, env->cand.x, (size_t)d.x_elems * sz, env->hash_key, env->st, &hx, e);
    if (!rc)
        rc = gpucheck_hash(env->gc, env->cand.w, (size_t)d.w_elems * sz, env->hash_key ^ 1, env->st, &hw, e);
    if (!rc && env->spec->bias)
        rc = gpucheck_hash(env->gc, env->cand.b, (size_t)d.b_elems * sz, env->hash_key ^ 2, env->st, &hb, e);
    *h = hx ^ (hw * 0x9e3779b97f4a7c15ull) ^ (hb * 0xc2b2ae3d27d4eb4full);
    return rc;
}

int correct_compare(const struct correct_env *env, enum compare_policy policy, struct compare_result *r,
                    struct err *e)
{
    struct spec_derived d;
    int64_t shape[4];
    spec_derive(env->spec, &d);
    shape_of(env->spec, shape);
    return gpucheck_compare(env->gc, env->priv.y, env->cand.y, env->spec->dtype, d.y_elems, shape,
                            compare_tolerance(env->spec, policy), env->st, r, e);
}

void correct_describe(const struct compare_result *r, const struct compare_tol *tol, char *buf, size_t len)
{
    if (r->mismatches == 0) {
        snprintf(buf, len, "every element within tolerance, but the relative L2 error %.3g exceeds the limit %.3g",
                 r->rel_l2, tol->max_rel_l2);
        return;
    }
    char got[64];
    if (isnan(r->first_got))
        snprintf(got, sizeof got, "NaN (never written, or a NaN result)");
    else
        snprintf(got, sizeof got, "%.9g", r->first_got);
    snprintf(buf, len, "%lld of %lld elements outside tolerance (atol = rtol = %.3g); first at (n,c,h,w) = "
             "(%lld,%lld,%lld,%lld): got %s, expected %.9g",
             (long long)r->mismatches, (long long)r->count, tol->atol, (long long)r->first_nchw[0],
             (long long)r->first_nchw[1], (long long)r->first_nchw[2], (long long)r->first_nchw[3], got, r->first_ref);
}

/* Poison, then launch with a synchronisation per launch. A fault fills oc. */
static int run_checked(const struct correct_env *env, const char *stage, struct correct_outcome *oc, struct err *e)
{
    int rc = poison(env, env->st, e), failed = -1;
    if (rc)
        return rc;
    rc = env->run ? env->run(env->run_ctx, env->st, env->launch_timeout_ms, stage, &failed, e)
                  : launch_run(env->ls, env->st, env->launch_timeout_ms, stage, &failed, e);
    if (rc) {
        oc->kind = CORRECT_FAULT;
        oc->failed_launch = failed;
        snprintf(oc->message, sizeof oc->message, "%s", e->msg);
    }
    return rc;
}

/* One trial; returns non-zero for a fault or a system failure (oc says which). */
static int trial(const struct correct_env *env, const struct correct_opts *o, int k, cJSON *trials,
                 struct correct_outcome *oc, double *rel_l2, struct err *e)
{
    int rc;
    bool exact = k == o->trials;
    enum port_dist dist = exact ? PORT_EXACT : k % 2 ? PORT_UNIFORM : PORT_NORMAL;
    enum compare_policy pol = exact ? COMPARE_EXACT : o->policy;
    struct compare_tol tol = compare_tolerance(env->spec, pol);
    uint64_t seed = o->seed + (uint64_t)k, h_in = 0, h_after = 0;
    char stage[64];
    snprintf(stage, sizeof stage, "correctness trial %d", k + 1);

    cJSON *t = cJSON_CreateObject();
    cJSON_AddItemToArray(trials, t);
    cJSON_AddNumberToObject(t, "trial", k + 1);
    cJSON_AddNumberToObject(t, "seed", (double)seed);
    cJSON_AddStringToObject(t, "inputs", rng_dist_name(dist));
    cJSON_AddStringToObject(t, "policy", compare_policy_name(pol));
    if ((rc = correct_fill(env, seed, dist, e)) || (rc = correct_input_hash(env, &h_in, e)))
        return rc;
    if ((rc = gpuref_run(env->ref, env->priv.x, env->priv.w, env->priv.b, env->priv.y, env->st, e)))
        return rc;
    if ((rc = run_checked(env, stage, oc, e)))
        return rc;
    if ((rc = correct_input_hash(env, &h_after, e)))
        return rc;
    bool unchanged = h_in == h_after;
    cJSON_AddBoolToObject(t, "inputs_unchanged", unchanged);
    struct compare_result r;
    if ((rc = correct_compare(env, pol, &r, e)))
        return rc;
    cJSON_AddItemToObject(t, "comparison", compare_to_json(&r, tol, env->spec->dtype));
    if (!exact && r.rel_l2 > *rel_l2)
        *rel_l2 = r.rel_l2;
    if (!unchanged) {
        oc->kind = CORRECT_WRONG;
        snprintf(oc->message, sizeof oc->message, "%s: the candidate modified its inputs (x, w or bias)", stage);
        return 0;
    }
    if (!r.pass) {
        char why[400];
        correct_describe(&r, &tol, why, sizeof why);
        oc->kind = CORRECT_WRONG;
        snprintf(oc->message, sizeof oc->message, "%s (%s inputs, seed %llu): %s", stage, rng_dist_name(dist),
                 (unsigned long long)seed, why);
        return 0;
    }
    if (k != 0)
        return 0;

    /* determinism: the same inputs again, from a freshly poisoned output */
    uint64_t h1 = 0, h2 = 0;
    struct spec_derived d;
    spec_derive(env->spec, &d);
    size_t ybytes = (size_t)d.y_elems * (size_t)d.dtype_size;
    if ((rc = gpucheck_hash(env->gc, env->cand.y, ybytes, env->hash_key, env->st, &h1, e)))
        return rc;
    snprintf(stage, sizeof stage, "correctness trial 1, second run");
    if ((rc = run_checked(env, stage, oc, e)))
        return rc;
    if ((rc = gpucheck_hash(env->gc, env->cand.y, ybytes, env->hash_key, env->st, &h2, e)) ||
        (rc = correct_compare(env, pol, &r, e)))
        return rc;
    oc->deterministic = h1 == h2;
    oc->determinism_checked = true;
    cJSON_AddBoolToObject(t, "second_run_bitwise_equal", oc->deterministic);
    if (!r.pass) {
        char why[400];
        correct_describe(&r, &tol, why, sizeof why);
        oc->kind = CORRECT_WRONG;
        snprintf(oc->message, sizeof oc->message, "%s on the same inputs: %s", stage, why);
    }
    return 0;
}

int correct_run(const struct correct_env *env, const struct correct_opts *o, cJSON *out, struct correct_outcome *oc,
                struct err *e)
{
    int rc = 0;
    double rel_l2 = 0;
    memset(oc, 0, sizeof *oc);
    oc->failed_launch = -1;
    struct compare_tol tol = compare_tolerance(env->spec, o->policy);
    cJSON_AddStringToObject(out, "policy", compare_policy_name(o->policy));
    cJSON *tj = cJSON_AddObjectToObject(out, "tolerance");
    cJSON_AddNumberToObject(tj, "atol", tol.atol);
    cJSON_AddNumberToObject(tj, "rtol", tol.rtol);
    cJSON_AddNumberToObject(tj, "max_rel_l2", tol.max_rel_l2);
    cJSON_AddStringToObject(out, "reference_inputs", env->private_inputs ? "private" : "shared, reference first");
    cJSON *trials = cJSON_AddArrayToObject(out, "trials");
    int n = o->trials + (o->exact ? 1 : 0);
    for (int k = 0; k < n && oc->kind == CORRECT_PASS; k++) {
        if ((rc = trial(env, o, k, trials, oc, &rel_l2, e)))
            break;
    }
    if (oc->kind == CORRECT_FAULT)
        rc = 0;
    cJSON_AddNumberToObject(out, "trials_run", cJSON_GetArraySize(trials));
    cJSON_AddNumberToObject(out, "trials_planned", n);
    if (cJSON_GetArraySize(trials) > 0 && oc->kind != CORRECT_FAULT) {
        if (oc->determinism_checked)
            cJSON_AddBoolToObject(out, "deterministic", oc->deterministic);
        cJSON_AddNumberToObject(out, "max_rel_l2", isfinite(rel_l2) ? rel_l2 : -1);
        cJSON_AddStringToObject(out, "precision_class", compare_class_name(compare_classify(rel_l2, env->spec->dtype)));
    }
    return rc;
}
