/* watchdog.c — deadlines on a thread of their own (see watchdog.h).
 *
 * One mutex guards the deadline and the description; a condition variable on CLOCK_MONOTONIC
 * wakes the thread when the deadline changes. "fired" is set under the mutex before the handler
 * runs, which is what lets watchdog_stop refuse to return into a second result. */
#include "watchdog.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static pthread_t thread;
static bool started, stopping, armed, fired;
static struct timespec deadline;
static double limit;
static char what[256];
static watchdog_fn handler;
static void *handler_ctx;

static void *run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    while (!stopping) {
        if (!armed) {
            pthread_cond_wait(&cv, &mu);
            continue;
        }
        if (pthread_cond_timedwait(&cv, &mu, &deadline) == 0 || !armed || stopping)
            continue;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec < deadline.tv_sec || (now.tv_sec == deadline.tv_sec && now.tv_nsec < deadline.tv_nsec))
            continue;
        fired = true;
        char w[sizeof what];
        snprintf(w, sizeof w, "%s", what);
        double l = limit;
        pthread_mutex_unlock(&mu);
        handler(handler_ctx, w, l);
        _exit(3);   /* the handler must not return; if it does, still end the process */
    }
    pthread_mutex_unlock(&mu);
    return NULL;
}

int watchdog_start(watchdog_fn fn, void *ctx, struct err *e)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&cv, &ca);
    pthread_condattr_destroy(&ca);
    handler = fn;
    handler_ctx = ctx;
    stopping = armed = fired = false;
    if (pthread_create(&thread, NULL, run, NULL) != 0)
        return err_set(e, ERR_INTERNAL, "", "cannot start the watchdog thread");
    started = true;
    return 0;
}

void watchdog_arm(double ms, const char *desc)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ns = now.tv_nsec + (long long)(ms * 1e6);
    pthread_mutex_lock(&mu);
    deadline.tv_sec = now.tv_sec + (time_t)(ns / 1000000000);
    deadline.tv_nsec = (long)(ns % 1000000000);
    limit = ms;
    snprintf(what, sizeof what, "%s", desc);
    armed = true;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

void watchdog_disarm(void)
{
    pthread_mutex_lock(&mu);
    armed = false;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

void watchdog_stop(void)
{
    if (!started)
        return;
    pthread_mutex_lock(&mu);
    bool gone = fired;
    stopping = true;
    armed = false;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    if (gone)
        for (;;)
            pause();   /* the handler is writing the result and will end the process */
    pthread_join(thread, NULL);
    started = false;
    pthread_cond_destroy(&cv);
}
