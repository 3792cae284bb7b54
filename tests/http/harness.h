/* harness.h — a real kgraded on loopback for the HTTP tests, and the client calls they make.
 *
 * harness_start runs build/bin/kgraded (fork/exec) on a free 127.0.0.1 port with its own --data
 * directory under /tmp, --gpus none and the worker given, plus the caller's extra flags, and waits
 * until GET /v1/health answers. Its stderr goes to DATA/kgraded.log (printed on failure by
 * harness_log_tail). The daemon can be stopped (SIGTERM, then SIGKILL), killed (-9) and started
 * again on the same data directory. Requests go through libcurl's easy interface; raw sockets are
 * for the tests that must misbehave below HTTP. */
#ifndef KGRADE_TEST_HARNESS_H
#define KGRADE_TEST_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

struct harness {
    const char *kgraded, *worker;   /* paths (not owned) */
    char data[256];                 /* the --data directory */
    char log[300];                  /* DATA/kgraded.log */
    char base[64];                  /* "http://127.0.0.1:PORT" */
    int port;
    pid_t pid;                      /* 0 when not running */
    const char *args[48];           /* extra flags, NULL-terminated (copied pointers) */
    char token[128];                /* sent as a bearer token by harness_get/post when set */
};

/* One-time process setup (curl_global_init, SIGPIPE ignored). */
void harness_init(void);

/* Create a fresh data directory and start the daemon with the extra flags (NULL-terminated, may
 * be NULL). Returns 0 when it answers /v1/health within 10 s, -1 otherwise (message on stderr). */
int harness_start(struct harness *h, const char *kgraded, const char *worker, const char *const *args);
/* Start again on the same data directory (a new port) with the same flags. */
int harness_restart(struct harness *h);
/* SIGTERM, wait up to 10 s, then SIGKILL. Returns the wait status (-1 when not running). */
int harness_stop(struct harness *h);
/* SIGKILL at once (a crash). */
void harness_kill9(struct harness *h);
/* 1 while the process runs (reaps it when it has exited). */
int harness_alive(struct harness *h);
/* Stop (a running daemon must exit 0 on SIGTERM: a clean shutdown, and under the sanitizers no
 * leak or error report), then remove the data directory unless keep or the shutdown was not
 * clean (kept directories are named on stderr). 0, or -1 when the shutdown was not clean. */
int harness_cleanup(struct harness *h, int keep);
/* The last lines of the daemon's log on stderr. */
void harness_log_tail(const struct harness *h, int lines);

/* ---- HTTP ------------------------------------------------------------------------------------ */

struct hreq {
    const char *method;         /* "GET", "POST", ... */
    const char *target;         /* path and query: "/v1/evaluations?limit=2" */
    const char *const *headers; /* "Name: value" lines, NULL-terminated (may be NULL);
                                   "Name:" removes a header curl would add */
    const char *body;           /* NULL: no body */
    size_t body_len;
    int chunked;                /* send the body with Transfer-Encoding: chunked */
    double timeout_s;           /* whole request; 0: 30 s */
};

struct hres {
    long status;                /* 0 when no response */
    char *body;                 /* NUL-terminated (owned) */
    size_t body_len;
    char *headers;              /* the last header block, raw (owned) */
    int curl_code;              /* CURLcode */
    char error[256];            /* curl's message when curl_code != 0 */
    double seconds;
};

/* One request to base ("http://127.0.0.1:PORT"). Returns 0 when a response came (even when the
 * transfer then timed out, as a stream does), -1 when none. */
int harness_http(const char *base, const struct hreq *rq, struct hres *out);
void hres_free(struct hres *r);
/* The value of response header name (case-insensitive) copied into buf; NULL when absent. */
const char *hres_header(const struct hres *r, const char *name, char *buf, size_t cap);

/* Shorthands on a running harness (its token sent when set). */
int harness_get(const struct harness *h, const char *target, struct hres *out);
int harness_post_json(const struct harness *h, const char *target, const char *json, struct hres *out);

/* A connected TCP socket to 127.0.0.1:port, or -1. */
int harness_connect(int port);

/* ---- helpers --------------------------------------------------------------------------------- */

double harness_now(void);                       /* monotonic seconds */
void harness_sleep(double s);
/* A file's contents (NUL-terminated, *len set when len != NULL); NULL on failure. Caller frees. */
char *harness_read_file(const char *path, size_t *len);
/* s as a JSON string literal with quotes. Caller frees. */
char *harness_json_string(const char *s, size_t len);

#endif
