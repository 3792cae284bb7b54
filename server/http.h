/* http.h — the HTTP front of kgraded on libmicrohttpd: request lifecycle, bounds, routing,
 * authentication and the reply helpers the API handlers use.
 *
 * A handler runs once per request, after the whole body has arrived (and passed the size bound),
 * and fills exactly one reply: JSON, an error, or a stream. Handlers run on the connection's own
 * thread (--http threads) and may block (?wait, streams) — they must return or end their stream
 * when app->stopping is set. */
#ifndef KGRADE_HTTP_H
#define KGRADE_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <microhttpd.h>

#include "app.h"
#include "err.h"

struct http_server;

struct http_req {
    struct MHD_Connection *conn;
    const char *method;         /* "GET", "POST", "DELETE", ... */
    const char *url;            /* the path, without the query */
    const char *route;          /* the route's pattern, e.g. "/v1/evaluations/{id}" */
    char id[80];                /* the {id} of the pattern, "" when none */
    const char *body;           /* NUL-terminated; "" when none */
    size_t body_len;
    const char *content_type;   /* the header, or NULL */
    struct app *app;
};

struct http_reply {
    unsigned status;
    struct MHD_Response *resp;  /* set by the helpers below */
};

typedef void (*http_handler)(struct http_req *rq, struct http_reply *rp);

/* The route table: every route the daemon answers (the OpenAPI test walks it). The last entry has
 * method NULL. max_body is the body bound for the route (0: no body accepted). */
struct http_route {
    const char *method;
    const char *pattern;        /* "/v1/evaluations/{id}": {id} matches one non-empty segment */
    http_handler handler;
    int max_body_kind;          /* 0 none, 1 --max-body, 2 --max-batch-body */
};
extern const struct http_route http_routes[];

/* Start listening (cfg->listen_host:port, cfg->http_mode). The caller stops with http_stop. */
int http_start(struct app *app, struct http_server **out, struct err *e);
void http_stop(struct http_server *h);
/* The port listened on: the one the system picked when cfg->port is 0. */
int http_port(const struct http_server *h);

/* ---- for handlers ------------------------------------------------------------------------- */

/* A query parameter or request header, NULL when absent. */
const char *http_query(const struct http_req *rq, const char *key);
const char *http_header(const struct http_req *rq, const char *name);
/* The first query parameter whose name is not in known (NULL-terminated), or NULL when none. */
const char *http_query_unknown(const struct http_req *rq, const char *const *known);

/* Reply with JSON (takes ownership of body, deletes it). */
void http_reply_json(struct http_reply *rp, unsigned status, cJSON *body);
/* Reply {"error": {"code", "message", "field"?}}; field may be NULL. */
void http_reply_error(struct http_reply *rp, unsigned status, const char *code, const char *field,
                      const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Reply with a body produced piece by piece (chunked): read is called until it returns
 * MHD_CONTENT_READER_END_OF_STREAM; it may block (not longer than ~1 s at a time, checking
 * app->stopping). done frees cls when the response is destroyed. */
void http_reply_stream(struct http_reply *rp, unsigned status, const char *content_type,
                       MHD_ContentReaderCallback read, void *cls, MHD_ContentReaderFreeCallback done);
/* Add a header to the reply already made. */
void http_reply_header(struct http_reply *rp, const char *name, const char *value);

#endif
