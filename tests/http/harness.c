/* harness.c — start, stop, kill and restart a real kgraded for the HTTP tests; requests through
 * libcurl's easy interface.
 *
 * The port: bind 127.0.0.1:0, read the port the kernel chose, close, pass it with --listen. Another
 * process may take it in between; the daemon then exits at once and we try again with a new port
 * (three times). The daemon inherits no KGRADE_* variable from our environment, so only the flags
 * the test gives configure it. Its stdout and stderr are appended to DATA/kgraded.log.
 *
 * Every request uses a fresh easy handle (so a thread never shares one) and a fresh connection;
 * the body may be sent chunked through a read callback; a response that arrives while the body is
 * still being sent (413 on a large upload) counts as a response, and so does a stream cut by the
 * timeout. */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

extern char **environ;

void harness_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);   /* progress lines in order with the failures on stderr */
    curl_global_init(CURL_GLOBAL_DEFAULT);
    signal(SIGPIPE, SIG_IGN);
}

double harness_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

void harness_sleep(double s)
{
    if (s <= 0)
        return;
    struct timespec t = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&t, &t) != 0 && errno == EINTR) {
    }
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* Fork and exec the daemon on h->port; 0 or -1. */
static int spawn_daemon(struct harness *h)
{
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", h->port);
    const char *argv[80];
    int n = 0;
    argv[n++] = h->kgraded;
    argv[n++] = "--listen";
    argv[n++] = listen;
    argv[n++] = "--data";
    argv[n++] = h->data;
    argv[n++] = "--gpus";
    argv[n++] = "none";
    argv[n++] = "--worker";
    argv[n++] = h->worker;
    for (int i = 0; h->args[i] && n < 79; i++)
        argv[n++] = h->args[i];
    argv[n] = NULL;

    /* only the flags configure the daemon: no KGRADE_* variable passes */
    size_t ne = 0;
    while (environ[ne])
        ne++;
    char **envp = calloc(ne + 1, sizeof *envp);
    if (!envp)
        return -1;
    for (size_t i = 0, k = 0; i < ne; i++)
        if (strncmp(environ[i], "KGRADE_", 7) != 0)
            envp[k++] = environ[i];

    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        free(envp);
        return -1;
    }
    if (pid == 0) {
        int logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (logfd >= 0) {
            dup2(logfd, 1);
            dup2(logfd, 2);
        }
        if (nul >= 0)
            dup2(nul, 0);
        signal(SIGPIPE, SIG_DFL);
        union { const char **c; char *const *m; } av = {argv};   /* execve's historical type */
        execve(h->kgraded, av.m, envp);
        static const char msg[] = "harness: exec kgraded failed\n";
        if (write(2, msg, sizeof msg - 1) < 0) {
        }
        _exit(127);
    }
    free(envp);
    h->pid = pid;
    return 0;
}

int harness_alive(struct harness *h)
{
    if (h->pid <= 0)
        return 0;
    int st;
    pid_t r = waitpid(h->pid, &st, WNOHANG);
    if (r == h->pid || (r < 0 && errno == ECHILD)) {
        h->pid = 0;
        return 0;
    }
    return 1;
}

/* Start on a new port and wait for /v1/health; three tries when the daemon exits early. */
static int launch(struct harness *h)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        h->port = free_port();
        if (h->port < 0) {
            perror("free port");
            return -1;
        }
        snprintf(h->base, sizeof h->base, "http://127.0.0.1:%d", h->port);
        if (spawn_daemon(h) != 0)
            return -1;
        double deadline = harness_now() + 10.0;
        while (harness_now() < deadline) {
            if (!harness_alive(h))
                break;
            struct hreq rq = {.method = "GET", .target = "/v1/health", .timeout_s = 1.0};
            struct hres r;
            int rc = harness_http(h->base, &rq, &r);
            long st = r.status;
            hres_free(&r);
            if (rc == 0 && st == 200)
                return 0;
            harness_sleep(0.05);
        }
        if (harness_alive(h)) {
            fprintf(stderr, "harness: kgraded did not answer /v1/health within 10 s\n");
            harness_log_tail(h, 30);
            harness_stop(h);
            return -1;
        }
        fprintf(stderr, "harness: kgraded exited during start (attempt %d)\n", attempt + 1);
        harness_log_tail(h, 10);
    }
    return -1;
}

int harness_start(struct harness *h, const char *kgraded, const char *worker, const char *const *args)
{
    memset(h, 0, sizeof *h);
    h->kgraded = kgraded;
    h->worker = worker;
    int n = 0;
    for (; args && args[n] && n < 47; n++)
        h->args[n] = args[n];
    h->args[n] = NULL;
    snprintf(h->data, sizeof h->data, "/tmp/kgrade-http-XXXXXX");
    if (!mkdtemp(h->data)) {
        perror("mkdtemp");
        return -1;
    }
    snprintf(h->log, sizeof h->log, "%s/kgraded.log", h->data);
    return launch(h);
}

int harness_restart(struct harness *h)
{
    if (h->pid > 0)
        harness_stop(h);
    FILE *f = fopen(h->log, "a");
    if (f) {
        fprintf(f, "---- harness: restart ----\n");
        fclose(f);
    }
    return launch(h);
}

int harness_stop(struct harness *h)
{
    if (h->pid <= 0)
        return -1;
    int st = -1;
    kill(h->pid, SIGTERM);
    double deadline = harness_now() + 10.0;
    while (harness_now() < deadline) {
        pid_t r = waitpid(h->pid, &st, WNOHANG);
        if (r == h->pid) {
            h->pid = 0;
            return st;
        }
        harness_sleep(0.02);
    }
    fprintf(stderr, "harness: kgraded ignored SIGTERM for 10 s; SIGKILL\n");
    kill(h->pid, SIGKILL);
    waitpid(h->pid, &st, 0);
    h->pid = 0;
    return st;
}

void harness_kill9(struct harness *h)
{
    if (h->pid <= 0)
        return;
    kill(h->pid, SIGKILL);
    int st;
    waitpid(h->pid, &st, 0);
    h->pid = 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

int harness_cleanup(struct harness *h, int keep)
{
    int rc = 0;
    if (h->pid > 0) {
        int st = harness_stop(h);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            if (WIFSIGNALED(st))
                fprintf(stderr, "harness: kgraded died of signal %d at SIGTERM\n", WTERMSIG(st));
            else
                fprintf(stderr, "harness: kgraded exited with status %d at SIGTERM\n", WEXITSTATUS(st));
            harness_log_tail(h, 40);
            rc = -1;
            keep = 1;
        }
    }
    if (!h->data[0])
        return rc;
    if (keep)
        fprintf(stderr, "harness: kept %s (log: %s)\n", h->data, h->log);
    else   /* a worker the daemon killed on its way out may still be leaving its cache files */
        for (int i = 0; i < 20 && nftw(h->data, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0 && access(h->data, F_OK) == 0; i++)
            harness_sleep(0.1);
    return rc;
}

void harness_log_tail(const struct harness *h, int lines)
{
    size_t len = 0;
    char *s = harness_read_file(h->log, &len);
    if (!s)
        return;
    size_t i = len;
    int n = 0;
    while (i > 0 && n <= lines) {
        i--;
        if (s[i] == '\n')
            n++;
    }
    fprintf(stderr, "---- %s (tail) ----\n%s\n----\n", h->log, s + (i ? i + 1 : 0));
    free(s);
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

struct sink {
    char *p;
    size_t len, cap;
};

static int sink_add(struct sink *s, const char *d, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        if (cap > ((size_t)512 << 20))
            return -1;
        char *q = realloc(s->p, cap);
        if (!q)
            return -1;
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, d, n);
    s->len += n;
    s->p[s->len] = '\0';
    return 0;
}

static size_t on_body(char *d, size_t size, size_t n, void *cls)
{
    return sink_add(cls, d, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *d, size_t size, size_t n, void *cls)
{
    struct sink *s = cls;
    if (size * n >= 5 && strncmp(d, "HTTP/", 5) == 0)
        s->len = 0;   /* a new block (after 100 Continue): keep only the last */
    return sink_add(s, d, size * n) == 0 ? size * n : 0;
}

struct feed {
    const char *p;
    size_t left;
};

static size_t on_read(char *d, size_t size, size_t n, void *cls)
{
    struct feed *f = cls;
    size_t k = size * n;
    if (k > 65536)
        k = 65536;   /* many chunks */
    if (k > f->left)
        k = f->left;
    memcpy(d, f->p, k);
    f->p += k;
    f->left -= k;
    return k;
}

int harness_http(const char *base, const struct hreq *rq, struct hres *out)
{
    memset(out, 0, sizeof *out);
    struct sink body = {0}, hdr = {0};
    struct feed feed = {rq->body, rq->body_len};
    struct curl_slist *hl = NULL;
    char url[1 << 17];
    snprintf(url, sizeof url, "%s%s", base, rq->target);
    char errbuf[CURL_ERROR_SIZE] = "";

    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(out->error, sizeof out->error, "curl_easy_init failed");
        return -1;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdr);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)((rq->timeout_s > 0 ? rq->timeout_s : 30.0) * 1000));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
    for (int i = 0; rq->headers && rq->headers[i]; i++)
        hl = curl_slist_append(hl, rq->headers[i]);

    const char *m = rq->method;
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (rq->body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        if (rq->chunked) {
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
            curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(c, CURLOPT_READDATA, &feed);
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)-1);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
        }
        if (strcmp(m, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    } else if (strcmp(m, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, m);
    }
    if (hl)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);

    double t0 = harness_now();
    CURLcode cc = curl_easy_perform(c);
    out->seconds = harness_now() - t0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->curl_code = (int)cc;
    if (cc != CURLE_OK)
        snprintf(out->error, sizeof out->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(cc));
    curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    if (!body.p)
        sink_add(&body, "", 0);
    if (!hdr.p)
        sink_add(&hdr, "", 0);
    out->body = body.p;
    out->body_len = body.len;
    out->headers = hdr.p;
    return out->status ? 0 : -1;
}

void hres_free(struct hres *r)
{
    free(r->body);
    free(r->headers);
    r->body = r->headers = NULL;
}

const char *hres_header(const struct hres *r, const char *name, char *buf, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *p = r->headers; p && *p;) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            const char *end = p + len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' '))
                end--;
            snprintf(buf, cap, "%.*s", (int)(end - v), v);
            return buf;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    return NULL;
}

static int with_token(const struct harness *h, const char **hdrs, char *auth, size_t cap)
{
    int n = 0;
    if (h->token[0]) {
        snprintf(auth, cap, "Authorization: Bearer %s", h->token);
        hdrs[n++] = auth;
    }
    return n;
}

int harness_get(const struct harness *h, const char *target, struct hres *out)
{
    char auth[200];
    const char *hdrs[2] = {NULL, NULL};
    with_token(h, hdrs, auth, sizeof auth);
    struct hreq rq = {.method = "GET", .target = target, .headers = hdrs};
    return harness_http(h->base, &rq, out);
}

int harness_post_json(const struct harness *h, const char *target, const char *json, struct hres *out)
{
    char auth[200];
    const char *hdrs[3] = {NULL, NULL, NULL};
    int n = with_token(h, hdrs, auth, sizeof auth);
    hdrs[n] = "Content-Type: application/json";
    struct hreq rq = {.method = "POST", .target = target, .headers = hdrs, .body = json,
                      .body_len = strlen(json)};
    return harness_http(h->base, &rq, out);
}

int harness_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* ---- helpers --------------------------------------------------------------------------------- */

char *harness_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct sink s = {0};
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (sink_add(&s, buf, n) != 0) {
            free(s.p);
            fclose(f);
            return NULL;
        }
    fclose(f);
    if (!s.p)
        sink_add(&s, "", 0);
    if (len)
        *len = s.len;
    return s.p;
}

char *harness_json_string(const char *s, size_t len)
{
    struct sink o = {0};
    sink_add(&o, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[8];
        switch (ch) {
        case '"': sink_add(&o, "\\\"", 2); break;
        case '\\': sink_add(&o, "\\\\", 2); break;
        case '\n': sink_add(&o, "\\n", 2); break;
        case '\t': sink_add(&o, "\\t", 2); break;
        case '\r': sink_add(&o, "\\r", 2); break;
        default:
            if (ch < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", ch);
                sink_add(&o, esc, 6);
            } else {
                sink_add(&o, (const char *)&s[i], 1);
            }
        }
    }
    sink_add(&o, "\"", 1);
    return o.p;
}
