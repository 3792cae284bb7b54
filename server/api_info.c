/* api_info.c — the read-only routes about the daemon itself: the problem registry, health and
 * metrics (docs/api.md, "Problems, health, metrics").
 *
 * The one idea: these handlers own no state; each reads what another module already keeps (the
 * registry's static table, the store's counts, the scheduler's description, the metrics tables)
 * and shapes it for the API. They never block beyond one store query, so a health probe answers
 * even while the GPUs are busy.
 *
 * Health is "ok" when the store answers and the daemon can do what it was configured for: it has
 * GPUs, or it was told --gpus none (check mode only, by choice). Otherwise "degraded", still 200:
 * the body says why (gpu_error, queue null).
 *
 * Does not: require authentication for health (http.c exempts the route), or cache anything. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "log.h"
#include "metrics.h"
#include "registry.h"

#ifndef KGRADE_VERSION
#define KGRADE_VERSION "dev"
#endif

static double now_s(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

void api_info_problems(struct http_req *rq, struct http_reply *rp)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *list = registry_to_json();
    if (!o || !list || !cJSON_AddItemToObject(o, "problems", list)) {
        cJSON_Delete(o);
        cJSON_Delete(list);
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
        return;
    }
    http_reply_json(rp, 200, o);
}

void api_info_problem(struct http_req *rq, struct http_reply *rp)
{
    const struct registry_entry *r = registry_find(rq->id);
    if (!r) {
        http_reply_error(rp, 404, "not_found", NULL, "no problem '%s' (GET /v1/problems lists them)", rq->id);
        return;
    }
    cJSON *o = registry_entry_to_json(r);
    if (!o) {
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
        return;
    }
    http_reply_json(rp, 200, o);
}

/* Move item key of from (when present) to the end of to. */
static void move_item(cJSON *from, cJSON *to, const char *key)
{
    cJSON *it = from ? cJSON_DetachItemFromObjectCaseSensitive(from, key) : NULL;
    if (it)
        cJSON_AddItemToObject(to, key, it);
}

/* The worker's version item key as a string, or null. */
static void add_worker_version(cJSON *versions, const cJSON *worker, const char *key)
{
    const cJSON *v = worker ? cJSON_GetObjectItemCaseSensitive(worker, key) : NULL;
    if (v)
        cJSON_AddItemToObject(versions, key, cJSON_Duplicate(v, 1));
    else
        cJSON_AddNullToObject(versions, key);
}

void api_info_health(struct http_req *rq, struct http_reply *rp)
{
    struct app *app = rq->app;
    long counts[STORE_NSTATUS];
    struct err e;
    cJSON *o = cJSON_CreateObject();
    cJSON *sd = app->sched ? sched_describe(app->sched) : NULL;
    int store_ok = app->store && store_counts(app->store, counts, &e) == 0;
    int ngpu = app->sched ? sched_gpu_count(app->sched) : 0;
    int gpus_none = strcmp(app->cfg->gpus, "none") == 0;
    if (!o)
        goto out;
    if (app->store && !store_ok)
        log_warn(NULL, "health: store_counts: %s", e.msg);

    int refused = app->iso && app->iso->refusal[0];
    cJSON_AddStringToObject(o, "status", store_ok && (ngpu > 0 || gpus_none) && !refused ? "ok" : "degraded");
    cJSON_AddStringToObject(o, "version", KGRADE_VERSION);
    cJSON_AddNumberToObject(o, "uptime_s", (double)(long long)((now_s() - app->started) * 1000) / 1000);
    move_item(sd, o, "gpus");
    if (!cJSON_GetObjectItemCaseSensitive(o, "gpus"))
        cJSON_AddItemToObject(o, "gpus", cJSON_CreateArray());
    move_item(sd, o, "gpu_error");
    move_item(sd, o, "cpu_lanes");
    cJSON *worker = sd ? cJSON_DetachItemFromObjectCaseSensitive(sd, "worker") : NULL;
    if (worker)
        cJSON_AddItemToObject(o, "worker", worker);
    if (store_ok) {
        cJSON *q = cJSON_AddObjectToObject(o, "queue");
        for (int i = 0; q && i < STORE_NSTATUS; i++)
            cJSON_AddNumberToObject(q, store_status_name((enum store_status)i), (double)counts[i]);
    } else {
        cJSON_AddNullToObject(o, "queue");
    }
    cJSON_AddItemToObject(o, "isolation", app->iso ? isolation_json(app->iso) : cJSON_CreateNull());
    cJSON_AddBoolToObject(o, "full_mode", ngpu > 0);

    cJSON *v = cJSON_AddObjectToObject(o, "versions");
    if (v) {
        cJSON_AddStringToObject(v, "kgrade", KGRADE_VERSION);
        cJSON_AddStringToObject(v, "sqlite", store_sqlite_version());
        cJSON_AddStringToObject(v, "libmicrohttpd", MHD_get_version());
        cJSON_AddStringToObject(v, "cjson", cJSON_Version());
        add_worker_version(v, worker, "nvrtc");
        add_worker_version(v, worker, "driver");
        add_worker_version(v, worker, "cudnn");
    }
out:
    cJSON_Delete(sd);
    if (o)
        http_reply_json(rp, 200, o);
    else
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
}

void api_info_metrics(struct http_req *rq, struct http_reply *rp)
{
    char *text = metrics_render(rq->app);
    if (!text) {
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
        return;
    }
    rp->resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!rp->resp) {
        free(text);
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
        return;
    }
    rp->status = 200;
    http_reply_header(rp, "Content-Type", "text/plain; version=0.0.4");
}
