/* proc.c — run one child to completion under a deadline (see proc.h).
 *
 * DESIGN
 *   start    three pipe2(O_CLOEXEC) pipes, then posix_spawn with file actions that dup2 the child's
 *            ends onto 0, 1, 2 and close everything from 3 up, and attributes that put the child in
 *            a process group of its own (pgid = pid) with an empty signal mask and every signal at
 *            its default. glibc's posix_spawn reports a failed exec as its return value, so "could
 *            not start" is an error and never a child that exits 127. Every descriptor this process
 *            opens is close-on-exec, so concurrent spawns from other threads never inherit them.
 *   pump     one poll loop (at most 50 ms per wait, so *cancel is seen quickly) over the stdin
 *            write end, the stdout and stderr read ends and a pidfd of the child. Output past
 *            out_max / err_max is read and dropped, so the child never blocks on a full pipe.
 *   kill     on the deadline or on cancel: SIGKILL to the whole group (-pgid), grandchildren too.
 *   exit     the pidfd (or, without one, a waitid(WNOWAIT) probe) says the child is a zombie; the
 *            group is SIGKILLed once more while the zombie still pins the pgid (so the number
 *            cannot have been reused), then the child is reaped, exactly once, with waitpid.
 *   drain    after the reap, reading goes on until both pipes reach EOF or GRACE_MS pass, so a
 *            grandchild that escaped the group (setsid) and holds a pipe cannot hang us.
 *
 * Invariants: a pid is reaped once, by the thread that spawned it; whatever way proc_run leaves,
 * the child has been killed or has exited, and has been reaped; fds start at -1 and are closed in
 * the one cleanup path.
 *
 * Requirements on the caller (process-wide): SIGPIPE ignored (a child that closes its stdin
 * early must not kill the daemon; writes then fail with EPIPE, which ends the input), SIGCHLD not
 * ignored and no other thread reaping with waitpid(-1).
 *
 * Does not: confine the child (no cgroup, no namespaces: that is the sandbox's job), search PATH,
 * or follow a grandchild that left the process group. */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

#define POLL_MS 50      /* longest single wait: how late a cancel can be noticed */
#define GRACE_MS 200    /* how long pipes are drained after the child was reaped */
#define CHUNK 65536     /* bytes per read or write */
#define READS_PER_WAKE 16

extern char **environ;

struct run {
    const struct proc_opts *o;
    pid_t pid;                  /* -1 before the spawn */
    int in_fd, out_fd, err_fd;  /* the parent's ends, -1 once closed */
    int pidfd;                  /* -1 when the kernel has no pidfd_open */
    size_t in_off;
    struct buf out, err;
    int killed, reaped, status;
    double start, reaped_at;
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Move *fd to a number >= 3 (close-on-exec), so the dup2 file actions onto 0, 1, 2 cannot clobber
 * one another when this process runs with some of 0-2 closed. */
static int above_stdio(int *fd)
{
    if (*fd > 2)
        return 0;
    int n = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    if (n < 0)
        return -1;
    close(*fd);
    *fd = n;
    return 0;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void kill_group(struct run *s)
{
    kill(-s->pid, SIGKILL);
    s->killed = 1;
}

/* 1 when the child has exited and waits to be reaped, 0 when it runs, <0 (ERR_IO) on failure. */
static int has_exited(struct run *s, struct err *e)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
        if (errno == EINTR)
            return 0;
        s->reaped = 1;   /* nothing left to reap: SIGCHLD ignored or reaped by someone else */
        return err_set(e, ERR_IO, "", "waitid(%d): %s", (int)s->pid, strerror(errno));
    }
    return si.si_pid == s->pid;
}

static void reap(struct run *s)
{
    pid_t w;
    do
        w = waitpid(s->pid, &s->status, 0);
    while (w < 0 && errno == EINTR);
    s->reaped = 1;
    s->reaped_at = now_ms();
    if (s->o->pid_out)
        atomic_store(s->o->pid_out, 0);
    close_fd(&s->pidfd);
}

static void feed(struct run *s)
{
    const struct proc_opts *o = s->o;
    while (s->in_off < o->in_len) {
        size_t n = o->in_len - s->in_off;
        ssize_t w = write(s->in_fd, o->in + s->in_off, n < CHUNK ? n : CHUNK);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                return;
            break;       /* EPIPE: the child closed its stdin; the rest of the input is moot */
        }
        s->in_off += (size_t)w;
    }
    close_fd(&s->in_fd);
}

/* Read what is there (bounded per wake-up); close at EOF. 0 or ERR_NOMEM. */
static int drain(int *fd, struct buf *b, struct err *e, const char *name)
{
    char chunk[CHUNK];
    for (int i = 0; i < READS_PER_WAKE; i++) {
        ssize_t n = read(*fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0) {
            close_fd(fd);
            return 0;
        }
        if (buf_append_part(b, chunk, (size_t)n))
            return err_set(e, ERR_NOMEM, "", "out of memory keeping the child's %s", name);
    }
    return 0;
}

static int poll_timeout(const struct run *s, double now)
{
    double t = POLL_MS;
    long dl = s->o->deadline_ms;
    if (!s->killed && !s->reaped && dl > 0 && s->start + (double)dl - now < t)
        t = s->start + (double)dl - now;
    if (s->reaped && s->reaped_at + GRACE_MS - now < t)
        t = s->reaped_at + GRACE_MS - now;
    return t <= 0 ? 0 : (int)t + 1;
}

/* The loop of DESIGN: runs until the child is reaped and its pipes are done with. */
static int pump(struct run *s, struct proc_result *r, struct err *e)
{
    const struct proc_opts *o = s->o;
    for (;;) {
        double now = now_ms();
        if (!s->reaped && !s->killed) {
            if (o->cancel && atomic_load(o->cancel)) {
                r->cancelled = 1;
                kill_group(s);
            } else if (o->deadline_ms > 0 && now - s->start >= (double)o->deadline_ms) {
                r->timed_out = 1;
                kill_group(s);
            }
        }
        if (!s->reaped) {
            int x = has_exited(s, e);
            if (x < 0)
                return x;
            if (x) {
                kill(-s->pid, SIGKILL);   /* leftovers of the group; the zombie pins the pgid */
                reap(s);
            }
        }
        if (s->reaped) {
            close_fd(&s->in_fd);
            if ((s->out_fd < 0 && s->err_fd < 0) || now_ms() - s->reaped_at >= GRACE_MS)
                return 0;
        }

        struct pollfd p[4];
        int n = 0, i_in = -1, i_out = -1, i_err = -1;
        if (s->in_fd >= 0)
            i_in = n, p[n++] = (struct pollfd){.fd = s->in_fd, .events = POLLOUT};
        if (s->out_fd >= 0)
            i_out = n, p[n++] = (struct pollfd){.fd = s->out_fd, .events = POLLIN};
        if (s->err_fd >= 0)
            i_err = n, p[n++] = (struct pollfd){.fd = s->err_fd, .events = POLLIN};
        if (s->pidfd >= 0)
            p[n++] = (struct pollfd){.fd = s->pidfd, .events = POLLIN};
        int k = poll(p, (nfds_t)n, poll_timeout(s, now_ms()));
        if (k < 0 && errno != EINTR)
            return err_set(e, ERR_IO, "", "poll: %s", strerror(errno));
        if (k <= 0)
            continue;
        if (i_in >= 0 && p[i_in].revents)
            feed(s);
        int rc = 0;
        if (i_out >= 0 && p[i_out].revents)
            rc = drain(&s->out_fd, &s->out, e, "stdout");
        if (!rc && i_err >= 0 && p[i_err].revents)
            rc = drain(&s->err_fd, &s->err, e, "stderr");
        if (rc)
            return rc;
    }
}

static void fill(struct proc_result *r, struct run *s)
{
    if (WIFEXITED(s->status)) {
        r->exited = 1;
        r->code = WEXITSTATUS(s->status);
    } else if (WIFSIGNALED(s->status)) {
        r->signal = WTERMSIG(s->status);
    }
    r->wall_ms = s->reaped_at - s->start;
    r->out_len = s->out.len;
    r->err_len = s->err.len;
    r->out_truncated = s->out.toobig;
    r->err_truncated = s->err.toobig;
    r->out = buf_take(&s->out);
    r->err = buf_take(&s->err);
}

/* The file actions and attributes of DESIGN "start"; an errno value or 0. */
static int prepare(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, const int child[3])
{
    int rc;
    for (int i = 0; i < 3; i++)
        if ((rc = posix_spawn_file_actions_adddup2(fa, child[i], i)))
            return rc;
    if ((rc = posix_spawn_file_actions_addclosefrom_np(fa, 3)))
        return rc;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if ((rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK
                                               | POSIX_SPAWN_SETSIGDEF))
        || (rc = posix_spawnattr_setpgroup(at, 0)) || (rc = posix_spawnattr_setsigmask(at, &none))
        || (rc = posix_spawnattr_setsigdefault(at, &all)))
        return rc;
    return 0;
}

int proc_run(const struct proc_opts *o, struct proc_result *r, struct err *e)
{
    int rc = 0, fa_ok = 0, at_ok = 0, sr;
    int in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    struct run s = {.o = o, .pid = -1, .in_fd = -1, .out_fd = -1, .err_fd = -1, .pidfd = -1};
    buf_init(&s.out, o->out_max);
    buf_init(&s.err, o->err_max);
    memset(r, 0, sizeof *r);
    if (!o->argv || !o->argv[0]) {
        rc = err_set(e, ERR_INVALID, "argv", "spawn: no executable");
        goto out;
    }
    s.start = now_ms();
    if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(errp, O_CLOEXEC)
        || above_stdio(&in[0]) || above_stdio(&out[1]) || above_stdio(&errp[1])) {
        rc = err_set(e, ERR_IO, "", "spawn %s: pipe: %s", o->argv[0], strerror(errno));
        goto out;
    }
    if ((sr = posix_spawn_file_actions_init(&fa)) == 0)
        fa_ok = 1;
    if (!sr && (sr = posix_spawnattr_init(&at)) == 0)
        at_ok = 1;
    if (!sr)
        sr = prepare(&fa, &at, (const int[3]){in[0], out[1], errp[1]});
    if (sr) {
        rc = err_set(e, sr == ENOMEM ? ERR_NOMEM : ERR_IO, "", "spawn %s: %s", o->argv[0], strerror(sr));
        goto out;
    }
    /* posix_spawn's prototype predates const: it reads argv and envp and never writes them */
    char *const *argv, *const *envp;
    memcpy(&argv, &o->argv, sizeof argv);
    if (o->envp)
        memcpy(&envp, &o->envp, sizeof envp);
    else
        envp = environ;
    pid_t pid;
    if ((sr = posix_spawn(&pid, o->argv[0], &fa, &at, argv, envp))) {
        rc = err_set(e, ERR_IO, "", "cannot run %s: %s", o->argv[0], strerror(sr));
        goto out;
    }
    s.pid = pid;
    if (o->pid_out)
        atomic_store(o->pid_out, (int)pid);
    s.pidfd = (int)syscall(SYS_pidfd_open, pid, 0);   /* close-on-exec; -1: probe each wake-up */
    close_fd(&in[0]);
    close_fd(&out[1]);
    close_fd(&errp[1]);
    s.in_fd = in[1], s.out_fd = out[0], s.err_fd = errp[0];
    in[1] = out[0] = errp[0] = -1;
    if (set_nonblock(s.in_fd) || set_nonblock(s.out_fd) || set_nonblock(s.err_fd)) {
        rc = err_set(e, ERR_IO, "", "spawn %s: fcntl: %s", o->argv[0], strerror(errno));
        goto out;
    }
    if (!o->in || o->in_len == 0)
        close_fd(&s.in_fd);
    rc = pump(&s, r, e);
    if (rc == 0)
        fill(r, &s);
    if (rc == 0 && (!r->out || !r->err)) {
        proc_result_free(r);
        rc = err_set(e, ERR_NOMEM, "", "out of memory keeping the child's output");
    }
out:
    if (s.pid > 0 && !s.reaped) {
        kill(-s.pid, SIGKILL);
        reap(&s);
    }
    if (rc)
        memset(r, 0, sizeof *r);   /* nothing to hand back on failure */
    int fds[] = {in[0], in[1], out[0], out[1], errp[0], errp[1], s.in_fd, s.out_fd, s.err_fd, s.pidfd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        close_fd(&fds[i]);
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (at_ok)
        posix_spawnattr_destroy(&at);
    buf_free(&s.out);
    buf_free(&s.err);
    return rc;
}

void proc_result_free(struct proc_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    r->out = r->err = NULL;
    r->out_len = r->err_len = 0;
}

#define SIGNAL_NAME(s) {s, #s},
static const struct {
    int sig;
    const char *name;
} signal_names[] = {
    SIGNAL_NAME(SIGHUP) SIGNAL_NAME(SIGINT) SIGNAL_NAME(SIGQUIT) SIGNAL_NAME(SIGILL)
    SIGNAL_NAME(SIGTRAP) SIGNAL_NAME(SIGABRT) SIGNAL_NAME(SIGBUS) SIGNAL_NAME(SIGFPE)
    SIGNAL_NAME(SIGKILL) SIGNAL_NAME(SIGUSR1) SIGNAL_NAME(SIGSEGV) SIGNAL_NAME(SIGUSR2)
    SIGNAL_NAME(SIGPIPE) SIGNAL_NAME(SIGALRM) SIGNAL_NAME(SIGTERM) SIGNAL_NAME(SIGCHLD)
    SIGNAL_NAME(SIGCONT) SIGNAL_NAME(SIGSTOP) SIGNAL_NAME(SIGTSTP) SIGNAL_NAME(SIGTTIN)
    SIGNAL_NAME(SIGTTOU) SIGNAL_NAME(SIGURG) SIGNAL_NAME(SIGXCPU) SIGNAL_NAME(SIGXFSZ)
    SIGNAL_NAME(SIGVTALRM) SIGNAL_NAME(SIGPROF) SIGNAL_NAME(SIGWINCH) SIGNAL_NAME(SIGIO)
    SIGNAL_NAME(SIGPWR) SIGNAL_NAME(SIGSYS)
};
#undef SIGNAL_NAME

const char *proc_signal_name(int sig)
{
    static _Thread_local char other[32];
    for (size_t i = 0; i < sizeof signal_names / sizeof signal_names[0]; i++)
        if (signal_names[i].sig == sig)
            return signal_names[i].name;
    snprintf(other, sizeof other, "signal %d", sig);
    return other;
}
