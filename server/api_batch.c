/* api_batch.c — the batch handlers of API v1 (docs/api.md, "Batches"): submit, read, cancel, and
 * the results stream.
 *
 * DESIGN
 *   submit   The body is a JSON array of requests, {"label", "requests": [...]}, or (by its
 *            Content-Type) JSONL with one request per line. Every item goes through request.c with
 *            the field prefix "[k]" and default priority 1, and the batch is all or nothing: the
 *            first invalid item refuses it (422, for JSONL the message names the line; metric names
 *            the chip does not know too: metricset.h), more than
 *            --max-batch items is 413 batch_too_large (JSONL stops reading there), none is 422
 *            empty_batch, any full-mode item with code on a daemon without GPU lanes is 503
 *            no_gpu. Then one store_batch_insert: one transaction, one "batch" event.
 *   results  A chunked stream (http_reply_stream). Its reader keeps a pending buffer holding the
 *            formatted rows of one store page (at most PAGE rows, PENDING_MAX bytes) and hands it
 *            out piece by piece; when it is empty the reader fetches the rows finished after the
 *            last one sent (the store's finish sequence, so rows come in finish order and none
 *            twice). With nothing new it waits on the store's generation in slices of at most a
 *            second, checking app->stopping, and ends once every job of the batch is finished
 *            (with ?follow=0: as soon as nothing new is there). Rows are JSONL as the store gives
 *            them, or CSV (RFC 4180: CRLF, quoted when needed) with values pulled from each
 *            row's result record, an empty cell when absent.
 *
 * Does not: detect a client that went away while the stream waits for the next finished job
 * (the thread is held until something finishes, the batch ends or the daemon stops). */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "buf.h"
#include "jsonin.h"
#include "log.h"
#include "metricset.h"
#include "request.h"

#define LABEL_MAX 200                 /* characters */
#define PAGE 32                       /* result rows fetched at a time */
#define PENDING_MAX (64u << 20)       /* bytes of formatted rows of one page */

static void internal(struct http_reply *rp, const char *what, const char *id, const struct err *e)
{
    log_error(id, "%s failed: %s", what, e->msg);
    http_reply_error(rp, 500, "internal", NULL, "%s failed (logged)", what);
}

static void reply_batch(struct app *app, struct http_reply *rp, unsigned status, const char *id,
                        int location)
{
    cJSON *b = NULL;
    struct err e;
    int rc = store_batch_get(app->store, id, &b, &e);
    if (rc == ERR_NOTFOUND) {
        http_reply_error(rp, 404, "not_found", NULL, "no batch %.80s", id);
        return;
    }
    if (rc < 0) {
        internal(rp, "reading the batch", NULL, &e);
        return;
    }
    char self[128], results[160], events[128];
    snprintf(self, sizeof self, "/v1/batches/%.80s", id);
    snprintf(results, sizeof results, "%s/results", self);
    snprintf(events, sizeof events, "/v1/events?batch=%.80s", id);
    cJSON_DeleteItemFromObjectCaseSensitive(b, "links");
    cJSON *l = cJSON_AddObjectToObject(b, "links");
    cJSON_AddStringToObject(l, "self", self);
    cJSON_AddStringToObject(l, "results", results);
    cJSON_AddStringToObject(l, "events", events);
    http_reply_json(rp, status, b);
    if (location)
        http_reply_header(rp, MHD_HTTP_HEADER_LOCATION, self);
}

static int unknown_param(struct http_req *rq, struct http_reply *rp, const char *const *known)
{
    const char *bad = http_query_unknown(rq, known);
    if (!bad)
        return 0;
    http_reply_error(rp, 400, "invalid_parameter", bad, "%.64s: unknown query parameter", bad);
    return 1;
}

/* Characters (code points) of valid UTF-8. */
static size_t chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* The requests of a JSON body: an array, or {"label", "requests"} (label may be set). NULL with
 * re filled when the shape is wrong. */
static const cJSON *json_requests(const cJSON *doc, const char **label, struct request_err *re)
{
    if (cJSON_IsArray(doc))
        return doc;
    if (!cJSON_IsObject(doc)) {
        request_err_set(re, 422, "invalid_field", NULL,
                        "the body must be an array of requests or {\"label\", \"requests\"}");
        return NULL;
    }
    for (const cJSON *c = doc->child; c; c = c->next)
        if (strcmp(c->string, "label") != 0 && strcmp(c->string, "requests") != 0) {
            request_err_set(re, 422, "unknown_field", c->string,
                            "%.64s: unknown field (the fields are label, requests)", c->string);
            return NULL;
        }
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(doc, "label");
    if (cJSON_IsNull(l))
        l = NULL;   /* how the batch object shows "no label" */
    if (l && (!cJSON_IsString(l) || chars(l->valuestring) > LABEL_MAX)) {
        request_err_set(re, 422, "invalid_field", "label", "label: must be a string of at most %d "
                        "characters", LABEL_MAX);
        return NULL;
    }
    if (l)
        *label = l->valuestring;
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(doc, "requests");
    if (!r)
        request_err_set(re, 422, "missing_field", "requests", "requests: required (an array)");
    else if (!cJSON_IsArray(r))
        request_err_set(re, 422, "invalid_field", "requests", "requests: must be an array");
    return cJSON_IsArray(r) ? r : NULL;
}

/* The requests of a JSONL body into arr, their line numbers into *lines (the caller frees). */
static int jsonl_requests(const struct http_req *rq, long max, cJSON *arr, long **lines,
                          struct request_err *re)
{
    struct jsonin_lines it;
    struct jsonin_err je;
    size_t n = 0, cap = 0;
    cJSON *v;
    long line;
    int rc;
    jsonin_lines_init(&it, rq->body, rq->body_len);
    while ((rc = jsonin_lines_next(&it, &v, &line, &je)) == 1) {
        if ((long)n >= max) {
            cJSON_Delete(v);
            request_err_set(re, 413, "batch_too_large", NULL, "more than %ld requests (line %ld)",
                            max, line);
            return ERR_LIMIT;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            long *p = realloc(*lines, cap * sizeof *p);
            if (!p) {
                cJSON_Delete(v);
                request_err_set(re, 500, "internal", NULL, "out of memory");
                return ERR_NOMEM;
            }
            *lines = p;
        }
        (*lines)[n++] = line;
        cJSON_AddItemToArray(arr, v);
    }
    if (rc < 0)
        request_err_from_json(re, &je);
    return rc;
}

void api_batch_submit(struct http_req *rq, struct http_reply *rp)
{
    static const char *const params[] = {"label", NULL};
    struct app *app = rq->app;
    cJSON *doc = NULL;
    long *lines = NULL;
    struct request_job *jobs = NULL;
    struct store_newjob *nj = NULL;
    size_t n = 0, parsed = 0;
    const cJSON *arr = NULL;
    const char *label = NULL;
    struct request_err re;
    struct jsonin_err je;
    struct err e;

    re.status = 0;
    if (unknown_param(rq, rp, params))
        goto out;
    if (jsonin_media(rq->content_type) == JSONIN_JSONL) {
        doc = cJSON_CreateArray();
        if (!doc)
            request_err_set(&re, 500, "internal", NULL, "out of memory");
        else if (!jsonl_requests(rq, app->cfg->max_batch, doc, &lines, &re))
            arr = doc;
    } else if (jsonin_parse(rq->body, rq->body_len, &doc, &je))
        request_err_from_json(&re, &je);
    else
        arr = json_requests(doc, &label, &re);
    if (!arr)
        goto fail;
    const char *ql = http_query(rq, "label");
    if (!label && ql && ql[0]) {
        if (jsonin_utf8_check(ql, strlen(ql), NULL) || chars(ql) > LABEL_MAX) {
            http_reply_error(rp, 400, "invalid_parameter", "label",
                             "label: must be UTF-8 of at most %d characters", LABEL_MAX);
            goto out;
        }
        label = ql;
    }
    n = (size_t)cJSON_GetArraySize(arr);
    if (n == 0) {
        request_err_set(&re, 422, "empty_batch", NULL, "the batch has no requests");
        goto fail;
    }
    if ((long)n > app->cfg->max_batch) {
        request_err_set(&re, 413, "batch_too_large", NULL, "%zu requests, more than %ld", n,
                        app->cfg->max_batch);
        goto fail;
    }
    jobs = calloc(n, sizeof *jobs);
    nj = calloc(n, sizeof *nj);
    if (!jobs || !nj) {
        request_err_set(&re, 500, "internal", NULL, "out of memory");
        goto fail;
    }
    int full = 0;
    for (const cJSON *it = arr->child; it && parsed < n; it = it->next) {
        char prefix[24];
        size_t k = parsed;
        snprintf(prefix, sizeof prefix, "[%zu]", k);
        int bad = request_parse_bounded(it, app->cfg->max_source, app->cfg->max_body, prefix, 1, &jobs[k], &re);
        if (!bad) {
            parsed++;   /* filled: freed below whatever comes next */
            nj[k] = jobs[k].job;
            full |= strcmp(jobs[k].mode, "full") == 0 && strcmp(jobs[k].job.language, "none") != 0;
            bad = metricset_check(app->metricset, jobs[k].metrics, prefix, &re);
        }
        if (bad) {
            if (lines) {
                char msg[sizeof re.msg];
                snprintf(msg, sizeof msg, "line %ld: %.340s", lines[k], re.msg);
                memcpy(re.msg, msg, sizeof msg);
            }
            goto fail;
        }
    }
    if (app->iso && app->iso->refusal[0]) {
        http_reply_error(rp, 503, "isolation", NULL, "%s", app->iso->refusal);
        goto out;
    }
    if (full && sched_gpu_count(app->sched) == 0) {
        http_reply_error(rp, 503, "no_gpu", NULL, "this daemon has no GPU for full evaluations "
                         "(options.mode \"check\" works without one)");
        goto out;
    }
    char bid[32];
    size_t cached = 0;
    int rc = store_batch_insert(app->store, nj, n, label, bid, &cached, &e);
    if (rc == ERR_LIMIT) {
        http_reply_error(rp, 429, "queue_full", NULL, "the queue cannot take %zu more evaluations "
                         "(--max-queue %ld); retry later", n, app->cfg->max_queue);
        http_reply_header(rp, MHD_HTTP_HEADER_RETRY_AFTER, "10");
    } else if (rc < 0)
        internal(rp, "storing the batch", NULL, &e);
    else
        reply_batch(app, rp, 202, bid, 1);
    goto out;
fail:
    http_reply_json(rp, re.status ? re.status : 500, request_err_body(&re));
out:
    for (size_t k = 0; jobs && k < parsed; k++)
        request_job_free(&jobs[k]);
    free(jobs);
    free(nj);
    free(lines);
    cJSON_Delete(doc);
}

void api_batch_get(struct http_req *rq, struct http_reply *rp)
{
    reply_batch(rq->app, rp, 200, rq->id, 0);
}

void api_batch_cancel(struct http_req *rq, struct http_reply *rp)
{
    struct err e;
    long n = 0;
    int rc = sched_cancel_batch(rq->app->sched, rq->id, &n, &e);
    if (rc == ERR_NOTFOUND)
        http_reply_error(rp, 404, "not_found", NULL, "no batch %.80s", rq->id);
    else if (rc < 0)
        internal(rp, "cancelling the batch", NULL, &e);
    else
        reply_batch(rq->app, rp, 200, rq->id, 0);
}

/* ---- the results stream -------------------------------------------------------------------- */

struct results {
    struct app *app;
    char batch[80];
    int csv, follow, ended;
    int64_t after;          /* the finish sequence of the last row fetched */
    struct buf pending;     /* formatted rows not yet handed out */
    size_t sent;            /* of pending */
};

/* The CSV columns: the row's own members, then members of its result record. */
static const char *const csv_row[] = {"index", "id", "status", "verdict", "cached"};
static const char *const csv_result[] = {
    "timing.candidate.median", "speedup.vs_reference.estimate", "speedup.vs_cudnn_fp32.estimate",
    "speedup.vs_cudnn_tf32.estimate", "correctness.precision_class", "correctness.max_rel_l2",
    "error.message",
};
#define CSV_HEADER "index,id,status,verdict,cached,median_ms,speedup_vs_reference," \
                   "speedup_vs_cudnn_fp32,speedup_vs_cudnn_tf32,precision_class,max_rel_l2,error\r\n"

/* The member at a dotted path, or NULL. */
static const cJSON *at(const cJSON *o, const char *path)
{
    char key[64];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(key, sizeof key, "%.*s", (int)n, path);
        o = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
        path += n + (path[n] == '.');
    }
    return o;
}

static int csv_cell(struct buf *b, const cJSON *v)
{
    if (cJSON_IsBool(v))
        return buf_printf(b, "%s", cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        char num[32];
        snprintf(num, sizeof num, "%.15g", v->valuedouble);
        if (strtod(num, NULL) != v->valuedouble)
            snprintf(num, sizeof num, "%.17g", v->valuedouble);
        return buf_printf(b, "%s", num);
    }
    if (!cJSON_IsString(v))
        return 0;
    const char *s = v->valuestring;
    if (!s[strcspn(s, ",\"\r\n")])
        return buf_append(b, s, strlen(s));
    int rc = buf_append(b, "\"", 1);
    for (const char *q; !rc && (q = strchr(s, '"')); s = q + 1)
        rc = buf_append(b, s, (size_t)(q - s + 1)) || buf_append(b, "\"", 1);
    return rc ? rc : buf_printf(b, "%s\"", s);
}

/* One row as a JSON line (line breaks of a stored record's text, whitespace between tokens in
 * valid JSON, are dropped so the row stays one line) or a CSV record. */
static int format_row(struct results *st, const cJSON *row)
{
    int rc = 0;
    char *text = NULL;
    cJSON *parsed = NULL;
    if (!st->csv) {
        text = cJSON_PrintUnformatted(row);
        if (!text)
            return ERR_NOMEM;
        size_t n = 0;
        for (const char *p = text; *p; p++)
            if (*p != '\n' && *p != '\r')
                text[n++] = *p;
        rc = buf_append(&st->pending, text, n);
        rc = rc ? rc : buf_append(&st->pending, "\n", 1);
        goto out;
    }
    const cJSON *result = cJSON_GetObjectItemCaseSensitive(row, "result");
    if (cJSON_IsRaw(result)) {   /* the store hands records over as raw text */
        const char *raw = result->valuestring;
        result = parsed = cJSON_ParseWithLengthOpts(raw, strlen(raw) + 1, NULL, 1);
    }
    size_t nrow = sizeof csv_row / sizeof csv_row[0];
    for (size_t i = 0; !rc && i < nrow + sizeof csv_result / sizeof csv_result[0]; i++) {
        rc = i ? buf_append(&st->pending, ",", 1) : 0;
        if (!rc)
            rc = csv_cell(&st->pending, i < nrow ? cJSON_GetObjectItemCaseSensitive(row, csv_row[i])
                                                 : at(result, csv_result[i - nrow]));
    }
    rc = rc ? rc : buf_append(&st->pending, "\r\n", 2);
out:
    free(text);
    cJSON_Delete(parsed);
    return rc;
}

/* Refill pending with the next rows, waiting for them when following. -1 on a failure. */
static int fill(struct results *st)
{
    struct store *s = st->app->store;
    for (;;) {
        uint64_t gen = store_generation(s);
        cJSON *rows = NULL;
        int64_t last = st->after;
        long total = 0, finished = 0;
        struct err e;
        if (store_batch_results(s, st->batch, st->after, PAGE, &rows, &last, &total, &finished,
                                &e) < 0) {
            log_error(NULL, "batch results of %s: %s", st->batch, e.msg);
            return -1;
        }
        st->after = last;
        int nrows = 0, rc = 0;
        for (const cJSON *r = rows ? rows->child : NULL; r && !rc; r = r->next, nrows++)
            rc = format_row(st, r);
        cJSON_Delete(rows);
        if (rc) {
            log_error(NULL, "batch results of %s: a page does not fit (%s)", st->batch, err_name(rc));
            return -1;
        }
        if (nrows > 0)
            return 0;
        if (!st->follow || finished >= total || atomic_load(&st->app->stopping)) {
            st->ended = 1;
            return 0;
        }
        store_wait_change(s, gen, 1000);
    }
}

static ssize_t read_results(void *cls, uint64_t pos, char *out, size_t max)
{
    struct results *st = cls;
    while (st->sent == st->pending.len) {
        buf_reset(&st->pending);
        st->sent = 0;
        if (st->ended)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (fill(st))
            return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = st->pending.len - st->sent;
    if (n > max)
        n = max;
    memcpy(out, st->pending.p + st->sent, n);
    st->sent += n;
    return (ssize_t)n;
}

static void free_results(void *cls)
{
    struct results *st = cls;
    buf_free(&st->pending);
    free(st);
}

void api_batch_results(struct http_req *rq, struct http_reply *rp)
{
    static const char *const params[] = {"format", "follow", NULL};
    if (unknown_param(rq, rp, params))
        return;
    const char *format = http_query(rq, "format"), *follow = http_query(rq, "follow");
    if (format && strcmp(format, "jsonl") != 0 && strcmp(format, "csv") != 0) {
        http_reply_error(rp, 400, "invalid_parameter", "format", "format: must be jsonl or csv");
        return;
    }
    if (follow && strcmp(follow, "0") != 0 && strcmp(follow, "1") != 0) {
        http_reply_error(rp, 400, "invalid_parameter", "follow", "follow: must be 0 or 1");
        return;
    }
    cJSON *b = NULL;
    struct err e;
    int rc = store_batch_get(rq->app->store, rq->id, &b, &e);
    cJSON_Delete(b);
    if (rc == ERR_NOTFOUND) {
        http_reply_error(rp, 404, "not_found", NULL, "no batch %.80s", rq->id);
        return;
    }
    if (rc < 0) {
        internal(rp, "reading the batch", NULL, &e);
        return;
    }
    struct results *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
        return;
    }
    st->app = rq->app;
    snprintf(st->batch, sizeof st->batch, "%s", rq->id);
    st->csv = format && strcmp(format, "csv") == 0;
    st->follow = !follow || strcmp(follow, "1") == 0;
    buf_init(&st->pending, PENDING_MAX);
    if (st->csv && buf_append(&st->pending, CSV_HEADER, strlen(CSV_HEADER))) {
        free_results(st);
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
        return;
    }
    http_reply_stream(rp, 200, st->csv ? "text/csv; charset=utf-8" : "application/x-ndjson",
                      read_results, st, free_results);
}
