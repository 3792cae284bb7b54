/* main.c — kgraded: the evaluation daemon. Reads its settings, opens the store (recovering jobs a
 * previous run left unfinished), starts the scheduler's lanes and the HTTP front, and runs until
 * SIGINT or SIGTERM; then it stops taking requests, ends streams and waits, kills running workers
 * (their jobs run again at the next start) and closes the store. Exit: 0 after a clean stop, 1 when
 * it cannot start (a message says why), 2 for bad settings. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app.h"
#include "config.h"
#include "http.h"
#include "isolation.h"
#include "log.h"
#include "metrics.h"
#include "metricset.h"
#include "sched.h"
#include "store.h"

/* mkdir -p */
static int make_dirs(const char *path, struct err *e)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0755) && errno != EEXIST)
                return err_set(e, ERR_IO, "data", "cannot create %s: %s", p, strerror(errno));
            if (!c)
                break;
            *s = c;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct config cfg;
    static struct isolation iso;
    struct app app = {.cfg = &cfg, .iso = &iso};
    struct http_server *http = NULL;
    struct err e;
    int rc = config_load(&cfg, argc, argv, &e);
    if (rc == 1)
        return 0;
    if (rc) {
        fprintf(stderr, "kgraded: %s\n", e.msg);
        return 2;
    }
    log_setup((enum log_level)cfg.log_level, cfg.log_json);
    signal(SIGPIPE, SIG_IGN);
    /* SIGINT/SIGTERM are taken by sigwait below; every thread inherits the blocked mask */
    sigset_t stopsigs;
    sigemptyset(&stopsigs);
    sigaddset(&stopsigs, SIGINT);
    sigaddset(&stopsigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stopsigs, NULL);

    int status = 1;
    if (make_dirs(cfg.data_dir, &e) || make_dirs(cfg.cache_dir, &e)) {
        log_error(NULL, "%s", e.msg);
        return 1;
    }
    char *desc = config_describe(&cfg);
    log_info(NULL, "kgraded %s starting: settings=%s", KGRADE_VERSION, desc ? desc : "?");
    free(desc);

    struct store_opts so = {.path = cfg.db_path, .sync_full = cfg.sync_full, .max_attempts = cfg.max_attempts,
                            .max_queue = cfg.max_queue, .events_keep = cfg.events_keep};
    if (store_open(&so, &app.store, &e)) {
        log_error(NULL, "cannot open the store %s: %s", cfg.db_path, e.msg);
        goto out;
    }
    int requeued = 0, failed = 0;
    if (store_recover(app.store, &requeued, &failed, &e)) {
        log_error(NULL, "store recovery failed: %s", e.msg);
        goto out;
    }
    if (requeued || failed)
        log_warn(NULL, "recovered jobs of an earlier run: requeued=%d gave_up=%d", requeued, failed);
    metrics_init();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    app.started = ts.tv_sec + ts.tv_nsec * 1e-9;
    char mnt[600];
    snprintf(mnt, sizeof mnt, "%s/sandbox-root", cfg.data_dir);
    if (make_dirs(mnt, &e) || isolation_start(&cfg, &iso, &e)) {
        log_error(NULL, "%s", e.msg);
        goto out;
    }
    char *idesc = cJSON_PrintUnformatted(iso.probe);
    log_info(NULL, "isolation: level=%s sandboxed=%s probe=%s", config_isolation_name(iso.level),
             iso.sandboxed ? "yes" : "no", idesc ? idesc : "?");
    free(idesc);
    if (iso.refusal[0])
        log_error(NULL, "%s; evaluations are answered 503 (set --isolation-min to accept less)", iso.refusal);
    if (sched_start(&cfg, &iso, app.store, &app.sched, &e)) {
        log_error(NULL, "cannot start the scheduler: %s", e.msg);
        goto out;
    }
    if (metricset_open(&cfg, app.sched, &app.metricset, &e)) {
        log_error(NULL, "%s", e.msg);
        goto out;
    }
    if (http_start(&app, &http, &e)) {
        log_error(NULL, "cannot listen on %s:%d: %s", cfg.listen_host, cfg.port, e.msg);
        goto out;
    }
    log_info(NULL, "listening on http://%s:%d (data %s)", cfg.listen_host, http_port(http), cfg.data_dir);

    int sig = 0;
    sigwait(&stopsigs, &sig);
    log_info(NULL, "stopping on %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    status = 0;
out:
    atomic_store(&app.stopping, 1);
    if (app.store)
        store_wake_all(app.store);
    http_stop(http);
    sched_stop(app.sched);
    metricset_close(app.metricset);
    store_close(app.store);
    isolation_free(&iso);
    if (!status)
        log_info(NULL, "stopped");
    return status;
}
