/* events.c — GET /v1/events: the store's events as Server-Sent Events (docs/api.md, "Events").
 *
 * The one idea: the stream is a cursor over the store's event log. Its state is the id of the last
 * event sent (`after`) and a buffer of bytes formatted but not yet handed to libmicrohttpd; the
 * reader callback drains that buffer, refills it with at most REFILL events after `after`, and when
 * nothing is new blocks on store_wait_change() for at most a second at a time. Events are stored,
 * so a client that reconnects with Last-Event-ID gets exactly what it missed.
 *
 * DESIGN (the reader callback, one call)
 *   pending  bytes left in the buffer -> copy as many as fit, return their count.
 *   stopping app->stopping set -> end of stream.
 *   refill   note the generation, then read events after `after`: any -> format them (id, event,
 *            data lines), advance `after`, loop.
 *   idle     none and 15 s since the last bytes -> ": keepalive" comment, loop.
 *   wait     else wait for a generation other than the one noted (<= 1 s), loop. The generation is
 *            noted before the read, so a change committed between the read and the wait is never
 *            missed.
 * The callback never returns 0 (with a thread per connection that would spin): it blocks instead,
 * which the handler's thread is for. The client going away is noticed at the next write, at the
 * latest with the next keepalive.
 *
 * Invariants: the pending buffer holds at most one refill (REFILL events, PENDING_MAX bytes);
 * `after` only moves past events that are in the buffer; a stream's first bytes are the retry hint.
 *
 * Does not: filter by anything but one job or one batch, or replay events the store has pruned
 * (--events-keep): a resume point older than that continues from the oldest event kept. */
#include "api.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "log.h"

#define REFILL 256                  /* events per store read */
#define PENDING_MAX (4u << 20)      /* bytes formatted and not yet sent */
#define KEEPALIVE_S 15.0
#define WAIT_MS 1000
#define FILTER_MAX 64

struct stream {
    struct app *app;
    char job[FILTER_MAX + 1];       /* "" when not filtered */
    char batch[FILTER_MAX + 1];
    int64_t after;                  /* the id of the last event formatted */
    struct buf pending;
    size_t off;                     /* bytes of pending already sent */
    double last_bytes;              /* monotonic seconds of the last bytes formatted */
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The id of an event object (0 when it has none). */
static int64_t event_id(const cJSON *ev)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "id");
    return cJSON_IsNumber(id) && id->valuedouble > 0 ? (int64_t)id->valuedouble : 0;
}

/* Append one event as `id`, `event`, `data` lines: 0, ERR_LIMIT (nothing appended) or ERR_NOMEM. */
static int format_event(struct buf *b, const cJSON *ev)
{
    const cJSON *jtype = cJSON_GetObjectItemCaseSensitive(ev, "type");
    const char *type = cJSON_IsString(jtype) && jtype->valuestring[0] ? jtype->valuestring : "job";
    char *data = cJSON_PrintUnformatted(ev);
    if (!data)
        return ERR_NOMEM;
    int rc = buf_printf(b, "id: %lld\nevent: %s\ndata: %s\n\n", (long long)event_id(ev), type, data);
    free(data);
    return rc;
}

/* Read the events after st->after into the (empty) pending buffer. Returns how many were read
 * (0: nothing new), or a negative code when the store failed. */
static int refill(struct stream *st)
{
    cJSON *evs = NULL;
    struct err e;
    int n = 0;
    int rc = store_events(st->app->store, st->after, st->job[0] ? st->job : NULL,
                          st->batch[0] ? st->batch : NULL, REFILL, &evs, &e);
    if (rc) {
        log_warn(NULL, "events: store_events: %s", e.msg);
        goto out;
    }
    const cJSON *ev;
    cJSON_ArrayForEach(ev, evs) {
        rc = format_event(&st->pending, ev);
        if (rc == ERR_LIMIT && st->pending.len == 0) {
            log_warn(NULL, "events: event %lld is larger than %u bytes; skipped", (long long)event_id(ev),
                     PENDING_MAX);
            st->pending.toobig = 0;
        } else if (rc == ERR_LIMIT) {
            st->pending.toobig = 0;
            rc = 0;
            break;                  /* the rest comes with the next refill */
        } else if (rc) {
            goto out;
        }
        rc = 0;
        if (event_id(ev) > st->after)
            st->after = event_id(ev);
        n++;
    }
    if (n > 0)
        st->last_bytes = mono_now();
    rc = n;
out:
    cJSON_Delete(evs);
    return rc;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *st = cls;
    struct app *app = st->app;
    for (;;) {
        if (st->off < st->pending.len) {
            size_t n = st->pending.len - st->off;
            if (n > max)
                n = max;
            memcpy(out, st->pending.p + st->off, n);
            st->off += n;
            if (st->off == st->pending.len) {
                buf_reset(&st->pending);
                st->off = 0;
            }
            return (ssize_t)n;
        }
        if (atomic_load(&app->stopping))
            return MHD_CONTENT_READER_END_OF_STREAM;
        uint64_t gen = store_generation(app->store);
        int got = refill(st);
        if (got < 0)
            return MHD_CONTENT_READER_END_WITH_ERROR;   /* the client reconnects with Last-Event-ID */
        if (got > 0)
            continue;
        double idle = mono_now() - st->last_bytes;
        if (idle >= KEEPALIVE_S) {
            if (buf_printf(&st->pending, ": keepalive\n\n"))
                return MHD_CONTENT_READER_END_WITH_ERROR;
            st->last_bytes = mono_now();
            continue;
        }
        int ms = (int)((KEEPALIVE_S - idle) * 1000) + 1;
        store_wait_change(app->store, gen, ms < WAIT_MS ? ms : WAIT_MS);
    }
}

static void stream_free(void *cls)
{
    struct stream *st = cls;
    if (!st)
        return;
    buf_free(&st->pending);
    free(st);
}

/* A filter parameter: absent (""), or 1..FILTER_MAX characters. 0, or -1 after the 400 reply. */
static int filter_param(struct http_req *rq, struct http_reply *rp, const char *key, char out[FILTER_MAX + 1])
{
    const char *v = http_query(rq, key);
    out[0] = 0;
    if (!v)
        return 0;
    size_t n = strlen(v);
    if (n == 0 || n > FILTER_MAX) {
        http_reply_error(rp, 400, "invalid_parameter", key, "%s: must be 1..%d characters", key, FILTER_MAX);
        return -1;
    }
    memcpy(out, v, n + 1);
    return 0;
}

/* A resume point: a non-negative integer. */
static int parse_event_id(const char *v, int64_t *out)
{
    size_t n = strlen(v);
    if (n == 0 || n > 18 || strspn(v, "0123456789") != n)
        return -1;
    *out = (int64_t)strtoll(v, NULL, 10);
    return 0;
}

void events_stream(struct http_req *rq, struct http_reply *rp)
{
    struct app *app = rq->app;
    struct stream *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
        return;
    }
    st->app = app;
    buf_init(&st->pending, PENDING_MAX);
    if (filter_param(rq, rp, "job", st->job) || filter_param(rq, rp, "batch", st->batch))
        goto out;

    /* The header is what a reconnecting EventSource sends: it is newer than the URL's parameter. */
    const char *hdr = http_header(rq, "Last-Event-ID");
    const char *q = http_query(rq, "last_event_id");
    if (hdr && *hdr) {
        if (parse_event_id(hdr, &st->after)) {
            http_reply_error(rp, 400, "invalid_parameter", "Last-Event-ID",
                             "Last-Event-ID: must be a non-negative integer");
            goto out;
        }
    } else if (q) {
        if (parse_event_id(q, &st->after)) {
            http_reply_error(rp, 400, "invalid_parameter", "last_event_id",
                             "last_event_id: must be a non-negative integer");
            goto out;
        }
    } else {
        st->after = store_last_event_id(app->store);
    }

    if (buf_printf(&st->pending, "retry: 2000\n\n")) {
        http_reply_error(rp, 500, "internal", NULL, "out of memory");
        goto out;
    }
    st->last_bytes = mono_now();
    http_reply_stream(rp, 200, "text/event-stream", reader, st, stream_free);
    st = NULL;                      /* the response owns it now */
    http_reply_header(rp, "Cache-Control", "no-cache");
    http_reply_header(rp, "X-Accel-Buffering", "no");
out:
    stream_free(st);
}
