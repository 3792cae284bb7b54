/* sched.h — the scheduler: lanes of threads that take jobs from the store and run kgrade-worker
 * processes for them.
 *
 * CPU lanes (--cpu-lanes of them) take queued jobs and run `kgrade-worker compile` for the GPU
 * architecture that will run them: a check-mode job is finished there; a full-mode job that
 * compiles moves on to waiting_gpu, its cubin now in the shared compile cache. One GPU lane per GPU
 * takes waiting_gpu jobs one at a time and runs `kgrade-worker eval` (a compile-cache hit), so the
 * GPU only ever times one candidate while the CPUs prepare the next ones. Both take the highest
 * priority first, then the oldest. A GPU lane with nothing to claim keeps a Triton worker
 * pre-started for its next Triton job (prestart.h; --prestart). */
#ifndef KGRADE_SCHED_H
#define KGRADE_SCHED_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "err.h"
#include "isolation.h"
#include "store.h"

struct sched;

/* Discover the GPUs (by running `kgrade-worker info`), start the lanes, which run every worker
 * wrapped as iso says (and none at all when iso refuses untrusted code). A GPU lane first runs the
 * canary on its GPU. The store and iso must outlive the scheduler. The caller stops it with
 * sched_stop (NULL is a no-op). */
int sched_start(const struct config *cfg, const struct isolation *iso, struct store *st, struct sched **out,
                struct err *e);
/* Stop taking jobs, kill running workers (their jobs stay unfinished in the store and are retried
 * on the next start), join the lanes. */
void sched_stop(struct sched *s);

/* Number of GPUs in service (found, and not failed a canary): 0 means full-mode jobs cannot run
 * here (503 no_gpu). */
int sched_gpu_count(const struct sched *s);

/* Cancel a job: the store's cancel, then, when a worker runs it, kill the worker. Returns what
 * store_cancel returns. */
int sched_cancel(struct sched *s, const char *id, enum store_status *prev, struct err *e);
/* Cancel a batch (store_cancel_batch) and kill its running workers. */
int sched_cancel_batch(struct sched *s, const char *batch_id, long *n, struct err *e);

/* Health: {"gpus": [{"ordinal", "name", "arch", "busy_fraction", "in_service", "canary",
 * "prestart": {"enabled", "waiting", "age_s"?}, "job"}],
 * "gpu_error"?,
 * "worker": {"path", "nvrtc", "driver", "cudnn"}}. Caller deletes. */
cJSON *sched_describe(struct sched *s);

#endif
