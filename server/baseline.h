/* baseline.h — what a candidate's record says about its baseline: the evaluation of the prompt's
 * [CURRENT CODE] that ran beside it (docs/result.md, "Baseline"). Thread-safe: no state. */
#ifndef KGRADE_BASELINE_H
#define KGRADE_BASELINE_H

#include <cjson/cJSON.h>

#include "store.h"

/* The tie margin of the decision, the worker's --tie-margin default. */
#define BASELINE_TIE_MARGIN 0.005

/* rec (the candidate's record, its "prompt" already merged) gets "baseline" for the evaluation
 * base_id, read from the store once: {"id", "source", "status", "verdict", "median_ms", "speedup",
 * "metrics", "metrics_note"}; speedup is null while the baseline has not finished. A store failure
 * leaves status null with "error". 0, or -1 when out of memory. */
int baseline_add(struct store *st, const char *base_id, cJSON *rec);

/* The speedup of the candidate's record over the baseline's: {"estimate", "ci95", "decision",
 * "method"}: base median / candidate median, a 95 % interval by the delta method on the log ratio,
 * decision faster / tie / slower by BASELINE_TIE_MARGIN, undetermined (estimate and ci95 null)
 * when either record lacks timing. NULL when out of memory. */
cJSON *baseline_speedup(const cJSON *base_rec, const cJSON *cand_rec);

/* The metrics table of a parsed prompt: {"<kernel>": {"<metric>": {"prompt", "before", "after",
 * "met", "threshold"}}} from its NCU block, thresholds from its stage; {} without them. before and
 * after come from the baseline's and the candidate's "metrics" (either may be NULL): the kernel of
 * the prompt's name, else the only kernel when both have one; null when not collected. met: after
 * against the threshold, null when either is unknown. NULL when out of memory. */
cJSON *baseline_metrics(const cJSON *prompt, const cJSON *before, const cJSON *after);

#endif
