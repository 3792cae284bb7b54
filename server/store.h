/* store.h — the durable state of kgraded: jobs, sources, batches and events in one SQLite file
 * (WAL mode, schema versioned by PRAGMA user_version with forward migrations).
 *
 * Every state change is one transaction that also appends its event, so a change and its event are
 * committed together or not at all, and a job is finished at most once (compare-and-set on status).
 * After each commit the store bumps a generation counter and wakes every store_wait_change() caller:
 * the scheduler's lanes, ?wait requests, the SSE stream and the batch results stream all wait on it.
 *
 * Thread-safe: one connection behind one mutex. All functions follow reference/err.h: 0 (or a
 * documented positive value) on success, a negative ERR_* code with e filled on failure. */
#ifndef KGRADE_STORE_H
#define KGRADE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

struct store;

/* Job statuses, in lifecycle order. A full-mode job goes queued -> compiling -> waiting_gpu ->
 * running -> done; a check-mode job queued -> compiling -> done; any unfinished job may become
 * cancelled. "done" and "cancelled" are final. */
enum store_status {
    STORE_QUEUED, STORE_COMPILING, STORE_WAITING_GPU, STORE_RUNNING, STORE_DONE, STORE_CANCELLED,
    STORE_NSTATUS
};
const char *store_status_name(enum store_status st);   /* "queued", ..., "cancelled" */
int store_status_parse(const char *name);              /* the enum value, or -1 */

struct store_opts {
    const char *path;       /* the database file; its directory must exist */
    int sync_full;          /* 1: PRAGMA synchronous=FULL (survives power loss), 0: NORMAL */
    int max_attempts;       /* runs of one job before recovery gives up (internal_error) */
    long max_queue;         /* unfinished jobs allowed; inserts beyond it fail with ERR_LIMIT */
    long events_keep;       /* events retained (older ones are pruned) */
};

/* Open (creating and migrating as needed). The caller closes with store_close (NULL is a no-op). */
int store_open(const struct store_opts *o, struct store **out, struct err *e);
void store_close(struct store *s);
const char *store_sqlite_version(void);
int store_schema_version(struct store *s);

/* After a restart: jobs left compiling go back to queued, jobs left running go back to waiting_gpu,
 * each with an event; a job that has already used max_attempts is finished with verdict
 * internal_error instead. Counts are returned through the pointers (may be NULL). */
int store_recover(struct store *s, int *requeued, int *failed, struct err *e);

/* ---- submitting ---------------------------------------------------------------------------- */

/* One evaluation request, validated and canonicalised by the caller (server/request.h). */
struct store_newjob {
    const char *problem;        /* registry id, or "inline" */
    const char *spec_json;      /* the resolved spec, canonical JSON */
    const char *source;         /* the code that runs, source_len bytes (stored once by hash); ""
                                   when the candidate held none (language "none") */
    size_t source_len;
    const char *source_sha256;  /* 64 hex */
    const char *language;       /* "cuda", "triton" or "none" (no code found: finished as no_code) */
    const char *options_json;   /* canonical options, as given to the scheduler */
    const char *mode;           /* "full" or "check" */
    const char *cache_key;      /* 64 hex: what makes two requests the same evaluation */
    int priority;               /* higher runs first */
    int force;                  /* 1: do not answer from the cache */
    const char *ingest_json;    /* what was read from the request (the candidate's form, language,
                                   extraction; the parsed prompt), JSON; NULL: none */
    const struct store_newjob *baseline;   /* an evaluation to compare with (the prompt's current
                                   code); NULL: none. It has no baseline itself. */
};

/* Insert one job; durable when this returns 0. Unless force, a finished job with the same
 * cache_key (and a verdict other than internal_error / no_device) answers it: the new job is
 * created done at once with that job's result, cached_from naming it, and *cached is 1.
 * With a baseline, the same transaction first finds an evaluation of it (one with its cache key
 * that is still under way, or finished with a verdict the cache would answer from; not with force)
 * or inserts it (never from the cache: its result must be its own), and records its id as the
 * job's baseline_id; a job answered from the cache keeps the baseline_id of the job it copies.
 * id gets "ev_" + 20 hex. ERR_LIMIT when the queue already holds max_queue unfinished jobs. */
int store_job_insert(struct store *s, const struct store_newjob *j, char id[32], int *cached,
                     struct err *e);

/* Insert a batch of n jobs in one transaction (all or nothing); job k gets batch_index k.
 * batch_id gets "bt_" + 20 hex; *cached_n counts the jobs answered from the cache. One "batch"
 * event (status "queued") stands for the n job insertions. ERR_LIMIT as above. */
int store_batch_insert(struct store *s, const struct store_newjob *jobs, size_t n, const char *label,
                       char batch_id[32], size_t *cached_n, struct err *e);

/* The record of a finished job gets what its ingest JSON (store_newjob.ingest_json) says: the
 * members of its "candidate" merged into rec's "candidate" (created when absent; the worker's own
 * members of the same name are replaced), and "prompt" (null without one). Nothing for a NULL
 * ingest (a job of schema 1). 0, or -1 when out of memory. */
int store_ingest_merge(cJSON *rec, const char *ingest_json);

/* ---- the scheduler's side ------------------------------------------------------------------ */

struct store_claim {
    char id[32];
    char batch_id[32];          /* "" when none */
    char problem[64];           /* the registry id, or "inline" */
    char *spec_json, *source, *options_json;   /* owned: store_claim_free */
    char *ingest_json;          /* owned; NULL when the job has none */
    size_t source_len;
    char mode[8];
    char language[8];           /* "cuda", "triton" or "none" */
    char baseline_id[32];       /* "" when none */
    int attempts;               /* including this one */
    double created;             /* unix seconds */
};
void store_claim_free(struct store_claim *c);

/* Move the highest-priority, oldest job in status `from` to status `to` (compiling or running),
 * recording gpu (-1 for none) and counting an attempt. Returns 1 when a job was claimed (c filled),
 * 0 when none waits. */
int store_claim(struct store *s, enum store_status from, enum store_status to, int gpu,
                struct store_claim *c, struct err *e);

/* Move job id from `from` to `to` (e.g. compiling -> waiting_gpu). Returns 1 when moved, 0 when
 * the job was not in `from` (cancelled meanwhile). */
int store_advance(struct store *s, const char *id, enum store_status from, enum store_status to,
                  struct err *e);

/* Finish job id, which must be in status `from`: status done, verdict, the result record (JSON
 * text), finished time and a finish sequence number (the order of /v1/batches/{id}/results).
 * Returns 1 when finished, 0 when the job was not in `from` (cancelled or finished already). */
int store_finish(struct store *s, const char *id, enum store_status from, const char *verdict,
                 const char *result_json, struct err *e);

/* ---- cancelling ---------------------------------------------------------------------------- */

/* Cancel job id. Returns 1 when cancelled, 0 when it had already finished (*prev tells which
 * final status), ERR_NOTFOUND when unknown. *prev is the status it had. */
int store_cancel(struct store *s, const char *id, enum store_status *prev, struct err *e);

/* Cancel every unfinished job of a batch; *n gets how many. ERR_NOTFOUND when unknown. */
int store_cancel_batch(struct store *s, const char *batch_id, long *n, struct err *e);

/* ---- reading ------------------------------------------------------------------------------- */

/* The job as the API shows it (docs/api.md, "The evaluation object"); with_result adds the
 * result record. The caller deletes *out. ERR_NOTFOUND when unknown. */
int store_job_get(struct store *s, const char *id, int with_result, cJSON **out, struct err *e);

/* Status of job id (a cheap check for waiters). ERR_NOTFOUND when unknown. */
int store_job_status(struct store *s, const char *id, enum store_status *st, struct err *e);

struct store_filter {
    const char *status, *problem, *batch, *verdict;   /* NULL: any */
    double since;               /* created at or after (unix seconds); 0: any */
    int limit;                  /* 1..1000 */
    int64_t cursor;             /* 0: from the newest; else strictly older than this position */
};
/* Jobs newest first, without result records. *items is a new array; *next is the cursor of the
 * next page, 0 when this page is the last. */
int store_job_list(struct store *s, const struct store_filter *f, cJSON **items, int64_t *next,
                   struct err *e);

/* The batch as the API shows it: id, label, created, total, counts by status, verdicts, progress,
 * eta_s. ERR_NOTFOUND when unknown. */
int store_batch_get(struct store *s, const char *id, cJSON **out, struct err *e);

/* Finished jobs (done or cancelled) of a batch in finish order after finish sequence `after`, at
 * most limit, each {index, id, status, verdict, cached, result}. *last is the finish sequence of
 * the last row (after when none); *total the batch size; *finished how many are finished now. */
int store_batch_results(struct store *s, const char *batch_id, int64_t after, int limit,
                        cJSON **rows, int64_t *last, long *total, long *finished, struct err *e);

/* Unfinished and finished jobs by status (counts[STORE_NSTATUS]). */
int store_counts(struct store *s, long counts[STORE_NSTATUS], struct err *e);

/* Jobs finished by verdict: a new object {"ok": n, ...}. */
int store_verdict_counts(struct store *s, cJSON **out, struct err *e);

/* ---- events -------------------------------------------------------------------------------- */

/* Events with id > after, oldest first, at most limit, optionally only those of one job or one
 * batch: each {id, ts, type ("job" | "batch"), job, batch, status, verdict}. */
int store_events(struct store *s, int64_t after, const char *job, const char *batch, int limit,
                 cJSON **events, struct err *e);
int64_t store_last_event_id(struct store *s);

/* ---- waiting for changes ------------------------------------------------------------------- */

/* The generation: bumped after every committed change. */
uint64_t store_generation(struct store *s);
/* Block until the generation differs from gen or timeout_ms passes; returns the generation. */
uint64_t store_wait_change(struct store *s, uint64_t gen, int timeout_ms);
/* Wake every waiter (used at shutdown). */
void store_wake_all(struct store *s);

#endif
