/* eval.h — one evaluation of one candidate (CUDA C, or Triton through triton.h) on one GPU: the
 * worker's main job.
 *
 * Stages: context (driver, device, primary context), compile (directives, NVRTC, kernel symbols),
 * load (module, launch checks, our own kernels, buffers), correctness (correct.h), timing
 * (interleave.h: the candidate against our reference and cuDNN strict FP32 and TF32 when present,
 * then the output of the last timed run validated). Each stage's time is recorded; the first
 * failing stage decides the verdict and the later stages do not run. docs/result.md describes the
 * record field by field.
 *
 * A Triton candidate replaces compile and load by the harness's load (lint, import, ModelNew) and
 * adds a diagnosis after correctness and an integrity check at the end; its verdicts add
 * syntax_error, lint_rejected, import_error, init_error, output_mismatch and integrity_violation.
 *
 * After timing (so it never disturbs correctness or timing) the metrics stage collects the
 * candidate's and the reference's per-kernel metrics (prof.h; in the harness's process for Triton).
 * It never changes the verdict: a collection that fails says why in metrics_detail.
 *
 * Verdicts: ok, compile_error, directive_error, runtime_error, wrong_answer, timeout (the worker's
 * own deadline: its watchdog writes the record and ends the process), resource_error (the problem or
 * the workspace does not fit the GPU's memory), no_device, internal_error (our failure). */
#ifndef KGRADE_EVAL_H
#define KGRADE_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "compare.h"
#include "spec.h"

struct eval_opts {
    int device;
    const char *cache_dir;           /* NULL: no compile cache */
    const char *candidate_cache_dir; /* where the candidate's cubin is cached; NULL: cache_dir. A
                                        sandboxed worker gets one per source, apart from the shared
                                        cache of reference kernels */
    const char *problem_id;          /* for the record; NULL for an inline spec */
    struct conv_spec spec;
    bool no_problem;                 /* compile only: spec unset, directives only syntax-checked */
    const char *source;              /* NUL-terminated at source[source_len] */
    size_t source_len;
    const char *source_name;         /* for the record */
    uint64_t seed;                   /* reduced to 30 bits; trial k uses seed + k, timing seed + 1000 */
    bool seed_given;                 /* otherwise drawn from getrandom */
    int trials;                      /* random correctness trials (default 3) */
    bool exact_trial;                /* default true */
    enum compare_policy policy;      /* default COMPARE_TF32 */
    bool timing;                     /* default true; false: correctness only */
    bool baselines;                  /* default true: reference and cuDNN timed with the candidate */
    double budget_ms;                /* timing rounds (default 2000) */
    int min_samples, max_samples;    /* 10, 10000 */
    double target_rse;               /* 0.005 */
    int warmup;                      /* untimed runs of each implementation (default 2) */
    double throttle_fraction;        /* a sample below this fraction of the max SM clock is dropped (0.75) */
    double tie_margin;               /* speedup decision band around 1 (0.005) */
    double launch_timeout_ms;        /* one launch while checking, one sample while timing (10000) */
    double compile_timeout_ms;       /* NVRTC (60000) */
    int64_t max_workspace;           /* bytes (1 GiB) */
    size_t log_cap;                  /* NVRTC log bytes kept (64 KiB) */
    void (*emit)(const cJSON *record);   /* how the watchdog prints a timeout record (stdout) */
    /* Triton: the source is a Python module with ModelNew, run by the harness py (started by the
     * caller before any sealing); lint_policy is kglint's policy (JSON text or NULL) and
     * autotune_max its limit on autotune configs (0: none). */
    bool triton;
    struct pyharness *py;
    const cJSON *ingest_info;        /* how the code was found (ingest.h): merged into "candidate" */
    const cJSON *prompt;             /* the parsed prompt, or NULL */
    const char *lint_policy;
    int autotune_max;
    double prestart_wait_ms;         /* > 0: a pre-started worker waited this long for its job before
                                        the evaluation began (stages_ms.prestart_wait_ms, not in total) */
    const char *metrics;  /* --metrics: comma-separated names, "none", or NULL: the default list */
};

void eval_opts_default(struct eval_opts *o);

/* The record's "candidate" (language, file, bytes, sha256, and how the code was found) and
 * "prompt", added to rec: shared by every record a candidate gets. */
void eval_candidate_json(const struct eval_opts *o, cJSON *rec);

/* Compile only, for sm_<arch>, with no GPU: the record of eval_run up to the compile stage
 * (verdict ok, compile_error or directive_error; "launches" holds the bound plan when a problem is
 * given). Returns as eval_run. */
int eval_compile(const struct eval_opts *o, int arch, cJSON **record);

/* Evaluate; *record receives the result (caller deletes) unless out of memory. Returns 0 when the
 * record carries a job verdict, ERR_UNSUPPORTED for no_device, or the system error behind an
 * internal_error. A timeout never returns: the watchdog prints the record and exits with 0. */
int eval_run(const struct eval_opts *o, cJSON **record);

#endif
