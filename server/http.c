/* http.c — kgraded's HTTP front on libmicrohttpd (see http.h).
 *
 * DESIGN
 *   Request lifecycle, as in MHD's examples: the access handler is called once when the headers
 *   are in (the per-request state is allocated there and hung on *con_cls), once per piece of body
 *   (appended to a struct buf capped at the route's bound), and once more when the request is
 *   complete, where the route's handler runs and exactly one response is queued. The state is
 *   freed in MHD_OPTION_NOTIFY_COMPLETED, whatever way the request ended.
 *
 *   What the headers alone refuse is refused on the first call, before any body is read (MHD
 *   then discards the body and closes the connection after the answer), in this order:
 *     401  a token is configured and the bearer token is missing or wrong (SHA-256 digests
 *          compared in constant time; GET /v1/health exempt); before routing: paths do not leak
 *     404  no route's pattern matches the path
 *     405  a pattern matches, not with this method (Allow lists the methods it has)
 *     415  a POST whose Content-Type is present and not JSON (or JSONL for /v1/batches)
 *     413  Content-Length over the route's bound (0 for routes without a body)
 *   A chunked upload has no Content-Length: it is cut at the bound and answered 413 at the end
 *   (MHD cannot queue a response in the middle of a body); past twice the bound (at least 1 MiB
 *   past it) the connection is simply closed, so an endless upload cannot hold a thread forever.
 *
 *   Every answer goes through answer(): Cache-Control: no-store (unless the handler set one),
 *   metrics_http(route pattern or "other", status), a debug log line, a warn line for a 5xx.
 *   Modes (cfg->http_mode):
 *     threads  MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL: a connection has its own thread, so
 *              a handler may block (?wait, the results stream, SSE) without stalling others.
 *     epoll    MHD_USE_EPOLL, a pool of cfg->http_pool threads. A blocking handler (?wait, a
 *              stream's reader) holds a pool thread, and every connection it serves, for as long
 *              as it blocks: this mode exists to measure GET throughput, not for long waits.
 *   Request headers are bounded by MHD's per-connection memory (HEADER_MEMORY): past it MHD
 *   answers 431 itself. Idle or slow clients are closed after cfg->client_timeout_s.
 *
 * Does not: parse bodies (jsonin.c), know what routes mean (api_*.c, events.c), ignore SIGPIPE. */
#include "http.h"

#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "api.h"
#include "buf.h"
#include "jsonin.h"
#include "log.h"
#include "metrics.h"
#include "sha256.h"

#define HEADER_MEMORY (32 * 1024)   /* MHD's per-connection pool: request headers and I/O buffers */
#define STREAM_BLOCK 8192           /* preferred piece size of streamed replies */
#define DROP_MIN (1u << 20)         /* body bytes dropped past the bound before closing, at least */

const struct http_route http_routes[] = {
    {"POST", "/v1/evaluations", api_eval_submit, 1},
    {"GET", "/v1/evaluations", api_eval_list, 0},
    {"GET", "/v1/evaluations/{id}", api_eval_get, 0},
    {"DELETE", "/v1/evaluations/{id}", api_eval_cancel, 0},
    {"POST", "/v1/batches", api_batch_submit, 2},
    {"GET", "/v1/batches/{id}", api_batch_get, 0},
    {"DELETE", "/v1/batches/{id}", api_batch_cancel, 0},
    {"GET", "/v1/batches/{id}/results", api_batch_results, 0},
    {"GET", "/v1/problems", api_info_problems, 0},
    {"GET", "/v1/problems/{id}", api_info_problem, 0},
    {"GET", "/v1/health", api_info_health, 0},
    {"GET", "/v1/events", events_stream, 0},
    {"GET", "/metrics", api_info_metrics, 0},
    {NULL, NULL, NULL, 0},
};

struct http_server {
    struct MHD_Daemon *d;
    struct app *app;
    int port;
    atomic_int started;   /* MHD's messages: warn while starting, debug after (per connection) */
};

/* One request's state (*con_cls). */
struct request {
    const struct http_route *route;   /* set once method and path matched */
    const char *pattern;              /* the first pattern the path matched (metrics), or NULL */
    char id[80];
    struct buf body;
    size_t dropped;                   /* body bytes past the bound */
    double t0;                        /* monotonic seconds at the first call */
};

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 1 when url matches pattern, its {id} segment copied into id. */
static int match(const char *pattern, const char *url, char id[80])
{
    const char *p = pattern, *u = url;
    while (*p) {
        if (strncmp(p, "{id}", 4) == 0) {
            size_t n = strcspn(u, "/");
            if (n == 0 || n >= 80)
                return 0;
            memcpy(id, u, n);
            id[n] = 0;
            u += n;
            p += 4;
        } else if (*p++ != *u++)
            return 0;
    }
    return *u == 0;
}

/* The route of method and url, or NULL; *pattern the first pattern matching the path whatever the
 * method, allow the methods of those patterns ("GET, DELETE"). */
static const struct http_route *find_route(const char *method, const char *url, char id[80],
                                           const char **pattern, char allow[64])
{
    const struct http_route *found = NULL;
    char tmp[80];
    allow[0] = 0;
    *pattern = NULL;
    for (const struct http_route *r = http_routes; r->method; r++) {
        if (!match(r->pattern, url, tmp))
            continue;
        if (!*pattern)
            *pattern = r->pattern;
        if (!strstr(allow, r->method))
            snprintf(allow + strlen(allow), 64 - strlen(allow), "%s%s", allow[0] ? ", " : "",
                     r->method);
        if (!found && strcmp(r->method, method) == 0) {
            found = r;
            memcpy(id, tmp, sizeof tmp);
        }
    }
    return found;
}

static int authorized(struct MHD_Connection *c, const char *token)
{
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    while (*h == ' ')
        h++;
    char a[65], b[65];   /* digests: equal lengths, so the comparison time says nothing */
    sha256_hex(h, strlen(h), a);
    sha256_hex(token, strlen(token), b);
    volatile unsigned diff = 0;
    for (int i = 0; i < 64; i++)
        diff |= (unsigned)(a[i] ^ b[i]);
    return diff == 0;
}

/* A copy of s safe for a logfmt value: printable ASCII without space, quote or backslash. */
static void clean(const char *s, char *out, size_t n)
{
    size_t i = 0;
    for (; s && s[i] && i + 4 < n; i++)
        out[i] = s[i] > ' ' && s[i] < 127 && s[i] != '"' && s[i] != '\\' ? s[i] : '?';
    if (s && s[i])
        memcpy(out + i, "...", 3), i += 3;
    out[i] = 0;
}

/* Queue rp as the answer (destroying our reference), count and log it. */
static enum MHD_Result answer(struct MHD_Connection *c, const struct request *r, const char *method,
                              const char *url, struct http_reply *rp)
{
    if (!rp->resp)
        return MHD_NO;   /* not even the out-of-memory reply could be made: close */
    if (!MHD_get_response_header(rp->resp, "Cache-Control"))
        MHD_add_response_header(rp->resp, "Cache-Control", "no-store");
    enum MHD_Result ok = MHD_queue_response(c, rp->status, rp->resp);
    MHD_destroy_response(rp->resp);
    rp->resp = NULL;
    const char *route = r->pattern ? r->pattern : "other";
    metrics_http(route, (int)rp->status);
    char m[24], path[128];
    double ms = (now() - r->t0) * 1e3;
    clean(method, m, sizeof m);
    clean(url, path, sizeof path);
    log_debug(NULL, "http method=%s path=%s route=%s status=%u ms=%.1f", m, path, route, rp->status,
              ms);
    if (rp->status >= 500)
        log_warn(NULL, "http answered %u: method=%s path=%s route=%s ms=%.1f", rp->status, m, path,
                 route, ms);
    return ok;
}

/* The checks of the first call; 1 with rp filled when the request is refused already. */
static int early(struct http_server *h, struct MHD_Connection *c, struct request *r,
                 const char *url, const char *method, struct http_reply *rp)
{
    const struct config *cfg = h->app->cfg;
    char allow[64];
    const struct http_route *rt = find_route(method, url, r->id, &r->pattern, allow);
    int open = rt && rt->handler == api_info_health;
    if (cfg->token[0] && !open && !authorized(c, cfg->token)) {
        http_reply_error(rp, 401, "unauthorized", NULL,
                         "missing or wrong bearer token (Authorization: Bearer <token>)");
        http_reply_header(rp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
        return 1;
    }
    if (!r->pattern) {
        http_reply_error(rp, 404, "not_found", NULL, "no route %.200s", url);
        return 1;
    }
    if (!rt) {
        http_reply_error(rp, 405, "method_not_allowed", NULL, "%.16s is not allowed on %s (allowed: %s)",
                         method, r->pattern, allow);
        http_reply_header(rp, MHD_HTTP_HEADER_ALLOW, allow);
        return 1;
    }
    r->route = rt;
    size_t bound = rt->max_body_kind == 1 ? cfg->max_body
                 : rt->max_body_kind == 2 ? cfg->max_batch_body : 0;
    buf_init(&r->body, bound);
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (strcmp(method, "POST") == 0 && ct) {
        enum jsonin_media m = jsonin_media(ct);
        int batch = rt->handler == api_batch_submit;
        if (m == JSONIN_OTHER || (m == JSONIN_JSONL && !batch)) {
            http_reply_error(rp, 415, "unsupported_media_type", NULL,
                             "Content-Type %.100s is not accepted here (application/json%s)", ct,
                             batch ? ", application/x-ndjson or application/jsonl" : "");
            return 1;
        }
    }
    const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > bound) {
        http_reply_error(rp, 413, "body_too_large", NULL, "the body (%.24s bytes) is over the "
                         "limit of this route (%zu bytes)", cl, bound);
        return 1;
    }
    return 0;
}

/* The last call: the body is complete; run the route's handler. */
static enum MHD_Result complete(struct http_server *h, struct MHD_Connection *c, struct request *r,
                                const char *url, const char *method)
{
    struct http_reply rp = {0, NULL};
    if (r->body.toobig) {
        http_reply_error(&rp, 413, "body_too_large", NULL, "the body is over the limit of this "
                         "route (%zu bytes)", r->body.max);
        return answer(c, r, method, url, &rp);
    }
    struct http_req rq = {
        .conn = c, .method = method, .url = url, .route = r->route->pattern,
        .body = r->body.p ? r->body.p : "", .body_len = r->body.len, .app = h->app,
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
    };
    memcpy(rq.id, r->id, sizeof rq.id);
    r->route->handler(&rq, &rp);
    if (!rp.resp)
        http_reply_error(&rp, 500, "internal", NULL, "the handler gave no answer");
    return answer(c, r, method, url, &rp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **con_cls)
{
    struct http_server *h = cls;
    struct request *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        r->t0 = now();
        struct http_reply rp = {0, NULL};
        return early(h, c, r, url, method, &rp) ? answer(c, r, method, url, &rp) : MHD_YES;
    }
    if (*size) {
        size_t before = r->body.len;
        if (buf_append_part(&r->body, data, *size))
            return MHD_NO;
        r->dropped += *size - (r->body.len - before);
        *size = 0;
        size_t limit = r->body.max > DROP_MIN ? r->body.max : DROP_MIN;
        return r->dropped > limit ? MHD_NO : MHD_YES;
    }
    return complete(h, c, r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct request *r = *con_cls;
    if (r)
        buf_free(&r->body);
    free(r);
    *con_cls = NULL;
}

static void __attribute__((format(printf, 2, 0))) mhd_log(void *cls, const char *fmt, va_list ap)
{
    char line[400];
    vsnprintf(line, sizeof line, fmt, ap);
    line[strcspn(line, "\r\n")] = 0;
    struct http_server *h = cls;
    log_msg(atomic_load(&h->started) ? LOG_DEBUG : LOG_WARN, NULL, "libmicrohttpd: %s", line);
}

/* host (an IPv4 or IPv6 literal, brackets allowed, or a name such as "localhost"; IPv4 first
 * when a name has both, as clients of "localhost" try it first) and port -> *ss. */
static int listen_addr(const char *host, int port, struct sockaddr_storage *ss, int *v6,
                       struct err *e)
{
    char name[64], serv[8];
    size_t n = strlen(host);
    if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
        snprintf(name, sizeof name, "%.*s", (int)(n - 2), host + 1);
    else
        snprintf(name, sizeof name, "%s", host[0] ? host : "0.0.0.0");
    if (port < 0 || port > 65535)
        return err_set(e, ERR_INVALID, "listen", "port %d is not 0..65535", port);
    snprintf(serv, sizeof serv, "%d", port);
    struct addrinfo hints = {.ai_flags = AI_NUMERICSERV, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(name, serv, &hints, &res);
    if (rc)
        return err_set(e, ERR_INVALID, "listen", "cannot resolve %s: %s", name, gai_strerror(rc));
    const struct addrinfo *pick = NULL;
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next)
        if (ai->ai_addrlen <= sizeof *ss && (ai->ai_family == AF_INET || ai->ai_family == AF_INET6) &&
            (!pick || (pick->ai_family == AF_INET6 && ai->ai_family == AF_INET)))
            pick = ai;
    if (pick) {
        memset(ss, 0, sizeof *ss);
        memcpy(ss, pick->ai_addr, pick->ai_addrlen);
        *v6 = pick->ai_family == AF_INET6;
    }
    freeaddrinfo(res);
    return pick ? 0 : err_set(e, ERR_INVALID, "listen", "%s has no IP address", name);
}

/* ---- for handlers ------------------------------------------------------------------------- */

const char *http_query(const struct http_req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(const struct http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

struct unknown_scan { const char *const *known, *bad; };

static enum MHD_Result scan_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
    struct unknown_scan *u = cls;
    for (size_t i = 0; u->known[i]; i++)
        if (strcmp(key, u->known[i]) == 0)
            return MHD_YES;
    u->bad = key;
    return MHD_NO;
}

const char *http_query_unknown(const struct http_req *rq, const char *const *known)
{
    struct unknown_scan u = {known, NULL};
    MHD_get_connection_values(rq->conn, MHD_GET_ARGUMENT_KIND, scan_arg, &u);
    return u.bad;
}

static void drop(struct http_reply *rp)
{
    if (rp->resp)
        MHD_destroy_response(rp->resp);   /* a handler that replies twice: the last one wins */
    rp->resp = NULL;
}

/* The reply of last resort: no memory for anything else. */
static void out_of_memory(struct http_reply *rp)
{
    static char body[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
    drop(rp);
    rp->status = 500;
    rp->resp = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_PERSISTENT);
    if (rp->resp)
        MHD_add_response_header(rp->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
}

void http_reply_json(struct http_reply *rp, unsigned status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    drop(rp);
    rp->resp = text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE)
                    : NULL;
    if (!rp->resp) {
        free(text);
        out_of_memory(rp);
        return;
    }
    rp->status = status;
    MHD_add_response_header(rp->resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
}

void http_reply_error(struct http_reply *rp, unsigned status, const char *code, const char *field,
                      const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *body = cJSON_CreateObject();
    cJSON *err = cJSON_AddObjectToObject(body, "error");
    if (!err || !cJSON_AddStringToObject(err, "code", code) ||
        !cJSON_AddStringToObject(err, "message", msg) ||
        (field && field[0] && !cJSON_AddStringToObject(err, "field", field))) {
        cJSON_Delete(body);
        body = NULL;
    }
    http_reply_json(rp, status, body);
}

void http_reply_stream(struct http_reply *rp, unsigned status, const char *content_type,
                       MHD_ContentReaderCallback read, void *cls, MHD_ContentReaderFreeCallback done)
{
    drop(rp);
    rp->resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, read, cls, done);
    if (!rp->resp) {
        if (done)
            done(cls);
        http_reply_error(rp, 500, "internal", NULL, "cannot start the stream");
        return;
    }
    rp->status = status;
    MHD_add_response_header(rp->resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
}

void http_reply_header(struct http_reply *rp, const char *name, const char *value)
{
    if (rp->resp)
        MHD_add_response_header(rp->resp, name, value);
}

int http_start(struct app *app, struct http_server **out, struct err *e)
{
    const struct config *cfg = app->cfg;
    struct sockaddr_storage ss;
    int v6 = 0;
    *out = NULL;
    int rc = listen_addr(cfg->listen_host, cfg->port, &ss, &v6, e);
    if (rc)
        return rc;
    struct http_server *h = calloc(1, sizeof *h);
    if (!h)
        return err_set(e, ERR_NOMEM, "listen", "out of memory");
    h->app = app;
    int epoll = cfg->http_mode == CONFIG_HTTP_EPOLL;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    flags |= (epoll ? MHD_USE_EPOLL | MHD_USE_TURBO : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL) |
             (v6 ? MHD_USE_IPv6 : 0);
    /* the pool option comes last: in threads mode its key is MHD_OPTION_END, which ends the list */
    unsigned pool = epoll && cfg->http_pool > 1 ? (unsigned)cfg->http_pool : 0;
    enum MHD_OPTION pool_opt = pool ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END;
    h->d = MHD_start_daemon(flags, (uint16_t)cfg->port, NULL, NULL, on_request, h,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, h,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->client_timeout_s,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HEADER_MEMORY,
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                            pool_opt, pool, MHD_OPTION_END);
    if (!h->d) {
        free(h);
        return err_set(e, ERR_IO, "listen", "cannot listen on %s:%d (see the libmicrohttpd line)",
                       cfg->listen_host, cfg->port);
    }
    atomic_store(&h->started, 1);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di && di->port ? di->port : cfg->port;
    log_info(NULL, "http listening host=%s port=%d mode=%s pool=%u", cfg->listen_host, h->port,
             epoll ? "epoll" : "threads", pool);
    *out = h;
    return 0;
}

void http_stop(struct http_server *h)
{
    if (h)
        MHD_stop_daemon(h->d);
    free(h);
}

int http_port(const struct http_server *h)
{
    return h ? h->port : 0;
}
