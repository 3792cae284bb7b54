/* store.c — opening the database, the statements, the transaction plumbing, the row changes the
 * writers compose, and waiting for changes (see store.h). The exported state changes live in
 * store_write.c, the queries in store_read.c.
 *
 * DESIGN
 *   One SQLite connection (opened without SQLite's own mutex) behind one pthread mutex, in WAL mode.
 *   The statements used often are prepared once at open and reused; every exported function takes
 *   the mutex, and store_end() resets every cached statement, rolls back a transaction left open by
 *   an error path and releases the mutex, so no path can leak a read snapshot or half a transaction.
 *
 *   After a COMMIT that changed anything the generation goes up and every store_wait_change()
 *   caller wakes (a second mutex and a CLOCK_MONOTONIC condition variable, so waiters never queue
 *   behind a database call). store_wake_all() ends the waits without pretending a change.
 *
 *   The number of unfinished jobs (what max_queue bounds) is counted once at open and then kept
 *   by each committed transaction's delta, so a submission never counts a long queue.
 *
 *   Events are pruned in batches, every min(events_keep, 1000) appends and at open, keeping the
 *   newest events_keep (event ids are dense: AUTOINCREMENT, only the oldest are ever deleted).
 *
 *   The schema and its migrations are in store_schema.c. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

_Static_assert(STORE_QUEUED == 0 && STORE_COMPILING == 1 && STORE_WAITING_GPU == 2 &&
               STORE_RUNNING == 3 && STORE_DONE == 4 && STORE_CANCELLED == 5,
               "the SQL below writes statuses as numbers");

static const char *const sql[ST_N] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_EVENT] = "INSERT INTO events(ts, type, job_id, batch_id, status, verdict)"
                 " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_PRUNE] = "DELETE FROM events WHERE id <= (SELECT max(id) FROM events) - ?1",
    [ST_FIN_SEQ] = "UPDATE counters SET fin_seq = fin_seq + 1 RETURNING fin_seq",
    [ST_BATCH_OPEN] = "SELECT EXISTS (SELECT 1 FROM jobs WHERE batch_id = ?1 AND status < 4)",
    [ST_SOURCE_PUT] = "INSERT OR IGNORE INTO sources(sha256, bytes, body) VALUES (?1, ?2, ?3)",
    [ST_CACHE] = "SELECT id, verdict, result, baseline_id FROM jobs WHERE cache_key = ?1 AND status = 4"
                 " AND cached_from IS NULL AND verdict NOT IN ('internal_error', 'no_device')"
                 " ORDER BY seq DESC LIMIT 1",
    /* an evaluation of the same code to compare with: finished (as the cache would answer), else
     * still under way (each side by its own partial index) */
    [ST_BASELINE] = "SELECT id FROM (SELECT id FROM jobs WHERE cache_key = ?1 AND status = 4"
                    " AND cached_from IS NULL AND verdict NOT IN ('internal_error', 'no_device')"
                    " ORDER BY seq DESC LIMIT 1) UNION ALL SELECT id FROM (SELECT id FROM jobs"
                    " WHERE cache_key = ?1 AND status < 4 ORDER BY seq DESC LIMIT 1) LIMIT 1",
    [ST_JOB_PUT] = "INSERT INTO jobs(id, batch_id, batch_index, problem, spec, source_sha256, language,"
                   " options, mode, cache_key, priority, status, verdict, cached_from, result, created,"
                   " started, finished, fin_seq, ingest, baseline_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
                   " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)",
    [ST_BATCH_PUT] = "INSERT INTO batches(id, label, created, total) VALUES (?1, ?2, ?3, ?4)",
    [ST_PICK] = "SELECT seq, id, batch_id, spec, options, mode, attempts, created, source_sha256,"
                " runs, problem, language, ingest, baseline_id FROM jobs WHERE status = ?1"
                " ORDER BY priority DESC, seq LIMIT 1",
    [ST_SOURCE] = "SELECT body FROM sources WHERE sha256 = ?1",
    [ST_CLAIM] = "UPDATE jobs SET status = ?2, attempts = attempts + ?5, runs = runs + (?2 = 3),"
                 " gpu = coalesce(?3, gpu),"
                 " started = coalesce(started, ?4) WHERE seq = ?1",
    [ST_MOVE] = "UPDATE jobs SET status = ?3 WHERE id = ?1 AND status = ?2 RETURNING batch_id",
    [ST_FINISH] = "UPDATE jobs SET status = 4, verdict = ?3, result = ?4, finished = ?5, fin_seq = ?6"
                  " WHERE id = ?1 AND status = ?2 RETURNING batch_id",
    [ST_CANCEL] = "UPDATE jobs SET status = 5, finished = ?2, fin_seq = ?3 WHERE id = ?1",
    [ST_STATUS] = "SELECT status, batch_id FROM jobs WHERE id = ?1",
    [ST_GET] = "SELECT " STORE_JOB_COLS STORE_JOB_FROM " WHERE j.id = ?1",
};

static const char *const status_names[STORE_NSTATUS] = {
    "queued", "compiling", "waiting_gpu", "running", "done", "cancelled",
};

const char *store_status_name(enum store_status st)
{
    return (unsigned)st < STORE_NSTATUS ? status_names[st] : "unknown";
}

int store_status_parse(const char *name)
{
    for (int i = 0; name && i < STORE_NSTATUS; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

const char *store_sqlite_version(void)
{
    return sqlite3_libversion();
}

double store_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

sqlite3_stmt *store_stmt(struct store *s, enum store_stmt k)
{
    sqlite3_reset(s->st[k]);
    sqlite3_clear_bindings(s->st[k]);
    return s->st[k];
}

int store_dberr(struct store *s, struct err *e, const char *what)
{
    int rc = sqlite3_errcode(s->db);
    int code = rc == SQLITE_NOMEM ? ERR_NOMEM : rc == SQLITE_CONSTRAINT ? ERR_INTERNAL : ERR_IO;
    return err_set(e, code, "", "store: %s: %s", what, sqlite3_errmsg(s->db));
}

/* ---- plumbing shared with store_write.c and store_read.c (the caller holds s->mu) ------------ */

const char *store_nz(const char *str)
{
    return str && *str ? str : NULL;
}

void store_copy_col(sqlite3_stmt *st, int col, char *dst, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

int store_run(struct store *s, sqlite3_stmt *st, struct err *e)
{
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE)
        return store_dberr(s, e, sqlite3_sql(st));
    sqlite3_reset(st);
    return 0;
}

int store_exec(struct store *s, const char *text, struct err *e)
{
    if (sqlite3_exec(s->db, text, NULL, NULL, NULL) != SQLITE_OK)
        return store_dberr(s, e, "exec");
    return 0;
}

void store_lock(struct store *s)
{
    pthread_mutex_lock(&s->mu);
}

void store_end(struct store *s)
{
    for (int k = 0; k < ST_N; k++)
        if (s->st[k])
            sqlite3_reset(s->st[k]);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    pthread_mutex_unlock(&s->mu);
}

int store_begin(struct store *s, struct err *e)
{
    s->delta = 0;
    return store_run(s, store_stmt(s, ST_BEGIN), e);
}

static void bump(struct store *s)
{
    pthread_mutex_lock(&s->gen_mu);
    s->gen++;
    pthread_cond_broadcast(&s->gen_cv);
    pthread_mutex_unlock(&s->gen_mu);
}

int store_commit(struct store *s, int changed, struct err *e)
{
    long every = s->events_keep < 1000 ? s->events_keep : 1000;
    if (changed && s->since_prune >= every) {
        sqlite3_stmt *st = store_stmt(s, ST_PRUNE);
        sqlite3_bind_int64(st, 1, s->events_keep);
        int rc = store_run(s, st, e);
        if (rc)
            return rc;
        s->since_prune = 0;
    }
    int rc = store_run(s, store_stmt(s, ST_COMMIT), e);
    if (rc == 0) {
        s->unfinished += s->delta;
        s->delta = 0;
        if (changed)
            bump(s);
    }
    return rc;
}

/* ---- the row changes store_write.c composes (inside its transaction) ------------------------- */

int store_event(struct store *s, double now, const char *type, const char *job, const char *batch,
                const char *status, const char *verdict, struct err *e)
{
    sqlite3_stmt *st = store_stmt(s, ST_EVENT);
    sqlite3_bind_double(st, 1, now);
    sqlite3_bind_text(st, 2, type, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, store_nz(job), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, store_nz(batch), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, status, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, verdict, -1, SQLITE_STATIC);
    s->since_prune++;
    return store_run(s, st, e);
}

int store_fin_seq(struct store *s, int64_t *v, struct err *e)
{
    sqlite3_stmt *st = store_stmt(s, ST_FIN_SEQ);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_dberr(s, e, "fin_seq");
    *v = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    return 0;
}

int store_batch_check(struct store *s, const char *batch, double now, struct err *e)
{
    if (!store_nz(batch))
        return 0;
    sqlite3_stmt *st = store_stmt(s, ST_BATCH_OPEN);
    sqlite3_bind_text(st, 1, batch, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW)
        return store_dberr(s, e, "batch");
    int open = sqlite3_column_int(st, 0);
    sqlite3_reset(st);
    return open ? 0 : store_event(s, now, "batch", NULL, batch, "done", NULL, e);
}

int store_move(struct store *s, const char *id, enum store_status from, enum store_status to,
               double now, struct err *e)
{
    sqlite3_stmt *st = store_stmt(s, ST_MOVE);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)from);
    sqlite3_bind_int(st, 3, (int)to);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_dberr(s, e, "advance");
    char batch[32];
    store_copy_col(st, 0, batch, sizeof batch);
    sqlite3_reset(st);
    rc = store_event(s, now, "job", id, batch, store_status_name(to), NULL, e);
    return rc ? rc : 1;
}

int store_finish_row(struct store *s, const char *id, enum store_status from, const char *verdict,
                     const char *result, double now, struct err *e)
{
    int64_t fs = 0;
    int rc = store_fin_seq(s, &fs, e);
    if (rc)
        return rc;
    sqlite3_stmt *st = store_stmt(s, ST_FINISH);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, (int)from);
    sqlite3_bind_text(st, 3, verdict, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, result, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 5, now);
    sqlite3_bind_int64(st, 6, fs);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE)
        return 0;
    if (rc != SQLITE_ROW)
        return store_dberr(s, e, "finish");
    s->delta--;
    char batch[32];
    store_copy_col(st, 0, batch, sizeof batch);
    sqlite3_reset(st);
    if ((rc = store_event(s, now, "job", id, batch, "done", verdict, e)) ||
        (rc = store_batch_check(s, batch, now, e)))
        return rc;
    return 1;
}

int store_cancel_row(struct store *s, const char *id, const char *batch, double now, struct err *e)
{
    int64_t fs = 0;
    int rc = store_fin_seq(s, &fs, e);
    if (rc)
        return rc;
    sqlite3_stmt *st = store_stmt(s, ST_CANCEL);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 2, now);
    sqlite3_bind_int64(st, 3, fs);
    if ((rc = store_run(s, st, e)))
        return rc;
    s->delta--;
    return store_event(s, now, "job", id, batch, "cancelled", NULL, e);
}

/* ---- opening --------------------------------------------------------------------------------- */

int store_number(struct store *s, const char *query, long *v, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db, query, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW)
        rc = store_dberr(s, e, query);
    else
        *v = (long)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

static int configure(struct store *s, int sync_full, struct err *e)
{
    sqlite3_stmt *st = NULL;
    int rc = 0;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        rc = store_dberr(s, e, "journal_mode");
        goto out;
    }
    const unsigned char *mode = sqlite3_column_text(st, 0);
    if (!mode || strcmp((const char *)mode, "wal") != 0) {
        rc = err_set(e, ERR_IO, "path", "store: the database cannot use WAL mode (journal_mode %s)",
                     mode ? (const char *)mode : "?");
        goto out;
    }
    rc = store_exec(s, sync_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", e);
    if (!rc)
        rc = store_exec(s, "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000", e);
out:
    sqlite3_finalize(st);
    return rc;
}

int store_open(const struct store_opts *o, struct store **out, struct err *e)
{
    *out = NULL;
    if (!o->path)
        return err_set(e, ERR_INVALID, "path", "store: no database path");
    if (o->max_attempts < 1 || o->max_queue < 1 || o->events_keep < 1)
        return err_set(e, ERR_INVALID, o->max_attempts < 1 ? "max_attempts" :
                       o->max_queue < 1 ? "max_queue" : "events_keep", "store: must be at least 1");
    struct store *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "", "store: out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->gen_cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->gen_mu, NULL);
    s->max_attempts = o->max_attempts;
    s->max_queue = o->max_queue;
    s->events_keep = o->events_keep;

    int rc;
    if (sqlite3_open_v2(o->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                        SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        rc = err_set(e, ERR_IO, "path", "store: cannot open %s: %s", o->path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto out;
    }
    if ((rc = configure(s, o->sync_full, e)) || (rc = store_schema_migrate(s, e)) ||
        (rc = store_number(s, "SELECT count(*) FROM jobs WHERE status < 4", &s->unfinished, e)))
        goto out;
    for (int k = 0; k < ST_N; k++)
        if (sqlite3_prepare_v3(s->db, sql[k], -1, SQLITE_PREPARE_PERSISTENT, &s->st[k], NULL)) {
            rc = store_dberr(s, e, sql[k]);
            goto out;
        }
    sqlite3_bind_int64(s->st[ST_PRUNE], 1, s->events_keep);
    rc = store_run(s, s->st[ST_PRUNE], e);
out:
    if (rc)
        store_close(s);
    else
        *out = s;
    return rc;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (int k = 0; k < ST_N; k++)
        sqlite3_finalize(s->st[k]);
    sqlite3_close(s->db);
    pthread_cond_destroy(&s->gen_cv);
    pthread_mutex_destroy(&s->gen_mu);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int store_schema_version(struct store *s)
{
    long v = -1;
    store_lock(s);
    store_number(s, "PRAGMA user_version", &v, NULL);
    store_end(s);
    return (int)v;
}

/* ---- waiting for changes --------------------------------------------------------------------- */

uint64_t store_generation(struct store *s)
{
    pthread_mutex_lock(&s->gen_mu);
    uint64_t g = s->gen;
    pthread_mutex_unlock(&s->gen_mu);
    return g;
}

/* A negative timeout waits without a deadline; store_wake_all ends every wait. */
uint64_t store_wait_change(struct store *s, uint64_t gen, int timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    if (timeout_ms > 0) {
        dl.tv_sec += timeout_ms / 1000;
        dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&s->gen_mu);
    uint64_t kicks = s->kicks;
    while (s->gen == gen && s->kicks == kicks && timeout_ms != 0) {
        int rc = timeout_ms < 0 ? pthread_cond_wait(&s->gen_cv, &s->gen_mu)
                                : pthread_cond_timedwait(&s->gen_cv, &s->gen_mu, &dl);
        if (rc == ETIMEDOUT)
            break;
    }
    gen = s->gen;
    pthread_mutex_unlock(&s->gen_mu);
    return gen;
}

void store_wake_all(struct store *s)
{
    pthread_mutex_lock(&s->gen_mu);
    s->kicks++;
    pthread_cond_broadcast(&s->gen_cv);
    pthread_mutex_unlock(&s->gen_mu);
}
