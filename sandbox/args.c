/* args.c — `kgrade-sandbox run` options and the program's environment (see args.h).
 *
 * DESIGN
 *   One pass over argv; each option is "--name value" or "--name=value"; "--" ends the options
 *   and PROGRAM must follow. Numbers are checked against their range, sizes take a K/M/G/T
 *   suffix (powers of 1024), paths must be absolute and clean (no "." or ".." component, no "//",
 *   no trailing "/"), passed fds must be open. The environment is an allow-list: six defaults,
 *   then what the caller names with --env; nothing of our own environment passes.
 *
 * Invariants: nothing is allocated (strings point into argv or static storage); a rejected
 * command line leaves the caller nothing to clean.
 *
 * Does not: look at the host (sources, cgroups), or decide limits' defaults anywhere but here. */
#include "args.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char usage_text[] =
    "usage: kgrade-sandbox run [options] -- PROGRAM [ARG...]\n"
    "Runs PROGRAM (an absolute path) in a fresh sandbox, waits for it, and writes one meta line.\n"
    "  --slot N            job cgroup slot-N under the cgroup parent, 0..4095 (default 0)\n"
    "  --cgroup SPEC       the \"cgroup\" string printed by probe, or none (default none)\n"
    "  --uid N             host uid and gid of the sandbox's root when run as root (default 100000)\n"
    "  --wall-ms N         wall-clock limit from the program's start, 0 = none (default 0)\n"
    "  --memory BYTES      memory limit (memory cgroup; without one RLIMIT_DATA) (default 4G)\n"
    "  --pids N            task limit: pids.max and RLIMIT_NPROC (default 256)\n"
    "  --cpus X            cpu.max quota in CPUs, cgroup v2 only (default none)\n"
    "  --scratch BYTES     size of the private /scratch tmpfs, cwd and HOME (default 512M)\n"
    "  --tmp BYTES         size of the /tmp tmpfs (default 256M)\n"
    "  --fsize BYTES       RLIMIT_FSIZE (default 256M)\n"
    "  --nofile N          RLIMIT_NOFILE (default 1024)\n"
    "  --gpu N             bind /dev/nvidiaN, nvidiactl, nvidia-uvm, nvidia-uvm-tools (those that exist)\n"
    "  --ro PATH[:INSIDE]  extra read-only bind, at the same path or at INSIDE (repeatable)\n"
    "  --rw PATH[:INSIDE]  extra read-write directory bind, likewise (repeatable)\n"
    "  --env K=V           set K in the program's environment (repeatable)\n"
    "  --profile P         cuda (default: /tmp and /scratch noexec) or python (exec allowed)\n"
    "  --pass-fd N         pass our fd N to the program as fd N (repeatable; 0-2 always pass)\n"
    "  --meta-fd N         write the meta line to fd N (default: stderr, as \"kgrade-sandbox: meta {...}\")\n"
    "  --mount-point DIR   empty directory the root is built on (default " ARGS_DEFAULT_MOUNT_POINT ")\n"
    "  --help              print this list\n"
    "BYTES take an optional K, M, G or T suffix (powers of 1024).\n"
    "Exit status: 0 when the meta line was written, 2 for a usage error, 1 otherwise.\n";

void args_usage(FILE *f)
{
    fputs(usage_text, f);
}

static int bad(struct err *e, const char *opt, const char *v, const char *what)
{
    return err_set(e, ERR_INVALID, opt, "%s: '%.200s' %s", opt, v, what);
}

static int parse_int(const char *s, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || errno || v < lo || v > hi || !isdigit((unsigned char)s[0]))
        return -1;
    *out = v;
    return 0;
}

static int parse_bytes(const char *s, long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (!isdigit((unsigned char)s[0]) || errno)
        return -1;
    int shift = 0;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; break;
    case 'M': shift = 20; break;
    case 'G': shift = 30; break;
    case 'T': shift = 40; break;
    case '\0': break;
    default: return -1;
    }
    if (shift && *++end && strcmp(end, "B") && strcmp(end, "iB"))
        return -1;
    if (v == 0 || v > (unsigned long long)LLONG_MAX >> shift)
        return -1;
    *out = (long long)(v << shift);
    return 0;
}

/* Absolute, no empty, "." or ".." component, no trailing "/", shorter than PATH_MAX. */
static int clean_path(const char *p)
{
    size_t n = strlen(p);
    if (n < 2 || p[0] != '/' || p[n - 1] == '/' || n >= PATH_MAX)
        return 0;
    for (const char *c = p; *c; c++) {
        if (*c != '/')
            continue;
        const char *next = c + 1;
        size_t len = strcspn(next, "/");
        if (len == 0 || (len == 1 && next[0] == '.') || (len == 2 && next[0] == '.' && next[1] == '.'))
            return 0;
    }
    return 1;
}

static int open_fd(long long fd)
{
    return fcntl((int)fd, F_GETFD) >= 0;
}

static void defaults(struct args *a)
{
    memset(a, 0, sizeof *a);
    a->cgroup = "none";
    a->uid = ARGS_DEFAULT_UID;
    a->memory = 4LL << 30;
    a->pids = 256;
    a->scratch = 512LL << 20;
    a->tmp = 256LL << 20;
    a->fsize = 256LL << 20;
    a->nofile = 1024;
    a->gpu = -1;
    a->meta_fd = -1;
    a->mount_point = ARGS_DEFAULT_MOUNT_POINT;
}

/* One option with its value v. */
static int option(struct args *a, const char *o, const char *v, struct err *e)
{
    long long n;
    if (!strcmp(o, "--slot")) {
        if (parse_int(v, 0, 4095, &n))
            return bad(e, o, v, "is not in 0..4095");
        a->slot = (int)n;
    } else if (!strcmp(o, "--cgroup")) {
        a->cgroup = v;
    } else if (!strcmp(o, "--uid")) {
        if (parse_int(v, 1, 4294967294LL, &a->uid))
            return bad(e, o, v, "is not a uid in 1..4294967294");
    } else if (!strcmp(o, "--wall-ms")) {
        if (parse_int(v, 0, 1LL << 40, &a->wall_ms))
            return bad(e, o, v, "is not a number of milliseconds");
    } else if (!strcmp(o, "--memory") || !strcmp(o, "--scratch") || !strcmp(o, "--tmp") ||
               !strcmp(o, "--fsize")) {
        if (parse_bytes(v, &n))
            return bad(e, o, v, "is not a size (N, NK, NM, NG)");
        *(o[2] == 'm' ? &a->memory : o[2] == 's' ? &a->scratch : o[2] == 't' ? &a->tmp : &a->fsize) = n;
    } else if (!strcmp(o, "--pids") || !strcmp(o, "--nofile")) {
        if (parse_int(v, 1, 1 << 22, &n))
            return bad(e, o, v, "is not in 1..4194304");
        *(o[2] == 'p' ? &a->pids : &a->nofile) = (int)n;
    } else if (!strcmp(o, "--cpus")) {
        char *end;
        a->cpus = strtod(v, &end);
        if (!*v || *end || !(a->cpus > 0 && a->cpus <= 4096))
            return bad(e, o, v, "is not a number of CPUs");
    } else if (!strcmp(o, "--gpu")) {
        if (parse_int(v, 0, 255, &n))
            return bad(e, o, v, "is not a GPU index");
        a->gpu = (int)n;
    } else if (!strcmp(o, "--ro") || !strcmp(o, "--rw")) {
        int ro = o[3] == 'o', *count = ro ? &a->n_ro : &a->n_rw;
        const char *host = v, *at = strchr(v, ':');
        if (*count == MOUNTS_MAX_BINDS)
            return err_set(e, ERR_LIMIT, o, "%s: more than 32 of them", o);
        if (at) {           /* HOST:INSIDE */
            size_t len = (size_t)(at - v);
            if (len >= sizeof a->bind_text[0])
                return bad(e, o, v, "is too long");
            memcpy(a->bind_text[a->n_text], v, len);
            a->bind_text[a->n_text][len] = '\0';
            host = a->bind_text[a->n_text++];
            at++;
            if (!clean_path(at))
                return bad(e, o, v, "does not name a clean absolute path inside");
        }
        if (!clean_path(host))
            return bad(e, o, v, "is not a clean absolute path");
        (ro ? a->ro : a->rw)[*count] = host;
        (ro ? a->ro_at : a->rw_at)[(*count)++] = at;
    } else if (!strcmp(o, "--env")) {
        const char *eq = strchr(v, '=');
        if (!eq || eq == v || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
                                   != (size_t)(eq - v) || isdigit((unsigned char)v[0]))
            return bad(e, o, v, "is not NAME=VALUE");
        if (a->n_env == ARGS_MAX_ENV)
            return err_set(e, ERR_LIMIT, o, "%s: more than 64 of them", o);
        a->env[a->n_env++] = v;
    } else if (!strcmp(o, "--profile")) {
        if (strcmp(v, "cuda") && strcmp(v, "python"))
            return bad(e, o, v, "is neither cuda nor python");
        a->python = !strcmp(v, "python");
    } else if (!strcmp(o, "--pass-fd")) {
        if (parse_int(v, 3, 65535, &n) || !open_fd(n))
            return bad(e, o, v, "is not an open fd above 2");
        if (a->n_pass == INIT_MAX_PASS_FDS)
            return err_set(e, ERR_LIMIT, o, "%s: more than 16 of them", o);
        a->pass_fd[a->n_pass++] = (int)n;
    } else if (!strcmp(o, "--meta-fd")) {
        if (parse_int(v, 1, 65535, &n) || !open_fd(n))
            return bad(e, o, v, "is not an open fd");
        a->meta_fd = (int)n;
    } else if (!strcmp(o, "--mount-point")) {
        if (!clean_path(v))
            return bad(e, o, v, "is not a clean absolute path");
        a->mount_point = v;
    } else {
        return err_set(e, ERR_INVALID, o, "unknown option %s", o);
    }
    return 0;
}

int args_parse(int argc, char **argv, struct args *a, struct err *e)
{
    defaults(a);
    int i = 0;
    for (; i < argc; i++) {
        const char *w = argv[i];
        if (!strcmp(w, "--"))
            break;
        if (!strcmp(w, "--help") || !strcmp(w, "-h"))
            return 1;
        if (strncmp(w, "--", 2))
            return err_set(e, ERR_INVALID, "", "'%s' is not an option; PROGRAM goes after --", w);
        char name[64];
        const char *eq = strchr(w, '='), *v;
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - w), w);
            v = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", w);
            if (i + 1 >= argc)
                return err_set(e, ERR_INVALID, name, "%s needs a value", name);
            v = argv[++i];
        }
        int rc = option(a, name, v, e);
        if (rc)
            return rc;
    }
    if (i >= argc || i + 1 >= argc)
        return err_set(e, ERR_INVALID, "", "no PROGRAM: it goes after --");
    a->program = &argv[i + 1];
    if (a->program[0][0] != '/')
        return err_set(e, ERR_INVALID, "", "PROGRAM '%s' is not an absolute path", a->program[0]);
    if (!clean_path(a->program[0]))
        return err_set(e, ERR_INVALID, "", "PROGRAM '%s' is not a clean path", a->program[0]);
    for (int k = 0; k < a->n_pass; k++)
        if (a->pass_fd[k] == a->meta_fd)
            return err_set(e, ERR_INVALID, "--meta-fd", "--meta-fd %d is also a --pass-fd", a->meta_fd);
    return 0;
}

static int refused(const char *kv)
{
    size_t k = strcspn(kv, "=");
    return (k == 10 && !strncmp(kv, "LD_PRELOAD", k)) || (k == 8 && !strncmp(kv, "LD_AUDIT", k)) ||
           !strncmp(kv, "LD_DEBUG", 8) || (k == 21 && !strncmp(kv, "CUDA_INJECTION64_PATH", k));
}

/* Set kv in out[0..*n), replacing an entry of the same key. */
static int put(char **out, int *n, int max, const char *kv)
{
    size_t k = strcspn(kv, "=") + 1;
    for (int i = 0; i < *n; i++)
        if (!strncmp(out[i], kv, k)) {
            out[i] = (char *)(uintptr_t)kv;
            return 0;
        }
    if (*n + 1 >= max)
        return -1;
    out[(*n)++] = (char *)(uintptr_t)kv;
    out[*n] = NULL;
    return 0;
}

int args_env(const struct args *a, char **out, int max, struct err *e)
{
    static const char *const base[] = {
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/scratch",
        "TMPDIR=/tmp", "LANG=C.UTF-8", "TRITON_CACHE_DIR=/scratch/.triton", "CUDA_CACHE_PATH=/scratch/.nv",
    };
    int n = 0, rc = 0;
    out[0] = NULL;
    for (size_t i = 0; !rc && i < sizeof base / sizeof base[0]; i++)
        rc = put(out, &n, max, base[i]);
#ifdef KGRADE_SANITIZER
    static char asan[1024], ubsan[1024];
    const char *as = getenv("ASAN_OPTIONS"), *us = getenv("UBSAN_OPTIONS");
    snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sdetect_leaks=0", as ? as : "", as && *as ? ":" : "");
    rc = rc || put(out, &n, max, asan);
    if (us) {
        snprintf(ubsan, sizeof ubsan, "UBSAN_OPTIONS=%s", us);
        rc = rc || put(out, &n, max, ubsan);
    }
#endif
    for (int i = 0; !rc && i < a->n_env; i++) {
        if (refused(a->env[i]))
            return err_set(e, ERR_INVALID, "--env", "--env %.*s: refused (it could inject code into the program)",
                           (int)strcspn(a->env[i], "="), a->env[i]);
        rc = put(out, &n, max, a->env[i]);
    }
    return rc ? err_set(e, ERR_LIMIT, "--env", "too many environment variables") : 0;
}
