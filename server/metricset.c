/* metricset.c — are a request's metric names known here? (see metricset.h)
 *
 * DESIGN
 *   For each architecture of the GPU lanes, the names of a request are looked up in the cache, in
 *   order, up to the first one known bad. The ones before it that are not cached go to one worker
 *   run (`kgrade-worker metrics-check --arch N NAME...`, unsandboxed like `info`: it runs no
 *   candidate code, and the names are already restricted to [a-z0-9_.]); the answer makes them
 *   known: all good, or good up to the one the worker names as unknown, which is then the first
 *   unknown name of the request. A repeated request finds every name cached and runs nothing.
 *
 *   The cache is direct-mapped: METRICSET_SLOTS slots chosen by a hash of (architecture, name), a
 *   newer answer replacing the one in its slot, so it is bounded whatever names clients send. Only
 *   the worker's answers enter it: a run that failed (no worker, no CUPTI, a deadline passed) leaves
 *   nothing behind, so the next request asks again, and the names are accepted meanwhile (request.c
 *   checked their form; the worker reports unknown names in the result).
 *
 *   One metrics-check runs at a time (it holds ~150 MB while CUPTI loads its tables), outside the
 *   cache's lock: lookups never wait for a run. A request that waited for another one's run looks
 *   in the cache again before it runs its own, so simultaneous requests with the same new names
 *   run one check.
 *
 * Does not: know any metric name itself (the worker's metricname.c does), or check the default
 * list (it is the worker's own). */
#include "metricset.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "proc.h"

#define MAX_ARCHS 8
#define OUT_MAX (64u << 10)
#define ERR_MAX 4096

enum { UNKNOWN = 0, GOOD = 1, BAD = 2 };

struct slot {
    int arch;
    int state;                                  /* UNKNOWN: empty */
    char name[REQUEST_METRIC_LEN + 1];
};

struct metricset {
    const char *worker;
    int archs[MAX_ARCHS], narch;
    char chip[MAX_ARCHS][32];                   /* as the worker named it; "sm_N" until it did */
    pthread_mutex_t mu;                         /* slots and chip */
    pthread_mutex_t run_mu;                     /* held while a metrics-check runs */
    struct slot slots[METRICSET_SLOTS];
    atomic_long runs;
    atomic_int warned;
};

static size_t slot_of(int arch, const char *name)
{
    uint64_t h = 1469598103934665603ull ^ (uint64_t)(unsigned)arch;   /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return (size_t)(h % METRICSET_SLOTS);
}

/* Under m->mu. */
static int lookup(const struct metricset *m, int arch, const char *name)
{
    const struct slot *s = &m->slots[slot_of(arch, name)];
    return s->state != UNKNOWN && s->arch == arch && !strcmp(s->name, name) ? s->state : UNKNOWN;
}

/* Under m->mu. */
static void remember(struct metricset *m, int arch, const char *name, int state)
{
    struct slot *s = &m->slots[slot_of(arch, name)];
    s->arch = arch;
    s->state = state;
    snprintf(s->name, sizeof s->name, "%s", name);
}

int metricset_open(const struct config *cfg, struct sched *s, struct metricset **out, struct err *e)
{
    struct metricset *m = calloc(1, sizeof *m);
    cJSON *d = s ? sched_describe(s) : NULL;
    *out = NULL;
    if (!m) {
        cJSON_Delete(d);
        return err_set(e, ERR_NOMEM, "", "out of memory");
    }
    m->worker = cfg->worker;
    pthread_mutex_init(&m->mu, NULL);
    pthread_mutex_init(&m->run_mu, NULL);
    const cJSON *g;
    cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(d, "gpus")) {
        int a = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "arch")), k = 0;
        while (k < m->narch && m->archs[k] != a)
            k++;
        if (a > 0 && k == m->narch && m->narch < MAX_ARCHS)
            m->archs[m->narch++] = a;
    }
    if (!m->narch) {   /* no GPU lane: what the CPU lanes compile for */
        const cJSON *cpu = cJSON_GetObjectItemCaseSensitive(d, "cpu_lanes");
        int a = (int)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cpu, "compile_arch"));
        m->archs[m->narch++] = a > 0 ? a : 89;
    }
    for (int i = 0; i < m->narch; i++)
        snprintf(m->chip[i], sizeof m->chip[i], "sm_%d", m->archs[i]);
    cJSON_Delete(d);
    *out = m;
    return 0;
}

void metricset_close(struct metricset *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->mu);
    pthread_mutex_destroy(&m->run_mu);
    free(m);
}

long metricset_runs(const struct metricset *m)
{
    return m ? atomic_load(&m->runs) : 0;
}

/* The check could not run: accepted; said once. */
static void cannot_check(struct metricset *m, int arch, const char *why)
{
    if (!atomic_exchange(&m->warned, 1))
        log_warn(NULL, "cannot check metric names for sm_%d (%s): well-formed names are accepted and the "
                 "worker reports unknown ones in the result", arch, why);
    else
        log_debug(NULL, "cannot check metric names for sm_%d: %s", arch, why);
}

/* Ask the worker about names[0..n) for architecture ai. Returns the index (into names) of the
 * unknown name it found, -1 when all are known or nothing could be learnt; the answers are
 * cached. */
static int ask_worker(struct metricset *m, int ai, const char *const *names, int n)
{
    int arch = m->archs[ai], unknown = -1;
    char a[16], why[300];
    const char *argv[REQUEST_METRICS_MAX + 5];
    int k = 0;
    snprintf(a, sizeof a, "%d", arch);
    argv[k++] = m->worker, argv[k++] = "metrics-check", argv[k++] = "--arch", argv[k++] = a;
    for (int i = 0; i < n; i++)
        argv[k++] = names[i];
    argv[k] = NULL;
    struct proc_opts o = {.argv = argv, .out_max = OUT_MAX, .err_max = ERR_MAX,
                          .deadline_ms = METRICSET_DEADLINE_MS};
    struct proc_result r;
    struct err e;
    if (proc_run(&o, &r, &e)) {
        cannot_check(m, arch, e.msg);
        return -1;
    }
    atomic_fetch_add(&m->runs, 1);
    cJSON *j = cJSON_ParseWithLength(r.out, r.out_len);
    const char *chip = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "chip"));
    const char *bad = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "unknown"));
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(j, "index");
    const char *err = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
    int at = cJSON_IsNumber(idx) ? (int)idx->valuedouble : -1;
    int good = r.exited && r.code == 0 && cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "names"));
    if (!good && r.exited && r.code == 1 && bad && at >= 0 && at < n && !strcmp(bad, names[at]))
        unknown = at;
    pthread_mutex_lock(&m->mu);
    if (chip && (good || unknown >= 0))
        snprintf(m->chip[ai], sizeof m->chip[ai], "%.31s", chip);
    for (int i = 0; i < (good ? n : unknown); i++)
        remember(m, arch, names[i], GOOD);
    if (unknown >= 0)
        remember(m, arch, names[unknown], BAD);
    pthread_mutex_unlock(&m->mu);
    if (good || unknown >= 0)
        log_info(NULL, "metric names checked for sm_%d (%s): %d new, %s%s (%.0f ms)", arch, chip ? chip : "?",
                 n, good ? "all known" : "unknown: ", good ? "" : names[unknown], r.wall_ms);
    else {
        if (r.timed_out)
            snprintf(why, sizeof why, "no answer within %d ms", METRICSET_DEADLINE_MS);
        else
            snprintf(why, sizeof why, "metrics-check %s %d: %.200s", r.exited ? "exit" : "signal",
                     r.exited ? r.code : r.signal, err ? err : r.err_len ? r.err : "no answer");
        cannot_check(m, arch, why);
    }
    cJSON_Delete(j);
    proc_result_free(&r);
    return unknown;
}

/* What the cache says of names[0..n) for arch: the index of the first name known bad (-1: none),
 * and in ask[0..*nask) the names before it that it does not know (their indexes in at[]). */
static int scan(struct metricset *m, int arch, const char *const *names, int n, const char **ask, int *at,
                int *nask)
{
    int bad = -1;
    *nask = 0;
    pthread_mutex_lock(&m->mu);
    for (int i = 0; i < n && bad < 0; i++) {
        int st = lookup(m, arch, names[i]);
        if (st == BAD)
            bad = i;
        else if (st == UNKNOWN)
            at[*nask] = i, ask[(*nask)++] = names[i];
    }
    pthread_mutex_unlock(&m->mu);
    return bad;
}

/* The first unknown name of names[0..n) for architecture ai, -1 when none is known to be. One
 * metrics-check runs at a time (a bounded number of processes); a request that waited for another
 * one's run looks again, and often finds its answers there. */
static int first_unknown(struct metricset *m, int ai, const char *const *names, int n)
{
    const char *ask[REQUEST_METRICS_MAX];
    int at[REQUEST_METRICS_MAX], nask, arch = m->archs[ai];
    int bad = scan(m, arch, names, n, ask, at, &nask);
    if (!nask)
        return bad;
    pthread_mutex_lock(&m->run_mu);
    bad = scan(m, arch, names, n, ask, at, &nask);
    int k = nask ? ask_worker(m, ai, ask, nask) : -1;
    pthread_mutex_unlock(&m->run_mu);
    return k >= 0 ? at[k] : bad;
}

int metricset_check(struct metricset *m, const cJSON *names, const char *prefix, struct request_err *re)
{
    const char *v[REQUEST_METRICS_MAX];
    int n = 0;
    const cJSON *it;
    if (!m || !names)
        return 0;
    cJSON_ArrayForEach(it, names) {
        if (n == REQUEST_METRICS_MAX || !cJSON_IsString(it))
            return 0;   /* not what request.c lets through: nothing to say */
        v[n++] = it->valuestring;
    }
    for (int ai = 0; ai < m->narch && n; ai++) {
        int k = first_unknown(m, ai, v, n);
        if (k < 0)
            continue;
        char chip[32];
        pthread_mutex_lock(&m->mu);
        snprintf(chip, sizeof chip, "%s", m->chip[ai]);
        pthread_mutex_unlock(&m->mu);
        char f[160];
        const char *p = prefix ? prefix : "";
        snprintf(f, sizeof f, "%s%soptions.metrics[%d]", p, p[0] ? "." : "", k);
        request_err_set(re, 422, "unknown_metric", f, "%s: '%s' is not a metric of %s (docs/metrics.md)", f,
                        v[k], chip);
        return ERR_INVALID;
    }
    return 0;
}
