/* config.h — kgraded's settings: defaults, then a config file, then the environment, then flags
 * (each later source wins). Every setting has one long flag `--name`, the same `name = value` key
 * in the file, and the environment variable KGRADE_NAME (dashes become underscores). */
#ifndef KGRADE_CONFIG_H
#define KGRADE_CONFIG_H

#include <stddef.h>

#include "err.h"

enum config_http_mode { CONFIG_HTTP_THREADS, CONFIG_HTTP_EPOLL };

struct config {
    char listen_host[64];       /* --listen HOST:PORT (127.0.0.1:8080) */
    int port;
    char data_dir[512];         /* --data DIR (./var): the database and the compile cache */
    char db_path[600];          /*   DIR/kgrade.db */
    char cache_dir[600];        /*   DIR/cache (the workers' compile cache) */
    char worker[512];           /* --worker PATH (kgrade-worker next to kgraded) */
    char gpus[128];             /* --gpus all|none|0,1 (all) */
    int cpu_lanes;              /* --cpu-lanes N (the number of cores): parallel compile steps */
    char token[256];            /* --token T ("" = no authentication) */
    int log_level;              /* --log-level debug|info|warn|error (info) */
    int log_json;               /* --log-format json|logfmt (logfmt) */
    size_t max_body;            /* --max-body BYTES (4 MiB) */
    size_t max_source;          /* --max-source BYTES (256 KiB) */
    size_t max_batch_body;      /* --max-batch-body BYTES (64 MiB) */
    long max_batch;             /* --max-batch N (10000) */
    long max_queue;             /* --max-queue N (100000) unfinished evaluations */
    int max_attempts;           /* --max-attempts N (3) */
    long job_timeout_s;         /* --job-timeout S (600): a worker past this is killed */
    int max_wait_s;             /* ?wait bound (120) */
    enum config_http_mode http_mode;   /* --http threads|epoll (threads) */
    int http_pool;              /* --http-pool N (the number of cores): threads in epoll mode */
    int max_connections;        /* --max-connections N (512) */
    int client_timeout_s;       /* --client-timeout S (30) */
    int sync_full;              /* --sync full|normal (full) */
    long events_keep;           /* --events-keep N (100000) */
    long compile_timeout_s;     /* --compile-timeout S (120): a compile step past this is killed */
    char sandbox[512];          /* --sandbox PATH (kgrade-sandbox next to kgraded) */
    int isolation_min;          /* --isolation-min full|reduced|none (reduced): CONFIG_ISOLATION_* */
    char cgroup[512];           /* --cgroup auto|none|DIR (auto) */
    char sandbox_ro[1024];      /* --sandbox-ro DIRS ("") extra read-only binds, comma-separated */
    long sandbox_uid;           /* --sandbox-uid UID (100000) */
    size_t sandbox_memory;      /* --sandbox-memory BYTES (4 GiB) */
    size_t sandbox_memory_python;   /* --sandbox-memory-python BYTES (16 GiB): a Triton job's sandbox */
    char python[512];           /* --python PATH ("python3"): the interpreter with torch and Triton */
    int sandbox_pids;           /* --sandbox-pids N (256) */
    int sandbox_cpus;           /* --sandbox-cpus N (0: no cpu.max) */
    size_t sandbox_scratch;     /* --sandbox-scratch BYTES (512 MiB) */
    int prestart;               /* --prestart on|off (on): each GPU lane keeps a Triton worker started */
    long prestart_idle_s;       /* --prestart-idle S (600): a pre-started worker older is replaced */
};

/* Isolation levels, ordered: a host offering level L satisfies every minimum <= L. */
enum { CONFIG_ISOLATION_NONE, CONFIG_ISOLATION_REDUCED, CONFIG_ISOLATION_FULL };

/* "none", "reduced", "full" <-> the CONFIG_ISOLATION_* value; parse gives -1 for anything else. */
int config_isolation_parse(const char *s);
const char *config_isolation_name(int level);

/* Fill c from defaults, --config FILE (or KGRADE_CONFIG), the environment and argv. Returns 0,
 * 1 when --help or --version was printed (exit 0), or ERR_INVALID with e naming the setting and
 * its source (file:line, environment variable or flag). */
int config_load(struct config *c, int argc, char **argv, struct err *e);

/* The settings as JSON text for the start-up log line (token redacted). Caller frees. */
char *config_describe(const struct config *c);

#endif
