/* test_http_slow.c — slow, stalled and too many clients must not stop kgraded from answering.
 *
 * usage: test_http_slow KGRADED WORKER SOURCE_DIR threads|epoll
 *
 * 1. Slowloris, with --client-timeout 2: 50 raw connections send a request's headers one byte a
 *    second, one sends complete headers with a Content-Length body that never comes, one sends
 *    nothing. Meanwhile ordinary requests must be answered in under a second each. When the
 *    dripping stops, every connection must be closed by the daemon within the timeout plus slack
 *    (docs/api.md: a connection that sends nothing for --client-timeout is closed).
 * 2. A flood past --max-connections 20: 100 idle connections held open. A client may be refused
 *    or queued while the flood holds every slot, but the idle timeout clears the flood 20 at a
 *    time: the client is answered within 6 timeouts plus slack, and at once after the flood lets
 *    go. Then 60 threads
 *    hammer it concurrently; it stays up and answers afterwards.
 * Timing bounds are loose (a sanitizer build on two busy cores) but far below what a daemon
 * without the bounds would take (forever). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "harness.h"

#define NDRIP 50
#define TIMEOUT_S 2
#define SLACK_S 3.0

static const char *kgraded, *worker, *mode;

/* 1 when the peer has closed fd (EOF or reset), 0 when it is still open. Never blocks. */
static int peer_closed(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, 0) <= 0)
        return 0;
    if (p.revents & (POLLHUP | POLLERR))
        return 1;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static int send_all(int fd, const char *s, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, s, n, MSG_NOSIGNAL);
        if (k <= 0)
            return -1;
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* An ordinary request; its latency in seconds, or a large number when it failed. */
static double probe(const struct harness *h, const char *target, double timeout)
{
    struct hreq rq = {.method = "GET", .target = target, .timeout_s = timeout};
    struct hres r;
    int rc = harness_http(h->base, &rq, &r);
    double s = r.seconds;
    long st = r.status;
    hres_free(&r);
    return rc == 0 && st == 200 ? s : 1e9;
}

static void test_slowloris(void)
{
    const char *args[] = {"--client-timeout", "2", "--http", mode, "--cpu-lanes", "1", NULL};
    struct harness h;
    CHECK(harness_start(&h, kgraded, worker, args) == 0);
    if (!h.pid)
        return;
    int drip[NDRIP], stalled, idle;
    double last_drip[NDRIP], closed_at[NDRIP];
    int opened = 0;
    static const char head[] = "GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    for (int i = 0; i < NDRIP; i++) {
        drip[i] = harness_connect(h.port);
        closed_at[i] = 0;
        if (drip[i] >= 0 && send_all(drip[i], head, 10) == 0)   /* the first 10 bytes at once */
            opened++;
        last_drip[i] = harness_now();
    }
    CHECK_INT(opened, NDRIP);
    stalled = harness_connect(h.port);
    static const char post[] = "POST /v1/evaluations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                               "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"problem\"";
    CHECK(stalled >= 0 && send_all(stalled, post, sizeof post - 1) == 0);
    double stalled_t0 = harness_now();
    idle = harness_connect(h.port);
    CHECK(idle >= 0);
    double idle_t0 = harness_now();
    double stalled_closed = 0, idle_closed = 0;

    /* six seconds of dripping; ordinary requests meanwhile */
    double t_end = harness_now() + 6.0, worst = 0, next_drip = harness_now() + 1.0;
    size_t pos = 10;
    int probes = 0, early_closed = 0;
    while (harness_now() < t_end) {
        if (harness_now() >= next_drip && pos < sizeof head - 1) {
            for (int i = 0; i < NDRIP; i++)
                if (drip[i] >= 0 && !closed_at[i]) {
                    if (send(drip[i], head + pos, 1, MSG_NOSIGNAL) == 1)
                        last_drip[i] = harness_now();
                    else
                        closed_at[i] = harness_now();
                }
            pos++;
            next_drip += 1.0;
        }
        double s = probe(&h, (probes % 2) ? "/v1/health" : "/v1/problems/kb1-55", 5.0);
        if (s > worst)
            worst = s;
        probes++;
        if (!stalled_closed && stalled >= 0 && peer_closed(stalled))
            stalled_closed = harness_now();
        if (!idle_closed && idle >= 0 && peer_closed(idle))
            idle_closed = harness_now();
        harness_sleep(0.2);
    }
    for (int i = 0; i < NDRIP; i++)
        if (closed_at[i] || (drip[i] >= 0 && peer_closed(drip[i])))
            early_closed++;
    printf("slowloris (%s): %d ordinary requests while dripping, slowest %.3f s; %d of %d dripping "
           "connections closed by the daemon while still sending\n", mode, probes, worst, early_closed, NDRIP);
    CHECK(probes >= 10);
    CHECK(worst < 1.0);
    if (worst >= 1.0)
        fprintf(stderr, "  an ordinary request took %.3f s (or failed) during the slowloris\n", worst);

    /* the dripping stops: everything must be closed within the timeout plus slack */
    double deadline = harness_now() + TIMEOUT_S + SLACK_S + 1.0;
    int open_left;
    do {
        open_left = 0;
        for (int i = 0; i < NDRIP; i++) {
            if (drip[i] < 0 || closed_at[i])
                continue;
            if (peer_closed(drip[i]))
                closed_at[i] = harness_now();
            else
                open_left++;
        }
        if (!stalled_closed && stalled >= 0 && peer_closed(stalled))
            stalled_closed = harness_now();
        if (!idle_closed && idle >= 0 && peer_closed(idle))
            idle_closed = harness_now();
        if (open_left == 0 && stalled_closed && idle_closed)
            break;
        harness_sleep(0.05);
    } while (harness_now() < deadline);
    double worst_close = 0;
    for (int i = 0; i < NDRIP; i++)
        if (closed_at[i] && closed_at[i] - last_drip[i] > worst_close)
            worst_close = closed_at[i] - last_drip[i];
    printf("after the last byte: dripping connections closed within %.2f s (%d still open); the stalled "
           "body closed after %.2f s, the silent connection after %.2f s (--client-timeout %d)\n",
           worst_close, open_left, stalled_closed ? stalled_closed - stalled_t0 : -1,
           idle_closed ? idle_closed - idle_t0 : -1, TIMEOUT_S);
    CHECK_INT(open_left, 0);
    CHECK(worst_close <= TIMEOUT_S + SLACK_S);
    CHECK(stalled_closed != 0);
    CHECK(stalled_closed == 0 || stalled_closed - stalled_t0 <= TIMEOUT_S + SLACK_S);
    CHECK(idle_closed != 0);
    CHECK(idle_closed == 0 || idle_closed - idle_t0 <= TIMEOUT_S + SLACK_S);

    for (int i = 0; i < NDRIP; i++)
        if (drip[i] >= 0)
            close(drip[i]);
    if (stalled >= 0)
        close(stalled);
    if (idle >= 0)
        close(idle);
    CHECK(harness_alive(&h));
    CHECK(probe(&h, "/v1/health", 5.0) < 1.0);
    CHECK(harness_cleanup(&h, check_failed != 0) == 0);
}

struct hammer {
    const struct harness *h;
    atomic_int ok, failed;
};

static void *hammer_thread(void *arg)
{
    struct hammer *hm = arg;
    for (int i = 0; i < 5; i++) {
        if (probe(hm->h, "/v1/health", 10.0) < 1e8)
            atomic_fetch_add(&hm->ok, 1);
        else
            atomic_fetch_add(&hm->failed, 1);
    }
    return NULL;
}

static void test_flood(void)
{
    const char *args[] = {"--client-timeout", "2", "--max-connections", "20", "--http", mode,
                          "--cpu-lanes", "1", NULL};
    struct harness h;
    CHECK(harness_start(&h, kgraded, worker, args) == 0);
    if (!h.pid)
        return;
    int fds[100], n = 0;
    for (int i = 0; i < 100; i++) {
        fds[i] = harness_connect(h.port);
        n += fds[i] >= 0;
    }
    printf("flood (%s): %d of 100 connections made with --max-connections 20\n", mode, n);
    /* the flood holds on. While it fills every slot a new client may be refused at once (the
     * threads front accepts and closes past the limit) or wait in the listen backlog behind the
     * flood (the epoll front stops accepting at the limit): either way the idle timeout clears
     * the flood, 20 connections every --client-timeout, so a client that retries when refused
     * and waits when queued is answered within (100 / 20 + 1) timeouts plus slack */
    double bound = (100 / 20 + 1) * TIMEOUT_S + SLACK_S;
    double t0 = harness_now(), s;
    int tries = 0;
    do {
        s = probe(&h, "/v1/health", bound);
        tries++;
        if (s < 1e8)
            break;
        harness_sleep(0.25);
    } while (harness_now() - t0 < bound);
    printf("  an ordinary client during the flood: %s after %.2f s (%d tries; bound %.0f s)\n",
           s < 1e8 ? "answered" : "NOT answered", harness_now() - t0, tries, bound);
    CHECK(s < 1e8 && harness_now() - t0 <= bound + 1.0);
    CHECK(harness_alive(&h));
    for (int i = 0; i < 100; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    harness_sleep(0.2);
    double worst = 0;
    for (int i = 0; i < 5; i++) {
        double t = probe(&h, "/v1/health", 5.0);
        worst = t > worst ? t : worst;
    }
    printf("  after the flood let go: slowest of 5 requests %.3f s\n", worst);
    CHECK(worst < 1.0);

    /* 60 clients at once, 5 requests each, against 20 connection slots */
    struct hammer hm = {.h = &h};
    pthread_t th[60];
    int started = 0;
    for (int i = 0; i < 60; i++)
        if (pthread_create(&th[i], NULL, hammer_thread, &hm) == 0)
            started++;
        else
            th[i] = 0;
    for (int i = 0; i < 60; i++)
        if (th[i])
            pthread_join(th[i], NULL);
    printf("  60 concurrent clients x 5 requests: %d answered, %d refused or failed\n", atomic_load(&hm.ok),
           atomic_load(&hm.failed));
    CHECK_INT(started, 60);
    CHECK(atomic_load(&hm.ok) > 0);
    CHECK(harness_alive(&h));
    CHECK(probe(&h, "/v1/health", 5.0) < 1.0);
    CHECK(harness_cleanup(&h, check_failed != 0) == 0);
}

int main(int argc, char **argv)
{
    if (argc < 5 || (strcmp(argv[4], "threads") != 0 && strcmp(argv[4], "epoll") != 0)) {
        fprintf(stderr, "usage: %s KGRADED WORKER SOURCE_DIR threads|epoll\n", argv[0]);
        return 2;
    }
    kgraded = argv[1];
    worker = argv[2];
    mode = argv[4];
    harness_init();
    test_slowloris();
    test_flood();
    return check_summary("test_http_slow");
}
