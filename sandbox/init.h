/* init.h — pid 1 of a sandbox, and the program's process it forks.
 *
 * The keeper fills a struct init_job, clones a child into the new namespaces and calls init_main
 * there. Init waits for the keeper's go byte (written once the uid/gid maps are in place), builds
 * the root (mounts.h), forks the program's process (rlimits, setsid, no capabilities,
 * no_new_privs, seccomp stage 1, only the passed fds, execve), holds its seccomp listener and
 * waits. Everything init learns reaches the keeper as fixed-size reports on the status pipe:
 * first INIT_STARTED (the exec happened) or INIT_SETUP_FAILED, then one final report. Init exits
 * right after its final report, which makes the kernel kill whatever is left in the namespace. */
#ifndef KGRADE_INIT_H
#define KGRADE_INIT_H

#include "mounts.h"

#define INIT_MAX_PASS_FDS 16
#define INIT_MAX_CLOSE_FDS 8

struct init_job {
    const char *program;        /* absolute path */
    char *const *argv;          /* NULL-terminated; argv[0] is what the program sees */
    char *const *envp;          /* the scrubbed environment */
    struct mounts_spec mounts;
    long long fsize, nofile, nproc; /* RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_NPROC (>= 1) */
    long long data;             /* RLIMIT_DATA in bytes, or -1: none (a memory cgroup limits) */
    long long cpu_s;            /* RLIMIT_CPU in seconds, or -1: none */
    int pass_fd[INIT_MAX_PASS_FDS];   /* passed to the program under the same number */
    int n_pass;
    int sync_fd;                /* read end: the keeper's go byte; EOF means give up */
    int status_fd;              /* write end: struct init_report */
    int close_fd[INIT_MAX_CLOSE_FDS]; /* the keeper's own fds, closed first thing (-1: none) */
};

enum init_kind { INIT_STARTED = 1, INIT_EXITED, INIT_SIGNALED, INIT_VIOLATION, INIT_SETUP_FAILED };

/* One report: written whole (smaller than PIPE_BUF, so never split or interleaved). */
struct init_report {
    int kind;                   /* enum init_kind */
    int value;                  /* INIT_EXITED: exit code; INIT_SIGNALED: the signal */
    double at_ms;               /* init_now_ms() when it happened */
    char text[400];             /* INIT_VIOLATION: the call; INIT_SETUP_FAILED: "step: strerror" */
};

/* Run as the clone's child; never returns. */
_Noreturn void init_main(const struct init_job *j);

/* CLOCK_MONOTONIC in milliseconds (the keeper and init share the clock). */
double init_now_ms(void);

#endif
