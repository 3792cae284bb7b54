/* metrics.c — the daemon's counters and histograms in Prometheus text format (see metrics.h).
 *
 * The one idea: everything lives in fixed tables in this process behind one mutex, so recording is
 * a lookup and an add, and no label value a client or a worker controls can grow memory: at most
 * MAX_ROUTES routes x MAX_STATUSES statuses of HTTP requests and MAX_VERDICTS verdicts; a name or
 * a status that finds its table full is counted under "other" (whose slot is kept free for it).
 * Stages are a fixed list; an unknown stage is ignored.
 *
 * Rendering copies the tables under the lock, reads the queue depth from the store and the GPU
 * count from the scheduler outside it, and writes the exposition text into a bounded buffer.
 * Histogram buckets are stored per bucket and summed on output (Prometheus buckets are cumulative).
 * Label values are escaped per the text format (backslash, double quote, newline).
 *
 * Not kept: anything across restarts (the store's counts are the durable truth; counters here
 * restart at zero, which Prometheus handles as a counter reset). */
#include "metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "app.h"
#include "buf.h"
#include "log.h"

#define MAX_ROUTES 64
#define MAX_STATUSES 16
#define MAX_VERDICTS 32
#define MAX_GPUS 64
#define NAME_MAX_LEN 96
#define RENDER_MAX (8u << 20)

static const double bounds[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
#define NBOUNDS (sizeof bounds / sizeof bounds[0])

static const char *const stages[] = {"queue", "compile_step", "gpu_step", "job", "worker_context",
                                     "worker_compile", "worker_load", "worker_correctness", "worker_timing"};
#define NSTAGES (sizeof stages / sizeof stages[0])

struct route_row {
    char name[NAME_MAX_LEN];
    int nstatus;
    int status[MAX_STATUSES];           /* 0: the "other" slot */
    uint64_t count[MAX_STATUSES];
};

struct named_count {
    char name[NAME_MAX_LEN];
    uint64_t count;
};

struct hist {
    uint64_t bucket[NBOUNDS + 1];       /* per bucket (not cumulative); the last one is +Inf */
    uint64_t count;
    double sum;
};

struct tables {
    int nroutes;
    struct route_row routes[MAX_ROUTES];
    int nverdicts;
    struct named_count verdicts[MAX_VERDICTS];
    struct hist hist[NSTAGES];
    double gpu_busy[MAX_GPUS];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int ready;                       /* under lock */
static struct tables t;

void metrics_init(void)
{
    pthread_mutex_lock(&lock);
    if (!ready) {
        memset(&t, 0, sizeof t);
        ready = 1;
    }
    pthread_mutex_unlock(&lock);
}

/* The row of route name (adding it while there is room, "other" beyond). Under lock. */
static struct route_row *route_row(const char *name)
{
    for (int i = 0; i < t.nroutes; i++)
        if (strcmp(t.routes[i].name, name) == 0)
            return &t.routes[i];
    int is_other = strcmp(name, "other") == 0;
    if (t.nroutes < MAX_ROUTES - 1 || (is_other && t.nroutes < MAX_ROUTES)) {
        struct route_row *r = &t.routes[t.nroutes++];
        snprintf(r->name, sizeof r->name, "%s", name);
        return r;
    }
    return is_other ? NULL : route_row("other");
}

/* The slot of name among counts (n of them, at most max): same rule as route_row. Under lock. */
static struct named_count *named_slot(struct named_count *counts, int *n, int max, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(counts[i].name, name) == 0)
            return &counts[i];
    int is_other = strcmp(name, "other") == 0;
    if (*n < max - 1 || (is_other && *n < max)) {
        struct named_count *c = &counts[(*n)++];
        snprintf(c->name, sizeof c->name, "%s", name);
        return c;
    }
    return is_other ? NULL : named_slot(counts, n, max, "other");
}

void metrics_http(const char *route, int status)
{
    pthread_mutex_lock(&lock);
    struct route_row *r = ready ? route_row(route && *route ? route : "other") : NULL;
    if (r) {
        int i = 0;
        while (i < r->nstatus && r->status[i] != status)
            i++;
        if (i == r->nstatus) {
            if (r->nstatus < MAX_STATUSES - 1) {
                r->status[r->nstatus++] = status;
            } else {
                for (i = 0; i < r->nstatus && r->status[i] != 0; i++)
                    ;
                if (i == r->nstatus)
                    r->status[r->nstatus++] = 0;
            }
        }
        r->count[i]++;
    }
    pthread_mutex_unlock(&lock);
}

void metrics_job_finished(const char *verdict)
{
    pthread_mutex_lock(&lock);
    struct named_count *c = ready ? named_slot(t.verdicts, &t.nverdicts, MAX_VERDICTS,
                                               verdict && *verdict ? verdict : "other")
                                  : NULL;
    if (c)
        c->count++;
    pthread_mutex_unlock(&lock);
}

void metrics_observe(const char *stage, double seconds)
{
    if (!stage || isnan(seconds))
        return;
    size_t s = 0;
    while (s < NSTAGES && strcmp(stages[s], stage) != 0)
        s++;
    if (s == NSTAGES)
        return;
    if (seconds < 0)
        seconds = 0;
    size_t b = 0;
    while (b < NBOUNDS && seconds > bounds[b])
        b++;
    pthread_mutex_lock(&lock);
    if (ready) {
        t.hist[s].bucket[b]++;
        t.hist[s].count++;
        if (isfinite(seconds))
            t.hist[s].sum += seconds;
    }
    pthread_mutex_unlock(&lock);
}

void metrics_gpu_busy(int gpu, double seconds)
{
    if (gpu < 0 || gpu >= MAX_GPUS || !isfinite(seconds) || seconds <= 0)
        return;
    pthread_mutex_lock(&lock);
    if (ready)
        t.gpu_busy[gpu] += seconds;
    pthread_mutex_unlock(&lock);
}

double metrics_gpu_busy_seconds(int gpu)
{
    if (gpu < 0 || gpu >= MAX_GPUS)
        return 0;
    pthread_mutex_lock(&lock);
    double v = t.gpu_busy[gpu];
    pthread_mutex_unlock(&lock);
    return v;
}

/* ---- rendering ----------------------------------------------------------------------------- */

/* A label value escaped per the text format, into out (cut to fit). */
static const char *label(const char *v, char *out, size_t cap)
{
    size_t n = 0;
    for (; *v && n + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') {
            out[n++] = '\\';
            out[n++] = *v;
        } else if (*v == '\n') {
            out[n++] = '\\';
            out[n++] = 'n';
        } else {
            out[n++] = *v;
        }
    }
    out[n] = 0;
    return out;
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_hist(struct buf *b, const struct tables *s)
{
    family(b, "kgrade_stage_seconds", "histogram", "Duration of each stage of an evaluation.");
    for (size_t i = 0; i < NSTAGES; i++) {
        const struct hist *h = &s->hist[i];
        uint64_t cum = 0;
        for (size_t k = 0; k <= NBOUNDS; k++) {
            cum += h->bucket[k];
            if (k < NBOUNDS)
                buf_printf(b, "kgrade_stage_seconds_bucket{stage=\"%s\",le=\"%g\"} %llu\n", stages[i], bounds[k],
                           (unsigned long long)cum);
            else
                buf_printf(b, "kgrade_stage_seconds_bucket{stage=\"%s\",le=\"+Inf\"} %llu\n", stages[i],
                           (unsigned long long)cum);
        }
        buf_printf(b, "kgrade_stage_seconds_sum{stage=\"%s\"} %.9g\n", stages[i], h->sum);
        buf_printf(b, "kgrade_stage_seconds_count{stage=\"%s\"} %llu\n", stages[i], (unsigned long long)h->count);
    }
}

static void render_gpus(struct buf *b, const struct tables *s, int ngpu, double uptime)
{
    family(b, "kgrade_gpu_busy_seconds_total", "counter", "Seconds each GPU spent running evaluations.");
    for (int g = 0; g < ngpu; g++)
        buf_printf(b, "kgrade_gpu_busy_seconds_total{gpu=\"%d\"} %.9g\n", g, s->gpu_busy[g]);
    family(b, "kgrade_gpu_busy_fraction", "gauge", "Busy seconds of each GPU over the daemon's uptime.");
    for (int g = 0; g < ngpu; g++) {
        double f = uptime > 0 ? s->gpu_busy[g] / uptime : 0;
        buf_printf(b, "kgrade_gpu_busy_fraction{gpu=\"%d\"} %.6f\n", g, f > 1 ? 1.0 : f);
    }
}

static void render_http(struct buf *b, const struct tables *s)
{
    char lv[2 * NAME_MAX_LEN + 1];
    family(b, "kgrade_http_requests_total", "counter", "HTTP requests answered, by route pattern and status.");
    for (int i = 0; i < s->nroutes; i++) {
        const struct route_row *r = &s->routes[i];
        label(r->name, lv, sizeof lv);
        for (int k = 0; k < r->nstatus; k++) {
            if (r->status[k])
                buf_printf(b, "kgrade_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n", lv, r->status[k],
                           (unsigned long long)r->count[k]);
            else
                buf_printf(b, "kgrade_http_requests_total{route=\"%s\",status=\"other\"} %llu\n", lv,
                           (unsigned long long)r->count[k]);
        }
    }
}

char *metrics_render(struct app *app)
{
    struct tables *s = NULL;
    struct buf b;
    char lv[2 * NAME_MAX_LEN + 1];
    char *text = NULL;
    buf_init(&b, RENDER_MAX);
    s = malloc(sizeof *s);
    if (!s)
        goto out;
    pthread_mutex_lock(&lock);
    memcpy(s, &t, sizeof *s);
    pthread_mutex_unlock(&lock);

    struct timeval tv;
    gettimeofday(&tv, NULL);
    double uptime = (double)tv.tv_sec + tv.tv_usec / 1e6 - app->started;
    if (uptime < 0)
        uptime = 0;
    long counts[STORE_NSTATUS];
    struct err e;
    int have_counts = app->store && store_counts(app->store, counts, &e) == 0;
    if (app->store && !have_counts)
        log_warn(NULL, "metrics: store_counts: %s", e.msg);
    int ngpu = app->sched ? sched_gpu_count(app->sched) : 0;
    if (ngpu > MAX_GPUS)
        ngpu = MAX_GPUS;

    family(&b, "kgrade_up", "gauge", "1 while the daemon answers.");
    buf_printf(&b, "kgrade_up 1\n");
    family(&b, "kgrade_uptime_seconds", "gauge", "Seconds since the daemon started.");
    buf_printf(&b, "kgrade_uptime_seconds %.3f\n", uptime);
    family(&b, "kgrade_queue_jobs", "gauge", "Evaluations in the store, by status.");
    for (int i = 0; have_counts && i < STORE_NSTATUS; i++)
        buf_printf(&b, "kgrade_queue_jobs{status=\"%s\"} %ld\n", store_status_name((enum store_status)i), counts[i]);
    family(&b, "kgrade_jobs_finished_total", "counter", "Evaluations finished since start, by verdict.");
    for (int i = 0; i < s->nverdicts; i++)
        buf_printf(&b, "kgrade_jobs_finished_total{verdict=\"%s\"} %llu\n", label(s->verdicts[i].name, lv, sizeof lv),
                   (unsigned long long)s->verdicts[i].count);
    render_hist(&b, s);
    render_gpus(&b, s, ngpu, uptime);
    render_http(&b, s);
    if (b.toobig)
        log_warn(NULL, "metrics: the exposition text passed %u bytes and was cut", RENDER_MAX);
    text = buf_take(&b);
out:
    buf_free(&b);
    free(s);
    return text;
}
