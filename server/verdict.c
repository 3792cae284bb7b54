/* verdict.c — what a finished worker run means (see verdict.h).
 *
 * DESIGN
 *   The sandbox's meta line decides first (setup failure, forbidden call, wall clock, memory limit,
 *   death by signal), each with a record the daemon writes itself; only a worker that exited is
 *   asked for its own record on fd 3, and one that gave none is our failure (internal_error,
 *   logged). Unsandboxed, the same judgement runs on an outcome made from the process's status.
 *   Every stored record then gets the isolation it ran under and what became of its output, and
 *   is made valid UTF-8: a worker's bytes never make the API's JSON invalid.
 *
 * Does not: run anything, touch the store, or decide what happens to the GPU (the scheduler runs
 * the canary after verdict_is_fault). */
#include "verdict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonin.h"
#include "log.h"
#include "metrics.h"

#define STDERR_IN_RESULT 2000   /* bytes of a failed worker's stderr quoted in its record */

/* Replace every byte of s that does not start valid UTF-8 with '?': a worker's stderr, or a log cut
 * at its size bound in the middle of a character, must not make the API's JSON invalid. */
static void make_utf8(char *s, size_t n)
{
    size_t bad, at = 0;
    while (at < n && jsonin_utf8_check(s + at, n - at, &bad)) {
        s[at + bad] = '?';
        at += bad + 1;
    }
}

cJSON *verdict_record(const char *verdict, const char *msg, const struct proc_result *r)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "schema", "kgrade.result/1");
    cJSON_AddStringToObject(j, "verdict", verdict);
    cJSON *err = cJSON_AddObjectToObject(j, "error");
    cJSON_AddStringToObject(err, "stage", "worker");
    cJSON_AddStringToObject(err, "message", msg);
    if (r && r->err_len) {
        size_t n = r->err_len > STDERR_IN_RESULT ? STDERR_IN_RESULT : r->err_len;
        char *tail = strndup(r->err + r->err_len - n, n);
        if (tail)
            make_utf8(tail, strlen(tail));
        cJSON_AddStringToObject(err, "stderr", tail ? tail : "");
        free(tail);
    }
    return j;
}

cJSON *verdict_no_code(const char *msg)
{
    cJSON *j = verdict_record("no_code", msg, NULL);
    cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    cJSON *stage = cJSON_CreateString("ingest");
    if (!err || !stage || !cJSON_ReplaceItemInObjectCaseSensitive(err, "stage", stage))
        cJSON_Delete(stage);
    return j;
}

int verdict_outcome(const struct verdict_run *v, const struct proc_result *r, struct isolation_meta *m)
{
    struct err e;
    if (v->iso->sandboxed) {
        if (isolation_meta_parse(r->extra[1], r->extra_len[1], m, &e) == 0)
            return 0;
        if (!r->timed_out) {
            log_error(v->job, "the sandbox ended (%s %d) without its meta line: %.300s", r->exited ? "exit" : "signal",
                      r->exited ? r->code : r->signal, r->err);
            return -1;
        }
    }
    memset(m, 0, sizeof *m);
    m->memory_peak = m->oom_kills = m->pids_peak = m->wall_ms = m->setup_ms = -1;
    m->status = r->timed_out ? ISOLATION_TIMEOUT : r->exited ? ISOLATION_EXITED : ISOLATION_SIGNALED;
    m->exit_code = r->code;
    snprintf(m->signal, sizeof m->signal, "%s", r->exited ? "" : proc_signal_name(r->signal));
    return 0;
}

cJSON *verdict_judge(const struct verdict_run *run, const struct proc_result *r, const struct isolation_meta *m,
                     char verdict[32])
{
    char msg[512];
    const char *v = NULL;
    if (!m) {
        snprintf(msg, sizeof msg, "the sandbox ended without reporting what happened (our failure, logged)");
        v = "internal_error";
    } else if (m->status == ISOLATION_SETUP_FAILED) {
        snprintf(msg, sizeof msg, "the sandbox could not be set up: %.400s", m->error);
        log_error(run->job, "%s", msg);
        v = "internal_error";
    } else if (m->status == ISOLATION_VIOLATION) {
        snprintf(msg, sizeof msg, "the candidate's process called %.100s, which the sandbox forbids; the sandbox was "
                 "killed", m->violation);
        v = "sandbox_violation";
    } else if (m->status == ISOLATION_TIMEOUT) {
        snprintf(msg, sizeof msg, "the worker ran past its %.0f s deadline; the sandbox was killed", run->deadline_s);
        v = "timeout";
    } else if (m->status == ISOLATION_MEMORY_LIMIT) {
        snprintf(msg, sizeof msg, "the sandbox reached its host memory limit of %zu MiB and the kernel killed it",
                 run->memory_limit >> 20);
        v = "memory_limit";
    } else if (m->status == ISOLATION_SIGNALED) {
        snprintf(msg, sizeof msg, "the worker process died: %.24s", m->signal);
        v = "runtime_error";
    }
    if (v) {
        snprintf(verdict, 32, "%s", v);
        return verdict_record(verdict, msg, r);
    }
    /* exited: the record on fd 3 (0 ok, 3 system failure, 77 no GPU, 159 sealed worker stopped) */
    cJSON *rec = NULL;
    int code = m->exit_code;
    if ((code == 0 || code == 3 || code == 77 || code == 159) && !r->extra_truncated[0])
        rec = cJSON_ParseWithLength(r->extra[0], r->extra_len[0]);
    const char *rv = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "verdict"));
    if (!cJSON_IsObject(rec) || !rv || strlen(rv) >= 32) {
        cJSON_Delete(rec);
        snprintf(msg, sizeof msg, "the worker exited with status %d without a record%s", code,
                 r->extra_truncated[0] ? " (its record passed the size bound)" : "");
        log_error(run->job, "%s: %.300s", msg, r->err);
        snprintf(verdict, 32, "internal_error");
        return verdict_record(verdict, msg, r);
    }
    snprintf(verdict, 32, "%s", rv);
    const cJSON *st;     /* the stages feed the latency histograms */
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(rec, "stages_ms")) {
        char name[64];
        snprintf(name, sizeof name, "worker_%s", st->string);
        metrics_observe(name, cJSON_GetNumberValue(st) / 1000.0);
    }
    return rec;
}

char *verdict_finish(const struct verdict_run *v, cJSON *rec, const struct proc_result *r,
                     const struct isolation_meta *m)
{
    cJSON_DeleteItemFromObjectCaseSensitive(rec, "isolation");   /* only the daemon says this */
    cJSON_AddItemToObject(rec, "isolation", isolation_result_json(v->iso, m));
    if (r && (r->out_seen || r->err_seen)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "stdout_bytes", (double)r->out_seen);
        cJSON_AddBoolToObject(o, "stdout_truncated", r->out_truncated);
        cJSON_AddNumberToObject(o, "stderr_bytes", (double)r->err_seen);
        cJSON_AddBoolToObject(o, "stderr_truncated", r->err_truncated);
        cJSON_DeleteItemFromObjectCaseSensitive(rec, "output");
        cJSON_AddItemToObject(rec, "output", o);
    }
    char *text = cJSON_PrintUnformatted(rec);
    if (text)
        make_utf8(text, strlen(text));
    return text;
}

int verdict_is_fault(const char *v)
{
    static const char *const faults[] = {"timeout", "runtime_error", "sandbox_violation", "memory_limit",
                                         "internal_error"};
    for (size_t i = 0; i < sizeof faults / sizeof faults[0]; i++)
        if (!strcmp(v, faults[i]))
            return 1;
    return 0;
}
