/* proc.c — run one child to completion under a deadline (see proc.h).
 *
 * DESIGN
 *   start    (proc_start) pipe2(O_CLOEXEC) pipes for stdin, stdout, stderr and, when asked for, fds 3 and 4; then
 *            posix_spawn with file actions that dup2 the child's ends onto 0..4 and close the rest, and attributes that put the child in
 *            a process group of its own (pgid = pid) with an empty signal mask and every signal at
 *            its default. glibc's posix_spawn reports a failed exec as its return value, so "could
 *            not start" is an error and never a child that exits 127. Every descriptor this process
 *            opens is close-on-exec, so concurrent spawns from other threads never inherit them.
 *            The started child's state (struct proc) is on the heap so that it can wait, its stdin
 *            open and its pipes unread, until the hand-over; proc_run hands over at once.
 *   hand-over (proc_finish) the input, the deadline and the cancel flag are given now; the
 *            deadline and wall_ms count from here. Output written while waiting sits in the pipes (their buffers bound
 *            it) and is read by the pump like the rest.
 *   pump     one poll loop (at most 50 ms per wait, so *cancel is seen quickly) over the stdin
 *            write end, the output read ends and a pidfd of the child. Output past its bound is
 *            read and dropped, so the child never blocks on a full pipe.
 *   kill     on the deadline or on cancel: SIGKILL to the whole group (-pgid), grandchildren too.
 *   exit     the pidfd (or, without one, a waitid(WNOWAIT) probe) says the child is a zombie; the
 *            group is SIGKILLed once more while the zombie still pins the pgid (so the number
 *            cannot have been reused), then the child is reaped, exactly once, with waitpid.
 *   drain    after the reap, reading goes on until both pipes reach EOF or GRACE_MS pass, so a
 *            grandchild that escaped the group (setsid) and holds a pipe cannot hang us.
 *
 * Invariants: a pid is reaped once, by the thread that owns its struct proc (proc_run's, or the
 * one that calls proc_finish or proc_abort; proc_exited only peeks with WNOWAIT); whatever way
 * proc_run, proc_finish or proc_abort leaves, the child has been killed or has exited, and has
 * been reaped, and the struct is freed; fds start at -1 and are closed in the one cleanup path
 * (finish_proc).
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
#define NCHAN 4         /* the child's fds 1 (stdout), 2 (stderr), 3 and 4 (extra_max) */

static const char *const chan_name[NCHAN] = {"stdout", "stderr", "fd 3", "fd 4"};

extern char **environ;

struct proc {
    pid_t pid;                  /* -1 before the spawn */
    int in_fd;                  /* the parent's end of stdin, -1 once closed */
    int fd[NCHAN];              /* the parent's ends of the child's fds 1..4, -1 once closed or unused */
    int pidfd;                  /* -1 when the kernel has no pidfd_open */
    const char *in;             /* the input, from the hand-over on */
    size_t in_len, in_off;
    long deadline_ms;
    atomic_int *cancel, *pid_out;
    size_t cap[NCHAN];
    struct buf buf[NCHAN];
    size_t seen[NCHAN];         /* bytes read from each, kept or not */
    int killed, reaped, status;
    double spawned, start, reaped_at;   /* start: the hand-over */
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

/* Move *fd to a number > NCHAN (close-on-exec), so the dup2 file actions onto 0..NCHAN cannot
 * clobber one another, whatever numbers the pipes got. */
static int above_targets(int *fd)
{
    if (*fd > NCHAN)
        return 0;
    int n = fcntl(*fd, F_DUPFD_CLOEXEC, NCHAN + 1);
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

static void kill_group(struct proc *s)
{
    kill(-s->pid, SIGKILL);
    s->killed = 1;
}

/* 1 when the child has exited and waits to be reaped, 0 when it runs, <0 (ERR_IO) on failure. */
static int has_exited(struct proc *s, struct err *e)
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

static void reap(struct proc *s)
{
    pid_t w;
    do
        w = waitpid(s->pid, &s->status, 0);
    while (w < 0 && errno == EINTR);
    s->reaped = 1;
    s->reaped_at = now_ms();
    if (s->pid_out)
        atomic_store(s->pid_out, 0);
    close_fd(&s->pidfd);
}

static void feed(struct proc *s)
{
    while (s->in_off < s->in_len) {
        size_t n = s->in_len - s->in_off;
        ssize_t w = write(s->in_fd, s->in + s->in_off, n < CHUNK ? n : CHUNK);
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

/* Read what is there (bounded per wake-up), counting it in *seen; close at EOF. 0 or ERR_NOMEM. */
static int drain(int *fd, struct buf *b, size_t *seen, struct err *e, const char *name)
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
        *seen += (size_t)n;
        if (buf_append_part(b, chunk, (size_t)n))
            return err_set(e, ERR_NOMEM, "", "out of memory keeping the child's %s", name);
    }
    return 0;
}

static int poll_timeout(const struct proc *s, double now)
{
    double t = POLL_MS;
    long dl = s->deadline_ms;
    if (!s->killed && !s->reaped && dl > 0 && s->start + (double)dl - now < t)
        t = s->start + (double)dl - now;
    if (s->reaped && s->reaped_at + GRACE_MS - now < t)
        t = s->reaped_at + GRACE_MS - now;
    return t <= 0 ? 0 : (int)t + 1;
}

/* The loop of DESIGN: runs until the child is reaped and its pipes are done with. */
static int pump(struct proc *s, struct proc_result *r, struct err *e)
{
    for (;;) {
        double now = now_ms();
        if (!s->reaped && !s->killed) {
            if (s->cancel && atomic_load(s->cancel)) {
                r->cancelled = 1;
                kill_group(s);
            } else if (s->deadline_ms > 0 && now - s->start >= (double)s->deadline_ms) {
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
        int open_out = 0;
        for (int c = 0; c < NCHAN; c++)
            open_out += s->fd[c] >= 0;
        if (s->reaped) {
            close_fd(&s->in_fd);
            if (!open_out || now_ms() - s->reaped_at >= GRACE_MS)
                return 0;
        }

        struct pollfd p[NCHAN + 2];
        int n = 0, i_in = -1, at[NCHAN];
        if (s->in_fd >= 0)
            i_in = n, p[n++] = (struct pollfd){.fd = s->in_fd, .events = POLLOUT};
        for (int c = 0; c < NCHAN; c++) {
            at[c] = -1;
            if (s->fd[c] >= 0)
                at[c] = n, p[n++] = (struct pollfd){.fd = s->fd[c], .events = POLLIN};
        }
        if (s->pidfd >= 0)
            p[n++] = (struct pollfd){.fd = s->pidfd, .events = POLLIN};
        int k = poll(p, (nfds_t)n, poll_timeout(s, now_ms()));
        if (k < 0 && errno != EINTR)
            return err_set(e, ERR_IO, "", "poll: %s", strerror(errno));
        if (k <= 0)
            continue;
        if (i_in >= 0 && p[i_in].revents)
            feed(s);
        for (int c = 0; c < NCHAN; c++) {
            int rc = at[c] >= 0 && p[at[c]].revents ? drain(&s->fd[c], &s->buf[c], &s->seen[c], e, chan_name[c]) : 0;
            if (rc)
                return rc;
        }
    }
}

static void fill(struct proc_result *r, struct proc *s)
{
    if (WIFEXITED(s->status)) {
        r->exited = 1;
        r->code = WEXITSTATUS(s->status);
    } else if (WIFSIGNALED(s->status)) {
        r->signal = WTERMSIG(s->status);
    }
    r->wall_ms = s->reaped_at - s->start;
    r->waited_ms = s->start - s->spawned;
    r->in_fed = s->in_off;
    r->out_len = s->buf[0].len;
    r->err_len = s->buf[1].len;
    r->out_seen = s->seen[0];
    r->err_seen = s->seen[1];
    r->out_truncated = s->buf[0].toobig;
    r->err_truncated = s->buf[1].toobig;
    r->out = buf_take(&s->buf[0]);
    r->err = buf_take(&s->buf[1]);
    for (int i = 0; i < 2; i++) {
        r->extra_len[i] = s->buf[2 + i].len;
        r->extra_seen[i] = s->seen[2 + i];
        r->extra_truncated[i] = s->buf[2 + i].toobig;
        r->extra[i] = s->cap[2 + i] ? buf_take(&s->buf[2 + i]) : NULL;
    }
}

/* The file actions and attributes of DESIGN "start"; an errno value or 0. child[i] becomes fd i
 * (-1: fd i stays closed). */
static int prepare(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, const int child[NCHAN + 1])
{
    int rc, n = 0;
    for (int i = 0; i <= NCHAN; i++) {
        if (child[i] < 0)
            continue;
        if ((rc = posix_spawn_file_actions_adddup2(fa, child[i], i)))
            return rc;
        n = i + 1;
    }
    if ((rc = posix_spawn_file_actions_addclosefrom_np(fa, n)))
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

/* The one cleanup path of a started child: killed and reaped unless it was, fds closed, freed. */
static void finish_proc(struct proc *s)
{
    if (!s)
        return;
    if (s->pid > 0 && !s->reaped) {
        kill(-s->pid, SIGKILL);
        reap(s);
    }
    close_fd(&s->in_fd);
    close_fd(&s->pidfd);
    for (int c = 0; c < NCHAN; c++) {
        close_fd(&s->fd[c]);
        buf_free(&s->buf[c]);
    }
    free(s);
}

int proc_start(const struct proc_opts *o, struct proc **out, struct err *e)
{
    int rc = 0, fa_ok = 0, at_ok = 0, sr;
    int in[2] = {-1, -1}, pipes[NCHAN][2];
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    struct proc *s = NULL;
    *out = NULL;
    for (int c = 0; c < NCHAN; c++)
        pipes[c][0] = pipes[c][1] = -1;
    if (!o->argv || !o->argv[0]) {
        rc = err_set(e, ERR_INVALID, "argv", "spawn: no executable");
        goto out;
    }
    if (!(s = calloc(1, sizeof *s))) {
        rc = err_set(e, ERR_NOMEM, "", "spawn %s: out of memory", o->argv[0]);
        goto out;
    }
    *s = (struct proc){.pid = -1, .in_fd = -1, .pidfd = -1, .pid_out = o->pid_out,
                       .cap = {o->out_max, o->err_max, o->extra_max[0], o->extra_max[1]}};
    for (int c = 0; c < NCHAN; c++) {
        s->fd[c] = -1;
        buf_init(&s->buf[c], s->cap[c]);
    }
    s->spawned = s->start = now_ms();
    int child[NCHAN + 1] = {-1, -1, -1, -1, -1};
    if (pipe2(in, O_CLOEXEC) || above_targets(&in[0])) {
        rc = err_set(e, ERR_IO, "", "spawn %s: pipe: %s", o->argv[0], strerror(errno));
        goto out;
    }
    child[0] = in[0];
    for (int c = 0; c < NCHAN; c++) {
        if (c >= 2 && !s->cap[c])
            continue;   /* fds 3 and 4 only when asked for */
        if (pipe2(pipes[c], O_CLOEXEC) || above_targets(&pipes[c][1])) {
            rc = err_set(e, ERR_IO, "", "spawn %s: pipe: %s", o->argv[0], strerror(errno));
            goto out;
        }
        child[c + 1] = pipes[c][1];
    }
    if ((sr = posix_spawn_file_actions_init(&fa)) == 0)
        fa_ok = 1;
    if (!sr && (sr = posix_spawnattr_init(&at)) == 0)
        at_ok = 1;
    if (!sr)
        sr = prepare(&fa, &at, child);
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
    s->pid = pid;
    if (s->pid_out)
        atomic_store(s->pid_out, (int)pid);
    s->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);   /* close-on-exec; -1: probe each wake-up */
    close_fd(&in[0]);
    s->in_fd = in[1];
    in[1] = -1;
    int nb = set_nonblock(s->in_fd);
    for (int c = 0; c < NCHAN; c++) {
        close_fd(&pipes[c][1]);
        s->fd[c] = pipes[c][0];
        pipes[c][0] = -1;
        if (s->fd[c] >= 0)
            nb |= set_nonblock(s->fd[c]);
    }
    if (nb) {
        rc = err_set(e, ERR_IO, "", "spawn %s: fcntl: %s", o->argv[0], strerror(errno));
        goto out;
    }
out:
    close_fd(&in[0]);
    close_fd(&in[1]);
    for (int c = 0; c < NCHAN; c++) {
        close_fd(&pipes[c][0]);
        close_fd(&pipes[c][1]);
    }
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (at_ok)
        posix_spawnattr_destroy(&at);
    if (rc)
        finish_proc(s);   /* a child already spawned is killed and reaped */
    else
        *out = s;
    return rc;
}

int proc_exited(struct proc *p)
{
    return p->reaped || has_exited(p, NULL) != 0;
}

int proc_finish(struct proc *p, const char *in, size_t in_len, long deadline_ms, atomic_int *cancel,
                struct proc_result *r, struct err *e)
{
    memset(r, 0, sizeof *r);
    p->cancel = cancel;
    p->in = in;
    p->in_len = in ? in_len : 0;
    p->deadline_ms = deadline_ms;
    p->start = now_ms();
    if (p->in_len == 0)
        close_fd(&p->in_fd);
    int rc = pump(p, r, e);
    if (rc == 0)
        fill(r, p);
    if (rc == 0 && (!r->out || !r->err || (p->cap[2] && !r->extra[0]) || (p->cap[3] && !r->extra[1]))) {
        proc_result_free(r);
        rc = err_set(e, ERR_NOMEM, "", "out of memory keeping the child's output");
    }
    if (rc)
        memset(r, 0, sizeof *r);   /* nothing to hand back on failure */
    finish_proc(p);
    return rc;
}

void proc_abort(struct proc *p)
{
    finish_proc(p);
}

int proc_run(const struct proc_opts *o, struct proc_result *r, struct err *e)
{
    struct proc *p;
    memset(r, 0, sizeof *r);
    int rc = proc_start(o, &p, e);
    return rc ? rc : proc_finish(p, o->in, o->in_len, o->deadline_ms, o->cancel, r, e);
}

void proc_result_free(struct proc_result *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    free(r->extra[0]);
    free(r->extra[1]);
    r->out = r->err = r->extra[0] = r->extra[1] = NULL;
    r->out_len = r->err_len = r->extra_len[0] = r->extra_len[1] = 0;
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
