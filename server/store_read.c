/* store_read.c — the queries of the store (see store.h): the evaluation, batch and event objects
 * of the API, built as cJSON from single statements under s->mu.
 *
 * The evaluation object is the hot read (GET /v1/evaluations/{id}, polled): one cached statement,
 * and the stored result record goes in as raw JSON text, never reparsed. spec and options are small
 * and are parsed so callers can look inside. Absent values are JSON null, times are RFC 3339
 * (isotime), durations are milliseconds. Lists page by a cursor that is a row position (jobs: seq,
 * newest first; batch results: fin_seq; events: id), so a page boundary never skips or repeats a
 * row however many rows are inserted meanwhile. */
#include "store_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "isotime.h"

/* The columns of STORE_JOB_COLS. */
enum job_col {
    C_ID, C_STATUS, C_VERDICT, C_PROBLEM, C_SPEC, C_MODE, C_LANGUAGE, C_SHA, C_BYTES, C_OPTIONS,
    C_PRIORITY, C_BATCH, C_INDEX, C_ATTEMPTS, C_GPU, C_CACHED_FROM, C_CREATED, C_STARTED,
    C_FINISHED, C_SEQ, C_RESULT, C_BASELINE
};

/* ---- building JSON from columns: each maker returns NULL only when out of memory -------------- */

static int isnull(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL;
}

/* Add v to o under k: 0, or -1 when o or v is NULL (out of memory) or v cannot be added. */
static int put(cJSON *o, const char *k, cJSON *v)
{
    if (o && v && cJSON_AddItemToObject(o, k, v))
        return 0;
    cJSON_Delete(v);
    return -1;
}

/* A new object appended to arr; NULL when out of memory. */
static cJSON *push(cJSON *arr)
{
    cJSON *o = cJSON_CreateObject();
    if (o && !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        o = NULL;
    }
    return o;
}

static cJSON *text(sqlite3_stmt *st, int col)
{
    return isnull(st, col) ? cJSON_CreateNull()
                           : cJSON_CreateString((const char *)sqlite3_column_text(st, col));
}

static cJSON *number(sqlite3_stmt *st, int col)
{
    return isnull(st, col) ? cJSON_CreateNull() : cJSON_CreateNumber(sqlite3_column_double(st, col));
}

static cJSON *iso(double t)
{
    char buf[32];
    isotime_format(t, buf);
    return cJSON_CreateString(buf);
}

static cJSON *time_col(sqlite3_stmt *st, int col)
{
    return isnull(st, col) ? cJSON_CreateNull() : iso(sqlite3_column_double(st, col));
}

/* Milliseconds from column a to column b, to the microsecond; null when either is absent. */
static cJSON *ms_between(sqlite3_stmt *st, int a, int b)
{
    if (isnull(st, a) || isnull(st, b))
        return cJSON_CreateNull();
    double ms = (sqlite3_column_double(st, b) - sqlite3_column_double(st, a)) * 1000.0;
    return cJSON_CreateNumber(round(ms * 1000.0) / 1000.0);
}

static cJSON *parsed(sqlite3_stmt *st, int col)
{
    const char *t = (const char *)sqlite3_column_text(st, col);
    cJSON *v = t ? cJSON_ParseWithLengthOpts(t, (size_t)sqlite3_column_bytes(st, col), NULL, 0) : NULL;
    return v ? v : cJSON_CreateNull();
}

static cJSON *raw(sqlite3_stmt *st, int col)
{
    return isnull(st, col) ? cJSON_CreateNull()
                           : cJSON_CreateRaw((const char *)sqlite3_column_text(st, col));
}

static int prep(struct store *s, const char *sql, sqlite3_stmt **st, struct err *e)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
        return store_dberr(s, e, "query");
    return 0;
}

/* The evaluation object of the current row of st (STORE_JOB_COLS); NULL when out of memory. */
static cJSON *job_json(sqlite3_stmt *st, int with_result)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    int bad = put(o, "id", text(st, C_ID));
    bad |= put(o, "status", cJSON_CreateString(store_status_name(sqlite3_column_int(st, C_STATUS))));
    bad |= put(o, "verdict", text(st, C_VERDICT));
    bad |= put(o, "problem", text(st, C_PROBLEM));
    bad |= put(o, "spec", parsed(st, C_SPEC));
    bad |= put(o, "mode", text(st, C_MODE));
    bad |= put(o, "language", text(st, C_LANGUAGE));
    bad |= put(o, "source_sha256", text(st, C_SHA));
    bad |= put(o, "source_bytes", number(st, C_BYTES));
    bad |= put(o, "options", parsed(st, C_OPTIONS));
    bad |= put(o, "priority", number(st, C_PRIORITY));
    bad |= put(o, "batch", text(st, C_BATCH));
    bad |= put(o, "batch_index", number(st, C_INDEX));
    bad |= put(o, "attempts", number(st, C_ATTEMPTS));
    bad |= put(o, "gpu", number(st, C_GPU));
    bad |= put(o, "cached", cJSON_CreateBool(!isnull(st, C_CACHED_FROM)));
    bad |= put(o, "cached_from", text(st, C_CACHED_FROM));
    bad |= put(o, "baseline_id", text(st, C_BASELINE));
    bad |= put(o, "created", time_col(st, C_CREATED));
    bad |= put(o, "started", time_col(st, C_STARTED));
    bad |= put(o, "finished", time_col(st, C_FINISHED));
    bad |= put(o, "queue_ms", ms_between(st, C_CREATED, C_STARTED));
    bad |= put(o, "run_ms", ms_between(st, C_STARTED, C_FINISHED));
    if (with_result && !isnull(st, C_RESULT))
        bad |= put(o, "result", raw(st, C_RESULT));
    if (bad) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int nomem(struct err *e)
{
    return err_set(e, ERR_NOMEM, "", "store: out of memory");
}

/* ---- evaluations ----------------------------------------------------------------------------- */

int store_job_get(struct store *s, const char *id, int with_result, cJSON **out, struct err *e)
{
    *out = NULL;
    store_lock(s);
    sqlite3_stmt *st = store_stmt(s, ST_GET);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        rc = (*out = job_json(st, with_result)) ? 0 : nomem(e);
    else if (rc == SQLITE_DONE)
        rc = err_set(e, ERR_NOTFOUND, "id", "no evaluation %s", id);
    else
        rc = store_dberr(s, e, "get");
    store_end(s);
    return rc;
}

int store_job_status(struct store *s, const char *id, enum store_status *stp, struct err *e)
{
    store_lock(s);
    sqlite3_stmt *st = store_stmt(s, ST_STATUS);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *stp = (enum store_status)sqlite3_column_int(st, 0);
        rc = 0;
    } else {
        rc = rc == SQLITE_DONE ? err_set(e, ERR_NOTFOUND, "id", "no evaluation %s", id)
                               : store_dberr(s, e, "status");
    }
    store_end(s);
    return rc;
}

int store_job_list(struct store *s, const struct store_filter *f, cJSON **items, int64_t *next,
                   struct err *e)
{
    *items = NULL;
    *next = 0;
    int status = f->status ? store_status_parse(f->status) : -1;
    if (f->status && status < 0)
        return err_set(e, ERR_INVALID, "status", "unknown status \"%s\"", f->status);
    if (f->limit < 1 || f->limit > 1000)
        return err_set(e, ERR_INVALID, "limit", "limit must be 1..1000");
    char sql[1024] = "SELECT " STORE_JOB_COLS STORE_JOB_FROM " WHERE 1";
    if (f->status)
        strcat(sql, " AND j.status = ?");
    if (f->problem)
        strcat(sql, " AND j.problem = ?");
    if (f->batch)
        strcat(sql, " AND j.batch_id = ?");
    if (f->verdict)
        strcat(sql, " AND j.status = 4 AND j.verdict = ?");
    if (f->since > 0)
        strcat(sql, " AND j.created >= ?");
    if (f->cursor > 0)
        strcat(sql, " AND j.seq < ?");
    strcat(sql, " ORDER BY j.seq DESC LIMIT ?");

    sqlite3_stmt *st = NULL;
    cJSON *arr = NULL;
    store_lock(s);
    int rc = prep(s, sql, &st, e), k = 1;
    if (rc)
        goto out;
    if (f->status)
        sqlite3_bind_int(st, k++, status);
    const char *texts[] = {f->problem, f->batch, f->verdict};
    for (int i = 0; i < 3; i++)
        if (texts[i])
            sqlite3_bind_text(st, k++, texts[i], -1, SQLITE_STATIC);
    if (f->since > 0)
        sqlite3_bind_double(st, k++, f->since);
    if (f->cursor > 0)
        sqlite3_bind_int64(st, k++, f->cursor);
    sqlite3_bind_int(st, k, f->limit + 1);   /* one more tells whether a next page exists */
    if (!(arr = cJSON_CreateArray())) {
        rc = nomem(e);
        goto out;
    }
    int n = 0;
    int64_t last = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == f->limit) {
            *next = last;
            break;
        }
        cJSON *o = job_json(st, 0);
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            rc = nomem(e);
            goto out;
        }
        last = sqlite3_column_int64(st, C_SEQ);
        n++;
    }
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : store_dberr(s, e, "list");
out:
    sqlite3_finalize(st);
    store_end(s);
    if (rc) {
        cJSON_Delete(arr);
        *next = 0;
    } else {
        *items = arr;
    }
    return rc;
}

/* ---- batches --------------------------------------------------------------------------------- */

/* Add n to the number under k of o (created at 0 when absent): 0 or -1. */
static int count_into(cJSON *o, const char *k, double n)
{
    cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (v) {
        cJSON_SetNumberValue(v, v->valuedouble + n);
        return 0;
    }
    return put(o, k, cJSON_CreateNumber(n));
}

int store_batch_get(struct store *s, const char *id, cJSON **out, struct err *e)
{
    static const char sql[] =
        "SELECT b.label, b.created, b.total, j.status, j.verdict, j.cached_from IS NOT NULL,"
        " count(j.seq), min(j.started), max(j.finished) FROM batches b LEFT JOIN jobs j"
        " ON j.batch_id = b.id WHERE b.id = ?1 GROUP BY 4, 5, 6";
    sqlite3_stmt *st = NULL;
    cJSON *o = NULL, *counts = NULL, *verdicts = NULL;
    double counted[STORE_NSTATUS] = {0}, cached = 0, fresh_done = 0, total = 0;
    double first_start = INFINITY, last_finish = 0;
    *out = NULL;
    store_lock(s);
    int rc = prep(s, sql, &st, e), bad = 0;
    if (rc)
        goto out;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!o) {   /* the first row: the batch itself */
            total = sqlite3_column_double(st, 2);
            if (!(o = cJSON_CreateObject()) || !(counts = cJSON_CreateObject()) ||
                !(verdicts = cJSON_CreateObject())) {
                rc = nomem(e);
                goto out;
            }
            bad |= put(o, "id", cJSON_CreateString(id));
            bad |= put(o, "label", text(st, 0));
            bad |= put(o, "created", time_col(st, 1));
            bad |= put(o, "total", cJSON_CreateNumber(total));
        }
        if (isnull(st, 3))   /* a batch without jobs (never inserted so, but harmless) */
            continue;
        int status = sqlite3_column_int(st, 3), was_cached = sqlite3_column_int(st, 5);
        double n = sqlite3_column_double(st, 6);
        if (status >= 0 && status < STORE_NSTATUS)
            counted[status] += n;
        if (status == STORE_DONE && !isnull(st, 4))
            bad |= count_into(verdicts, (const char *)sqlite3_column_text(st, 4), n);
        cached += was_cached ? n : 0;
        fresh_done += !was_cached && status >= STORE_DONE ? n : 0;
        if (!was_cached && !isnull(st, 7) && sqlite3_column_double(st, 7) < first_start)
            first_start = sqlite3_column_double(st, 7);
        if (!isnull(st, 8) && sqlite3_column_double(st, 8) > last_finish)
            last_finish = sqlite3_column_double(st, 8);
    }
    if (rc != SQLITE_DONE) {
        rc = store_dberr(s, e, "batch");
        goto out;
    }
    if (!o) {
        rc = err_set(e, ERR_NOTFOUND, "id", "no batch %s", id);
        goto out;
    }
    for (int i = 0; i < STORE_NSTATUS; i++)
        bad |= put(counts, store_status_name(i), cJSON_CreateNumber(counted[i]));
    double finished = counted[STORE_DONE] + counted[STORE_CANCELLED];
    bad |= put(o, "counts", counts);
    counts = NULL;
    bad |= put(o, "verdicts", verdicts);
    verdicts = NULL;
    bad |= put(o, "cached", cJSON_CreateNumber(cached));
    bad |= put(o, "finished", cJSON_CreateNumber(finished));
    /* floored to 4 places, in integers: 1 only when all are finished */
    long long per10k = total > 0 ? (long long)finished * 10000 / (long long)total : 0;
    bad |= put(o, "progress", cJSON_CreateNumber((double)per10k / 1e4));
    if (finished > 0 && finished < total && fresh_done > 0 && isfinite(first_start)) {
        double eta = (store_now() - first_start) / fresh_done * (total - finished);
        bad |= put(o, "eta_s", cJSON_CreateNumber(round(eta * 1000.0) / 1000.0));
    } else {
        bad |= put(o, "eta_s", cJSON_CreateNull());
    }
    bad |= put(o, "finished_at", total > 0 && finished >= total ? iso(last_finish) : cJSON_CreateNull());
    rc = bad ? nomem(e) : 0;
out:
    sqlite3_finalize(st);
    store_end(s);
    cJSON_Delete(counts);
    cJSON_Delete(verdicts);
    if (rc)
        cJSON_Delete(o);
    else
        *out = o;
    return rc;
}

int store_batch_results(struct store *s, const char *batch_id, int64_t after, int limit,
                        cJSON **rows, int64_t *last, long *total, long *finished, struct err *e)
{
    sqlite3_stmt *head = NULL, *st = NULL;
    cJSON *arr = NULL;
    *rows = NULL;
    *last = after;
    if (limit < 1)
        return err_set(e, ERR_INVALID, "limit", "limit must be at least 1");
    store_lock(s);
    int rc = prep(s, "SELECT total, (SELECT count(*) FROM jobs WHERE batch_id = ?1 AND status >= 4)"
                  " FROM batches WHERE id = ?1", &head, e);
    if (rc || (rc = prep(s, "SELECT batch_index, id, status, verdict, cached_from IS NOT NULL,"
                         " result, fin_seq FROM jobs WHERE batch_id = ?1 AND fin_seq > ?2"
                         " ORDER BY fin_seq LIMIT ?3", &st, e)))
        goto out;
    sqlite3_bind_text(head, 1, batch_id, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(head)) != SQLITE_ROW) {
        rc = rc == SQLITE_DONE ? err_set(e, ERR_NOTFOUND, "id", "no batch %s", batch_id)
                               : store_dberr(s, e, "results");
        goto out;
    }
    *total = (long)sqlite3_column_int64(head, 0);
    *finished = (long)sqlite3_column_int64(head, 1);
    if (!(arr = cJSON_CreateArray())) {
        rc = nomem(e);
        goto out;
    }
    sqlite3_bind_text(st, 1, batch_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, after);
    sqlite3_bind_int(st, 3, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = push(arr);
        int status = sqlite3_column_int(st, 2);
        int bad = put(o, "index", number(st, 0));
        bad |= put(o, "id", text(st, 1));
        bad |= put(o, "status", cJSON_CreateString(store_status_name(status)));
        bad |= put(o, "verdict", text(st, 3));
        bad |= put(o, "cached", cJSON_CreateBool(sqlite3_column_int(st, 4)));
        bad |= put(o, "result", status == STORE_DONE ? raw(st, 5) : cJSON_CreateNull());
        if (bad) {
            rc = nomem(e);
            goto out;
        }
        *last = sqlite3_column_int64(st, 6);
    }
    rc = rc == SQLITE_DONE ? 0 : store_dberr(s, e, "results");
out:
    sqlite3_finalize(head);
    sqlite3_finalize(st);
    store_end(s);
    if (rc) {
        cJSON_Delete(arr);
        *last = after;
    } else {
        *rows = arr;
    }
    return rc;
}

/* ---- counts ---------------------------------------------------------------------------------- */

int store_counts(struct store *s, long counts[STORE_NSTATUS], struct err *e)
{
    sqlite3_stmt *st = NULL;
    memset(counts, 0, STORE_NSTATUS * sizeof counts[0]);
    store_lock(s);
    int rc = prep(s, "SELECT status, count(*) FROM jobs GROUP BY status", &st, e);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int status = sqlite3_column_int(st, 0);
        if (status >= 0 && status < STORE_NSTATUS)
            counts[status] = (long)sqlite3_column_int64(st, 1);
        rc = 0;
    }
    if (rc > 0)   /* a SQLite code: the end, or an error */
        rc = rc == SQLITE_DONE ? 0 : store_dberr(s, e, "counts");
    sqlite3_finalize(st);
    store_end(s);
    return rc;
}

int store_verdict_counts(struct store *s, cJSON **out, struct err *e)
{
    sqlite3_stmt *st = NULL;
    cJSON *o = cJSON_CreateObject();
    *out = NULL;
    if (!o)
        return nomem(e);
    store_lock(s);
    int rc = prep(s, "SELECT verdict, count(*) FROM jobs WHERE status = 4 AND verdict IS NOT NULL"
                  " GROUP BY verdict", &st, e);
    while (rc == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = put(o, (const char *)sqlite3_column_text(st, 0), number(st, 1)) ? nomem(e) : 0;
    if (rc > 0)
        rc = rc == SQLITE_DONE ? 0 : store_dberr(s, e, "verdicts");
    sqlite3_finalize(st);
    store_end(s);
    if (rc)
        cJSON_Delete(o);
    else
        *out = o;
    return rc;
}

/* ---- events ---------------------------------------------------------------------------------- */

int store_events(struct store *s, int64_t after, const char *job, const char *batch, int limit,
                 cJSON **events, struct err *e)
{
    sqlite3_stmt *st = NULL;
    cJSON *arr = NULL;
    *events = NULL;
    if (limit < 1)
        return err_set(e, ERR_INVALID, "limit", "limit must be at least 1");
    char sql[256] = "SELECT id, ts, type, job_id, batch_id, status, verdict FROM events WHERE id > ?";
    if (job)
        strcat(sql, " AND job_id = ?");
    if (batch)
        strcat(sql, " AND batch_id = ?");
    strcat(sql, " ORDER BY id LIMIT ?");
    store_lock(s);
    int rc = prep(s, sql, &st, e), k = 1;
    if (rc)
        goto out;
    sqlite3_bind_int64(st, k++, after);
    if (job)
        sqlite3_bind_text(st, k++, job, -1, SQLITE_STATIC);
    if (batch)
        sqlite3_bind_text(st, k++, batch, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, k, limit);
    if (!(arr = cJSON_CreateArray())) {
        rc = nomem(e);
        goto out;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cJSON *o = push(arr);
        int bad = put(o, "id", number(st, 0));
        bad |= put(o, "ts", time_col(st, 1));
        bad |= put(o, "type", text(st, 2));
        bad |= put(o, "job", text(st, 3));
        bad |= put(o, "batch", text(st, 4));
        bad |= put(o, "status", text(st, 5));
        bad |= put(o, "verdict", text(st, 6));
        if (bad) {
            rc = nomem(e);
            goto out;
        }
    }
    rc = rc == SQLITE_DONE ? 0 : store_dberr(s, e, "events");
out:
    sqlite3_finalize(st);
    store_end(s);
    if (rc)
        cJSON_Delete(arr);
    else
        *events = arr;
    return rc;
}

int64_t store_last_event_id(struct store *s)
{
    int64_t id = 0;
    store_lock(s);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT seq FROM sqlite_sequence WHERE name = 'events'", -1, &st,
                           NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    store_end(s);
    return id;
}
