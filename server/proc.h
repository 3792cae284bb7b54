/* proc.h — run one child process (a kgrade-worker) to completion under a deadline: feed its stdin,
 * collect bounded stdout and stderr, kill its whole process group on the deadline or on request.
 *
 * The child starts in a process group of its own with only fds 0, 1 and 2 (and 3, 4 when asked for) open (everything of the
 * daemon is close-on-exec or closed), default signal dispositions and an empty signal mask. Safe
 * to call from many threads at once.
 *
 * The caller must, process-wide, ignore SIGPIPE (a child that closes its stdin early makes the
 * write fail with EPIPE, which ends the input), leave SIGCHLD at its default (not SIG_IGN) and
 * never reap with waitpid(-1) or wait(): each child is reaped by the proc_run that started it. */
#ifndef KGRADE_PROC_H
#define KGRADE_PROC_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct proc_opts {
    const char *const *argv;    /* argv[0] is the executable's path (no PATH search) */
    const char *const *envp;    /* NULL: the daemon's environment */
    const char *in;             /* written to the child's stdin, then stdin is closed */
    size_t in_len;
    size_t out_max, err_max;    /* bytes kept of stdout / stderr; the rest is read and dropped */
    size_t extra_max[2];        /* > 0: the child also gets fd 3 / fd 4 as pipes read like stdout */
    long deadline_ms;           /* wall clock from start; <= 0: none */
    atomic_int *cancel;         /* when it becomes non-zero the child is killed; may be NULL */
    atomic_int *pid_out;        /* when not NULL, receives the child's pid while it runs, then 0 */
};

struct proc_result {
    int exited;                 /* 1: exited with code; 0: killed by signal */
    int code;                   /* exit status when exited */
    int signal;                 /* the signal when not exited */
    int timed_out;              /* killed because the deadline passed */
    int cancelled;              /* killed because *cancel became non-zero */
    char *out, *err;            /* NUL-terminated, owned: proc_result_free */
    size_t out_len, err_len;
    size_t out_seen, err_seen;  /* bytes the child wrote, kept or not */
    int out_truncated, err_truncated;
    char *extra[2];             /* fds 3 and 4 when extra_max asked for them, else NULL; owned */
    size_t extra_len[2], extra_seen[2];
    int extra_truncated[2];
    double wall_ms;
};

/* Run the child and wait for it (and its pipes) to finish. Returns 0 with r filled whenever the
 * child ran, whatever its fate; a negative ERR_* (ERR_IO, ERR_NOMEM) when it could not be started
 * (r then holds nothing to free). A failed exec is ERR_IO naming the path, never a child that
 * exits 127. The rare failure while it runs (out of memory for its output, a failed poll) is also
 * a negative ERR_*, after the child's group was killed and the child reaped. */
int proc_run(const struct proc_opts *o, struct proc_result *r, struct err *e);
void proc_result_free(struct proc_result *r);

/* "SIGSEGV" etc. for a signal number ("signal N" for others, in a static buffer per thread). */
const char *proc_signal_name(int sig);

#endif
