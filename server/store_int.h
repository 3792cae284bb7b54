/* store_int.h — what the three files of the store share: store.c (opening, the statements, the
 * transaction plumbing, waiting), store_write.c (state changes) and store_read.c (queries). Not for
 * other modules: everything outside the store goes through store.h. */
#ifndef KGRADE_STORE_INT_H
#define KGRADE_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "store.h"

/* The statements prepared once at open and reused (reset and unbound on each use). */
enum store_stmt {
    ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_EVENT, ST_PRUNE, ST_FIN_SEQ, ST_BATCH_OPEN,
    ST_SOURCE_PUT, ST_CACHE, ST_BASELINE, ST_JOB_PUT, ST_BATCH_PUT, ST_PICK, ST_SOURCE, ST_CLAIM, ST_MOVE, ST_FINISH,
    ST_CANCEL, ST_STATUS, ST_GET, ST_N
};

struct store {
    sqlite3 *db;
    pthread_mutex_t mu;         /* held around every use of db and st */
    pthread_mutex_t gen_mu;     /* guards gen and kicks; may be taken while holding mu, never before */
    pthread_cond_t gen_cv;      /* CLOCK_MONOTONIC */
    uint64_t gen, kicks;
    int max_attempts;
    long max_queue, events_keep;
    long since_prune;           /* events appended since the last prune */
    long unfinished;            /* committed jobs with status < done (counted at open) */
    long delta;                 /* this transaction's change of unfinished, applied at commit */
    sqlite3_stmt *st[ST_N];
};

/* The columns of the evaluation object, in the order of enum job_col (store_read.c). */
#define STORE_JOB_COLS                                                                            \
    "j.id, j.status, j.verdict, j.problem, j.spec, j.mode, j.language, j.source_sha256, s.bytes, " \
    "j.options, j.priority, j.batch_id, j.batch_index, j.attempts, j.gpu, j.cached_from, "         \
    "j.created, j.started, j.finished, j.seq, j.result, j.baseline_id"
#define STORE_JOB_FROM " FROM jobs j CROSS JOIN sources s ON s.sha256 = j.source_sha256"

/* Bring the schema up to this build's version (store_schema.c); at open, before the statements
 * are prepared. ERR_UNSUPPORTED for a database newer than this build. */
int store_schema_migrate(struct store *s, struct err *e);
/* Run text (one or more statements, no rows); the one number a query answers. */
int store_exec(struct store *s, const char *text, struct err *e);
int store_number(struct store *s, const char *query, long *v, struct err *e);

double store_now(void);                          /* unix seconds, CLOCK_REALTIME */
const char *store_nz(const char *str);          /* NULL for NULL or "" */

/* Take s->mu; store_end resets every cached statement, rolls back a transaction left open (an
 * error path) and releases s->mu. Everything below needs s->mu held. */
void store_lock(struct store *s);
void store_end(struct store *s);

/* The cached statement k, reset and with its bindings cleared. */
sqlite3_stmt *store_stmt(struct store *s, enum store_stmt k);
/* Step st to its end, ignoring rows, and reset it: 0 or an error. */
int store_run(struct store *s, sqlite3_stmt *st, struct err *e);
/* Fill e from the connection's last error ("store: what: message") and return the ERR_* code. */
int store_dberr(struct store *s, struct err *e, const char *what);
/* A text column copied into dst ("" for NULL, cut to size). */
void store_copy_col(sqlite3_stmt *st, int col, char *dst, size_t size);

/* BEGIN IMMEDIATE. COMMIT: when the transaction changed anything, prune events first when due,
 * and after the commit apply delta to unfinished, bump the generation and wake every waiter. */
int store_begin(struct store *s, struct err *e);
int store_commit(struct store *s, int changed, struct err *e);

/* Row changes, inside a transaction. Each appends its event (store_event counts toward pruning);
 * finishing and cancelling count in s->delta.
 * store_move / store_finish_row are compare-and-set on the status: 1 changed, 0 not in `from`.
 * store_cancel_row cancels a job its caller saw unfinished in this transaction. A job that becomes
 * final takes store_fin_seq; store_batch_check appends the "batch" "done" event when batch (may be
 * NULL or "") has no unfinished job left. */
int store_event(struct store *s, double now, const char *type, const char *job, const char *batch,
                const char *status, const char *verdict, struct err *e);
int store_fin_seq(struct store *s, int64_t *v, struct err *e);
int store_batch_check(struct store *s, const char *batch, double now, struct err *e);
int store_move(struct store *s, const char *id, enum store_status from, enum store_status to,
               double now, struct err *e);
int store_finish_row(struct store *s, const char *id, enum store_status from, const char *verdict,
                     const char *result, double now, struct err *e);
int store_cancel_row(struct store *s, const char *id, const char *batch, double now, struct err *e);

#endif
