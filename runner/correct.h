/* correct.h — the correctness stage of an evaluation (the brief's rules).
 *
 * Trials: `trials` of fresh random inputs (seed + k; normal, then uniform, alternating) and one of
 * exact-arithmetic inputs (compared bitwise). In every trial: the reference computes on its own
 * private copy of the inputs (generated from the same seed, never copied from the candidate's
 * buffers) before the candidate runs; the candidate's output and workspace are poisoned with NaN
 * before every launch sequence; every output element is compared on the GPU; the candidate's
 * inputs are hashed before and after and must be unchanged. In the first trial the candidate runs
 * a second time on the same inputs: both outputs must pass and their hashes tell determinism.
 * A fault names the CUDA error and the launch (each launch is synchronised under the watchdog). */
#ifndef KGRADE_CORRECT_H
#define KGRADE_CORRECT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <cuda.h>

#include "compare.h"
#include "gpucheck.h"
#include "gpuinput.h"
#include "gpuref.h"
#include "launch.h"

/* What the stage works on; shared with the timing stage. */
struct correct_env {
    const struct conv_spec *spec;
    CUstream st;
    struct gpuinput *gi;
    struct gpucheck *gc;
    struct gpuref *ref;
    struct launch_set *ls;
    struct gpuinput_tensors cand;   /* the candidate's x, w, b, y */
    struct gpuinput_tensors priv;   /* the reference's x, w, b (aliases cand's when not private) and y */
    bool private_inputs;
    CUdeviceptr ws;
    size_t ws_bytes;
    double launch_timeout_ms;       /* per launch while checking */
    /* The candidate's run when it is not ls's launches (a Triton forward in the harness): same
     * contract as launch_run; NULL runs ls. */
    int (*run)(void *ctx, CUstream st, double timeout_ms, const char *stage, int *failed, struct err *e);
    void *run_ctx;
    uint64_t hash_key;
};

struct correct_opts {
    uint64_t seed;
    int trials;                 /* random trials, >= 1 */
    bool exact;                 /* add the exact-arithmetic trial */
    enum compare_policy policy;
};

enum correct_kind { CORRECT_PASS = 0, CORRECT_WRONG, CORRECT_FAULT };

struct correct_outcome {
    enum correct_kind kind;
    char message[512];          /* why it is wrong, or the fault */
    int failed_launch;          /* CORRECT_FAULT: the launch index, -1 when unknown */
    bool determinism_checked;   /* the second run happened */
    bool deterministic;         /* its output hash equalled the first run's */
};

/* Run the stage; fills out (an object) with {"policy", "tolerance", "trials":[...], "deterministic",
 * "inputs_unchanged", "reference_inputs", "precision_class", "max_rel_l2"}. Returns non-zero only for
 * a system failure; the candidate's failures are in oc. */
int correct_run(const struct correct_env *env, const struct correct_opts *o, cJSON *out, struct correct_outcome *oc,
                struct err *e);

/* Fill both input sets from seed with dist (the reference's own copy when private). */
int correct_fill(const struct correct_env *env, uint64_t seed, enum port_dist dist, struct err *e);

/* Poison the candidate's output and workspace (asynchronous on st): a gtime prep function. */
int correct_poison(void *env, CUstream st, struct err *e);

/* Hash of the candidate's x, w and b combined. */
int correct_input_hash(const struct correct_env *env, uint64_t *h, struct err *e);

/* Compare the candidate's output with the reference's under policy. */
int correct_compare(const struct correct_env *env, enum compare_policy policy, struct compare_result *r,
                    struct err *e);

/* A one-line explanation of a failed comparison, e.g. "37 of 4096 elements outside tolerance; first
 * at (n,c,h,w) = (0,3,1,5): got NaN (never written), expected 0.25". */
void correct_describe(const struct compare_result *r, const struct compare_tol *tol, char *buf, size_t len);

#endif
