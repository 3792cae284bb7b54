/* args.h — the command line of `kgrade-sandbox run`, and the program's environment built from it.
 *
 * args_parse checks everything that can be checked without touching the host (ranges, absolute
 * clean paths, open fds); what the host decides (a missing bind source, a refused environment
 * variable) is the keeper's to report as a setup failure. args_usage prints the exact option list
 * that `run --help` shows. */
#ifndef KGRADE_ARGS_H
#define KGRADE_ARGS_H

#include <limits.h>
#include <stdio.h>

#include "err.h"
#include "init.h"

#define ARGS_MAX_ENV 64
#define ARGS_DEFAULT_UID 100000
#define ARGS_DEFAULT_MOUNT_POINT "/tmp/kgrade-sandbox-root"

struct args {
    int slot;                   /* 0..4095 */
    const char *cgroup;         /* the probe's "cgroup" string, or "none" */
    long long uid;              /* the host uid/gid of the sandbox's root when we are root */
    long long wall_ms;          /* 0: no limit */
    long long memory, fsize, scratch, tmp;  /* bytes */
    int pids, nofile;
    double cpus;                /* 0: no cpu.max */
    int gpu;                    /* -1: no GPU node */
    int python;                 /* --profile python: /tmp, /scratch, --rw exec-capable */
    const char *ro[MOUNTS_MAX_BINDS], *ro_at[MOUNTS_MAX_BINDS];  /* host path; inside (NULL: same) */
    int n_ro;
    const char *rw[MOUNTS_MAX_BINDS], *rw_at[MOUNTS_MAX_BINDS];
    int n_rw;
    char bind_text[MOUNTS_MAX_BINDS * 2][PATH_MAX / 4];  /* host parts of HOST:INSIDE, copied */
    int n_text;
    const char *env[ARGS_MAX_ENV];  /* "K=V" as given */
    int n_env;
    int pass_fd[INIT_MAX_PASS_FDS];
    int n_pass;
    int meta_fd;                /* -1: the meta line goes to stderr, prefixed */
    const char *mount_point;
    char **program;             /* PROGRAM [ARG...], NULL-terminated (points into argv) */
};

/* Parse argv[0..argc) (the words after "run"). Returns 0; 1 when --help was asked for (nothing
 * else is valid then); ERR_INVALID with the message naming the option otherwise. */
int args_parse(int argc, char **argv, struct args *a, struct err *e);

/* The option list of `run`, as printed by `run --help`. */
void args_usage(FILE *f);

/* The program's environment into out (at most max entries, NULL-terminated): the defaults (PATH,
 * HOME=/scratch, TMPDIR=/tmp, LANG, TRITON_CACHE_DIR, CUDA_CACHE_PATH), each --env replacing or
 * adding its key, and in sanitizer builds ASAN_OPTIONS (with detect_leaks=0) and UBSAN_OPTIONS.
 * The strings are argv's or static. ERR_INVALID for a refused key (LD_PRELOAD, LD_AUDIT,
 * LD_DEBUG*, CUDA_INJECTION64_PATH). */
int args_env(const struct args *a, char **out, int max, struct err *e);

#endif
