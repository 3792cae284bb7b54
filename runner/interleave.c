/* interleave.c — alternating-round timing (see interleave.h).
 *
 * DESIGN. Candidate and baselines share the clock and thermal state of the GPU only if they are
 * measured close together; rounds of one sample each, in alternating order, spread drift over all
 * of them alike, and pairing the samples of one round removes most of it from the ratio. The
 * stopping rule looks at every implementation, so the noisiest one decides how long we measure,
 * bounded by the budget. When the noisiest one cannot reach the target within the budget by a wide
 * margin (a sub-0.1 ms Triton forward whose samples are half the kernel alone and half the
 * kernel behind Python's launch: docs/triton.md, "Where the time goes"), the rest of the budget
 * buys little and the rounds stop early (interleave_out_of_reach). */
#include "interleave.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "stats.h"
#include "watchdog.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The kept samples of im (rounds 0..rounds-1) into out; returns their count. */
static int kept(const struct interleave_impl *im, int rounds, double *out)
{
    int k = 0;
    for (int r = 0; r < rounds; r++)
        if (im->ms[r] > 0)
            out[k++] = im->ms[r];
    return k;
}

enum { GOING, CONVERGED, OUT_OF_REACH };

/* Where the rounds stand: CONVERGED when every implementation has min_samples kept samples and a
 * relative standard error within the target, OUT_OF_REACH when one cannot get there within the
 * budget (interleave_out_of_reach), else GOING. */
static int standing(const struct interleave_impl *im, int n, int rounds, double elapsed_ms,
                    const struct interleave_opts *o, double *buf)
{
    int converged = 1;
    for (int i = 0; i < n; i++) {
        int k = kept(&im[i], rounds, buf);
        struct stats s;
        if (k < o->min_samples || stats_compute(buf, k, &s)) {
            converged = 0;
            continue;
        }
        if (interleave_out_of_reach(s.rse, rounds, elapsed_ms, o->budget_ms, o->target_rse))
            return OUT_OF_REACH;
        converged &= s.rse <= o->target_rse;
    }
    return converged ? CONVERGED : GOING;
}

bool interleave_out_of_reach(double rse, int rounds, double elapsed_ms, double budget_ms, double target_rse)
{
    if (rounds < INTERLEAVE_REACH_ROUNDS || budget_ms <= 0 || elapsed_ms < INTERLEAVE_REACH_BUDGET * budget_ms)
        return false;
    double at_end = rse * sqrt(elapsed_ms < budget_ms ? elapsed_ms / budget_ms : 1.0);
    return isfinite(rse) && at_end > INTERLEAVE_REACH_FACTOR * target_rse;
}

/* One sample of im: its own sampler (which keeps its own deadline), or gtime under the watchdog. */
static int take(struct gtime *gt, const struct interleave_impl *im, const struct interleave_opts *o, const char *what,
                double *ms, double *mhz, struct err *e)
{
    if (im->sample)
        return im->sample(im->ctx, ms, mhz, e);
    watchdog_arm(o->sample_timeout_ms, what);
    int rc = gtime_sample(gt, im->prep, im->fn, im->ctx, ms, mhz, e);
    watchdog_disarm();
    return rc;
}

int interleave_run(struct gtime *gt, struct interleave_impl *im, int n, const struct interleave_opts *o,
                   struct interleave_report *rep, struct err *e)
{
    int rc = 0;
    double *buf = malloc((size_t)o->max_samples * sizeof *buf);
    memset(rep, 0, sizeof *rep);
    rep->failed = -1;
    rep->stopped_by = "max_samples";
    for (int i = 0; i < n; i++) {
        im[i].ms = calloc((size_t)o->max_samples, sizeof(double));
        im[i].mhz = calloc((size_t)o->max_samples, sizeof(double));
        im[i].kept = im[i].throttled = 0;
        if (!im[i].ms || !im[i].mhz)
            buf = (free(buf), NULL);
    }
    if (!buf)
        return err_set(e, ERR_NOMEM, "", "out of memory");
    char what[160];
    double tw = now_ms();
    for (int i = 0; i < n; i++)
        for (int w = 0; w < im[i].warmup; w++) {
            double ms;
            snprintf(what, sizeof what, "timing, warm-up run %d of %s", w + 1, im[i].name);
            rc = take(gt, &im[i], o, what, &ms, NULL, e);
            if (rc) {
                rep->failed = i;
                goto out;
            }
        }
    double t0 = now_ms();
    rep->warmup_ms = t0 - tw;
    for (int r = 0; r < o->max_samples; r++) {
        for (int j = 0; j < n; j++) {
            int i = r % 2 ? n - 1 - j : j;
            double ms = 0, mhz = 0;
            snprintf(what, sizeof what, "timing, sample %d of %s", r + 1, im[i].name);
            rc = take(gt, &im[i], o, what, &ms, &mhz, e);
            if (rc) {
                rep->failed = i;
                rep->rounds = r;
                goto out;
            }
            im[i].mhz[r] = mhz;
            if (o->throttle_mhz > 0 && mhz > 0 && mhz < o->throttle_mhz) {
                im[i].throttled++;
            } else {
                im[i].ms[r] = ms;
                im[i].kept++;
            }
        }
        rep->rounds = r + 1;
        double elapsed = now_ms() - t0;
        int st = standing(im, n, rep->rounds, elapsed, o, buf);
        if (st == CONVERGED) {
            rep->stopped_by = "converged";
            break;
        }
        if (elapsed > o->budget_ms && rep->rounds >= INTERLEAVE_MIN_ROUNDS) {
            rep->stopped_by = "budget";
            break;
        }
        if (st == OUT_OF_REACH) {
            rep->stopped_by = "out_of_reach";
            break;
        }
    }
    rep->wall_ms = now_ms() - t0;
out:
    free(buf);
    return rc;
}

void interleave_free(struct interleave_impl *im, int n)
{
    for (int i = 0; i < n; i++) {
        free(im[i].ms);
        free(im[i].mhz);
        im[i].ms = im[i].mhz = NULL;
    }
}

double interleave_median(const struct interleave_impl *im, int rounds)
{
    double *buf = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof *buf);
    struct stats s = {0};
    if (buf)
        stats_compute(buf, kept(im, rounds, buf), &s);
    free(buf);
    return s.median;
}

cJSON *interleave_stats_json(const struct interleave_impl *im, int rounds)
{
    double *buf = calloc((size_t)(rounds > 0 ? rounds : 1), sizeof *buf);
    if (!buf)
        return NULL;
    struct stats s, c;
    stats_compute(buf, kept(im, rounds, buf), &s);
    int k = 0;
    for (int r = 0; r < rounds; r++)
        if (im->mhz[r] > 0)
            buf[k++] = im->mhz[r];
    stats_compute(buf, k, &c);
    free(buf);
    cJSON *o = stats_to_json(&s);
    cJSON_AddNumberToObject(o, "throttled", im->throttled);
    cJSON *clk = cJSON_AddObjectToObject(o, "sm_clock_mhz");
    cJSON_AddNumberToObject(clk, "median", c.median);
    cJSON_AddNumberToObject(clk, "min", c.min);
    cJSON_AddNumberToObject(clk, "max", c.max);
    return o;
}

cJSON *interleave_speedup(const struct interleave_impl *base, const struct interleave_impl *cand, int rounds,
                          double margin)
{
    double *num = malloc((size_t)(rounds > 0 ? rounds : 1) * sizeof *num);
    double *den = malloc((size_t)(rounds > 0 ? rounds : 1) * sizeof *den);
    cJSON *o = NULL;
    if (!num || !den)
        goto out;
    for (int r = 0; r < rounds; r++) {   /* a dropped sample (0) makes stats_paired_ratio skip the pair */
        num[r] = base->ms[r];
        den[r] = cand->ms[r];
    }
    struct stats_ratio q;
    stats_paired_ratio(num, den, rounds, &q);
    o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "estimate", q.estimate);
    cJSON *ci = cJSON_AddArrayToObject(o, "ci95");
    cJSON_AddItemToArray(ci, cJSON_CreateNumber(q.lo));
    cJSON_AddItemToArray(ci, isfinite(q.hi) ? cJSON_CreateNumber(q.hi) : cJSON_CreateNull());
    cJSON_AddNumberToObject(o, "pairs", q.n);
    double mc = interleave_median(cand, rounds), mb = interleave_median(base, rounds);
    cJSON_AddNumberToObject(o, "ratio_of_medians", mc > 0 ? mb / mc : 0);
    const char *d = q.n < 2 ? "undetermined" : q.lo > 1 + margin ? "faster" : q.hi < 1 - margin ? "slower" : "tie";
    cJSON_AddStringToObject(o, "decision", d);
out:
    free(num);
    free(den);
    return o;
}
