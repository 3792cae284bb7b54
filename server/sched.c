/* sched.c — lanes of threads that move jobs through the store by running kgrade-worker processes.
 *
 * DESIGN
 *   The queue is the store: a lane claims the best job in the status it serves (store_claim: highest
 *   priority, then oldest), runs one worker process for it, and records the outcome with a
 *   compare-and-set on the status it claimed. When nothing waits, a lane sleeps on the store's change
 *   generation, so a submission wakes it at once.
 *
 *     CPU lane   queued ──compile──▶ done (check mode, or the candidate did not compile)
 *                                  └▶ waiting_gpu (full mode; the cubin is now in the compile cache)
 *     GPU lane   waiting_gpu ──eval──▶ done          one lane per GPU: one timing per GPU at a time
 *
 *   Compilation therefore runs on the CPU cores in parallel with the GPU's timing of an earlier job,
 *   and the GPU lane's worker finds the candidate already compiled for its architecture.
 *
 * INVARIANTS
 *   - A job is finished once: store_finish only succeeds from the status the lane claimed; a
 *     cancelled job's late result is dropped.
 *   - Every worker gets a deadline; past it the worker's process group is killed and the job gets
 *     verdict timeout. A worker that dies by a signal gives runtime_error; one that exits without a
 *     record gives internal_error (our failure, logged). Job failures are results; a worker that
 *     cannot be started is a system failure, logged as an error.
 *   - At shutdown the lanes kill their workers and put their jobs back (compiling -> queued,
 *     running -> waiting_gpu), so the next start runs them again.
 *
 * Not here: isolation beyond a process of its own (the sandbox), Triton candidates. */
#include "sched.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonin.h"
#include "log.h"
#include "metrics.h"
#include "proc.h"

#define OUT_MAX (8u << 20)      /* a worker's record; the largest real ones are ~100 KiB */
#define ERR_MAX (16u << 10)
#define STDERR_IN_RESULT 2000   /* bytes of a failed worker's stderr quoted in its record */

struct lane {
    struct sched *s;
    pthread_t th;
    int gpu;                    /* index into s->gpus, -1 for a CPU lane */
    char job[32], batch[32];    /* what runs now ("" when idle); under s->mu */
    atomic_int cancel;
    atomic_int pid;
};

struct gpu {
    int ordinal, arch;
    char name[128];
};

struct sched {
    const struct config *cfg;
    struct store *st;
    pthread_mutex_t mu;
    atomic_int stop;
    struct lane *lanes;
    int nlanes, started;
    struct gpu gpus[64];
    int ngpu;
    int default_arch;           /* what CPU lanes compile for */
    char gpu_error[1024];
    cJSON *info;                /* `kgrade-worker info` */
    double t0;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- GPU discovery ------------------------------------------------------------------------ */

static int gpu_wanted(const char *list, int ordinal)
{
    if (!strcmp(list, "all"))
        return 1;
    for (const char *p = list; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p)
            return 0;
        if (v == ordinal)
            return 1;
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static void discover(struct sched *s)
{
    const char *argv[] = {s->cfg->worker, "info", NULL};
    struct proc_opts o = {.argv = argv, .out_max = 1 << 20, .err_max = ERR_MAX, .deadline_ms = 60000};
    struct proc_result r;
    struct err e;
    s->default_arch = 89;       /* the users' GPU when this host has none */
    if (proc_run(&o, &r, &e)) {
        snprintf(s->gpu_error, sizeof s->gpu_error, "cannot run the worker: %s", e.msg);
        return;
    }
    s->info = cJSON_ParseWithLength(r.out, r.out_len);
    if (!cJSON_IsObject(s->info)) {
        snprintf(s->gpu_error, sizeof s->gpu_error, "`%s info` gave no JSON (exit %d): %.200s",
                 s->cfg->worker, r.code, r.err);
        goto out;
    }
    const cJSON *d;
    cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(s->info, "devices")) {
        int ord = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "ordinal"));
        if (s->ngpu == 64 || !gpu_wanted(s->cfg->gpus, ord))
            continue;
        struct gpu *g = &s->gpus[s->ngpu++];
        g->ordinal = ord;
        g->arch = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(d, "arch"));
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "name"));
        snprintf(g->name, sizeof g->name, "%s", name ? name : "?");
    }
    if (s->ngpu)
        s->default_arch = s->gpus[0].arch;
    else {
        const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s->info, "device"));
        snprintf(s->gpu_error, sizeof s->gpu_error, "%s",
                 !strcmp(s->cfg->gpus, "none") ? "disabled by --gpus none"
                 : why && r.code ? why : "no GPU selected by --gpus");
    }
out:
    proc_result_free(&r);
}

/* ---- one worker run ------------------------------------------------------------------------ */

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

/* The record the daemon writes when the worker gave none. */
static char *daemon_record(const char *verdict, const char *msg, const struct proc_result *r)
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
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

/* Judge a finished worker: the record text (owned) and its verdict (points into a static or the
 * record's own string copy in verdict_buf). */
static char *judge(const struct lane *l, const struct proc_result *r, double deadline_s,
                   char verdict[32])
{
    char msg[256];
    if (r->timed_out) {
        snprintf(msg, sizeof msg, "the worker ran past its %.0f s deadline and was killed", deadline_s);
        snprintf(verdict, 32, "timeout");
        return daemon_record(verdict, msg, r);
    }
    if (!r->exited) {
        snprintf(msg, sizeof msg, "the worker process died: %s", proc_signal_name(r->signal));
        snprintf(verdict, 32, "runtime_error");
        return daemon_record(verdict, msg, r);
    }
    cJSON *rec = NULL;
    if ((r->code == 0 || r->code == 3 || r->code == 77) && !r->out_truncated)
        rec = cJSON_ParseWithLength(r->out, r->out_len);
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "verdict"));
    if (!v || strlen(v) >= 32) {
        cJSON_Delete(rec);
        snprintf(msg, sizeof msg, "the worker exited with status %d without a record%s", r->code,
                 r->out_truncated ? " (its output passed the size bound)" : "");
        log_error(l->job, "%s: %.300s", msg, r->err);
        snprintf(verdict, 32, "internal_error");
        return daemon_record(verdict, msg, r);
    }
    snprintf(verdict, 32, "%s", v);
    /* the stages feed the latency histograms */
    const cJSON *st;
    cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(rec, "stages_ms")) {
        char name[64];
        snprintf(name, sizeof name, "worker_%s", st->string);
        metrics_observe(name, cJSON_GetNumberValue(st) / 1000.0);
    }
    cJSON_Delete(rec);
    char *text = strndup(r->out, r->out_len);
    if (text) {
        size_t n = strlen(text);
        while (n && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r'))
            text[--n] = 0;      /* the stored record is one JSON value: a JSONL row as it is */
        make_utf8(text, n);
    }
    return text;
}

static int opt_int(const cJSON *o, const char *k, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? (int)v->valuedouble : dflt;
}

static int opt_bool(const cJSON *o, const char *k, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsBool(v) ? cJSON_IsTrue(v) : dflt;
}

/* argv of the worker for this job: compile (CPU lane) or eval (GPU lane). Strings live in a. */
struct args {
    const char *v[40];
    int n;
    char arch[16], dev[16], seed[24], trials[16], budget[24], precision[8];
};

static void add(struct args *a, const char *s)
{
    if (a->n < 39)
        a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void build_args(const struct lane *l, const struct store_claim *c, const cJSON *opts,
                       struct args *a)
{
    const struct sched *s = l->s;
    const char *problem = c->problem[0] && strcmp(c->problem, "inline") ? c->problem : c->spec_json;
    a->n = 0;
    add(a, s->cfg->worker);
    if (l->gpu < 0) {
        snprintf(a->arch, sizeof a->arch, "sm_%d", s->default_arch);
        add(a, "compile"), add(a, "--arch"), add(a, a->arch);
    } else {
        snprintf(a->dev, sizeof a->dev, "%d", s->gpus[l->gpu].ordinal);
        add(a, "eval"), add(a, "--device"), add(a, a->dev);
        snprintf(a->trials, sizeof a->trials, "%d", opt_int(opts, "trials", 3));
        add(a, "--trials"), add(a, a->trials);
        if (!opt_bool(opts, "exact", 1))
            add(a, "--no-exact");
        const char *prec = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(opts, "precision"));
        if (prec && (!strcmp(prec, "tf32") || !strcmp(prec, "fp32") || !strcmp(prec, "exact"))) {
            snprintf(a->precision, sizeof a->precision, "%s", prec);
            add(a, "--precision"), add(a, a->precision);
        }
        if (!opt_bool(opts, "timing", 1))
            add(a, "--no-timing");
        if (!opt_bool(opts, "baselines", 1))
            add(a, "--no-baselines");
        snprintf(a->budget, sizeof a->budget, "%d", opt_int(opts, "timing_budget_ms", 2000));
        add(a, "--budget-ms"), add(a, a->budget);
        const cJSON *seed = cJSON_GetObjectItemCaseSensitive(opts, "seed");
        if (cJSON_IsNumber(seed)) {
            snprintf(a->seed, sizeof a->seed, "%.0f", seed->valuedouble);
            add(a, "--seed"), add(a, a->seed);
        }
    }
    add(a, "--problem"), add(a, problem);
    add(a, "--cache"), add(a, s->cfg->cache_dir);
    add(a, "--compact");
    if (l->gpu >= 0)
        add(a, "--source");
    add(a, "-");                /* the source comes on stdin */
}

/* Run the claimed job's worker and record the outcome. */
static void run_job(struct lane *l, struct store_claim *c)
{
    struct sched *s = l->s;
    enum store_status from = l->gpu < 0 ? STORE_COMPILING : STORE_RUNNING;
    cJSON *opts = cJSON_Parse(c->options_json);
    struct args a;
    build_args(l, c, opts, &a);
    cJSON_Delete(opts);
    long deadline_s = s->cfg->job_timeout_s;
    if (l->gpu < 0 && deadline_s > 120)
        deadline_s = 120;       /* NVRTC's own deadline is 60 s */
    struct proc_opts o = {.argv = a.v, .in = c->source, .in_len = c->source_len, .out_max = OUT_MAX,
                           .err_max = ERR_MAX, .deadline_ms = deadline_s * 1000, .cancel = &l->cancel,
                           .pid_out = &l->pid};
    struct proc_result r;
    struct err e;
    char verdict[32];
    char *record = NULL;
    if (proc_run(&o, &r, &e)) {
        log_error(c->id, "cannot start the worker: %s", e.msg);
        snprintf(verdict, sizeof verdict, "internal_error");
        record = daemon_record(verdict, e.msg, NULL);
        goto finish;
    }
    metrics_observe(l->gpu < 0 ? "compile_step" : "gpu_step", r.wall_ms / 1000.0);
    if (l->gpu >= 0)
        metrics_gpu_busy(l->gpu, r.wall_ms / 1000.0);
    if (r.cancelled) {
        if (atomic_load(&s->stop))     /* shutdown: the job runs again at the next start */
            store_advance(s->st, c->id, from, l->gpu < 0 ? STORE_QUEUED : STORE_WAITING_GPU, &e);
        log_info(c->id, "worker killed (%s)", atomic_load(&s->stop) ? "shutdown" : "cancelled");
        proc_result_free(&r);
        return;
    }
    record = judge(l, &r, (double)deadline_s, verdict);
    log_info(c->id, "%s step: verdict=%s exit=%d wall_ms=%.0f", l->gpu < 0 ? "compile" : "gpu", verdict,
             r.exited ? r.code : -r.signal, r.wall_ms);
    proc_result_free(&r);
    if (l->gpu < 0 && !strcmp(c->mode, "full") && !strcmp(verdict, "ok")) {
        /* compiled: on to a GPU lane */
        if (store_advance(s->st, c->id, from, STORE_WAITING_GPU, &e) < 0)
            log_error(c->id, "store: %s", e.msg);
        free(record);
        return;
    }
finish:
    if (!record) {
        log_error(c->id, "out of memory for the record");
        return;     /* left unfinished: recovery retries it */
    }
    int rc = store_finish(s->st, c->id, from, verdict, record, &e);
    if (rc < 0)
        log_error(c->id, "store: cannot finish: %s", e.msg);
    else if (rc == 1) {
        metrics_job_finished(verdict);
        metrics_observe("job", now_s() - c->created);
    }
    free(record);
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    struct sched *s = l->s;
    enum store_status from = l->gpu < 0 ? STORE_QUEUED : STORE_WAITING_GPU;
    enum store_status to = l->gpu < 0 ? STORE_COMPILING : STORE_RUNNING;
    while (!atomic_load(&s->stop)) {
        uint64_t gen = store_generation(s->st);
        struct store_claim c;
        struct err e;
        int rc = store_claim(s->st, from, to, l->gpu < 0 ? -1 : s->gpus[l->gpu].ordinal, &c, &e);
        if (rc < 0) {
            log_error(NULL, "store: claim failed: %s", e.msg);
            store_wait_change(s->st, gen, 1000);
            continue;
        }
        if (rc == 0) {
            store_wait_change(s->st, gen, 1000);
            continue;
        }
        if (from == STORE_QUEUED && c.attempts == 1)
            metrics_observe("queue", now_s() - c.created);
        pthread_mutex_lock(&s->mu);
        snprintf(l->job, sizeof l->job, "%s", c.id);
        snprintf(l->batch, sizeof l->batch, "%s", c.batch_id);
        atomic_store(&l->cancel, atomic_load(&s->stop));
        pthread_mutex_unlock(&s->mu);
        run_job(l, &c);
        pthread_mutex_lock(&s->mu);
        l->job[0] = l->batch[0] = 0;
        pthread_mutex_unlock(&s->mu);
        store_claim_free(&c);
    }
    return NULL;
}

/* ---- the public side ----------------------------------------------------------------------- */

int sched_start(const struct config *cfg, struct store *st, struct sched **out, struct err *e)
{
    *out = NULL;
    struct sched *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "", "out of memory");
    s->cfg = cfg;
    s->st = st;
    s->t0 = now_s();
    pthread_mutex_init(&s->mu, NULL);
    discover(s);
    if (s->ngpu)
        for (int i = 0; i < s->ngpu; i++)
            log_info(NULL, "gpu %d: %s sm_%d", s->gpus[i].ordinal, s->gpus[i].name, s->gpus[i].arch);
    else
        log_warn(NULL, "no GPU lanes (%s): full-mode evaluations are refused, check mode works",
                 s->gpu_error);
    int ncpu = cfg->cpu_lanes > 0 ? cfg->cpu_lanes : 1;
    s->nlanes = ncpu + s->ngpu;
    s->lanes = calloc((size_t)s->nlanes, sizeof *s->lanes);
    if (!s->lanes) {
        sched_stop(s);
        return err_set(e, ERR_NOMEM, "", "out of memory");
    }
    for (int i = 0; i < s->nlanes; i++) {
        struct lane *l = &s->lanes[i];
        l->s = s;
        l->gpu = i < ncpu ? -1 : i - ncpu;
        if (pthread_create(&l->th, NULL, lane_main, l)) {
            sched_stop(s);
            return err_set(e, ERR_INTERNAL, "", "cannot start lane threads");
        }
        s->started++;
    }
    *out = s;
    return 0;
}

void sched_stop(struct sched *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, 1);
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->started; i++)
        atomic_store(&s->lanes[i].cancel, 1);
    pthread_mutex_unlock(&s->mu);
    store_wake_all(s->st);
    for (int i = 0; i < s->started; i++)
        pthread_join(s->lanes[i].th, NULL);
    free(s->lanes);
    cJSON_Delete(s->info);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int sched_gpu_count(const struct sched *s)
{
    return s ? s->ngpu : 0;
}

/* Kill the workers of lanes running job id, or any job of batch (one of them is NULL). */
static void kill_lanes(struct sched *s, const char *id, const char *batch)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->started; i++) {
        struct lane *l = &s->lanes[i];
        if ((id && !strcmp(l->job, id)) || (batch && l->batch[0] && !strcmp(l->batch, batch)))
            atomic_store(&l->cancel, 1);
    }
    pthread_mutex_unlock(&s->mu);
}

int sched_cancel(struct sched *s, const char *id, enum store_status *prev, struct err *e)
{
    int rc = store_cancel(s->st, id, prev, e);
    if (rc == 1 && (*prev == STORE_COMPILING || *prev == STORE_RUNNING))
        kill_lanes(s, id, NULL);
    return rc;
}

int sched_cancel_batch(struct sched *s, const char *batch_id, long *n, struct err *e)
{
    int rc = store_cancel_batch(s->st, batch_id, n, e);
    if (rc == 0)
        kill_lanes(s, NULL, batch_id);
    return rc;
}

cJSON *sched_describe(struct sched *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON *gpus = cJSON_AddArrayToObject(j, "gpus");
    double up = now_s() - s->t0;
    int ncpu = s->nlanes - s->ngpu;
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < s->ngpu; i++) {
        cJSON *g = cJSON_CreateObject();
        cJSON_AddNumberToObject(g, "ordinal", s->gpus[i].ordinal);
        cJSON_AddStringToObject(g, "name", s->gpus[i].name);
        cJSON_AddNumberToObject(g, "arch", s->gpus[i].arch);
        cJSON_AddNumberToObject(g, "busy_fraction", up > 0 ? metrics_gpu_busy_seconds(i) / up : 0);
        const char *job = i + ncpu < s->started ? s->lanes[i + ncpu].job : "";
        if (job[0])
            cJSON_AddStringToObject(g, "job", job);
        else
            cJSON_AddNullToObject(g, "job");
        cJSON_AddItemToArray(gpus, g);
    }
    int busy = 0;
    for (int i = 0; i < ncpu && i < s->started; i++)
        busy += s->lanes[i].job[0] != 0;
    pthread_mutex_unlock(&s->mu);
    if (!s->ngpu)
        cJSON_AddStringToObject(j, "gpu_error", s->gpu_error);
    cJSON *cpu = cJSON_AddObjectToObject(j, "cpu_lanes");
    cJSON_AddNumberToObject(cpu, "lanes", ncpu);
    cJSON_AddNumberToObject(cpu, "busy", busy);
    cJSON_AddNumberToObject(cpu, "compile_arch", s->default_arch);
    cJSON *w = cJSON_AddObjectToObject(j, "worker");
    cJSON_AddStringToObject(w, "path", s->cfg->worker);
    static const char *const keys[] = {"nvrtc", "driver", "cudnn"};
    for (size_t k = 0; k < 3; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(s->info, keys[k]);
        if (v)
            cJSON_AddItemToObject(w, keys[k], cJSON_Duplicate(v, 0));
    }
    return j;
}
