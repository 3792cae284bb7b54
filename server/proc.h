/* proc.h — run one child process (a kgrade-worker) to completion under a deadline: feed its stdin,
 * collect bounded stdout and stderr, kill its whole process group on the deadline or on request.
 * A child can also be started now and given its input later (proc_start, then proc_finish or
 * proc_abort): a pre-started worker waits, warm, for a job that is not claimed yet.
 *
 * The child starts in a process group of its own with only fds 0, 1 and 2 (and 3, 4 when asked for) open (everything of the
 * daemon is close-on-exec or closed), default signal dispositions and an empty signal mask. Safe
 * to call from many threads at once; one started child belongs to one thread at a time.
 *
 * The caller must, process-wide, ignore SIGPIPE (a child that closes its stdin early makes the
 * write fail with EPIPE, which ends the input), leave SIGCHLD at its default (not SIG_IGN) and
 * never reap with waitpid(-1) or wait(): each child is reaped by the proc_run, proc_finish or
 * proc_abort that ends it. */
#ifndef KGRADE_PROC_H
#define KGRADE_PROC_H

#include <stdatomic.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct proc_opts {
    const char *const *argv;    /* argv[0] is the executable's path (no PATH search) */
    const char *const *envp;    /* NULL: the daemon's environment */
    const char *in;             /* proc_run: written to the child's stdin, then stdin is closed */
    size_t in_len;
    size_t out_max, err_max;    /* bytes kept of stdout / stderr; the rest is read and dropped */
    size_t extra_max[2];        /* > 0: the child also gets fd 3 / fd 4 as pipes read like stdout */
    long deadline_ms;           /* proc_run: wall clock from start; <= 0: none */
    atomic_int *cancel;         /* proc_run: when it becomes non-zero the child is killed; may be NULL */
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
    double wall_ms;             /* from the start (proc_run) or the hand-over (proc_finish) to the exit */
    double waited_ms;           /* proc_finish: from proc_start to the hand-over; 0 for proc_run */
    size_t in_fed;              /* bytes of the input the child's stdin took (fewer: it closed or died) */
};

/* Run the child and wait for it (and its pipes) to finish. Returns 0 with r filled whenever the
 * child ran, whatever its fate; a negative ERR_* (ERR_IO, ERR_NOMEM) when it could not be started
 * (r then holds nothing to free). A failed exec is ERR_IO naming the path, never a child that
 * exits 127. The rare failure while it runs (out of memory for its output, a failed poll) is also
 * a negative ERR_*, after the child's group was killed and the child reaped. */
int proc_run(const struct proc_opts *o, struct proc_result *r, struct err *e);
void proc_result_free(struct proc_result *r);

/* ---- started now, fed later --------------------------------------------------------------- */

struct proc;

/* Spawn the child as proc_run does and return at once with *out: its stdin stays open with
 * nothing written, and nothing reads its output until proc_finish. o->in, o->in_len,
 * o->deadline_ms and o->cancel are not used (proc_finish takes them); o->argv and o->envp are used
 * only here; o->pid_out must stay valid until the child is ended. While it waits the child may
 * write at most a pipe's buffer (64 KiB on Linux) to each of its stdout, stderr, fd 3 and fd 4;
 * a larger write blocks it until proc_finish reads. Errors as proc_run's "could not be started";
 * *out is then NULL. Each started child must end in exactly one proc_finish or proc_abort. */
int proc_start(const struct proc_opts *o, struct proc **out, struct err *e);

/* 1 when the started child has already exited (or cannot be waited for): it is not reaped, and
 * proc_finish or proc_abort still must end it. 0 while it runs. */
int proc_exited(struct proc *p);

/* Hand the child its input (in, in_len: written, then its stdin closed; NULL or 0: closed at
 * once) and wait as proc_run does, the deadline counted from now, killing it when *cancel becomes
 * non-zero (cancel may be NULL). r->waited_ms says how long it had waited, r->in_fed how much of
 * in it took. Returns as proc_run. Ends p (freed, child reaped) whatever happens. */
int proc_finish(struct proc *p, const char *in, size_t in_len, long deadline_ms, atomic_int *cancel,
                struct proc_result *r, struct err *e);

/* Kill the child's group, reap the child, free p: ending it without waiting (a job whose input
 * could not be made). NULL is a no-op. */
void proc_abort(struct proc *p);

/* "SIGSEGV" etc. for a signal number ("signal N" for others, in a static buffer per thread). */
const char *proc_signal_name(int sig);

#endif
