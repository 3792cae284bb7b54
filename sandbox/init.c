/* init.c — pid 1 of a sandbox and the program's pre-exec setup (see init.h).
 *
 * DESIGN
 *   init     PR_SET_PDEATHSIG(SIGKILL), then the keeper's go byte: EOF instead means the keeper
 *            died or gave up before the maps were written, so init leaves (the death signal
 *            alone would race with a keeper that died before it was set). mounts_open while the
 *            credentials are still the keeper's host ones, setresgid/setresuid(0) — which clears
 *            the death signal, so it is set again and the keeper's liveness checked once more on
 *            the status pipe — mounts_build, hostname. Then the fork, and the handshake with the
 *            child: a close-on-exec error pipe (EOF with no byte = the exec happened) and an
 *            AF_UNIX socketpair that carries the seccomp listener fd.
 *   watch    poll on the listener and a signalfd for SIGCHLD (SIGCHLD blocked before the fork).
 *            A notification is a violation: kill(-1, SIGKILL) (pid 1 is spared), report, exit.
 *            Every child that dies is reaped (orphans are reparented to pid 1); when it is the
 *            program, a pending notification still wins, then the exit is reported and init exits,
 *            which kills all that is left in the namespace.
 *   program  signals back to default and unblocked, setsid, capabilities dropped (bounding
 *            set, ambient, capset 0 — nothing survives the exec of uid 0), no_new_privs, stage-1
 *            filter, listener sent and closed, rlimits, every fd closed but 0-2, the passed ones
 *            and the error pipe (close-on-exec), execve. A failing step writes "step: strerror"
 *            on the error pipe and exits 127; init turns that into INIT_SETUP_FAILED.
 *
 * Invariants: init runs single-threaded in a copy of the keeper (clone3 behaves like fork here)
 * and leaves only through _exit; after INIT_STARTED exactly one final report is written (or none,
 * when init is killed); the program never holds an fd of the keeper's or of init's.
 *
 * Does not: enforce the wall clock (the keeper does, from outside), answer notifications, or
 * look at the program's output. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "filter.h"

double init_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void report(const struct init_job *j, int kind, int value, double at, const char *text)
{
    struct init_report r;
    memset(&r, 0, sizeof r);
    r.kind = kind;
    r.value = value;
    r.at_ms = at;
    snprintf(r.text, sizeof r.text, "%s", text ? text : "");
    write_all(j->status_fd, &r, sizeof r);
}

static _Noreturn void setup_failed(const struct init_job *j, const char *step, int errnum)
{
    char text[400];
    if (errnum)
        snprintf(text, sizeof text, "%s: %s", step, strerror(errnum));
    else
        snprintf(text, sizeof text, "%s", step);
    report(j, INIT_SETUP_FAILED, 0, init_now_ms(), text);
    _exit(1);
}

/* ---- the program's process, between fork and execve ---- */

static _Noreturn void child_fail(int errfd, const char *step, const char *why)
{
    char text[400];
    int n = snprintf(text, sizeof text, "%s: %s", step, why);
    write_all(errfd, text, n < (int)sizeof text ? (size_t)n : sizeof text - 1);
    _exit(127);
}

/* Soft and hard limit to v, or to the hard limit when v is above it (only lowering is allowed). */
static int limit(int res, long long v)
{
    struct rlimit r;
    if (getrlimit(res, &r) < 0)
        return -1;
    rlim_t want = (rlim_t)v;
    if (r.rlim_max != RLIM_INFINITY && want > r.rlim_max)
        want = r.rlim_max;
    r.rlim_cur = r.rlim_max = want;
    return setrlimit(res, &r);
}

static int drop_caps(void)
{
    for (int c = 0; c < 64; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0) {
            if (errno == EINVAL)
                break;          /* past the last capability this kernel knows */
            return -1;
        }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
        return -1;
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    return (int)syscall(SYS_capset, &h, d);
}

/* Close every fd but 0-2, the passed ones (made inheritable) and keep_too. */
static int keep_only(const struct init_job *j, int keep_too)
{
    int keep[INIT_MAX_PASS_FDS + 4], n = 0;
    keep[n++] = 0;
    keep[n++] = 1;
    keep[n++] = 2;
    keep[n++] = keep_too;
    for (int i = 0; i < j->n_pass; i++) {
        if (fcntl(j->pass_fd[i], F_SETFD, 0) < 0)
            return -1;
        keep[n++] = j->pass_fd[i];
    }
    for (int a = 1; a < n; a++)         /* insertion sort: a handful of numbers */
        for (int b = a; b > 0 && keep[b - 1] > keep[b]; b--) {
            int t = keep[b];
            keep[b] = keep[b - 1];
            keep[b - 1] = t;
        }
    unsigned lo = 0;
    for (int i = 0; i < n; i++) {
        if ((unsigned)keep[i] > lo && close_range(lo, (unsigned)keep[i] - 1, 0) < 0)
            return -1;
        if ((unsigned)keep[i] + 1 > lo)
            lo = (unsigned)keep[i] + 1;
    }
    return close_range(lo, ~0U, 0);
}

static _Noreturn void program_exec(const struct init_job *j, int errfd, int sock)
{
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int s = 1; s < NSIG; s++)
        signal(s, SIG_DFL);     /* fails harmlessly for SIGKILL, SIGSTOP and libc's own */
    if (setsid() < 0)
        child_fail(errfd, "setsid", strerror(errno));
    if (drop_caps() < 0)
        child_fail(errfd, "drop capabilities", strerror(errno));
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        child_fail(errfd, "no_new_privs", strerror(errno));
    struct err e;
    memset(&e, 0, sizeof e);
    int listener = -1;
    if (filter_stage1(&listener, &e))
        child_fail(errfd, "seccomp", e.msg);
    if (filter_send_fd(sock, listener, &e))
        child_fail(errfd, "seccomp listener", e.msg);
    close(listener);
    close(sock);
    /* The limits last: building the filter allocates, and a sanitizer's allocator needs far more
     * address space than RLIMIT_DATA leaves. setrlimit is not filtered. */
    if (limit(RLIMIT_CORE, 0) || limit(RLIMIT_FSIZE, j->fsize) || limit(RLIMIT_NOFILE, j->nofile) ||
        limit(RLIMIT_NPROC, j->nproc) || (j->data > 0 && limit(RLIMIT_DATA, j->data)) ||
        (j->cpu_s > 0 && limit(RLIMIT_CPU, j->cpu_s)))
        child_fail(errfd, "setrlimit", strerror(errno));
    if (keep_only(j, errfd) < 0)
        child_fail(errfd, "close fds", strerror(errno));
    execve(j->program, j->argv, j->envp);
    char step[300];
    snprintf(step, sizeof step, "execve %s", j->program);
    child_fail(errfd, step, strerror(errno));
}

/* ---- init ---- */

/* A pending notification: when it is a violation, kill everything, report it and leave. */
static void check_violation(const struct init_job *j, int listener)
{
    char name[128];
    if (filter_notify_read(listener, name, sizeof name, NULL) != 1)
        return;
    double at = init_now_ms();
    kill(-1, SIGKILL);
    report(j, INIT_VIOLATION, 0, at, name);
    _exit(0);
}

static _Noreturn void watch(const struct init_job *j, pid_t pid, int listener, int sfd)
{
    struct pollfd p[2] = {{.fd = sfd, .events = POLLIN}, {.fd = listener, .events = POLLIN}};
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);   /* no way to wait: the keeper sees an init that ended without a report */
        }
        if (p[1].revents & POLLIN)
            check_violation(j, listener);
        else if (p[1].revents)
            p[1].fd = -1;       /* POLLHUP: no process left under the filter */
        if (!(p[0].revents & POLLIN))
            continue;
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) > 0)
            ;
        int st;
        pid_t w;
        while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
            if (w != pid)
                continue;       /* an orphan reparented to us */
            double at = init_now_ms();
            struct pollfd q = {.fd = p[1].fd, .events = POLLIN};
            if (q.fd >= 0 && poll(&q, 1, 0) > 0 && (q.revents & POLLIN))
                check_violation(j, listener);
            if (WIFEXITED(st))
                report(j, INIT_EXITED, WEXITSTATUS(st), at, NULL);
            else
                report(j, INIT_SIGNALED, WTERMSIG(st), at, NULL);
            _exit(0);
        }
    }
}

/* Everything the child wrote on the error pipe until its exec or exit (at most n-1 bytes). */
static size_t read_error(int fd, char *text, size_t n)
{
    size_t len = 0;
    for (;;) {
        ssize_t r = read(fd, text + len, n - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (len += (size_t)r) == n - 1)
            break;
    }
    text[len] = '\0';
    return len;
}

_Noreturn void init_main(const struct init_job *j)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    for (int i = 0; i < INIT_MAX_CLOSE_FDS; i++)
        if (j->close_fd[i] >= 0)
            close(j->close_fd[i]);
    char go;
    ssize_t n;
    do
        n = read(j->sync_fd, &go, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(1);
    close(j->sync_fd);

    struct err e;
    memset(&e, 0, sizeof e);
    static struct mounts_plan plan;     /* static: some 30 KiB, off the stack */
    if (mounts_open(&j->mounts, &plan, &e)) {
        mounts_close(&plan);
        setup_failed(j, e.msg, 0);
    }
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        setup_failed(j, "setresuid(0) in the user namespace", errno);
    /* A change of credentials clears the death signal: set it again, then make sure the keeper
     * did not die in between (its end of the status pipe would be closed: POLLERR). */
    prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    struct pollfd keeper = {.fd = j->status_fd, .events = POLLOUT};
    if (poll(&keeper, 1, 0) < 0 || (keeper.revents & (POLLERR | POLLHUP)))
        _exit(1);
    if (mounts_build(&j->mounts, &plan, &e))
        setup_failed(j, e.msg, 0);
    if (sethostname("sandbox", 7) < 0)
        setup_failed(j, "sethostname", errno);

    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK), errp[2], sv[2];
    if (sfd < 0)
        setup_failed(j, "signalfd", errno);
    if (pipe2(errp, O_CLOEXEC) < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        setup_failed(j, "pipe", errno);
    pid_t pid = fork();
    if (pid < 0)
        setup_failed(j, "fork", errno);
    if (pid == 0) {
        close(errp[0]);
        close(sv[0]);
        program_exec(j, errp[1], sv[1]);
    }
    close(errp[1]);
    close(sv[1]);
    for (int i = 0; i < j->n_pass; i++)   /* the program's now; the reader's EOF must not wait for us */
        close(j->pass_fd[i]);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nul >= 0 && nul != 0) {
        dup2(nul, 0);
        close(nul);
    }

    int listener = -1;
    filter_recv_fd(sv[0], &listener, NULL);   /* on failure the error pipe says why */
    close(sv[0]);
    char text[400];
    size_t len = read_error(errp[0], text, sizeof text);
    close(errp[0]);
    if (len > 0)
        setup_failed(j, text, 0);
    if (listener < 0) {
        int st = 0;
        waitpid(pid, &st, 0);
        snprintf(text, sizeof text, "the program's process ended before its exec (%s %d)",
                 WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
        setup_failed(j, text, 0);
    }
    report(j, INIT_STARTED, 0, init_now_ms(), NULL);
    watch(j, pid, listener, sfd);
}
