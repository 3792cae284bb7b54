/* api_eval.c — the single-evaluation handlers of API v1 (docs/api.md): submit, read, list,
 * cancel.
 *
 * DESIGN
 *   submit   query (?wait) -> body (jsonin: UTF-8, depth, JSON) -> request (request.c: fields,
 *            defaults, canonical forms, the candidate's code, cache key) -> metric names known for
 *            this daemon's chips (metricset.h: 422 unknown_metric) -> 503 no_gpu for a
 *            full-mode request with code on a daemon without GPU lanes -> store_job_insert (the store answers identical requests
 *            from its cache: 200 at once; ERR_LIMIT -> 429 queue_full with Retry-After) -> 202.
 *            With ?wait=S the handler waits, in slices of at most a second on the store's
 *            generation counter, until the job is done or cancelled (200 with its result), S
 *            passes or the daemon stops (202: the evaluation goes on).
 *   read     the store's evaluation object plus links {self, events}.
 *   list     every query parameter is validated (400 invalid_parameter naming it, unknown names
 *            too: a misspelt filter must not silently list everything), then one store_job_list
 *            page; next_cursor is a decimal string or null. Routes without query parameters
 *            (read, cancel) ignore any they are given.
 *   cancel   sched_cancel (the store's cancel, and the worker killed when one runs the job):
 *            200 with the object, 409 already_finished, 404.
 *
 * Does not: hold anything across requests; a handler blocks only in ?wait (see http.c's modes). */
#include "api.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "isotime.h"
#include "jsonin.h"
#include "log.h"
#include "metricset.h"
#include "registry.h"
#include "rcache.h"
#include "request.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void add_links(cJSON *ev)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
    if (!cJSON_IsString(id))
        return;
    char self[128], events[128];
    snprintf(self, sizeof self, "/v1/evaluations/%.80s", id->valuestring);
    snprintf(events, sizeof events, "/v1/events?job=%.80s", id->valuestring);
    cJSON_DeleteItemFromObjectCaseSensitive(ev, "links");
    cJSON *l = cJSON_AddObjectToObject(ev, "links");
    cJSON_AddStringToObject(l, "self", self);
    cJSON_AddStringToObject(l, "events", events);
}

static void internal(struct http_reply *rp, const char *what, const char *id, const struct err *e)
{
    log_error(id, "%s failed: %s", what, e->msg);
    http_reply_error(rp, 500, "internal", NULL, "%s failed (logged)", what);
}

/* Reply with the evaluation id (with its result when asked), a Location header when asked. */
static void reply_job(struct app *app, struct http_reply *rp, unsigned status, const char *id,
                      int with_result, int location)
{
    cJSON *ev = NULL;
    struct err e;
    int rc = store_job_get(app->store, id, with_result, &ev, &e);
    if (rc == ERR_NOTFOUND) {
        http_reply_error(rp, 404, "not_found", NULL, "no evaluation %.80s", id);
        return;
    }
    if (rc < 0) {
        internal(rp, "reading the evaluation", id, &e);
        return;
    }
    add_links(ev);
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "status"));
    if (status == 200 && with_result && !location && st &&
        (!strcmp(st, "done") || !strcmp(st, "cancelled"))) {
        char *text = cJSON_PrintUnformatted(ev);   /* final: the same body from now on */
        if (text)
            rcache_put(id, text, strlen(text));
        free(text);
    }
    http_reply_json(rp, status, ev);
    if (location) {
        char loc[128];
        snprintf(loc, sizeof loc, "/v1/evaluations/%.80s", id);
        http_reply_header(rp, MHD_HTTP_HEADER_LOCATION, loc);
    }
}

/* Refuse query parameters outside known; 1 when refused (rp filled). */
static int unknown_param(struct http_req *rq, struct http_reply *rp, const char *const *known)
{
    const char *bad = http_query_unknown(rq, known);
    if (!bad)
        return 0;
    http_reply_error(rp, 400, "invalid_parameter", bad, "%.64s: unknown query parameter", bad);
    return 1;
}

/* A decimal integer (digits only) in min..max. */
static int parse_dec(const char *s, long long min, long long max, long long *out)
{
    size_t n = strspn(s, "0123456789");
    if (n == 0 || s[n] || n > 18)
        return -1;
    long long v = strtoll(s, NULL, 10);
    if (v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Wait up to wait_s for job id to be done or cancelled: 1 when it is. */
static int wait_final(struct app *app, const char *id, double wait_s)
{
    double deadline = now() + wait_s;
    for (;;) {
        uint64_t gen = store_generation(app->store);
        enum store_status st;
        if (store_job_status(app->store, id, &st, NULL) < 0)
            return 0;
        if (st == STORE_DONE || st == STORE_CANCELLED)
            return 1;
        double left = deadline - now();
        if (left <= 0 || atomic_load(&app->stopping))
            return 0;
        store_wait_change(app->store, gen, left >= 1.0 ? 1000 : (int)(left * 1e3) + 1);
    }
}

void api_eval_submit(struct http_req *rq, struct http_reply *rp)
{
    static const char *const params[] = {"wait", NULL};
    struct app *app = rq->app;
    cJSON *req = NULL;
    struct request_job job;
    struct request_err re;
    struct jsonin_err je;
    struct err e;
    double wait = 0;

    memset(&job, 0, sizeof job);
    if (unknown_param(rq, rp, params))
        goto out;
    const char *w = http_query(rq, "wait");
    if (w) {
        char *end;
        wait = strtod(w, &end);
        if (!(w[0] >= '0' && w[0] <= '9') || *end || !isfinite(wait) || wait <= 0 ||
            wait > app->cfg->max_wait_s) {
            http_reply_error(rp, 400, "invalid_parameter", "wait",
                             "wait: must be a number of seconds, 0 < wait <= %d", app->cfg->max_wait_s);
            goto out;
        }
    }
    if (jsonin_parse(rq->body, rq->body_len, &req, &je)) {
        request_err_from_json(&re, &je);
        http_reply_json(rp, re.status, request_err_body(&re));
        goto out;
    }
    if (request_parse_bounded(req, app->cfg->max_source, app->cfg->max_body, "", 5, &job, &re) ||
        metricset_check(app->metricset, job.metrics, "", &re)) {
        http_reply_json(rp, re.status, request_err_body(&re));
        goto out;
    }
    if (app->iso && app->iso->refusal[0]) {
        http_reply_error(rp, 503, "isolation", NULL, "%s", app->iso->refusal);
        goto out;
    }
    /* a candidate without code needs no GPU: it is finished as no_code in the CPU lane */
    if (strcmp(job.mode, "full") == 0 && strcmp(job.job.language, "none") != 0 &&
        sched_gpu_count(app->sched) == 0) {
        http_reply_error(rp, 503, "no_gpu", NULL,
                         "this daemon has no GPU for a full evaluation (options.mode \"check\" "
                         "works without one; GET /v1/health says why)");
        goto out;
    }
    char id[32];
    int cached = 0;
    int rc = store_job_insert(app->store, &job.job, id, &cached, &e);
    if (rc == ERR_LIMIT) {
        http_reply_error(rp, 429, "queue_full", NULL, "the queue is full (%ld unfinished); retry later",
                         app->cfg->max_queue);
        http_reply_header(rp, MHD_HTTP_HEADER_RETRY_AFTER, "10");
        goto out;
    }
    if (rc < 0) {
        internal(rp, "storing the evaluation", NULL, &e);
        goto out;
    }
    int final = cached || (wait > 0 && wait_final(app, id, wait));
    reply_job(app, rp, final ? 200 : 202, id, final, 1);
out:
    request_job_free(&job);
    cJSON_Delete(req);
}

void api_eval_get(struct http_req *rq, struct http_reply *rp)
{
    struct MHD_Response *cached = rcache_response(rq->id);
    if (cached) {
        rp->resp = cached;
        rp->status = 200;
        return;
    }
    reply_job(rq->app, rp, 200, rq->id, 1, 0);
}

/* A string parameter: absent, or 1..max bytes. 1 when refused (rp filled). */
static int str_param(struct http_req *rq, struct http_reply *rp, const char *name, size_t max,
                     const char **out)
{
    const char *v = http_query(rq, name);
    if (!v)
        return 0;
    if (!v[0] || strlen(v) > max || jsonin_utf8_check(v, strlen(v), NULL)) {
        http_reply_error(rp, 400, "invalid_parameter", name, "%s: must be 1..%zu bytes of UTF-8",
                         name, max);
        return 1;
    }
    *out = v;
    return 0;
}

/* The verdicts a result can carry (docs/result.md), so a filter on one is valid before the first
 * such result exists. */
static int known_verdict(const char *v)
{
    static const char *const verdicts[] = {
        "ok", "compile_error", "directive_error", "runtime_error", "wrong_answer", "timeout",
        "resource_error", "no_device", "internal_error", "syntax_error", "lint_rejected", "no_code",
        "sandbox_violation", "memory_limit", "import_error", "init_error", "output_mismatch",
        "integrity_violation", NULL};
    for (int i = 0; verdicts[i]; i++)
        if (!strcmp(v, verdicts[i]))
            return 1;
    return 0;
}

void api_eval_list(struct http_req *rq, struct http_reply *rp)
{
    static const char *const params[] = {"status", "problem", "batch", "verdict", "since",
                                         "limit",  "cursor",  NULL};
    struct app *app = rq->app;
    struct store_filter f;
    struct err e;
    cJSON *items = NULL, *body = NULL;
    int64_t next = 0;
    long long v;

    memset(&f, 0, sizeof f);
    f.limit = 50;
    if (unknown_param(rq, rp, params) || str_param(rq, rp, "status", 16, &f.status) ||
        str_param(rq, rp, "problem", 64, &f.problem) || str_param(rq, rp, "batch", 64, &f.batch) ||
        str_param(rq, rp, "verdict", 32, &f.verdict))
        return;
    if (f.status && store_status_parse(f.status) < 0) {
        http_reply_error(rp, 400, "invalid_parameter", "status",
                         "status: must be one of queued, compiling, waiting_gpu, running, done, "
                         "cancelled");
        return;
    }
    if (f.verdict && !known_verdict(f.verdict)) {
        http_reply_error(rp, 400, "invalid_parameter", "verdict",
                         "verdict: must be a verdict of docs/result.md (ok, compile_error, ...)");
        return;
    }
    const struct registry_entry *pr = f.problem ? registry_find(f.problem) : NULL;
    if (pr)
        f.problem = pr->id;   /* an alias lists its problem's evaluations */
    const char *s = http_query(rq, "since");
    if (s && isotime_parse(s, &f.since)) {
        http_reply_error(rp, 400, "invalid_parameter", "since",
                         "since: must be RFC 3339 (2026-11-21T10:00:00Z) or unix seconds");
        return;
    }
    if ((s = http_query(rq, "limit"))) {
        if (parse_dec(s, 1, 1000, &v)) {
            http_reply_error(rp, 400, "invalid_parameter", "limit", "limit: must be an integer 1..1000");
            return;
        }
        f.limit = (int)v;
    }
    if ((s = http_query(rq, "cursor"))) {
        if (parse_dec(s, 1, INT64_MAX, &v)) {
            http_reply_error(rp, 400, "invalid_parameter", "cursor",
                             "cursor: must be the next_cursor of the previous page");
            return;
        }
        f.cursor = v;
    }
    if (store_job_list(app->store, &f, &items, &next, &e) < 0) {
        internal(rp, "listing evaluations", NULL, &e);
        return;
    }
    for (cJSON *it = items ? items->child : NULL; it; it = it->next)
        add_links(it);
    body = cJSON_CreateObject();
    char cur[24];
    snprintf(cur, sizeof cur, "%" PRId64, next);
    if (!body || !cJSON_AddItemToObject(body, "items", items)) {
        cJSON_Delete(items);
        cJSON_Delete(body);
        body = NULL;
    } else if (!(next > 0 ? cJSON_AddStringToObject(body, "next_cursor", cur)
                          : cJSON_AddNullToObject(body, "next_cursor"))) {
        cJSON_Delete(body);
        body = NULL;
    }
    http_reply_json(rp, 200, body);
}

void api_eval_cancel(struct http_req *rq, struct http_reply *rp)
{
    struct app *app = rq->app;
    enum store_status prev = STORE_QUEUED;
    struct err e;
    int rc = sched_cancel(app->sched, rq->id, &prev, &e);
    if (rc == ERR_NOTFOUND)
        http_reply_error(rp, 404, "not_found", NULL, "no evaluation %.80s", rq->id);
    else if (rc < 0)
        internal(rp, "cancelling the evaluation", rq->id, &e);
    else if (rc == 0)
        http_reply_error(rp, 409, "already_finished", NULL, "evaluation %.80s is already %s",
                         rq->id, store_status_name(prev));
    else
        reply_job(app, rp, 200, rq->id, 1, 0);
}
