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
 *   Every worker runs in a fresh sandbox (isolation.h): lane i is sandbox slot i; a CPU lane's
 *   sandbox sees the candidate's own cache directory (by source hash) read-write and nothing of the
 *   GPU; a GPU lane's sees its one GPU, the shared cache of reference kernels read-write and the
 *   candidate's cache directory read-only. The worker's record comes back on fd 3, the sandbox's
 *   meta line on fd 4.
 *
 *   A GPU is trusted with the next candidate only after a canary kernel passed on it: once at start
 *   and after any job that ended in a fault (timeout, signal, sandbox violation, memory limit,
 *   runtime error, internal error). A candidate's own failure that leaves the GPU as it was (a
 *   syntax error, a lint rejection, an import or init error, an output of the wrong shape) is not
 *   a fault. A GPU that fails it is taken out of service (its lane stops;
 *   /v1/health says why) until the daemon restarts.
 *
 * INVARIANTS
 *   - A job is finished once: store_finish only succeeds from the status the lane claimed; a
 *     cancelled job's late result is dropped.
 *   - Every worker gets a wall clock per stage (--compile-timeout, --job-timeout); past it the whole
 *     sandbox is killed and the job gets verdict timeout. The sandbox's report decides the rest:
 *     a forbidden call is sandbox_violation, the memory limit memory_limit, a death by signal
 *     runtime_error; a worker that exits without a record gives internal_error (our failure,
 *     logged). Job failures are results; a worker or sandbox that cannot be started is a system
 *     failure, logged as an error. Every result carries the isolation it ran under.
 *   - At shutdown the lanes kill their workers and put their jobs back (compiling -> queued,
 *     running -> waiting_gpu), so the next start runs them again.
 *
 *   Candidates come in two languages (workcmd.h has the command lines): a CUDA job compiles with
 *   NVRTC in the CPU lane and is evaluated by the worker alone; a Triton job's CPU step is the
 *   worker's lint and syntax check (python3, so not sealed), its GPU step the same evaluation
 *   through the worker's Python harness, both in a sandbox of the python profile with
 *   --sandbox-memory-python. A job whose request held no code (language "none") is finished in the
 *   CPU lane with verdict no_code and no worker at all.
 *
 *   PRE-STARTED WORKERS (--prestart, on by default where workers are sandboxed): a GPU lane keeps one
 *   Triton worker waiting in a fresh sandbox of its own slot (prestart.h), started after the
 *   canary and whenever the lane finds nothing to claim, before it waits. A Triton job
 *   is handed to it; a CUDA job runs cold beside it and leaves it waiting. A lane with a queue
 *   (a batch) runs its jobs cold one after the other: a worker started as the previous job ends is
 *   not ready sooner than a cold one (measured: 0.3 s later, docs/triton.md). One that died while
 *   waiting is logged and its job runs cold (a job never fails for it), and no new one is started
 *   until the lane's next job; one older than --prestart-idle is replaced; after a fault on its
 *   GPU it is stopped before the canary; at shutdown it is stopped too (its stdin closed: it
 *   exits on its own, so its sandbox is torn down by its keeper, not killed from outside).
 *
 *   Every record is finished in one place (finish_record): the ingest JSON of the job's request
 *   merged in, and when the job has a baseline (the prompt's current code, its own job queued one
 *   priority above) the comparison with it as it stands then.
 *
 * Not here: what the command lines are (workcmd.c), what a run's outcome means (verdict.c), the
 * baseline comparison (baseline.c). */
#include "sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "baseline.h"
#include "isolation.h"
#include "log.h"
#include "metrics.h"
#include "prestart.h"
#include "proc.h"
#include "sha256.h"
#include "verdict.h"
#include "workcmd.h"

#define RECORD_MAX (8u << 20)   /* a worker's record (fd 3); the largest real ones are ~100 KiB */
#define OUT_MAX (1u << 20)      /* its stdout: device printf and the like, kept only to be counted */
#define ERR_MAX (16u << 10)
#define META_MAX 4096           /* the sandbox's meta line (fd 4) */
#define BACKSTOP_MS 10000       /* past the sandbox's own wall clock, the daemon kills the keeper */
#define STOP_WAIT_MS 2000       /* a pre-started worker's own exit, once its stdin is closed */
#define INSIDE_SHARED "/kgrade/cache"          /* where a sandbox sees the shared cache */
#define INSIDE_CANDIDATE "/kgrade/candidate"   /* and the candidate's own cache directory */

struct lane {
    struct sched *s;
    pthread_t th;
    int gpu;                    /* index into s->gpus, -1 for a CPU lane */
    char job[32], batch[32];    /* what runs now ("" when idle); under s->mu */
    atomic_int cancel;
    atomic_int pid;
    struct prestart warm;       /* GPU lanes: the pre-started worker (the lane's thread only) */
    int warm_paused;            /* one died while waiting: no new one until the lane's next job */
    double warm_since;          /* when the waiting one was started (now_s), 0: none; under s->mu */
};

struct gpu {
    int ordinal, arch;
    char name[128];
    atomic_int out_of_service;
    char canary[512];           /* the last canary's outcome; under s->mu */
};

struct sched {
    const struct config *cfg;
    const struct isolation *iso;
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

/* The hex SHA-256 of the candidate's source: the name of its own cache directory. */
static void source_hash(const struct store_claim *c, char hex[65])
{
    struct sha256 h;
    unsigned char d[32];
    sha256_init(&h);
    sha256_update(&h, c->source, c->source_len);
    sha256_final(&h, d);
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", d[i]);
}

/* mkdir -p of dir (mode 0755); 0 or -1. */
static int make_dir(const char *dir)
{
    char p[1024];
    snprintf(p, sizeof p, "%s", dir);
    for (char *q = p + 1; *q; q++)
        if (*q == '/') {
            *q = 0;
            if (mkdir(p, 0755) && errno != EEXIST)
                return -1;
            *q = '/';
        }
    return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

/* Run argv for lane l as run says (its sandbox, GPU, binds and wall clock), feeding it in. */
static int run_sandboxed(struct lane *l, const char *const *argv, const struct isolation_run *run,
                         const char *in, size_t in_len, struct proc_result *r, struct err *e)
{
    struct isolation_argv a;
    int rc = isolation_argv(l->s->iso, run, argv, &a, e);
    if (rc)
        return rc;
    struct proc_opts o = {.argv = a.v, .in = in, .in_len = in_len, .out_max = OUT_MAX, .err_max = ERR_MAX,
                          .extra_max = {RECORD_MAX, l->s->iso->sandboxed ? META_MAX : 0},
                          .deadline_ms = run->wall_ms + (l->s->iso->sandboxed ? BACKSTOP_MS : 0),
                          .cancel = &l->cancel, .pid_out = &l->pid};
    return proc_run(&o, r, e);
}

/* The canary on lane l's GPU, in a sandbox like a candidate's. 1 healthy, 0 not (out of service). */
static int canary(struct lane *l, const char *after)
{
    struct sched *s = l->s;
    struct gpu *g = &s->gpus[l->gpu];
    char dev[16], line[512];
    snprintf(dev, sizeof dev, "%d", s->iso->sandboxed ? 0 : g->ordinal);
    const char *argv[] = {s->cfg->worker, "canary", "--device", dev, NULL};
    struct isolation_run run = {.slot = (int)(l - s->lanes), .gpu = g->ordinal, .wall_ms = 60000};
    struct proc_result r;
    struct err e;
    struct isolation_meta m;
    int healthy = 0;
    if (run_sandboxed(l, argv, &run, NULL, 0, &r, &e)) {
        snprintf(line, sizeof line, "the canary could not start: %.400s", e.msg);
    } else {
        cJSON *j = cJSON_ParseWithLength(r.out, r.out_len);
        const char *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
        struct verdict_run v = {.job = l->job, .iso = s->iso};
        healthy = verdict_outcome(&v, &r, &m) == 0 && m.status == ISOLATION_EXITED && m.exit_code == 0
                  && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "healthy"));
        if (healthy)
            snprintf(line, sizeof line, "passed in %.0f ms", r.wall_ms);
        else
            snprintf(line, sizeof line, "failed: %.300s", err ? err : m.status == ISOLATION_SETUP_FAILED ? m.error
                                                                          : r.err_len ? r.err : "no report");
        cJSON_Delete(j);
        proc_result_free(&r);
    }
    pthread_mutex_lock(&s->mu);
    snprintf(g->canary, sizeof g->canary, "%.60s %.440s", after, line);
    pthread_mutex_unlock(&s->mu);
    if (healthy)
        log_info(NULL, "gpu %d: canary %s %s", g->ordinal, after, line);
    else if (!atomic_load(&s->stop)) {
        atomic_store(&g->out_of_service, 1);
        log_error(NULL, "gpu %d: out of service: canary %s %s", g->ordinal, after, line);
    }
    return healthy;
}

/* ---- the pre-started worker ------------------------------------------------------------------ */

static int prestart_on(const struct sched *s, const struct lane *l)
{
    return l->gpu >= 0 && s->cfg->prestart && s->iso->sandboxed && !s->iso->refusal[0];
}

/* What /v1/health says about lane l's pre-started worker. */
static void warm_publish(struct lane *l)
{
    pthread_mutex_lock(&l->s->mu);
    l->warm_since = l->warm.proc ? now_s() - prestart_age_s(&l->warm) : 0;
    pthread_mutex_unlock(&l->s->mu);
}

/* Stop lane l's pre-started worker, if any, saying why. */
static void warm_stop(struct lane *l, const char *why)
{
    if (!l->warm.proc)
        return;
    log_info(NULL, "gpu %d: the pre-started worker is stopped (%s)", l->s->gpus[l->gpu].ordinal, why);
    prestart_stop(&l->warm, STOP_WAIT_MS);
    warm_publish(l);
}

/* Lane l's pre-started worker as DESIGN says: one that died while waiting is noted, one past
 * --prestart-idle replaced, and one started when there is none (and none died since the last job). */
static void keep_warm(struct lane *l)
{
    struct sched *s = l->s;
    int ordinal = s->gpus[l->gpu].ordinal;
    struct err e;
    if (!prestart_on(s, l))
        return;
    if (prestart_dead(&l->warm, &e)) {
        log_warn(NULL, "gpu %d: the pre-started worker died while waiting: %s; Triton jobs start cold until "
                 "the next job is done", ordinal, e.msg);
        l->warm_paused = 1;
    } else if (l->warm.proc && prestart_age_s(&l->warm) >= (double)s->cfg->prestart_idle_s) {
        char why[64];
        snprintf(why, sizeof why, "idle for %ld s: replaced", s->cfg->prestart_idle_s);
        warm_stop(l, why);
    }
    if (!l->warm.proc && !l->warm_paused) {
        char shared[700], bind[800];
        snprintf(shared, sizeof shared, "%s/shared", s->cfg->cache_dir);
        snprintf(bind, sizeof bind, "%s:" INSIDE_SHARED, shared);
        struct prestart_spec x = {.iso = s->iso, .worker = s->cfg->worker, .python = s->cfg->python,
                                  .slot = s->nlanes + l->gpu, .gpu = ordinal, .shared_bind = bind,
                                  .wall_ms = (s->cfg->prestart_idle_s + s->cfg->job_timeout_s) * 1000 + BACKSTOP_MS,
                                  .memory = s->cfg->sandbox_memory_python, .out_max = OUT_MAX, .err_max = ERR_MAX,
                                  .record_max = RECORD_MAX, .meta_max = META_MAX};
        int rc = make_dir(shared) ? err_set(&e, ERR_IO, "", "cannot create %s: %s", shared, strerror(errno))
                                  : prestart_start(&l->warm, &x, &e);
        if (rc) {
            log_error(NULL, "gpu %d: cannot pre-start a worker: %s; Triton jobs start cold until the next job is "
                      "done", ordinal, e.msg);
            l->warm_paused = 1;
        }
    }
    warm_publish(l);
}

/* Job c (command line w) through lane l's pre-started worker, its deadline counted from the
 * hand-over: 1 when the worker ran it (r filled), 0 when there is none or it was lost (logged: the
 * caller starts the job cold), -1 when it failed while running (e says why). */
static int run_warm(struct lane *l, const struct store_claim *c, const struct workcmd *w, long deadline_s,
                    struct proc_result *r, struct err *e)
{
    if (!l->warm.proc)
        return 0;
    double waited = prestart_age_s(&l->warm);
    if (waited >= (double)l->s->cfg->prestart_idle_s) {   /* its sandbox's clock may not cover a whole job */
        warm_stop(l, "idle too long for a job");
        return 0;
    }
    log_info(c->id, "gpu step: handed to the pre-started worker (waiting for %.1f s)", waited);
    int rc = prestart_handover(&l->warm, w->v, c->source, c->source_len, deadline_s * 1000, &l->cancel, r, e);
    warm_publish(l);
    if (rc == PRESTART_LOST) {
        log_warn(c->id, "the pre-started worker was lost: %s; the job starts cold", e->msg);
        return 0;
    }
    return rc < 0 ? -1 : 1;
}

/* The one place a job's record is finished: what was read from its request merged in (the
 * candidate's form, language and extraction; the prompt), its baseline compared, the isolation and
 * output stamped (verdict_finish). NULL when out of memory. */
static char *finish_record(struct sched *s, const struct store_claim *c, const struct verdict_run *v, cJSON *rec,
                           const struct proc_result *r, const struct isolation_meta *m)
{
    if (store_ingest_merge(rec, c->ingest_json) || (c->baseline_id[0] && baseline_add(s->st, c->baseline_id, rec)))
        return NULL;
    return verdict_finish(v, rec, r, m);
}

/* Run the claimed job's worker and record the outcome. */
static void run_job(struct lane *l, struct store_claim *c)
{
    struct sched *s = l->s;
    enum store_status from = l->gpu < 0 ? STORE_COMPILING : STORE_RUNNING;
    cJSON *opts = cJSON_Parse(c->options_json);
    cJSON *ingest = c->ingest_json ? cJSON_Parse(c->ingest_json) : NULL;
    char hash[65], shared[700], cand[800], shared_bind[800], cand_bind[900];
    source_hash(c, hash);
    snprintf(shared, sizeof shared, "%s/shared", s->cfg->cache_dir);
    snprintf(cand, sizeof cand, "%s/candidates/%.2s/%s", s->cfg->cache_dir, hash, hash);
    /* inside a sandbox the caches have paths of their own: nothing of the data directory shows */
    snprintf(shared_bind, sizeof shared_bind, "%s:" INSIDE_SHARED, shared);
    snprintf(cand_bind, sizeof cand_bind, "%s:" INSIDE_CANDIDATE, cand);
    int boxed = s->iso->sandboxed;
    struct workcmd w;
    /* a sandbox sees only its own GPU, which is then device 0 */
    struct workcmd_ctx x = {.worker = s->cfg->worker, .python = s->cfg->python, .sandboxed = boxed,
                            .arch = s->default_arch,
                            .device = l->gpu < 0 ? -1 : boxed ? 0 : s->gpus[l->gpu].ordinal,
                            .shared = boxed ? INSIDE_SHARED : shared, .cand = boxed ? INSIDE_CANDIDATE : cand};
    workcmd_build(&x, c, opts, ingest, &w);
    long deadline_s = l->gpu < 0 ? s->cfg->compile_timeout_s : s->cfg->job_timeout_s;
    size_t memory = w.python ? s->cfg->sandbox_memory_python : s->cfg->sandbox_memory;
    struct isolation_run run = {.slot = (int)(l - s->lanes), .gpu = l->gpu < 0 ? -1 : s->gpus[l->gpu].ordinal,
                                .wall_ms = deadline_s * 1000, .profile = w.profile, .memory = memory};
    struct verdict_run judged = {.job = c->id, .iso = s->iso, .memory_limit = memory,
                                 .deadline_s = (double)deadline_s};
    if (l->gpu < 0)
        run.rw[0] = cand_bind;
    else
        run.rw[0] = shared_bind, run.ro[0] = cand_bind;
    struct proc_result r;
    struct isolation_meta meta;
    struct err e;
    char verdict[32];
    char *record = NULL;
    cJSON *rec = NULL;
    int started = 0;
    if (!strcmp(c->language, "none")) {   /* no code in the response: nothing to run */
        const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ingest, "no_code"));
        snprintf(verdict, sizeof verdict, "no_code");
        rec = verdict_no_code(why ? why : "the candidate holds no code");
        record = finish_record(s, c, &judged, rec, NULL, NULL);
        log_info(c->id, "no code: verdict=no_code");
        goto finish;
    }
    int warm = l->gpu >= 0 && w.python ? run_warm(l, c, &w, deadline_s, &r, &e) : 0;
    if (warm)
        started = warm > 0;
    else if (make_dir(cand) || (l->gpu >= 0 && make_dir(shared))) {
        err_set(&e, ERR_IO, "", "cannot create the cache directory: %s", strerror(errno));
    } else if (run_sandboxed(l, w.v, &run, c->source, c->source_len, &r, &e) == 0)
        started = 1;
    if (!started) {
        log_error(c->id, "cannot start the worker: %s", e.msg);
        snprintf(verdict, sizeof verdict, "internal_error");
        rec = verdict_record(verdict, e.msg, NULL);
        record = finish_record(s, c, &judged, rec, NULL, NULL);
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
        goto out;
    }
    int have_meta = verdict_outcome(&judged, &r, &meta) == 0;
    rec = verdict_judge(&judged, &r, have_meta ? &meta : NULL, verdict);
    log_info(c->id, "%s step: verdict=%s exit=%d wall_ms=%.0f setup_ms=%.1f", l->gpu < 0 ? "compile" : "gpu",
             verdict, r.exited ? r.code : -r.signal, r.wall_ms, have_meta ? meta.setup_ms : -1.0);
    if (l->gpu < 0 && !strcmp(c->mode, "full") && !strcmp(verdict, "ok")) {
        /* compiled: on to a GPU lane */
        proc_result_free(&r);
        if (store_advance(s->st, c->id, from, STORE_WAITING_GPU, &e) < 0)
            log_error(c->id, "store: %s", e.msg);
        goto out;
    }
    record = finish_record(s, c, &judged, rec, &r, have_meta ? &meta : NULL);
    proc_result_free(&r);
finish:
    if (!record) {
        log_error(c->id, "out of memory for the record");
        goto out;     /* left unfinished: recovery retries it */
    }
    int rc = store_finish(s->st, c->id, from, verdict, record, &e);
    if (rc < 0)
        log_error(c->id, "store: cannot finish: %s", e.msg);
    else if (rc == 1) {
        metrics_job_finished(verdict);
        metrics_observe("job", now_s() - c->created);
    }
    if (l->gpu >= 0 && verdict_is_fault(verdict)) {
        char why[64];
        snprintf(why, sizeof why, "after %s", verdict);
        warm_stop(l, "a fault on its GPU; the canary runs");
        canary(l, why);
    }
out:
    cJSON_Delete(rec);
    cJSON_Delete(ingest);
    cJSON_Delete(opts);
    free(record);
}

static void *lane_main(void *arg)
{
    struct lane *l = arg;
    struct sched *s = l->s;
    enum store_status from = l->gpu < 0 ? STORE_QUEUED : STORE_WAITING_GPU;
    enum store_status to = l->gpu < 0 ? STORE_COMPILING : STORE_RUNNING;
    if (s->iso->refusal[0])
        return NULL;    /* no candidate code on this host; sched_start said why */
    if (l->gpu >= 0 && !canary(l, "at start"))
        return NULL;
    if (l->gpu >= 0)
        keep_warm(l);   /* before the first claim, so that a lane's first Triton job finds one too */
    while (!atomic_load(&s->stop) && !(l->gpu >= 0 && atomic_load(&s->gpus[l->gpu].out_of_service))) {
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
            if (l->gpu >= 0)
                keep_warm(l);   /* nothing to claim: the time to start (or check) the next one */
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
        atomic_store(&l->cancel, atomic_load(&s->stop));   /* no job to cancel now */
        pthread_mutex_unlock(&s->mu);
        l->warm_paused = 0;
        store_claim_free(&c);
    }
    if (l->gpu >= 0)
        warm_stop(l, atomic_load(&s->stop) ? "shutdown" : "its GPU is out of service");
    return NULL;
}

/* ---- the public side ----------------------------------------------------------------------- */

int sched_start(const struct config *cfg, const struct isolation *iso, struct store *st, struct sched **out,
                struct err *e)
{
    *out = NULL;
    struct sched *s = calloc(1, sizeof *s);
    if (!s)
        return err_set(e, ERR_NOMEM, "", "out of memory");
    s->cfg = cfg;
    s->iso = iso;
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
    int n = 0;
    for (int i = 0; s && i < s->ngpu; i++)
        n += !atomic_load(&s->gpus[i].out_of_service);
    return n;
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
        cJSON_AddBoolToObject(g, "in_service", !atomic_load(&s->gpus[i].out_of_service));
        cJSON_AddStringToObject(g, "canary", s->gpus[i].canary[0] ? s->gpus[i].canary : "not run yet");
        const struct lane *gl = i + ncpu < s->started ? &s->lanes[i + ncpu] : NULL;
        cJSON *ps = cJSON_AddObjectToObject(g, "prestart");
        cJSON_AddBoolToObject(ps, "enabled", gl && prestart_on(s, gl));
        cJSON_AddBoolToObject(ps, "waiting", gl && gl->warm_since > 0);
        if (gl && gl->warm_since > 0)
            cJSON_AddNumberToObject(ps, "age_s", (double)(long long)((now_s() - gl->warm_since) * 10) / 10);
        const char *job = gl ? gl->job : "";
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
