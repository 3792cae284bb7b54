/* store_write.c — every change of state of the store (see store.h): submitting, claiming,
 * advancing, finishing, cancelling (recovering after a restart: store_recover.c).
 *
 * DESIGN
 *   Each exported function is one BEGIN IMMEDIATE ... COMMIT under s->mu holding the row changes
 *   and their events, so a change and its event are durable together or not at all. Advancing,
 *   finishing and cancelling are compare-and-set on the status inside that transaction: a job is
 *   finished at most once however the scheduler, a cancel request and recovery race. Every job that
 *   becomes final (done or cancelled) takes the next value of counters.fin_seq: the order of a
 *   batch's results.
 *
 *   Events: one "job" event per job state change; a batch insertion is one "batch" "queued" event
 *   (plus "done" events for the jobs the cache answers); a batch cancellation is one "batch"
 *   "cancelled" event plus the jobs' "cancelled" events; a batch whose last job becomes final gets
 *   a "batch" "done" event (store_batch_check). The row-level pieces are in store.c.
 *
 *   The cache answers only from an original evaluation (cached_from IS NULL) whose verdict says
 *   something about the candidate (not internal_error or no_device). max_queue bounds the
 *   unfinished jobs (s->unfinished + this transaction's delta); an insertion that would pass it is
 *   rolled back whole. */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static int new_id(const char *prefix, char id[32], struct err *e)
{
    unsigned char r[10];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t n = getrandom(r + got, sizeof r - got, 0);
        if (n < 0 && errno != EINTR)
            return err_set(e, ERR_IO, "", "store: getrandom: %s", strerror(errno));
        got += n > 0 ? (size_t)n : 0;
    }
    int k = snprintf(id, 32, "%s", prefix);
    for (size_t i = 0; i < sizeof r; i++)
        k += snprintf(id + k, 32 - (size_t)k, "%02x", r[i]);
    return 0;
}

static int unfinished(enum store_status st)
{
    return st >= STORE_QUEUED && st < STORE_DONE;
}

/* ---- submitting ------------------------------------------------------------------------------ */

static int check_newjob(const struct store_newjob *j, struct err *e)
{
    const char *f = !j->problem ? "problem" : !j->spec_json ? "spec" : !j->source ? "source" :
                    !j->source_sha256 ? "source_sha256" : !j->language ? "language" :
                    !j->options_json ? "options" : !j->mode ? "mode" : !j->cache_key ? "cache_key" :
                    NULL;
    return f ? err_set(e, ERR_INVALID, f, "store: the job has no %s", f) : 0;
}

static int insert_job(struct store *s, const struct store_newjob *j, const char *batch, long index,
                      double now, char id[32], int *cached, struct err *e);

/* The evaluation of baseline b to link a job to: one with its cache key, finished (as the cache
 * would answer) or under way, else a new job of its own (queued, never answered from the cache:
 * the search above already looked there). Its id into id. */
static int baseline_link(struct store *s, const struct store_newjob *b, double now, char id[32],
                         struct err *e)
{
    if (!b->force) {
        sqlite3_stmt *st = store_stmt(s, ST_BASELINE);
        sqlite3_bind_text(st, 1, b->cache_key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            store_copy_col(st, 0, id, 32);
            sqlite3_reset(st);
            return 0;
        }
        if (rc != SQLITE_DONE)
            return store_dberr(s, e, "baseline");
        sqlite3_reset(st);
    }
    struct store_newjob own = *b;
    own.force = 1;
    own.baseline = NULL;
    int cached;
    return insert_job(s, &own, NULL, 0, now, id, &cached, e);
}

/* Insert j (alone when batch is NULL, else at index of batch), answered from the cache unless
 * forced, else with its baseline linked. Its event: "queued" or "done" alone; in a batch only
 * "done" (the batch event stands for the insertions). */
static int insert_job(struct store *s, const struct store_newjob *j, const char *batch, long index,
                      double now, char id[32], int *cached, struct err *e)
{
    char from[32] = "", verdict[64] = "", base[32] = "";
    sqlite3_stmt *hit = NULL;
    int rc;
    *cached = 0;
    if ((rc = check_newjob(j, e)) || (rc = new_id("ev_", id, e)))
        return rc;
    if (!j->force) {   /* the row stays current until the job is put: its values are bound from it */
        hit = store_stmt(s, ST_CACHE);
        sqlite3_bind_text(hit, 1, j->cache_key, -1, SQLITE_STATIC);
        if ((rc = sqlite3_step(hit)) == SQLITE_ROW) {
            *cached = 1;
            store_copy_col(hit, 0, from, sizeof from);
            store_copy_col(hit, 1, verdict, sizeof verdict);
        } else if (rc != SQLITE_DONE) {
            return store_dberr(s, e, "cache");
        }
    }
    if (!*cached && j->baseline && (rc = baseline_link(s, j->baseline, now, base, e)))
        return rc;
    sqlite3_stmt *st = store_stmt(s, ST_SOURCE_PUT);
    sqlite3_bind_text(st, 1, j->source_sha256, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)j->source_len);
    sqlite3_bind_blob64(st, 3, j->source, j->source_len, SQLITE_STATIC);
    if ((rc = store_run(s, st, e)))
        return rc;

    sqlite3_stmt *put = store_stmt(s, ST_JOB_PUT);
    const char *text[] = {id, store_nz(batch), NULL, j->problem, j->spec_json, j->source_sha256,
                          j->language, j->options_json, j->mode, j->cache_key};
    for (int k = 0; k < 10; k++)
        sqlite3_bind_text(put, k + 1, text[k], -1, SQLITE_STATIC);
    if (store_nz(batch))
        sqlite3_bind_int64(put, 3, index);
    sqlite3_bind_int(put, 11, j->priority);
    sqlite3_bind_int(put, 12, STORE_QUEUED);
    sqlite3_bind_double(put, 16, now);
    sqlite3_bind_text(put, 20, j->ingest_json, -1, SQLITE_STATIC);
    sqlite3_bind_text(put, 21, store_nz(base), -1, SQLITE_STATIC);
    if (*cached) {
        int64_t fs = 0;
        if ((rc = store_fin_seq(s, &fs, e)))
            return rc;
        sqlite3_bind_int(put, 12, STORE_DONE);
        sqlite3_bind_text(put, 13, verdict, -1, SQLITE_STATIC);
        sqlite3_bind_text(put, 14, from, -1, SQLITE_STATIC);
        sqlite3_bind_value(put, 15, sqlite3_column_value(hit, 2));   /* a copy of the result */
        sqlite3_bind_value(put, 21, sqlite3_column_value(hit, 3));   /* and of its baseline */
        sqlite3_bind_double(put, 17, now);
        sqlite3_bind_double(put, 18, now);
        sqlite3_bind_int64(put, 19, fs);
    }
    if (hit)
        sqlite3_reset(hit);
    if ((rc = store_run(s, put, e)))
        return rc;
    s->delta += !*cached;
    if (store_nz(batch) && !*cached)
        return 0;
    return store_event(s, now, "job", id, batch, *cached ? "done" : "queued",
                       *cached ? verdict : NULL, e);
}

/* After this transaction's insertions: ERR_LIMIT when they would pass max_queue. */
static int over_limit(struct store *s, struct err *e)
{
    if (s->unfinished + s->delta <= s->max_queue)
        return 0;
    return err_set(e, ERR_LIMIT, "queue", "the queue holds %ld unfinished evaluations; %ld more "
                   "would pass the limit of %ld", s->unfinished, s->delta, s->max_queue);
}

int store_job_insert(struct store *s, const struct store_newjob *j, char id[32], int *cached,
                     struct err *e)
{
    int c = 0, rc;
    double now = store_now();
    store_lock(s);
    if ((rc = store_begin(s, e)) || (rc = insert_job(s, j, NULL, 0, now, id, &c, e)) ||
        (rc = over_limit(s, e)))
        goto out;
    rc = store_commit(s, 1, e);
out:
    store_end(s);
    if (rc)
        id[0] = '\0';
    if (cached)
        *cached = rc ? 0 : c;
    return rc;
}

int store_batch_insert(struct store *s, const struct store_newjob *jobs, size_t n, const char *label,
                       char batch_id[32], size_t *cached_n, struct err *e)
{
    size_t hits = 0;
    int rc;
    double now = store_now();
    batch_id[0] = '\0';
    if (n == 0)
        return err_set(e, ERR_INVALID, "jobs", "store: a batch needs at least one job");
    store_lock(s);
    if ((rc = store_begin(s, e)) || (rc = new_id("bt_", batch_id, e)))
        goto out;
    sqlite3_stmt *st = store_stmt(s, ST_BATCH_PUT);
    sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, label, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, now);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)n);
    if ((rc = store_run(s, st, e)) ||
        (rc = store_event(s, now, "batch", NULL, batch_id, "queued", NULL, e)))
        goto out;
    for (size_t k = 0; k < n; k++) {
        char id[32];
        int c;
        if ((rc = insert_job(s, &jobs[k], batch_id, (long)k, now, id, &c, e)))
            goto out;
        hits += (size_t)c;
    }
    if ((rc = over_limit(s, e)) || (rc = store_batch_check(s, batch_id, now, e)))
        goto out;
    rc = store_commit(s, 1, e);
out:
    store_end(s);
    if (rc)
        batch_id[0] = '\0';
    if (cached_n)
        *cached_n = rc ? 0 : hits;
    return rc;
}

/* ---- the scheduler's side -------------------------------------------------------------------- */

void store_claim_free(struct store_claim *c)
{
    if (!c)
        return;
    free(c->spec_json);
    free(c->source);
    free(c->options_json);
    free(c->ingest_json);
    memset(c, 0, sizeof *c);
}

/* A malloc'd NUL-terminated copy of a column (text or blob); NULL when out of memory. */
static char *dup_col(sqlite3_stmt *st, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *d = malloc(n + 1);
    if (d) {
        if (n)
            memcpy(d, p, n);
        d[n] = '\0';
    }
    if (len)
        *len = n;
    return d;
}

int store_claim(struct store *s, enum store_status from, enum store_status to, int gpu,
                struct store_claim *c, struct err *e)
{
    memset(c, 0, sizeof *c);
    if (!unfinished(from) || !unfinished(to))
        return err_set(e, ERR_INVALID, "status", "store: claim %d -> %d", (int)from, (int)to);
    double now = store_now();
    char sha[72];
    store_lock(s);
    int rc = store_begin(s, e);
    if (rc)
        goto out;
    sqlite3_stmt *st = store_stmt(s, ST_PICK);
    sqlite3_bind_int(st, 1, (int)from);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? 0 : store_dberr(s, e, "claim");
        goto out;
    }
    sqlite3_int64 seq = sqlite3_column_int64(st, 0);
    store_copy_col(st, 1, c->id, sizeof c->id);
    store_copy_col(st, 2, c->batch_id, sizeof c->batch_id);
    c->spec_json = dup_col(st, 3, NULL);
    c->options_json = dup_col(st, 4, NULL);
    store_copy_col(st, 5, c->mode, sizeof c->mode);
    store_copy_col(st, 10, c->problem, sizeof c->problem);
    store_copy_col(st, 11, c->language, sizeof c->language);
    int no_ingest = sqlite3_column_type(st, 12) == SQLITE_NULL;
    c->ingest_json = no_ingest ? NULL : dup_col(st, 12, NULL);
    store_copy_col(st, 13, c->baseline_id, sizeof c->baseline_id);
    /* an attempt is a run started (docs/api.md): every claim from queued, and a claim into running
     * of a job that was running before (its run was cut short by a restart); so a full-mode job's
     * first GPU claim continues the attempt its compile claim began */
    int again = from == STORE_QUEUED || (to == STORE_RUNNING && sqlite3_column_int(st, 9) > 0);
    c->attempts = sqlite3_column_int(st, 6) + again;
    c->created = sqlite3_column_double(st, 7);
    store_copy_col(st, 8, sha, sizeof sha);
    st = store_stmt(s, ST_SOURCE);
    sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) {
        rc = store_dberr(s, e, "source");
        goto out;
    }
    c->source = dup_col(st, 0, &c->source_len);
    if (!c->spec_json || !c->options_json || !c->source || (!no_ingest && !c->ingest_json)) {
        rc = err_set(e, ERR_NOMEM, "", "store: out of memory");
        goto out;
    }
    st = store_stmt(s, ST_CLAIM);
    sqlite3_bind_int64(st, 1, seq);
    sqlite3_bind_int(st, 2, (int)to);
    if (gpu >= 0)
        sqlite3_bind_int(st, 3, gpu);
    sqlite3_bind_double(st, 4, now);
    sqlite3_bind_int(st, 5, again);
    if ((rc = store_run(s, st, e)) ||
        (rc = store_event(s, now, "job", c->id, c->batch_id, store_status_name(to), NULL, e)) ||
        (rc = store_commit(s, 1, e)))
        goto out;
    rc = 1;
out:
    store_end(s);
    if (rc != 1)
        store_claim_free(c);
    return rc;
}

int store_advance(struct store *s, const char *id, enum store_status from, enum store_status to,
                  struct err *e)
{
    if (!unfinished(from) || !unfinished(to))
        return err_set(e, ERR_INVALID, "status", "store: advance %d -> %d", (int)from, (int)to);
    double now = store_now();
    store_lock(s);
    int rc = store_begin(s, e);
    if (rc == 0 && (rc = store_move(s, id, from, to, now, e)) == 1 && (rc = store_commit(s, 1, e)) == 0)
        rc = 1;
    store_end(s);
    return rc;
}

int store_finish(struct store *s, const char *id, enum store_status from, const char *verdict,
                 const char *result_json, struct err *e)
{
    if (!unfinished(from))
        return err_set(e, ERR_INVALID, "status", "store: finish from %d", (int)from);
    if (!verdict || !*verdict)
        return err_set(e, ERR_INVALID, "verdict", "store: finish without a verdict");
    double now = store_now();
    store_lock(s);
    int rc = store_begin(s, e);
    if (rc == 0 && (rc = store_finish_row(s, id, from, verdict, result_json, now, e)) == 1 &&
        (rc = store_commit(s, 1, e)) == 0)
        rc = 1;
    store_end(s);
    return rc;
}

/* ---- cancelling ------------------------------------------------------------------------------ */

int store_cancel(struct store *s, const char *id, enum store_status *prev, struct err *e)
{
    char batch[32];
    double now = store_now();
    store_lock(s);
    int rc = store_begin(s, e);
    if (rc)
        goto out;
    sqlite3_stmt *st = store_stmt(s, ST_STATUS);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? err_set(e, ERR_NOTFOUND, "id", "no evaluation %s", id)
                               : store_dberr(s, e, "cancel");
        goto out;
    }
    enum store_status was = (enum store_status)sqlite3_column_int(st, 0);
    store_copy_col(st, 1, batch, sizeof batch);
    sqlite3_reset(st);
    if (prev)
        *prev = was;
    if (!unfinished(was)) {
        rc = 0;
        goto out;
    }
    if ((rc = store_cancel_row(s, id, batch, now, e)) || (rc = store_batch_check(s, batch, now, e)) ||
        (rc = store_commit(s, 1, e)))
        goto out;
    rc = 1;
out:
    store_end(s);
    return rc;
}

int store_cancel_batch(struct store *s, const char *batch_id, long *n, struct err *e)
{
    sqlite3_stmt *st = NULL;
    char(*ids)[32] = NULL;
    size_t cnt = 0, cap = 0;
    double now = store_now();
    store_lock(s);
    int rc = store_begin(s, e);
    if (rc)
        goto out;
    if (sqlite3_prepare_v2(s->db, "SELECT id FROM jobs WHERE batch_id = ?1 AND status < 4"
                           " ORDER BY seq", -1, &st,
                           NULL) != SQLITE_OK) {
        rc = store_dberr(s, e, "cancel");
        goto out;
    }
    sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cnt == cap) {
            char(*nids)[32] = realloc(ids, (cap = cap ? 2 * cap : 64) * sizeof *ids);
            if (!nids) {
                rc = err_set(e, ERR_NOMEM, "", "store: out of memory");
                goto out;
            }
            ids = nids;
        }
        store_copy_col(st, 0, ids[cnt++], sizeof *ids);
    }
    if (rc != SQLITE_DONE) {
        rc = store_dberr(s, e, "cancel");
        goto out;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (cnt == 0) {   /* nothing left to cancel: tell an unknown batch from a finished one */
        if (sqlite3_prepare_v2(s->db, "SELECT 1 FROM batches WHERE id = ?1", -1, &st, NULL)) {
            rc = store_dberr(s, e, "cancel");
            goto out;
        }
        sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_ROW ? 0 : err_set(e, ERR_NOTFOUND, "id", "no batch %s",
                                                          batch_id);
        goto out;
    }
    for (size_t i = 0; i < cnt; i++)
        if ((rc = store_cancel_row(s, ids[i], batch_id, now, e)))
            goto out;
    if ((rc = store_event(s, now, "batch", NULL, batch_id, "cancelled", NULL, e)) ||
        (rc = store_batch_check(s, batch_id, now, e)) || (rc = store_commit(s, 1, e)))
        goto out;
out:
    sqlite3_finalize(st);
    store_end(s);
    free(ids);
    if (n)
        *n = rc ? 0 : (long)cnt;
    return rc;
}
