/* interleave.h — several implementations timed in alternating rounds, with a stopping rule.
 *
 * Each round takes one cold-L2 sample (gtime) of every implementation; the order reverses every
 * other round so no implementation always follows the same neighbour. A sample whose SM clock is
 * below throttle_mhz is dropped and counted. The loop stops when every implementation has at least
 * min_samples kept samples and a relative standard error of at most target_rse ("converged"), when
 * the budget is spent and at least INTERLEAVE_MIN_ROUNDS rounds ran ("budget"), when the target is
 * out of reach (interleave_out_of_reach: "out_of_reach"), or after max_samples rounds
 * ("max_samples"). Samples are stored
 * by round, so implementations can be compared pair-wise within a round (interleave_speedup). */
#ifndef KGRADE_INTERLEAVE_H
#define KGRADE_INTERLEAVE_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "gtime.h"

/* Rounds taken even past the budget, so that a speedup has an interval (slow candidates). */
#define INTERLEAVE_MIN_ROUNDS 3

/* The stop for a target out of reach: looked at only after this many rounds and this fraction of
 * the budget, and taken only when the budget's end would still miss the target by this factor. */
#define INTERLEAVE_REACH_ROUNDS 100
#define INTERLEAVE_REACH_BUDGET 0.25
#define INTERLEAVE_REACH_FACTOR 2.0

struct interleave_impl {
    const char *name;
    gtime_fn prep, fn;     /* prep may be NULL */
    /* instead of gtime around fn: a sample measured elsewhere (the Triton harness), with its own
     * deadline; NULL for gtime */
    int (*sample)(void *ctx, double *ms, double *mhz, struct err *e);
    void *ctx;
    int warmup;            /* untimed runs before the first round */
    /* filled by interleave_run: per round the time (ms; 0 when dropped) and the SM clock (MHz) */
    double *ms, *mhz;
    int kept, throttled;
};

struct interleave_opts {
    double budget_ms;      /* wall clock of the rounds */
    int min_samples, max_samples;
    double target_rse;
    double throttle_mhz;   /* 0: keep every sample */
    double sample_timeout_ms;   /* watchdog for one sample */
};

struct interleave_report {
    int rounds;
    const char *stopped_by;
    double warmup_ms;      /* the untimed warm-up runs */
    double wall_ms;        /* the rounds */
    int failed;            /* index of the implementation whose sample failed, -1 */
};

/* 1 when an implementation whose relative standard error is rse after rounds rounds and elapsed_ms
 * of a budget of budget_ms cannot reach target_rse by the budget's end: at least
 * INTERLEAVE_REACH_ROUNDS rounds and INTERLEAVE_REACH_BUDGET of the budget spent, and rse, shrinking
 * as 1/sqrt(samples) at the rate so far (rse * sqrt(elapsed / budget) at the end), still above
 * INTERLEAVE_REACH_FACTOR * target_rse. Stopping then leaves a standard error at most
 * sqrt(1 / INTERLEAVE_REACH_BUDGET) = 2 times what the whole budget would have given, and only for
 * samples so spread that the whole budget would miss the target by more than that factor too. */
bool interleave_out_of_reach(double rse, int rounds, double elapsed_ms, double budget_ms, double target_rse);

/* Allocates each implementation's arrays (freed by interleave_free). */
int interleave_run(struct gtime *gt, struct interleave_impl *im, int n, const struct interleave_opts *o,
                   struct interleave_report *rep, struct err *e);
void interleave_free(struct interleave_impl *im, int n);

/* Statistics of the kept samples: stats_to_json plus "throttled" and "sm_clock_mhz"
 * {"median","min","max"}. */
cJSON *interleave_stats_json(const struct interleave_impl *im, int rounds);

/* The median of the kept samples (0 when none). */
double interleave_median(const struct interleave_impl *im, int rounds);

/* Speedup of cand over base (base time / cand time) from the rounds where both were kept:
 * {"estimate", "ci95":[lo, hi], "pairs", "ratio_of_medians", "decision"}: "faster" when the interval
 * lies above 1 + margin, "slower" when below 1 - margin, "undetermined" with fewer than 2 pairs
 * (every sample of one side dropped as throttled), else "tie". */
cJSON *interleave_speedup(const struct interleave_impl *base, const struct interleave_impl *cand, int rounds,
                          double margin);

#endif
