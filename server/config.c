/* config.c — kgraded's settings (see config.h).
 *
 * The one idea: a single table names every setting once — its flag, its kind (text, integer, size,
 * choice, listen address), its default and its help line — and every source (the file, the
 * environment, the flags), the --help text and config_describe walk that same table. A value is
 * always parsed by its kind's parser, so it means the same wherever it comes from, and every
 * refusal names the setting and the place it came from ("--max-body: '12X' is not a size",
 * "kgraded.conf:7: unknown setting 'listn'", "KGRADE_LISTEN: ...").
 *
 * Order: defaults, then the file (--config FILE, else $KGRADE_CONFIG), then KGRADE_<NAME>, then
 * the flags; each later source overwrites. argv is walked twice: once for its shape (unknown flags,
 * missing values, --config) before anything is applied, then to apply the flags last. db_path and
 * cache_dir are derived from data_dir after every source is read.
 *
 * Does not: accept inline comments in the file (a '#' after a value is part of it, so a token may
 * hold one), read settings it does not know from the environment, or check that paths exist (the
 * store and the scheduler do, with their own messages). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "log.h"

#ifndef KGRADE_VERSION
#define KGRADE_VERSION "dev"
#endif

#define KIB 1024LL
#define MIB (1024LL * KIB)
#define GIB (1024LL * MIB)

enum kind { K_STR, K_INT, K_LONG, K_SIZE, K_LISTEN, K_GPUS, K_LOGLEVEL, K_LOGFMT, K_HTTP, K_SYNC, K_ISOLATION, K_ONOFF };

struct setting {
    const char *name;       /* the flag without "--"; the file key; KGRADE_<NAME> */
    enum kind kind;
    size_t off;             /* offsetof(struct config, ...) */
    size_t size;            /* K_STR: the buffer's size */
    long long min, max;     /* K_INT, K_LONG, K_SIZE: the accepted range */
    const char *arg;        /* the value's name in --help */
    const char *def;        /* the default as text (parsed like any value); NULL: computed */
    const char *help;
};

#define OFF(f) offsetof(struct config, f)
#define STR(f) OFF(f), sizeof(((struct config *)0)->f)

static const struct setting settings[] = {
    {"listen", K_LISTEN, OFF(port), 0, 0, 0, "HOST:PORT", "127.0.0.1:8080",
     "where to answer HTTP: HOST:PORT, [V6]:PORT, or :PORT for every interface"},
    {"data", K_STR, STR(data_dir), 0, 0, "DIR", "./var", "the database (DIR/kgrade.db) and the compile cache (DIR/cache)"},
    {"worker", K_STR, STR(worker), 0, 0, "PATH", NULL, "the kgrade-worker executable (default: next to kgraded)"},
    {"gpus", K_GPUS, STR(gpus), 0, 0, "all|none|0,1", "all", "the GPUs to use"},
    {"cpu-lanes", K_INT, OFF(cpu_lanes), 0, 1, 1024, "N", NULL, "parallel compile steps (default: the number of cores)"},
    {"token", K_STR, STR(token), 0, 0, "T", "", "require Authorization: Bearer T (empty: no authentication)"},
    {"log-level", K_LOGLEVEL, OFF(log_level), 0, 0, 0, "debug|info|warn|error", "info", "the least level logged"},
    {"log-format", K_LOGFMT, OFF(log_json), 0, 0, 0, "logfmt|json", "logfmt", "the log's line format"},
    {"max-body", K_SIZE, OFF(max_body), 0, 1, 64 * GIB, "BYTES", "4M", "request body bound (K, M, G suffixes)"},
    {"max-source", K_SIZE, OFF(max_source), 0, 1, 64 * GIB, "BYTES", "256K", "candidate source bound"},
    {"max-batch-body", K_SIZE, OFF(max_batch_body), 0, 1, 64 * GIB, "BYTES", "64M", "batch request body bound"},
    {"max-batch", K_LONG, OFF(max_batch), 0, 1, 100000000, "N", "10000", "requests in one batch"},
    {"max-queue", K_LONG, OFF(max_queue), 0, 1, 1000000000, "N", "100000", "unfinished evaluations stored"},
    {"max-attempts", K_INT, OFF(max_attempts), 0, 1, 100, "N", "3", "runs of one evaluation before it is given up"},
    {"job-timeout", K_LONG, OFF(job_timeout_s), 0, 1, 7 * 86400, "S", "600", "seconds before a worker is killed"},
    {"max-wait", K_INT, OFF(max_wait_s), 0, 1, 86400, "S", "120", "the bound of ?wait=S"},
    {"http", K_HTTP, OFF(http_mode), 0, 0, 0, "threads|epoll", "threads", "a thread per connection, or an epoll pool"},
    {"http-pool", K_INT, OFF(http_pool), 0, 1, 1024, "N", NULL, "threads in epoll mode (default: the number of cores)"},
    {"max-connections", K_INT, OFF(max_connections), 0, 1, 1000000, "N", "512", "concurrent connections"},
    {"client-timeout", K_INT, OFF(client_timeout_s), 0, 0, 86400, "S", "30", "seconds an idle connection is kept (0: forever)"},
    {"sync", K_SYNC, OFF(sync_full), 0, 0, 0, "full|normal", "full", "SQLite synchronous mode (full survives power loss)"},
    {"events-keep", K_LONG, OFF(events_keep), 0, 1, 1000000000, "N", "100000", "events retained for Last-Event-ID"},
    {"compile-timeout", K_LONG, OFF(compile_timeout_s), 0, 1, 86400, "S", "120",
     "seconds before a compile step's sandbox is killed"},
    {"sandbox", K_STR, STR(sandbox), 0, 0, "PATH", NULL, "the kgrade-sandbox executable (default: next to kgraded)"},
    {"isolation-min", K_ISOLATION, OFF(isolation_min), 0, 0, 0, "full|reduced|none", "reduced",
     "below this isolation level untrusted code is refused (none: run unsandboxed, development only)"},
    {"cgroup", K_STR, STR(cgroup), 0, 0, "auto|none|DIR", "auto", "where sandboxes get their control groups"},
    {"sandbox-ro", K_STR, STR(sandbox_ro), 0, 0, "DIRS", "",
     "extra directories (comma-separated) every sandbox sees read-only at the same path"},
    {"sandbox-uid", K_LONG, OFF(sandbox_uid), 0, 1, 4294967294LL, "UID", "100000",
     "the host uid and gid a sandbox runs as (when kgraded runs as root)"},
    {"sandbox-memory", K_SIZE, OFF(sandbox_memory), 0, 64 * MIB, 64 * 1024 * GIB, "BYTES", "4G",
     "host memory of one sandbox (memory cgroup, swap off)"},
    {"sandbox-memory-python", K_SIZE, OFF(sandbox_memory_python), 0, 64 * MIB, 64 * 1024 * GIB, "BYTES", "16G",
     "host memory of the sandbox of a Triton candidate (python3 with torch and Triton)"},
    {"python", K_STR, STR(python), 0, 0, "PATH", "python3",
     "the python3 with torch and Triton that runs Triton candidates (its tree must be visible in a sandbox: "
     "under /usr or /opt, or named in sandbox-ro)"},
    {"sandbox-pids", K_INT, OFF(sandbox_pids), 0, 16, 1000000, "N", "256", "processes and threads of one sandbox"},
    {"sandbox-cpus", K_INT, OFF(sandbox_cpus), 0, 0, 4096, "N", "0",
     "CPUs one sandbox may use (cpu.max, cgroup v2 with cpu delegated; 0: no limit)"},
    {"sandbox-scratch", K_SIZE, OFF(sandbox_scratch), 0, 1 * MIB, 1024 * GIB, "BYTES", "512M",
     "the size of a sandbox's private /scratch"},
    {"prestart", K_ONOFF, OFF(prestart), 0, 0, 0, "on|off", "on",
     "each GPU lane keeps one Triton worker started in a fresh sandbox (torch and Triton imported, CUDA up) "
     "for its next Triton job (sandboxed hosts only; off: every worker starts when its job is claimed)"},
    {"prestart-idle", K_LONG, OFF(prestart_idle_s), 0, 1, 86400, "S", "600",
     "seconds a pre-started worker may wait for a job before it is replaced by a fresh one"},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* The setting named name[0..len) (dashes or underscores), or NULL. */
static const struct setting *find(const char *name, size_t len)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        const char *s = settings[i].name;
        if (strlen(s) != len)
            continue;
        size_t k = 0;
        while (k < len && (name[k] == s[k] || (name[k] == '_' && s[k] == '-')))
            k++;
        if (k == len)
            return &settings[i];
    }
    return NULL;
}

static void env_name(const struct setting *s, char out[64])
{
    size_t n = (size_t)snprintf(out, 64, "KGRADE_%s", s->name);
    for (size_t i = 7; i < n && i < 63; i++)
        out[i] = out[i] == '-' ? '_' : (char)toupper((unsigned char)out[i]);
}

static int parse_ll(const char *v, long long *out)
{
    if (!*v || isspace((unsigned char)*v))
        return -1;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end)
        return -1;
    *out = x;
    return 0;
}

/* "4194304", "4M", "4MiB", "256k", "64MB" -> bytes. */
static int parse_size(const char *v, long long *out)
{
    if (!isdigit((unsigned char)*v))
        return -1;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno)
        return -1;
    long long mul = 1;
    switch (toupper((unsigned char)*end)) {
    case 'K': mul = KIB; end++; break;
    case 'M': mul = MIB; end++; break;
    case 'G': mul = GIB; end++; break;
    default: break;
    }
    if (mul > 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0 || strcmp(end, "b") == 0))
        end += strlen(end);
    if (*end || x > LLONG_MAX / mul)
        return -1;
    *out = x * mul;
    return 0;
}

/* HOST:PORT, [V6]:PORT or :PORT (every interface: 0.0.0.0). */
static int parse_listen(const char *v, const char *where, struct config *c, struct err *e)
{
    const char *hs = v, *he, *port;
    if (*v == '[') {
        hs = v + 1;
        he = strchr(hs, ']');
        if (!he || he[1] != ':' || he == hs || !memchr(hs, ':', (size_t)(he - hs)))
            return err_set(e, ERR_INVALID, "listen", "%s: '%.100s' is not [V6]:PORT", where, v);
        port = he + 2;
    } else {
        he = strrchr(v, ':');
        if (!he)
            return err_set(e, ERR_INVALID, "listen", "%s: '%.100s' is not HOST:PORT, [V6]:PORT or :PORT",
                           where, v);
        if (memchr(v, ':', (size_t)(he - v)))
            return err_set(e, ERR_INVALID, "listen", "%s: '%.100s': write an IPv6 host in brackets, [V6]:PORT",
                           where, v);
        port = he + 1;
    }
    size_t hl = (size_t)(he - hs);
    if (hl >= sizeof c->listen_host)
        return err_set(e, ERR_INVALID, "listen", "%s: the host is too long (at most %zu bytes)", where,
                       sizeof c->listen_host - 1);
    for (size_t i = 0; i < hl; i++)
        if (isspace((unsigned char)hs[i]) || hs[i] == '/' || hs[i] == '[' || hs[i] == ']')
            return err_set(e, ERR_INVALID, "listen", "%s: '%.100s' is not a host name or address", where, v);
    size_t pl = strlen(port);
    long long p = -1;
    if (pl == 0 || pl > 5 || strspn(port, "0123456789") != pl || parse_ll(port, &p) || p > 65535)
        return err_set(e, ERR_INVALID, "listen", "%s: '%.100s' is not a port (0..65535)", where, port);
    if (hl == 0)
        snprintf(c->listen_host, sizeof c->listen_host, "0.0.0.0");
    else
        snprintf(c->listen_host, sizeof c->listen_host, "%.*s", (int)hl, hs);
    c->port = (int)p;
    return 0;
}

/* "all", "none" or ordinals 0..63 separated by commas. */
static int valid_gpus(const char *v)
{
    if (strcmp(v, "all") == 0 || strcmp(v, "none") == 0)
        return 1;
    const char *p = v;
    for (;;) {
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 2 || atoi(p) > 63)
            return 0;
        p += n;
        if (*p == 0)
            return 1;
        if (*p++ != ',')
            return 0;
    }
}

/* Which of the names v is (its index), or -1. */
static int choice(const char *v, const char *a, const char *b)
{
    return strcmp(v, a) == 0 ? 0 : strcmp(v, b) == 0 ? 1 : -1;
}

/* Parse v as setting s into c. where names the source for the message. */
static int apply(struct config *c, const struct setting *s, const char *v, const char *where, struct err *e)
{
    char *field = (char *)c + s->off;
    long long x;
    int k;
    switch (s->kind) {
    case K_STR:
        if (strlen(v) >= s->size)
            return err_set(e, ERR_INVALID, s->name, "%s: too long (at most %zu bytes)", where, s->size - 1);
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case K_GPUS:
        if (strlen(v) >= s->size || !valid_gpus(v))
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not all, none or a list of ordinals like 0,1",
                           where, v);
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case K_INT:
    case K_LONG:
        if (parse_ll(v, &x))
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not an integer", where, v);
        if (x < s->min || x > s->max)
            return err_set(e, ERR_INVALID, s->name, "%s: %lld is out of range %lld..%lld", where, x, s->min,
                           s->max);
        if (s->kind == K_INT)
            *(int *)field = (int)x;
        else
            *(long *)field = (long)x;
        return 0;
    case K_SIZE:
        if (parse_size(v, &x))
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not a size (bytes, or with K, M, G)", where, v);
        if (x < s->min || x > s->max)
            return err_set(e, ERR_INVALID, s->name, "%s: %lld bytes is out of range %lld..%lld", where, x, s->min,
                           s->max);
        *(size_t *)field = (size_t)x;
        return 0;
    case K_LISTEN:
        return parse_listen(v, where, c, e);
    case K_LOGLEVEL:
        if ((k = log_level_parse(v)) < 0)
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not debug, info, warn or error", where, v);
        *(int *)field = k;
        return 0;
    case K_LOGFMT:
        if ((k = choice(v, "logfmt", "json")) < 0)
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not logfmt or json", where, v);
        *(int *)field = k;
        return 0;
    case K_HTTP:
        if ((k = choice(v, "threads", "epoll")) < 0)
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not threads or epoll", where, v);
        *(enum config_http_mode *)field = k ? CONFIG_HTTP_EPOLL : CONFIG_HTTP_THREADS;
        return 0;
    case K_SYNC:
        if ((k = choice(v, "normal", "full")) < 0)
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not full or normal", where, v);
        *(int *)field = k;
        return 0;
    case K_ISOLATION:
        if ((k = config_isolation_parse(v)) < 0)
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not full, reduced or none", where, v);
        *(int *)field = k;
        return 0;
    case K_ONOFF:
        if ((k = choice(v, "off", "on")) < 0)
            return err_set(e, ERR_INVALID, s->name, "%s: '%.100s' is not on or off", where, v);
        *(int *)field = k;
        return 0;
    }
    return err_set(e, ERR_INTERNAL, s->name, "%s: unknown kind", where);
}

/* out = the directory of this executable + "/" + name (just name when that cannot be known). */
static void next_to_us(char *out, size_t len, const char *name)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
    if (!slash || (size_t)(slash - exe) + strlen(name) + 2 > len)
        slash = NULL;
    if (slash)
        snprintf(out, len, "%.*s/%s", (int)(slash - exe), exe, name);
    else
        snprintf(out, len, "%s", name);
}

static const char *const isolation_names[] = {"none", "reduced", "full"};

int config_isolation_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, isolation_names[i]))
            return i;
    return -1;
}

const char *config_isolation_name(int level)
{
    return level >= 0 && level < 3 ? isolation_names[level] : "?";
}

static void set_defaults(struct config *c)
{
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < NSETTINGS; i++)
        if (settings[i].def)
            apply(c, &settings[i], settings[i].def, "default", NULL);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    c->cpu_lanes = c->http_pool = cores < 1 ? 1 : cores > 1024 ? 1024 : (int)cores;
    next_to_us(c->worker, sizeof c->worker, "kgrade-worker");
    next_to_us(c->sandbox, sizeof c->sandbox, "kgrade-sandbox");
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* `name = value` lines, '#' comment lines, blank lines; a value may be quoted ("..." or '...'). */
static int read_file(struct config *c, const char *path, struct err *e)
{
    FILE *f = NULL;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, rc = 0;
    f = fopen(path, "r");
    if (!f) {
        rc = err_set(e, ERR_INVALID, "config", "%s: cannot open: %s", path, strerror(errno));
        goto out;
    }
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *l = trim(line);
        if (*l == 0 || *l == '#')
            continue;
        if (strlen(l) > 4096) {
            rc = err_set(e, ERR_INVALID, "config", "%s:%d: line too long", path, lineno);
            goto out;
        }
        char *eq = strchr(l, '=');
        if (!eq) {
            rc = err_set(e, ERR_INVALID, "config", "%s:%d: expected 'name = value'", path, lineno);
            goto out;
        }
        *eq = 0;
        char *name = trim(l), *val = trim(eq + 1);
        size_t vl = strlen(val);
        if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
            val[vl - 1] = 0;
            val++;
        }
        const struct setting *s = find(name, strlen(name));
        if (!s) {
            rc = err_set(e, ERR_INVALID, "config", "%s:%d: unknown setting '%.64s'", path, lineno, name);
            goto out;
        }
        char where[600];
        snprintf(where, sizeof where, "%.500s:%d: %s", path, lineno, s->name);
        if ((rc = apply(c, s, val, where, e)))
            goto out;
    }
out:
    free(line);
    if (f)
        fclose(f);
    return rc;
}

static int read_env(struct config *c, struct err *e)
{
    for (size_t i = 0; i < NSETTINGS; i++) {
        char name[64];
        env_name(&settings[i], name);
        const char *v = getenv(name);
        int rc = v ? apply(c, &settings[i], v, name, e) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

/* Walk the flags: check their shape and find --config (apply = 0), or apply them (apply = 1). */
static int walk_argv(struct config *c, int argc, char **argv, int do_apply, const char **config_path,
                     struct err *e)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0 || a[2] == 0)
            return err_set(e, ERR_INVALID, "", "unexpected argument '%.100s' (settings are --name VALUE; see --help)", a);
        const char *name = a + 2, *eq = strchr(name, '='), *val;
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        if (eq)
            val = eq + 1;
        else if (i + 1 < argc)
            val = argv[++i];
        else
            return err_set(e, ERR_INVALID, "", "--%.64s: missing value", name);
        if (nl == 6 && strncmp(name, "config", 6) == 0) {
            *config_path = val;
            continue;
        }
        const struct setting *s = find(name, nl);
        if (!s)
            return err_set(e, ERR_INVALID, "", "unknown option '--%.*s' (see --help)", (int)(nl > 64 ? 64 : nl), name);
        char where[80];
        snprintf(where, sizeof where, "--%s", s->name);
        int rc = do_apply ? apply(c, s, val, where, e) : 0;
        if (rc)
            return rc;
    }
    return 0;
}

static void usage(void)
{
    printf("usage: kgraded [--config FILE] [--NAME VALUE | --NAME=VALUE]...\n\n"
           "Every setting is also a line `NAME = VALUE` of the config file and the environment\n"
           "variable KGRADE_<NAME> (upper case, dashes as underscores). Flags beat the environment,\n"
           "which beats the file, which beats the defaults. Sizes take K, M, G suffixes (KiB...).\n\n"
           "  --config FILE\n      read settings from FILE\n      env KGRADE_CONFIG\n");
    for (size_t i = 0; i < NSETTINGS; i++) {
        const struct setting *s = &settings[i];
        char env[64];
        env_name(s, env);
        printf("  --%s %s\n      %s\n      ", s->name, s->arg, s->help);
        if (s->def)
            printf("default %s; ", *s->def ? s->def : "\"\"");
        printf("env %s\n", env);
    }
    printf("  --help       print this and exit\n  --version    print the version and exit\n");
}

int config_load(struct config *c, int argc, char **argv, struct err *e)
{
    const char *config_path = NULL;
    int rc;
    set_defaults(c);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage();
            return 1;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("kgraded %s\n", KGRADE_VERSION);
            return 1;
        }
    }
    if ((rc = walk_argv(c, argc, argv, 0, &config_path, e)))
        return rc;
    if (!config_path)
        config_path = getenv("KGRADE_CONFIG");
    if (config_path && *config_path && (rc = read_file(c, config_path, e)))
        return rc;
    if ((rc = read_env(c, e)) || (rc = walk_argv(c, argc, argv, 1, &config_path, e)))
        return rc;
    if (!*c->data_dir)
        return err_set(e, ERR_INVALID, "data", "data: the directory must not be empty");
    if (!*c->worker)
        return err_set(e, ERR_INVALID, "worker", "worker: the path must not be empty");
    snprintf(c->db_path, sizeof c->db_path, "%s/kgrade.db", c->data_dir);
    snprintf(c->cache_dir, sizeof c->cache_dir, "%s/cache", c->data_dir);
    return 0;
}

/* One setting's value as JSON. */
static cJSON *value_json(const struct config *c, const struct setting *s)
{
    const char *field = (const char *)c + s->off;
    char text[128];
    switch (s->kind) {
    case K_STR:
        if (s->off == offsetof(struct config, token))
            return cJSON_CreateString(*c->token ? "(set)" : "");
        return cJSON_CreateString(field);
    case K_GPUS: return cJSON_CreateString(field);
    case K_INT: return cJSON_CreateNumber(*(const int *)field);
    case K_LONG: return cJSON_CreateNumber((double)*(const long *)field);
    case K_SIZE: return cJSON_CreateNumber((double)*(const size_t *)field);
    case K_LISTEN:
        snprintf(text, sizeof text, strchr(c->listen_host, ':') ? "[%s]:%d" : "%s:%d", c->listen_host, c->port);
        return cJSON_CreateString(text);
    case K_LOGLEVEL:
        return cJSON_CreateString(c->log_level >= 0 && c->log_level < 4 ? level_names[c->log_level] : "?");
    case K_LOGFMT: return cJSON_CreateString(c->log_json ? "json" : "logfmt");
    case K_HTTP: return cJSON_CreateString(c->http_mode == CONFIG_HTTP_EPOLL ? "epoll" : "threads");
    case K_SYNC: return cJSON_CreateString(c->sync_full ? "full" : "normal");
    case K_ISOLATION: return cJSON_CreateString(config_isolation_name(*(const int *)field));
    case K_ONOFF: return cJSON_CreateString(*(const int *)field ? "on" : "off");
    }
    return cJSON_CreateNull();
}

char *config_describe(const struct config *c)
{
    cJSON *o = cJSON_CreateObject();
    char *text = NULL;
    if (!o)
        return NULL;
    for (size_t i = 0; i < NSETTINGS; i++)
        cJSON_AddItemToObject(o, settings[i].name, value_json(c, &settings[i]));
    cJSON_AddStringToObject(o, "db_path", c->db_path);
    cJSON_AddStringToObject(o, "cache_dir", c->cache_dir);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return text;
}
