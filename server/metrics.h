/* metrics.h — the daemon's counters and histograms, rendered in Prometheus text format for
 * GET /metrics. Process-wide (one daemon per process) and thread-safe; calls before metrics_init
 * are ignored. */
#ifndef KGRADE_METRICS_H
#define KGRADE_METRICS_H

#include <stddef.h>

struct app;

void metrics_init(void);

/* One HTTP request answered: route is the route's pattern ("/v1/evaluations/{id}"), or "other". */
void metrics_http(const char *route, int status);
/* One job finished (done) with this verdict. */
void metrics_job_finished(const char *verdict);
/* A stage's duration in seconds: "queue" (submitted -> first taken), "compile_step" (the CPU
 * lane's worker), "gpu_step" (the GPU lane's worker), "job" (submitted -> finished), and the
 * worker record's stages "worker_context", "worker_compile", "worker_load", "worker_correctness",
 * "worker_timing". Unknown names are ignored. */
void metrics_observe(const char *stage, double seconds);
/* GPU gpu (an index < 64) was busy for this many seconds. */
void metrics_gpu_busy(int gpu, double seconds);
double metrics_gpu_busy_seconds(int gpu);

/* The exposition text (queue depth read from the app's store at the call). Caller frees. */
char *metrics_render(struct app *app);

#endif
