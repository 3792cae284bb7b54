/* metricset.h — whether a request's metric names (options.metrics) are known for the chips of this
 * daemon's GPUs, answered at submission (422 unknown_metric naming the name and the chip) so that
 * a misspelt metric never waits in the queue to fail on a GPU (docs/metrics.md).
 *
 * The daemon never links CUPTI: the answer comes from `kgrade-worker metrics-check --arch N
 * NAME...` (CUPTI's profiler host API; no GPU), run synchronously under a short deadline, for the
 * names not yet known, once per distinct architecture of the GPU lanes (the architecture the CPU
 * lanes compile for when there is no GPU lane), one check at a time. Names known good or bad are
 * kept per architecture in a bounded cache, so repeated requests run no worker. When the check
 * cannot run (no worker, no CUPTI, no chip known for the architecture, no answer in time) the names
 * are accepted — their form was checked by request.c — and the worker reports unknown ones in the
 * result; a warning is logged once. Thread-safe. */
#ifndef KGRADE_METRICSET_H
#define KGRADE_METRICSET_H

#include <cjson/cJSON.h>

#include "config.h"
#include "err.h"
#include "request.h"
#include "sched.h"

#define METRICSET_SLOTS 2048        /* cached (architecture, name) answers, direct-mapped */
#define METRICSET_DEADLINE_MS 2000  /* one metrics-check run (typically 0.1-0.25 s) */

struct metricset;

/* The architectures of s's GPU lanes (sched_describe), the worker of cfg. Both must outlive the
 * set; free it with metricset_close (NULL is a no-op). ERR_NOMEM only. */
int metricset_open(const struct config *cfg, struct sched *s, struct metricset **out, struct err *e);
void metricset_close(struct metricset *m);

/* names: a request's options.metrics (request_job.metrics: an array of well-formed names), or NULL
 * (the default list: nothing to check). 0 when every name is known for every architecture, or the
 * check could not run; ERR_INVALID with re a 422 unknown_metric whose field is
 * prefix.options.metrics[k] for the first unknown name. m NULL: everything is accepted. */
int metricset_check(struct metricset *m, const cJSON *names, const char *prefix, struct request_err *re);

/* metrics-check runs so far. */
long metricset_runs(const struct metricset *m);

#endif
