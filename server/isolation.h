/* isolation.h — the daemon's side of the sandbox: what this host allows, how a worker run is
 * wrapped in `kgrade-sandbox run`, and what the sandbox reported about the run.
 *
 * The daemon itself never creates namespaces: each worker is started as
 *     kgrade-sandbox run <limits, binds, fds> -- kgrade-worker <command> ...
 * whose keeper process reports one meta line on fd 4 while the worker's record arrives on fd 3.
 * At start the host is probed once (`kgrade-sandbox probe`, which also prepares the control-group
 * parent); the level it finds is reported by /v1/health and in every result. Below the configured
 * minimum, untrusted code is refused (isolation_refusal). */
#ifndef KGRADE_ISOLATION_H
#define KGRADE_ISOLATION_H

#include <cjson/cJSON.h>

#include "config.h"
#include "err.h"

struct isolation {
    int level;                  /* CONFIG_ISOLATION_* the host offers */
    int sandboxed;              /* workers run inside kgrade-sandbox (0 only with --isolation-min none
                                   on a host that offers nothing) */
    char cgroup[1200];          /* the probe's control-group parent, passed to every run */
    char refusal[640];          /* "" or why untrusted code is refused (level below the minimum) */
    cJSON *probe;               /* the probe's JSON: level, features, missing, kernel */
    const struct config *cfg;
};

/* Probe the host with cfg->sandbox. Never fails for what the host lacks (that is the level, and
 * refusal when below cfg->isolation_min); ERR_NOMEM only. */
int isolation_start(const struct config *cfg, struct isolation *iso, struct err *e);
void isolation_free(struct isolation *iso);

/* {"level", "minimum", "sandboxed", "features", "missing"} for /v1/health; caller deletes. */
cJSON *isolation_json(const struct isolation *iso);

/* One worker run. Binds are "HOST" (seen at the same path inside) or "HOST:INSIDE". */
struct isolation_run {
    int slot;                   /* one per lane: names the run's control group */
    int gpu;                    /* the ordinal whose device nodes the run sees; -1: none */
    long wall_ms;               /* the stage's wall clock; the whole sandbox is killed past it */
    const char *rw[4], *ro[4];  /* NULL-terminated */
    const char *profile;        /* the sandbox's --profile: NULL (its default, cuda) or "python" (a Triton
                                   candidate: python3 may map executable pages in /tmp and /scratch) */
    size_t memory;              /* host memory of the sandbox; 0: --sandbox-memory */
};

/* The argv that runs worker_argv (NULL-terminated) as described by run: the keeper's options, then
 * "--", then worker_argv. Unsandboxed: worker_argv itself. Strings live in a. */
struct isolation_argv {
    const char *v[96];
    char text[16384];          /* the argv's strings: an inline spec, a lint policy */
    size_t used;
};
int isolation_argv(const struct isolation *iso, const struct isolation_run *run, const char *const *worker_argv,
                   struct isolation_argv *a, struct err *e);

/* The keeper's meta line. */
enum isolation_status {
    ISOLATION_EXITED, ISOLATION_SIGNALED, ISOLATION_TIMEOUT, ISOLATION_MEMORY_LIMIT, ISOLATION_VIOLATION,
    ISOLATION_SETUP_FAILED
};
struct isolation_meta {
    enum isolation_status status;
    int exit_code;
    char signal[24], violation[128], error[384], cgroup[8];
    double wall_ms, setup_ms;
    double memory_peak, oom_kills, pids_peak;   /* -1: unknown */
};
/* Parse text (not necessarily NUL-terminated). ERR_INVALID when it is not a meta line. */
int isolation_meta_parse(const char *text, size_t len, struct isolation_meta *m, struct err *e);

/* {"level", "sandboxed", and from m when given: wall_ms, setup_ms, memory_peak_bytes, pids_peak,
 * oom_kills, cgroup} — the "isolation" object of a result; caller deletes. */
cJSON *isolation_result_json(const struct isolation *iso, const struct isolation_meta *m);

#endif
