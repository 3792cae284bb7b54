/* verdict.h — what a finished worker run means: its verdict and the record the daemon stores.
 *
 * Job failures (the candidate's) and system failures (ours, logged) are kept apart here: a
 * sandbox that could not be set up, or a worker that exited without a record, is internal_error;
 * a forbidden call is sandbox_violation, the memory limit memory_limit, the wall clock timeout,
 * a death by signal runtime_error. */
#ifndef KGRADE_VERDICT_H
#define KGRADE_VERDICT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "isolation.h"
#include "proc.h"

/* The run being judged. */
struct verdict_run {
    const char *job;                /* for the log ("" when none) */
    const struct isolation *iso;    /* how it ran */
    size_t memory_limit;            /* the sandbox's host memory, for the message */
    double deadline_s;              /* its wall clock, for the message */
};

/* What happened to the run: the sandbox's meta line, or, unsandboxed (and when the daemon's own
 * backstop killed the keeper), an outcome made from the process's status. 0, or -1 when a
 * sandboxed run left no meta line (logged). */
int verdict_outcome(const struct verdict_run *v, const struct proc_result *r, struct isolation_meta *m);

/* The run's record and its verdict (copied into verdict). m NULL: no outcome (internal_error).
 * Caller deletes the record. A worker's record also feeds the stage histograms. */
cJSON *verdict_judge(const struct verdict_run *v, const struct proc_result *r, const struct isolation_meta *m,
                     char verdict[32]);

/* A record the daemon writes itself: {"schema", "verdict", "error": {"stage": "worker", "message",
 * "stderr"?}} with the tail of r's stderr when r is given. Caller deletes. */
cJSON *verdict_record(const char *verdict, const char *msg, const struct proc_result *r);

/* The record of a candidate whose request held no code: verdict no_code, error {"stage": "ingest",
 * "message": msg} (what the response held instead). Caller deletes. */
cJSON *verdict_no_code(const char *msg);

/* The text stored for rec: with "isolation" (replacing any the worker wrote; m may be NULL) and,
 * when r wrote to stdout or stderr, "output"; valid UTF-8. Owned, or NULL when out of memory. */
char *verdict_finish(const struct verdict_run *v, cJSON *rec, const struct proc_result *r,
                     const struct isolation_meta *m);

/* 1 for the verdicts after which a GPU may be left broken (the canary runs before the next job):
 * timeout, runtime_error, sandbox_violation, memory_limit, internal_error. A candidate's failure
 * found before or around its kernels (syntax_error, lint_rejected, import_error, init_error,
 * output_mismatch, wrong_answer, ...) is not one. */
int verdict_is_fault(const char *v);

#endif
