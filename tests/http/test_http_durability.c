/* test_http_durability.c — kill -9 the daemon in the middle of its work, start it again on the
 * same --data: every evaluation finishes, exactly once.
 *
 * usage: test_http_durability KGRADED WORKER SOURCE_DIR
 *
 * 1. A batch of 200 check-mode evaluations (distinct sources) on --cpu-lanes 1. Once at least 10
 *    are done and some remain, SIGKILL; restart on the same data directory (with two lanes, to
 *    finish sooner) and wait for the batch to finish. Then: GET /v1/batches/{id}/results?follow=0
 *    has 200 lines, 200 distinct ids, indexes 0..199 once each, every verdict ok; every
 *    evaluation's attempts is 1 or 2 (at most the one compiling at the kill ran twice); and the
 *    stored event log (/v1/events?batch=ID&last_event_id=0) has exactly one `done` event per
 *    evaluation and one batch `done` event.
 * 2. A single evaluation killed while `compiling`: after the restart it is queued again, runs a
 *    second time (attempts 2) and finishes exactly once (one done event). When the kill lands just
 *    after it finished (attempts 1 after the restart), the scenario is tried again, three times
 *    at most. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "harness.h"

#define NJOBS 200

static const char *kgraded, *worker;

/* A small candidate (fast to compile) made distinct by tag. Caller frees. */
static char *request_json(const char *tag, int i)
{
    char src[512];
    snprintf(src, sizeof src,
             "// %s %d\n// @kgrade launch fill grid(cdiv(Y_ELEMS, 256)) block(256) args(y, Y_ELEMS:i64)\n"
             "extern \"C\" __global__ void fill(float *y, long long n)\n{\n"
             "    long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;\n"
             "    if (i < n)\n        y[i] = 0.0f;\n}\n",
             tag, i);
    char *js = harness_json_string(src, strlen(src));
    char *out = malloc(strlen(js) + 128);
    sprintf(out, "{\"problem\": \"small-3x3\", \"candidate\": {\"source\": %s}, \"options\": {\"mode\": \"check\"}}", js);
    free(js);
    return out;
}

static cJSON *get_json(const struct harness *h, const char *target, long *status)
{
    struct hres r;
    cJSON *j = NULL;
    *status = harness_get(h, target, &r) == 0 ? r.status : 0;
    if (*status)
        j = cJSON_Parse(r.body);
    hres_free(&r);
    return j;
}

static double num(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *str(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* The stored events after 0 (filter "batch=ID" or "job=ID"), read for a few seconds. Each `data:`
 * line parsed into the returned array. */
static cJSON *read_events(const struct harness *h, const char *filter)
{
    char target[256];
    snprintf(target, sizeof target, "/v1/events?%s&last_event_id=0", filter);
    struct hreq rq = {.method = "GET", .target = target, .timeout_s = 3.0};
    struct hres r;
    cJSON *all = cJSON_CreateArray();
    if (harness_http(h->base, &rq, &r) == 0 && r.status == 200) {
        for (char *p = r.body; p && *p;) {
            char *e = strchr(p, '\n');
            if (e)
                *e = '\0';
            if (strncmp(p, "data:", 5) == 0) {
                cJSON *ev = cJSON_Parse(p + 5);
                if (ev)
                    cJSON_AddItemToArray(all, ev);
            }
            p = e ? e + 1 : NULL;
        }
    } else {
        fprintf(stderr, "GET %s: status %ld %s\n", target, r.status, r.error);
    }
    hres_free(&r);
    return all;
}

static void test_batch(void)
{
    const char *args[] = {"--cpu-lanes", "1", NULL};
    struct harness h;
    CHECK(harness_start(&h, kgraded, worker, args) == 0);
    if (!h.pid)
        return;

    /* the batch, as JSONL */
    size_t cap = 1 << 20, len = 0;
    char *body = malloc(cap);
    for (int i = 0; i < NJOBS; i++) {
        char *rq = request_json("durability", i);
        len += (size_t)snprintf(body + len, cap - len, "%s\n", rq);
        free(rq);
    }
    const char *hdrs[] = {"Content-Type: application/x-ndjson", NULL};
    struct hreq post = {.method = "POST", .target = "/v1/batches", .headers = hdrs, .body = body, .body_len = len};
    struct hres r;
    CHECK(harness_http(h.base, &post, &r) == 0);
    CHECK_INT(r.status, 202);
    cJSON *j = cJSON_Parse(r.body);
    char bt[64], target[256];
    snprintf(bt, sizeof bt, "%s", str(j, "id"));
    cJSON_Delete(j);
    hres_free(&r);
    free(body);
    CHECK(strncmp(bt, "bt_", 3) == 0);
    snprintf(target, sizeof target, "/v1/batches/%s", bt);

    /* at least 10 done, then kill -9 */
    long st;
    double done = 0, deadline = harness_now() + 60;
    while (harness_now() < deadline) {
        j = get_json(&h, target, &st);
        done = num(cJSON_GetObjectItemCaseSensitive(j, "counts"), "done");
        cJSON_Delete(j);
        if (done >= 10)
            break;
        harness_sleep(0.05);
    }
    harness_kill9(&h);
    printf("killed with %.0f of %d done\n", done, NJOBS);
    CHECK(done >= 10);
    CHECK(done < NJOBS);

    h.args[1] = "2";   /* the rest on two lanes */
    CHECK(harness_restart(&h) == 0);
    if (!h.pid)
        goto out;
    double t0 = harness_now(), progress = 0;
    deadline = harness_now() + 150;
    while (harness_now() < deadline) {
        j = get_json(&h, target, &st);
        progress = num(j, "progress");
        cJSON_Delete(j);
        if (st == 200 && progress == 1)
            break;
        harness_sleep(0.2);
    }
    printf("after the restart the batch finished in %.1f s\n", harness_now() - t0);
    CHECK(progress == 1);

    /* the results: 200 distinct ids, indexes 0..199, every verdict ok */
    char rt[256];
    snprintf(rt, sizeof rt, "/v1/batches/%s/results?follow=0", bt);
    CHECK(harness_get(&h, rt, &r) == 0);
    CHECK_INT(r.status, 200);
    static char ids[NJOBS][40];
    int seen_index[NJOBS] = {0}, lines = 0, ok = 0, bad_index = 0, dup_ids = 0;
    for (char *p = r.body; p && *p;) {
        char *e = strchr(p, '\n');
        if (e)
            *e = '\0';
        if (*p) {
            cJSON *row = cJSON_Parse(p);
            double idx = num(row, "index");
            if (idx >= 0 && idx < NJOBS && idx == (int)idx && !seen_index[(int)idx]) {
                seen_index[(int)idx] = 1;
            } else {
                bad_index++;
                fprintf(stderr, "results line %d: index %g (repeated or out of range)\n", lines + 1, idx);
            }
            for (int k = 0; k < lines && k < NJOBS; k++)
                if (strcmp(ids[k], str(row, "id")) == 0)
                    dup_ids++;
            if (lines < NJOBS)
                snprintf(ids[lines], sizeof ids[0], "%s", str(row, "id"));
            ok += strcmp(str(row, "verdict"), "ok") == 0;
            lines++;
            cJSON_Delete(row);
        }
        p = e ? e + 1 : NULL;
    }
    hres_free(&r);
    CHECK_INT(lines, NJOBS);
    CHECK_INT(bad_index, 0);
    CHECK_INT(dup_ids, 0);
    CHECK_INT(ok, NJOBS);

    /* attempts: 1, or 2 for what was compiling at the kill */
    char lt[256];
    snprintf(lt, sizeof lt, "/v1/evaluations?batch=%s&limit=1000", bt);
    j = get_json(&h, lt, &st);
    CHECK_INT(st, 200);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items"), *it;
    int n = 0, twice = 0, bad_attempts = 0;
    cJSON_ArrayForEach(it, items)
    {
        double a = num(it, "attempts");
        n++;
        twice += a == 2;
        if (a < 1 || a > 2) {
            bad_attempts++;
            fprintf(stderr, "%s: attempts %g\n", str(it, "id"), a);
        }
    }
    cJSON_Delete(j);
    printf("%d evaluations, %d of them run twice\n", n, twice);
    CHECK_INT(n, NJOBS);
    CHECK_INT(bad_attempts, 0);
    CHECK(twice <= 1);   /* one lane: at most one was compiling at the kill */

    /* the event log: exactly one done per evaluation, one batch done */
    snprintf(lt, sizeof lt, "batch=%s", bt);
    cJSON *events = read_events(&h, lt);
    int job_done = 0, batch_done = 0, distinct = 0, repeated = 0;
    static char done_ids[NJOBS * 2][40];
    cJSON_ArrayForEach(it, events)
    {
        if (strcmp(str(it, "status"), "done") != 0)
            continue;
        if (strcmp(str(it, "type"), "batch") == 0) {
            batch_done++;
            continue;
        }
        job_done++;
        int dup = 0;
        for (int k = 0; k < distinct; k++)
            if (strcmp(done_ids[k], str(it, "job")) == 0)
                dup = 1;
        if (dup) {
            repeated++;
            fprintf(stderr, "a second done event for %s\n", str(it, "job"));
        } else if (distinct < NJOBS * 2) {
            snprintf(done_ids[distinct++], sizeof done_ids[0], "%s", str(it, "job"));
        }
    }
    printf("events: %d job done events for %d distinct evaluations, %d batch done\n", job_done, distinct,
           batch_done);
    CHECK_INT(distinct, NJOBS);
    CHECK_INT(repeated, 0);
    CHECK_INT(batch_done, 1);
    cJSON_Delete(events);
out:
    CHECK(harness_cleanup(&h, check_failed != 0) == 0);
}

/* One try of the single-job scenario: 1 when the kill landed while compiling (the result is
 * checked), 0 when the job had finished before the kill (try again). */
static int single_try(int attempt)
{
    const char *args[] = {"--cpu-lanes", "1", NULL};
    struct harness h;
    int landed = 1;
    CHECK(harness_start(&h, kgraded, worker, args) == 0);
    if (!h.pid)
        return 1;
    char *body = request_json("single", attempt);
    struct hres r;
    CHECK(harness_post_json(&h, "/v1/evaluations", body, &r) == 0);
    free(body);
    CHECK_INT(r.status, 202);
    cJSON *j = cJSON_Parse(r.body);
    char id[64], target[128];
    snprintf(id, sizeof id, "%s", str(j, "id"));
    cJSON_Delete(j);
    hres_free(&r);
    snprintf(target, sizeof target, "/v1/evaluations/%s", id);

    long st;
    char status[32] = "";
    double deadline = harness_now() + 30;
    while (harness_now() < deadline) {
        j = get_json(&h, target, &st);
        snprintf(status, sizeof status, "%s", str(j, "status"));
        cJSON_Delete(j);
        if (strcmp(status, "queued") != 0)
            break;
        harness_sleep(0.002);
    }
    harness_kill9(&h);
    printf("single (try %d): killed while %s\n", attempt + 1, status);
    CHECK(harness_restart(&h) == 0);
    double a = -1;
    deadline = harness_now() + 60;
    while (h.pid && harness_now() < deadline) {
        j = get_json(&h, target, &st);
        snprintf(status, sizeof status, "%s", str(j, "status"));
        a = num(j, "attempts");
        if (strcmp(status, "done") == 0) {
            CHECK_STR(str(j, "verdict"), "ok");
            cJSON_Delete(j);
            break;
        }
        cJSON_Delete(j);
        harness_sleep(0.1);
    }
    CHECK_STR(status, "done");
    if (a == 1) {
        landed = 0;   /* finished before the kill */
    } else {
        CHECK(a == 2);
        char filter[128];
        snprintf(filter, sizeof filter, "job=%s", id);
        cJSON *events = read_events(&h, filter);
        const cJSON *it;
        int done = 0, compiling = 0;
        cJSON_ArrayForEach(it, events)
        {
            done += strcmp(str(it, "status"), "done") == 0;
            compiling += strcmp(str(it, "status"), "compiling") == 0;
        }
        printf("single: attempts %.0f; events: %d compiling, %d done\n", a, compiling, done);
        CHECK_INT(done, 1);
        CHECK_INT(compiling, 2);
        cJSON_Delete(events);
    }
    CHECK(harness_cleanup(&h, check_failed != 0) == 0);
    return landed;
}

static void test_single(void)
{
    for (int attempt = 0; attempt < 3; attempt++)
        if (single_try(attempt))
            return;
    check_failed++;
    fprintf(stderr, "three tries: the job always finished before the kill\n");
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s KGRADED WORKER SOURCE_DIR\n", argv[0]);
        return 2;
    }
    kgraded = argv[1];
    worker = argv[2];
    harness_init();
    test_batch();
    test_single();
    return check_summary("test_http_durability");
}
