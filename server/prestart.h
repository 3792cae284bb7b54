/* prestart.h — a GPU lane's pre-started Triton worker: `kgrade-worker eval --job-stdin` started in a
 * fresh sandbox before the lane claims its next job, so that by the time a Triton job is claimed
 * python3 has imported torch and Triton and both processes have their CUDA contexts. The job's
 * arguments and source are then handed over on the worker's stdin (runner/jobin.h): one line, a
 * JSON array of the arguments workcmd.h gives `eval`, then the source. A pre-started worker runs
 * one job and is never reused; a struct prestart belongs to its lane's thread.
 *
 *   started   kgrade-worker eval --device 0 --language triton [--python P] --record-fd 3 --seal
 *             --compact --job-stdin, in the python profile with the Triton memory limit, seeing
 *             its GPU and the shared cache (not a candidate's cache directory: a Triton
 *             evaluation never reads it); the sandbox's wall clock covers the idle limit plus a
 *             job's deadline, and the job's own deadline counts from the hand-over.
 *   handed    prestart_handover: the job runs in it, as a cold worker would run it.
 *   lost      it died before it took its job: the job is started cold instead, never failed.
 *   stopped   idle too long, a fault on the GPU, shutdown: its stdin is closed and it exits on
 *             its own (killed only when it does not). */
#ifndef KGRADE_PRESTART_H
#define KGRADE_PRESTART_H

#include <stdatomic.h>
#include <stddef.h>

#include "err.h"
#include "isolation.h"
#include "proc.h"

/* What a lane's pre-started workers are started with. */
struct prestart_spec {
    const struct isolation *iso;
    const char *worker, *python;   /* the executable; the interpreter ("" or NULL: the worker's default) */
    int slot;                      /* the sandbox slot: one of its own, apart from the lane's cold runs */
    int gpu;                       /* the GPU's ordinal */
    const char *shared_bind;       /* "HOST:INSIDE" of the shared compile cache, read-write */
    long wall_ms;                  /* the sandbox's wall clock: idle limit + a job's deadline */
    size_t memory;                 /* the sandbox's host memory */
    size_t out_max, err_max, record_max, meta_max;   /* proc_opts' bounds */
};

struct prestart {
    struct proc *proc;             /* the waiting worker; NULL: none */
    double since;                  /* when it was started (CLOCK_MONOTONIC seconds) */
};

/* prestart_handover: the worker never took the job; start the job cold. */
#define PRESTART_LOST 1

/* Start a worker into p (which must hold none). 0, or the negative ERR_* of isolation_argv or
 * proc_start with e saying why (p then holds none). */
int prestart_start(struct prestart *p, const struct prestart_spec *x, struct err *e);

/* Seconds since p's worker was started; 0 when it holds none. */
double prestart_age_s(const struct prestart *p);

/* 1 when p's worker has died while waiting: it is ended here, e says how (exit status or signal,
 * and the tail of its stderr). 0 while it waits, or when p holds none. */
int prestart_dead(struct prestart *p, struct err *e);

/* Hand job_argv (the argv workcmd.h built, "eval" at [1]; the arguments after it are sent) and the
 * source to p's worker and wait for it as proc_finish does, the deadline counted from now, killed
 * when *cancel becomes non-zero.
 * Returns 0 when it ran the job (r filled, as proc_run fills it), PRESTART_LOST when the worker had
 * died or did not take the whole job (nothing of the candidate ran; e says why; r holds nothing),
 * or a negative ERR_* of proc_finish. p holds no worker afterwards, whatever happened. */
int prestart_handover(struct prestart *p, const char *const *job_argv, const char *src, size_t len,
                      long deadline_ms, atomic_int *cancel, struct proc_result *r, struct err *e);

/* End p's worker, if any: its stdin closed, up to wait_ms for it to exit on its own (it does, at
 * once: no job), then its sandbox killed. A sandbox that ends on its own leaves nothing behind; one
 * killed from outside may leave its init for the host's init to reap. */
void prestart_stop(struct prestart *p, long wait_ms);

#endif
