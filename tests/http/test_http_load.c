/* test_http_load.c — 100 clients at once, each with its own evaluation, to the end; and the cache.
 *
 * usage: test_http_load KGRADED WORKER SOURCE_DIR
 *
 * 1. 100 threads, each with its own curl easy handles, start together (a barrier): each submits a
 *    check-mode evaluation of tests/candidates/ok_naive.cu made distinct by a comment line (so the
 *    cache cannot answer), then polls GET /v1/evaluations/{id} until it is done. Every one must
 *    finish with verdict ok, and no request may fail or answer an HTTP error. Then the listing
 *    shows all 100, done, and health and metrics count them.
 * 2. The cache: a request waited for (200, cached false); the identical request again is answered
 *    at once (200, cached true, cached_from the first, its result); force: true runs it again (202). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "harness.h"

#define NCLIENTS 100

static struct harness h;
static char *source;   /* ok_naive.cu */
static pthread_barrier_t start_line;

struct client {
    int index;
    char id[64];
    char verdict[32];
    int http_errors;    /* transport failures and unexpected statuses */
    char first_error[512];
    double seconds;
};

static void client_error(struct client *c, const char *what, const struct hres *r)
{
    if (!c->http_errors++)
        snprintf(c->first_error, sizeof c->first_error, "%s: status %ld %.200s %.120s", what, r->status, r->error,
                 r->body ? r->body : "");
}

/* The request of client i: a distinct source, check mode. Caller frees. */
static char *request_for(int i, const char *extra)
{
    char *src = malloc(strlen(source) + 64);
    sprintf(src, "// load client %d\n%s", i, source);
    char *js = harness_json_string(src, strlen(src));
    free(src);
    char *body = malloc(strlen(js) + 256);
    sprintf(body, "{\"problem\": \"small-depthwise-bias\", \"candidate\": {\"source\": %s}, \"options\": {\"mode\": \"check\"}%s}",
            js, extra);
    free(js);
    return body;
}

static void *client_run(void *arg)
{
    struct client *c = arg;
    char *body = request_for(c->index, "");
    struct hres r;
    pthread_barrier_wait(&start_line);
    double t0 = harness_now();
    if (harness_post_json(&h, "/v1/evaluations", body, &r) != 0 || r.status != 202) {
        client_error(c, "submit", &r);
        hres_free(&r);
        free(body);
        return NULL;
    }
    free(body);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    if (cJSON_IsString(id))
        snprintf(c->id, sizeof c->id, "%s", id->valuestring);
    cJSON_Delete(j);
    hres_free(&r);
    if (!c->id[0]) {
        c->http_errors++;
        snprintf(c->first_error, sizeof c->first_error, "submit: no id");
        return NULL;
    }
    char target[128];
    snprintf(target, sizeof target, "/v1/evaluations/%s", c->id);
    double deadline = harness_now() + 150;
    while (harness_now() < deadline) {
        harness_sleep(0.5);   /* 100 clients: 200 requests a second, next to the compiles */
        if (harness_get(&h, target, &r) != 0 || r.status != 200) {
            client_error(c, "poll", &r);
            hres_free(&r);
            continue;
        }
        j = cJSON_Parse(r.body);
        hres_free(&r);
        const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "verdict");
        int done = cJSON_IsString(st) && (strcmp(st->valuestring, "done") == 0 || strcmp(st->valuestring, "cancelled") == 0);
        if (done)
            snprintf(c->verdict, sizeof c->verdict, "%s", cJSON_IsString(v) ? v->valuestring : "(none)");
        cJSON_Delete(j);
        if (done)
            break;
    }
    c->seconds = harness_now() - t0;
    return NULL;
}

static void test_clients(void)
{
    static struct client cl[NCLIENTS];
    pthread_t th[NCLIENTS];
    pthread_barrier_init(&start_line, NULL, NCLIENTS);
    double t0 = harness_now();
    for (int i = 0; i < NCLIENTS; i++) {
        cl[i].index = i;
        if (pthread_create(&th[i], NULL, client_run, &cl[i]) != 0) {
            fprintf(stderr, "pthread_create failed\n");
            exit(1);
        }
    }
    for (int i = 0; i < NCLIENTS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start_line);
    int ok = 0, errors = 0;
    double slowest = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        ok += strcmp(cl[i].verdict, "ok") == 0;
        errors += cl[i].http_errors;
        if (cl[i].seconds > slowest)
            slowest = cl[i].seconds;
        if (strcmp(cl[i].verdict, "ok") != 0 || cl[i].http_errors)
            fprintf(stderr, "client %d (%s): verdict \"%s\", %d HTTP errors; first: %s\n", i, cl[i].id,
                    cl[i].verdict, cl[i].http_errors, cl[i].first_error);
        for (int k = 0; k < i; k++)
            if (cl[i].id[0] && strcmp(cl[i].id, cl[k].id) == 0) {
                check_failed++;
                fprintf(stderr, "clients %d and %d got the same id %s\n", k, i, cl[i].id);
            }
    }
    printf("%d clients: %d finished ok, %d HTTP errors, all done in %.1f s (slowest client %.1f s)\n", NCLIENTS,
           ok, errors, harness_now() - t0, slowest);
    CHECK_INT(ok, NCLIENTS);
    CHECK_INT(errors, 0);

    /* the listing sees all of them, done */
    struct hres r;
    CHECK(harness_get(&h, "/v1/evaluations?limit=1000", &r) == 0);
    CHECK_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items");
    CHECK_INT(cJSON_GetArraySize(items), NCLIENTS);
    int found = 0;
    for (int i = 0; i < NCLIENTS; i++) {
        const cJSON *it;
        cJSON_ArrayForEach(it, items)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(it, "status");
            if (cJSON_IsString(id) && strcmp(id->valuestring, cl[i].id) == 0 && cJSON_IsString(st) &&
                strcmp(st->valuestring, "done") == 0) {
                found++;
                break;
            }
        }
    }
    CHECK_INT(found, NCLIENTS);
    cJSON_Delete(j);
    hres_free(&r);

    CHECK(harness_get(&h, "/v1/health", &r) == 0);
    j = cJSON_Parse(r.body);
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "queue"), "done");
    CHECK_INT(cJSON_IsNumber(done) ? done->valueint : -1, NCLIENTS);
    cJSON_Delete(j);
    hres_free(&r);

    CHECK(harness_get(&h, "/metrics", &r) == 0);
    CHECK_INT(r.status, 200);
    char line[128];
    snprintf(line, sizeof line, "kgrade_jobs_finished_total{verdict=\"ok\"} %d\n", NCLIENTS);
    CHECK(strstr(r.body, line) != NULL);
    if (!strstr(r.body, line))
        fprintf(stderr, "metrics lack \"%.*s\"\n", (int)strlen(line) - 1, line);
    hres_free(&r);
}

static const char *jstr(const cJSON *j, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, key);
    return cJSON_IsString(v) ? v->valuestring : cJSON_IsNull(v) ? "null" : "(absent)";
}

static void test_cache(void)
{
    char *body = request_for(1000, "");
    char *forced = request_for(1000, ", \"force\": true");
    struct hres r;
    char first[64] = "";

    CHECK(harness_post_json(&h, "/v1/evaluations?wait=60", body, &r) == 0);
    CHECK_INT(r.status, 200);
    cJSON *j = cJSON_Parse(r.body);
    CHECK_STR(jstr(j, "status"), "done");
    CHECK_STR(jstr(j, "verdict"), "ok");
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "cached")));
    snprintf(first, sizeof first, "%s", jstr(j, "id"));
    cJSON_Delete(j);
    hres_free(&r);

    CHECK(harness_post_json(&h, "/v1/evaluations", body, &r) == 0);
    CHECK_INT(r.status, 200);
    CHECK(r.seconds < 2.0);
    j = cJSON_Parse(r.body);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "cached")));
    CHECK_STR(jstr(j, "cached_from"), first);
    CHECK_STR(jstr(j, "status"), "done");
    CHECK_STR(jstr(j, "verdict"), "ok");
    CHECK(strcmp(jstr(j, "id"), first) != 0);
    CHECK_STR(jstr(cJSON_GetObjectItemCaseSensitive(j, "result"), "verdict"), "ok");
    cJSON_Delete(j);
    hres_free(&r);

    CHECK(harness_post_json(&h, "/v1/evaluations", forced, &r) == 0);
    CHECK_INT(r.status, 202);
    j = cJSON_Parse(r.body);
    CHECK(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "cached")));
    CHECK_STR(jstr(j, "cached_from"), "null");
    CHECK(strcmp(jstr(j, "id"), first) != 0);
    cJSON_Delete(j);
    hres_free(&r);
    free(body);
    free(forced);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s KGRADED WORKER SOURCE_DIR\n", argv[0]);
        return 2;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/candidates/ok_naive.cu", argv[3]);
    source = harness_read_file(path, NULL);
    if (!source) {
        fprintf(stderr, "cannot read %s\n", path);
        return 1;
    }
    harness_init();
    const char *args[] = {"--cpu-lanes", "2", NULL};
    CHECK(harness_start(&h, argv[1], argv[2], args) == 0);
    if (h.pid) {
        test_clients();
        test_cache();
        CHECK(harness_alive(&h));
    }
    CHECK(harness_cleanup(&h, check_failed != 0) == 0);
    free(source);
    return check_summary("test_http_load");
}
