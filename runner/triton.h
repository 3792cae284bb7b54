/* triton.h — the worker's side of a Triton candidate: the evaluation's stages that talk to the
 * harness (pyharness.h) while the worker keeps the inputs, the reference and the judgement.
 *
 * The worker's tensors (x, a second input x_alt at another address, w, b, y) are exported with
 * CUDA IPC; the harness runs the candidate's forward on them and copies its output into y. The
 * correctness stage calls triton_run where a CUDA C candidate's launches would go; the timing
 * stage takes triton_sample's times (measured in the candidate's process, hence
 * timing.trust "candidate-process"). Calls alternate x and x_alt, so an output cached by address,
 * id or shape is caught when compared. Every check that ran is listed in the record's
 * "integrity". */
#ifndef KGRADE_TRITON_H
#define KGRADE_TRITON_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <cuda.h>

#include "correct.h"
#include "pyharness.h"

struct eval_opts;

struct triton {
    struct pyharness *py;
    const struct eval_opts *o;
    struct correct_env *env;
    CUdeviceptr x_alt;
    int runs, samples;
    double tail_ms;              /* the synchronisation tail with nothing to wait for (median) */
    int side_stream_samples;     /* samples whose device-wide end came later than the tail allows;
                                    flagged when more than a tenth of them */
    cJSON *kernels;              /* the first forward's Triton launches */
    cJSON *checks;               /* integrity checks that ran: array of strings (owned by the record) */
    char verdict[32];            /* a failed call: the verdict it means */
    char message[2048];
    char traceback[4096];
};

/* Export the tensors, write the candidate's file, wait for the harness, load the candidate (lint,
 * import, ModelNew, parameters). Returns 0, 1 when the candidate failed (t->verdict, t->message),
 * or a negative ERR_* for a system failure. Fills rec's "lint" and "harness". */
int triton_load(struct triton *t, int l2_bytes, cJSON *rec, struct err *e);

/* correct_env.run: one forward on x, its output in y (synchronous). */
int triton_run(void *t, CUstream st, double timeout_ms, const char *stage, int *failed, struct err *e);

/* interleave_impl.sample: one timed forward; inputs alternate x and x_alt, except when last is
 * set (on x, whose content the caller just refreshed). */
int triton_sample(void *t, double *ms, double *mhz, struct err *e);
int triton_sample_last(void *t, double *ms, double *mhz, struct err *e);

/* After correctness: the kernels, Triton's share of GPU time, streams; flags in rec "integrity". */
int triton_diagnose(struct triton *t, cJSON *rec, struct err *e);

/* After timing: the metrics of names (prof.h) for the kernels one forward launches, collected in
 * the harness's process by libkgprof (next to the worker's executable), around that forward only
 * (not the autotuner's launches, which happened in the first forward). Adds rec's "metrics",
 * "metrics_source" and "metrics_detail" (unavailable, with the reason, when the library or CUPTI
 * failed) and delivers the last pass's output to y. Returns 1 when the candidate failed. */
int triton_metrics(struct triton *t, const char *const *names, int n, cJSON *rec, struct err *e);

/* One forward between cuProfilerStart and cuProfilerStop in the harness (--metrics external). */
int triton_window(struct triton *t, struct err *e);

/* At the end: were the captured timer and sync functions replaced? Returns 1 (t->verdict
 * "integrity_violation") when they were. */
int triton_finish(struct triton *t, cJSON *rec, struct err *e);

void triton_free(struct triton *t);

/* The compile command for Triton: syntax and static checks only (python3 kglint.py; no GPU, no
 * import of the candidate). *record: {"schema", "verdict" (ok, syntax_error, lint_rejected,
 * internal_error), "error"?, "candidate", "lint", "stages_ms"}. Returns 0, or the system error
 * behind internal_error. */
int triton_check(const struct eval_opts *o, const char *python, cJSON **record);

#endif
