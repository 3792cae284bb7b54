/* prestart.c — a GPU lane's pre-started Triton worker (see prestart.h).
 *
 * DESIGN
 *   The one idea: the costly start of a Triton evaluation (python3 importing torch and Triton, two
 *   CUDA contexts) depends on nothing of the candidate, so it can happen while the lane waits for
 *   work. What does depend on the candidate travels later, over stdin, in the form the worker's
 *   own command line has (a JSON array of the same arguments), so a warm worker and a cold one
 *   are given the same job and judged the same way.
 *
 *   Lost or ran: the worker reads all of its stdin (the job line, then the source to EOF) before
 *   any of the candidate's code runs, and only the worker holds the read end of its stdin (the
 *   sandbox's keeper and init put /dev/null there). So a worker that has exited before the
 *   hand-over (proc_exited), or that took fewer bytes than it was handed (EPIPE), never ran the
 *   candidate: that is PRESTART_LOST and the lane starts the job cold. Once the whole job was
 *   taken, what happens is the job's, exactly as in a cold run.
 *
 * Invariants: a struct prestart holds at most one worker, which ends in exactly one
 * prestart_handover, prestart_dead (when it died) or prestart_stop, on its lane's thread; the
 * job's text is built in one allocation bounded by the source's size plus the arguments.
 *
 * Does not: decide when to start, replace or stop a worker (sched.c does), or judge its result
 * (verdict.c). */
#include "prestart.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#define DEAD_DRAIN_MS 2000   /* to read a dead worker's last words (it has exited: only its pipes) */

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int prestart_start(struct prestart *p, const struct prestart_spec *x, struct err *e)
{
    const char *argv[16];
    int n = 0;
    argv[n++] = x->worker, argv[n++] = "eval", argv[n++] = "--device", argv[n++] = "0";   /* its only GPU */
    argv[n++] = "--language", argv[n++] = "triton";
    if (x->python && x->python[0])
        argv[n++] = "--python", argv[n++] = x->python;
    argv[n++] = "--record-fd", argv[n++] = "3", argv[n++] = "--seal", argv[n++] = "--compact";
    argv[n++] = "--job-stdin";
    argv[n] = NULL;
    struct isolation_run run = {.slot = x->slot, .gpu = x->gpu, .wall_ms = x->wall_ms, .profile = "python",
                                .memory = x->memory, .rw = {x->shared_bind}};
    struct isolation_argv a;
    p->proc = NULL;
    p->since = 0;
    int rc = isolation_argv(x->iso, &run, argv, &a, e);
    if (rc)
        return rc;
    struct proc_opts o = {.argv = a.v, .out_max = x->out_max, .err_max = x->err_max,
                          .extra_max = {x->record_max, x->meta_max}};
    if ((rc = proc_start(&o, &p->proc, e)))
        return rc;
    p->since = now_s();
    return 0;
}

double prestart_age_s(const struct prestart *p)
{
    return p->proc ? now_s() - p->since : 0;
}

/* What became of a worker, from its sandbox's meta line (or its keeper's status), and the tail of
 * its stderr on one line, into out. */
static void fate(const struct proc_result *r, char *out, size_t len)
{
    struct isolation_meta m;
    struct err pe;
    char what[200], tail[201];
    if (isolation_meta_parse(r->extra[1], r->extra_len[1], &m, &pe))
        snprintf(what, sizeof what, "its sandbox %s %d", r->exited ? "exited with status" : "died of signal",
                 r->exited ? r->code : r->signal);
    else if (m.status == ISOLATION_EXITED)
        snprintf(what, sizeof what, "the worker exited with status %d", m.exit_code);
    else if (m.status == ISOLATION_SIGNALED)
        snprintf(what, sizeof what, "the worker died of %s", m.signal);
    else if (m.status == ISOLATION_SETUP_FAILED)
        snprintf(what, sizeof what, "its sandbox could not be set up: %.150s", m.error);
    else
        snprintf(what, sizeof what, "its sandbox ended it (%s)", m.status == ISOLATION_TIMEOUT ? "wall clock"
                 : m.status == ISOLATION_MEMORY_LIMIT ? "memory limit" : "a forbidden call");
    size_t n = r->err_len > 200 ? 200 : r->err_len;
    memcpy(tail, r->err + r->err_len - n, n);
    tail[n] = 0;
    for (char *c = tail; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    snprintf(out, len, "%.180s%s%.200s", what, n ? "; stderr: " : "", tail);
}

/* End worker w, which has exited; e says what became of it. */
static void describe_death(struct proc *w, struct err *e)
{
    struct proc_result r;
    struct err pe;
    char f[400];
    if (proc_finish(w, NULL, 0, DEAD_DRAIN_MS, NULL, &r, &pe)) {
        err_set(e, ERR_IO, "", "it is gone (%s)", pe.msg);
        return;
    }
    fate(&r, f, sizeof f);
    err_set(e, ERR_IO, "", "%s after %.1f s of waiting", f, r.waited_ms / 1000);
    proc_result_free(&r);
}

int prestart_dead(struct prestart *p, struct err *e)
{
    if (!p->proc || !proc_exited(p->proc))
        return 0;
    describe_death(p->proc, e);
    p->proc = NULL;
    return 1;
}

/* The text handed over: the arguments after "eval" as one JSON line, then the source. Owned by
 * the caller; NULL when out of memory. */
static char *job_text(const char *const *argv, const char *src, size_t len, size_t *out_len)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 2; a && argv[0] && argv[1] && argv[i]; i++)
        if (!cJSON_AddItemToArray(a, cJSON_CreateString(argv[i]))) {
            cJSON_Delete(a);
            a = NULL;
        }
    char *line = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    size_t n = line ? strlen(line) : 0;
    char *text = line ? malloc(n + 1 + len + 1) : NULL;
    if (text) {
        memcpy(text, line, n);
        text[n] = '\n';
        memcpy(text + n + 1, src, len);
        text[n + 1 + len] = 0;
        *out_len = n + 1 + len;
    }
    free(line);
    return text;
}

int prestart_handover(struct prestart *p, const char *const *job_argv, const char *src, size_t len,
                      long deadline_ms, atomic_int *cancel, struct proc_result *r, struct err *e)
{
    struct proc *w = p->proc;
    char *job = NULL;
    size_t n = 0;
    int rc;
    p->proc = NULL;
    memset(r, 0, sizeof *r);
    if (!w) {
        err_set(e, ERR_INVALID, "", "no pre-started worker");
        return PRESTART_LOST;
    }
    if (proc_exited(w)) {
        describe_death(w, e);
        return PRESTART_LOST;
    }
    if (!(job = job_text(job_argv, src, len, &n))) {
        proc_abort(w);
        err_set(e, ERR_NOMEM, "", "out of memory for the job's text");
        return PRESTART_LOST;
    }
    rc = proc_finish(w, job, n, deadline_ms, cancel, r, e);
    if (rc == 0 && r->in_fed < n) {
        char f[400];
        fate(r, f, sizeof f);
        err_set(e, ERR_IO, "", "it took %zu of the job's %zu bytes: %s", r->in_fed, n, f);
        proc_result_free(r);
        memset(r, 0, sizeof *r);
        rc = PRESTART_LOST;
    }
    free(job);
    return rc;
}

void prestart_stop(struct prestart *p, long wait_ms)
{
    struct proc_result r;
    struct err e;
    if (!p->proc)
        return;
    if (proc_finish(p->proc, NULL, 0, wait_ms, NULL, &r, &e) == 0)   /* stdin closed: it exits on its own */
        proc_result_free(&r);
    p->proc = NULL;
}
