/* isolation.c — the daemon's side of the sandbox (see isolation.h).
 *
 * DESIGN
 *   start    `kgrade-sandbox probe --cgroup C --uid U --owner <our pid>` once, in a plain child (it
 *            creates throwaway namespaces to see what the kernel allows and prepares the
 *            control-group parent, with an instance of it for this daemon alone). Its
 *            JSON line gives the level; a probe that cannot run at all means level none. The level
 *            is compared with --isolation-min: below it, `refusal` says why in one sentence, which
 *            the log prints at start and every refused submission repeats in its 503.
 *   wrap     each worker run becomes `kgrade-sandbox run` with the run's slot, wall clock, GPU,
 *            binds and the limits of the settings; the worker's record comes back on fd 3 and the
 *            keeper's meta line on fd 4 (proc_run's extra pipes).
 *   trust    what a trusted operator set in our environment for the worker (cuDNN's location, the
 *            library path, reference tuning) is passed on by name; nothing else of the daemon's
 *            environment reaches a sandbox, and the keeper refuses preload variables outright.
 *
 * Does not: create namespaces or control groups itself, or decide verdicts (the scheduler does,
 * from the meta line and the record). */
#include "isolation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "proc.h"

/* Variables of ours a worker may need, passed by name (never LD_PRELOAD and the like). */
static const char *const passed_env[] = {"KGRADE_CUDNN_LIB", "KGRADE_REF_CONFIG", "LD_LIBRARY_PATH"};

/* Directories every sandbox already sees (read-only): no extra bind needed below them. */
static const char *const visible_roots[] = {"/usr/", "/bin/", "/sbin/", "/lib/", "/lib64/", "/opt/"};

static int level_of(const char *name)
{
    int l = name ? config_isolation_parse(name) : -1;
    return l < 0 ? CONFIG_ISOLATION_NONE : l;
}

int isolation_start(const struct config *cfg, struct isolation *iso, struct err *e)
{
    memset(iso, 0, sizeof *iso);
    iso->cfg = cfg;
    char uid[24], owner[24];
    snprintf(uid, sizeof uid, "%ld", cfg->sandbox_uid);
    snprintf(owner, sizeof owner, "%d", (int)getpid());
    const char *argv[] = {cfg->sandbox, "probe", "--cgroup", cfg->cgroup, "--uid", uid, "--owner", owner, NULL};
    struct proc_opts o = {.argv = argv, .out_max = 64 << 10, .err_max = 16 << 10, .deadline_ms = 20000};
    struct proc_result r;
    struct err pe;
    char why[400] = "";
    if (proc_run(&o, &r, &pe) == 0) {
        iso->probe = cJSON_ParseWithLength(r.out, r.out_len);
        if (!cJSON_IsObject(iso->probe))
            snprintf(why, sizeof why, "`%.150s probe` gave no JSON (exit %d): %.200s", cfg->sandbox,
                     r.exited ? r.code : -r.signal, r.err);
        proc_result_free(&r);
    } else {
        snprintf(why, sizeof why, "%.300s", pe.msg);
    }
    if (why[0]) {
        cJSON_Delete(iso->probe);
        iso->probe = cJSON_CreateObject();
        if (!iso->probe)
            return err_set(e, ERR_NOMEM, "", "out of memory");
        cJSON_AddStringToObject(iso->probe, "level", "none");
        cJSON_AddItemToObject(iso->probe, "features", cJSON_CreateArray());
        cJSON *missing = cJSON_AddArrayToObject(iso->probe, "missing");
        cJSON_AddItemToArray(missing, cJSON_CreateString(why));
    }
    iso->level = level_of(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(iso->probe, "level")));
    const char *cg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(iso->probe, "cgroup"));
    snprintf(iso->cgroup, sizeof iso->cgroup, "%s", cg ? cg : "none");
    iso->sandboxed = iso->level > CONFIG_ISOLATION_NONE;
    if (iso->level < cfg->isolation_min) {
        char missing[400] = "";
        const cJSON *m;
        size_t n = 0;
        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(iso->probe, "missing")) {
            const char *t = cJSON_GetStringValue(m);
            if (t && n < sizeof missing)
                n += (size_t)snprintf(missing + n, sizeof missing - n, "%s%s", n ? "; " : "", t);
        }
        snprintf(iso->refusal, sizeof iso->refusal,
                 "this host offers isolation level %s, below --isolation-min %s, so no candidate code is run "
                 "(missing: %s)", config_isolation_name(iso->level), config_isolation_name(cfg->isolation_min),
                 missing[0] ? missing : "?");
    }
    return 0;
}

void isolation_free(struct isolation *iso)
{
    if (iso) {
        cJSON_Delete(iso->probe);
        iso->probe = NULL;
    }
}

cJSON *isolation_json(const struct isolation *iso)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "level", config_isolation_name(iso->level));
    cJSON_AddStringToObject(j, "minimum", config_isolation_name(iso->cfg->isolation_min));
    cJSON_AddBoolToObject(j, "sandboxed", iso->sandboxed);
    cJSON_AddBoolToObject(j, "accepting", !iso->refusal[0]);
    if (iso->refusal[0])
        cJSON_AddStringToObject(j, "refusal", iso->refusal);
    static const char *const keys[] = {"features", "missing", "cgroup", "kernel"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(iso->probe, keys[k]);
        if (v)
            cJSON_AddItemToObject(j, keys[k], cJSON_Duplicate(v, 1));
    }
    return j;
}

/* ---- one run ------------------------------------------------------------------------------- */

/* Append s (copied) to a's argv; -1 when out of room. */
static int put(struct isolation_argv *a, int *n, const char *s)
{
    size_t len = strlen(s) + 1;
    if (*n >= (int)(sizeof a->v / sizeof a->v[0]) - 1 || a->used + len > sizeof a->text)
        return -1;
    memcpy(a->text + a->used, s, len);
    a->v[(*n)++] = a->text + a->used;
    a->v[*n] = NULL;
    a->used += len;
    return 0;
}

static int put_num(struct isolation_argv *a, int *n, const char *opt, long long v)
{
    char t[32];
    snprintf(t, sizeof t, "%lld", v);
    return put(a, n, opt) || put(a, n, t);
}

static int visible(const char *path)
{
    for (size_t i = 0; i < sizeof visible_roots / sizeof visible_roots[0]; i++)
        if (!strncmp(path, visible_roots[i], strlen(visible_roots[i])))
            return 1;
    return 0;
}

/* --env NAME=VALUE for each passed variable that is set; --ro for the directories it names that a
 * sandbox would not otherwise see (cuDNN's file, the library path's entries). */
static int put_env(struct isolation_argv *a, int *n)
{
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof passed_env / sizeof passed_env[0]; i++) {
        const char *v = getenv(passed_env[i]);
        if (!v || !*v)
            continue;
        char kv[1200];
        snprintf(kv, sizeof kv, "%s=%s", passed_env[i], v);
        rc = put(a, n, "--env") || put(a, n, kv);
        if (!strcmp(passed_env[i], "KGRADE_REF_CONFIG"))
            continue;
        char list[1024];
        snprintf(list, sizeof list, "%s", v);
        char *save = NULL;
        for (char *p = strtok_r(list, ":", &save); !rc && p; p = strtok_r(NULL, ":", &save)) {
            struct stat st;
            if (p[0] != '/' || visible(p) || stat(p, &st))
                continue;
            if (!S_ISDIR(st.st_mode)) {   /* a library file: its directory */
                char *slash = strrchr(p, '/');
                if (slash == p)
                    continue;
                *slash = 0;
            }
            rc = put(a, n, "--ro") || put(a, n, p);
        }
    }
    return rc;
}

int isolation_argv(const struct isolation *iso, const struct isolation_run *run, const char *const *worker_argv,
                   struct isolation_argv *a, struct err *e)
{
    const struct config *c = iso->cfg;
    int n = 0, rc = 0;
    a->used = 0;
    a->v[0] = NULL;
    if (iso->sandboxed) {
        char mnt[600];
        snprintf(mnt, sizeof mnt, "%s/sandbox-root", c->data_dir);
        rc = put(a, &n, c->sandbox) || put(a, &n, "run") || put_num(a, &n, "--slot", run->slot)
             || put(a, &n, "--cgroup") || put(a, &n, iso->cgroup) || put_num(a, &n, "--uid", c->sandbox_uid)
             || put_num(a, &n, "--wall-ms", run->wall_ms)
             || put_num(a, &n, "--memory", (long long)(run->memory ? run->memory : c->sandbox_memory))
             || put_num(a, &n, "--pids", c->sandbox_pids) || put_num(a, &n, "--scratch", (long long)c->sandbox_scratch)
             || put(a, &n, "--mount-point") || put(a, &n, mnt) || put(a, &n, "--pass-fd") || put(a, &n, "3")
             || put(a, &n, "--meta-fd") || put(a, &n, "4");
        if (!rc && run->gpu >= 0)
            rc = put_num(a, &n, "--gpu", run->gpu);
        if (!rc && run->profile)
            rc = put(a, &n, "--profile") || put(a, &n, run->profile);
        if (!rc && c->sandbox_cpus > 0)
            rc = put_num(a, &n, "--cpus", c->sandbox_cpus);
        for (int i = 0; !rc && run->rw[i]; i++)
            rc = put(a, &n, "--rw") || put(a, &n, run->rw[i]);
        for (int i = 0; !rc && run->ro[i]; i++)
            rc = put(a, &n, "--ro") || put(a, &n, run->ro[i]);
        char list[sizeof c->sandbox_ro], *save = NULL;
        snprintf(list, sizeof list, "%s", c->sandbox_ro);
        for (char *p = strtok_r(list, ",", &save); !rc && p; p = strtok_r(NULL, ",", &save))
            rc = put(a, &n, "--ro") || put(a, &n, p);
        rc = rc || put_env(a, &n) || put(a, &n, "--");
    }
    for (int i = 0; !rc && worker_argv[i]; i++)
        rc = put(a, &n, worker_argv[i]);
    return rc ? err_set(e, ERR_LIMIT, "", "the sandbox's command line is too long") : 0;
}

/* ---- the meta line ------------------------------------------------------------------------- */

static const char *const status_names[] = {"exited", "signaled", "timeout", "memory_limit", "violation",
                                           "setup_failed"};

static double num_or(const cJSON *o, const char *k, double dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static void str_into(const cJSON *o, const char *k, char *out, size_t n)
{
    const char *v = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
    snprintf(out, n, "%s", v ? v : "");
}

int isolation_meta_parse(const char *text, size_t len, struct isolation_meta *m, struct err *e)
{
    memset(m, 0, sizeof *m);
    cJSON *j = text && len ? cJSON_ParseWithLength(text, len) : NULL;
    const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "status"));
    int found = -1;
    for (int i = 0; st && i < (int)(sizeof status_names / sizeof status_names[0]); i++)
        if (!strcmp(st, status_names[i]))
            found = i;
    if (found < 0) {
        cJSON_Delete(j);
        return err_set(e, ERR_INVALID, "", "the sandbox gave no meta line%s", len ? " it could read" : "");
    }
    m->status = (enum isolation_status)found;
    m->exit_code = (int)num_or(j, "exit_code", -1);
    str_into(j, "signal", m->signal, sizeof m->signal);
    str_into(j, "violation", m->violation, sizeof m->violation);
    str_into(j, "error", m->error, sizeof m->error);
    str_into(j, "cgroup", m->cgroup, sizeof m->cgroup);
    m->wall_ms = num_or(j, "wall_ms", -1);
    m->setup_ms = num_or(j, "setup_ms", -1);
    m->memory_peak = num_or(j, "memory_peak_bytes", -1);
    m->oom_kills = num_or(j, "oom_kills", -1);
    m->pids_peak = num_or(j, "pids_peak", -1);
    cJSON_Delete(j);
    return 0;
}

static void add_known(cJSON *o, const char *k, double v)
{
    if (v >= 0)
        cJSON_AddNumberToObject(o, k, v);
}

cJSON *isolation_result_json(const struct isolation *iso, const struct isolation_meta *m)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "level", config_isolation_name(iso->level));
    cJSON_AddBoolToObject(j, "sandboxed", iso->sandboxed);
    if (m) {
        add_known(j, "setup_ms", m->setup_ms);
        add_known(j, "wall_ms", m->wall_ms);
        add_known(j, "memory_peak_bytes", m->memory_peak);
        add_known(j, "pids_peak", m->pids_peak);
        add_known(j, "oom_kills", m->oom_kills);
        if (m->cgroup[0])
            cJSON_AddStringToObject(j, "cgroup", m->cgroup);
    }
    return j;
}
