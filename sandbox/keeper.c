/* keeper.c — kgrade-sandbox: `run` one program in a fresh sandbox, or `probe` the host.
 *
 * DESIGN (run; one keeper per job, single-threaded, spawned by the daemon)
 *   prepare  options, environment, (root) setgroups(0, NULL), the mount point and --rw owners,
 *            the job cgroup (a stale slot-N is removed by cgroup_job_create), two close-on-exec
 *            pipes: sync (keeper -> init) and status (init -> keeper, fixed-size reports).
 *   clone    clone3 into new user, mount, pid, net, ipc, uts and cgroup namespaces, with a pidfd,
 *            and on cgroup v2 straight into the job group (CLONE_INTO_CGROUP). The child runs
 *            init_main (init.c). The keeper writes setgroups=deny and the uid/gid maps (the
 *            dedicated uid when root, else our own), enters the v1 groups, then the go byte.
 *   watch    poll on the init's pidfd and the status pipe. The setup has SETUP_LIMIT_MS; the wall
 *            clock starts at INIT_STARTED. On expiry: cgroup kill and SIGKILL through the pidfd,
 *            then at most KILL_WAIT_MS for init to die (a task stuck in a driver may not).
 *   finish   reap init, read the group's peaks, destroy the group, write the meta line, exit 0.
 *            Precedence: violation > timeout > memory_limit (an OOM kill and no clean exit) >
 *            signaled/exited; setup_failed whenever the program never started.
 *
 * Invariants: every fd the keeper opens is close-on-exec; each pre-clone failure and each
 * post-clone outcome leads to the one finish path, so a job group is always destroyed and a meta
 * line always attempted; no wait is unbounded except for the program itself when --wall-ms is 0.
 *
 * Does not: read or cap the program's output (the daemon does), retry, or run anything after the
 * meta line. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "args.h"
#include "cgroup.h"
#include "init.h"
#include "probe.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define SETUP_LIMIT_MS 10000.0  /* clone to exec: mounts, a fork, an exec */
#define KILL_WAIT_MS 5000.0     /* SIGKILL to the death of init */

static double t0;

struct outcome {
    const char *status;
    int exit_code, sig;
    char violation[400];
    char error[420];
    double wall_ms, setup_ms;
    struct cgroup_stats st;
};

static const char *const sig_names[] = {
    NULL, "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE",
    "SIGKILL", "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT",
    "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU",
    "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
};

static void sig_name(int sig, char *out, size_t n)
{
    if (sig > 0 && sig < (int)(sizeof sig_names / sizeof sig_names[0]))
        snprintf(out, n, "%s", sig_names[sig]);
    else
        snprintf(out, n, "SIG%d", sig);
}

/* s as a JSON string body (quotes not included). */
static size_t json_str(char *out, size_t n, const char *s)
{
    size_t k = 0;
    for (; *s && k + 7 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            k += (size_t)snprintf(out + k, n - k, "\\%c", c);
        else if (c < 0x20)
            k += (size_t)snprintf(out + k, n - k, "\\u%04x", c);
        else
            out[k++] = (char)c;
    }
    out[k] = '\0';
    return k;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_meta(const struct args *a, const struct outcome *o, enum cgroup_kind kind, unsigned uid)
{
    char line[2048], esc[900], sig[32];
    size_t k = (size_t)snprintf(line, sizeof line, "{\"status\":\"%s\"", o->status);
    if (!strcmp(o->status, "exited"))
        k += (size_t)snprintf(line + k, sizeof line - k, ",\"exit_code\":%d", o->exit_code);
    if (!strcmp(o->status, "signaled") || !strcmp(o->status, "memory_limit")) {
        sig_name(o->sig, sig, sizeof sig);
        k += (size_t)snprintf(line + k, sizeof line - k, ",\"signal\":\"%s\"", sig);
    }
    if (!strcmp(o->status, "violation")) {
        json_str(esc, sizeof esc, o->violation);
        k += (size_t)snprintf(line + k, sizeof line - k, ",\"violation\":\"%s\"", esc);
    }
    if (!strcmp(o->status, "setup_failed")) {
        json_str(esc, sizeof esc, o->error);
        k += (size_t)snprintf(line + k, sizeof line - k, ",\"error\":\"%s\"", esc);
    }
    k += (size_t)snprintf(line + k, sizeof line - k, ",\"wall_ms\":%.1f,\"setup_ms\":%.1f", o->wall_ms, o->setup_ms);
    const char *names[3] = {"memory_peak_bytes", "oom_kills", "pids_peak"};
    long long v[3] = {o->st.memory_peak, o->st.oom_kills, o->st.pids_peak};
    for (int i = 0; i < 3; i++)
        k += (size_t)(v[i] >= 0 ? snprintf(line + k, sizeof line - k, ",\"%s\":%lld", names[i], v[i])
                                : snprintf(line + k, sizeof line - k, ",\"%s\":null", names[i]));
    snprintf(line + k, sizeof line - k, ",\"cgroup\":\"%s\",\"uid\":%u}\n",
             kind == CGROUP_V2 ? "v2" : kind == CGROUP_V1 ? "v1" : "none", uid);
    if (a->meta_fd >= 0)
        return write_all(a->meta_fd, line, strlen(line));
    char full[2100];
    snprintf(full, sizeof full, "kgrade-sandbox: meta %s", line);
    return write_all(2, full, strlen(full));
}

static int write_proc(pid_t pid, const char *file, const char *text, struct err *e)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_IO, "", "open %s: %s", path, strerror(errno));
    int rc = write_all(fd, text, strlen(text));
    int saved = errno;
    close(fd);
    return rc ? err_set(e, ERR_IO, "", "write %s: %s", path, strerror(saved)) : 0;
}

/* What the watch loop saw. */
struct watch {
    int started, final, killed, timed_out, slow_setup, dead, wstatus;
    double exec_ms, end_ms, kill_at;
    struct init_report fin;
    char setup_error[400];
};

static void kill_all(const struct cgroup_job *job, int pidfd, struct watch *w)
{
    cgroup_job_kill(job);
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    w->killed = 1;
    w->kill_at = init_now_ms();
}

/* Read whole reports from the (non-blocking) status pipe; 1 at EOF. */
static int read_reports(int fd, struct watch *w)
{
    for (;;) {
        struct init_report r;
        ssize_t n = read(fd, &r, sizeof r);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno != EAGAIN;
        if (n == 0)
            return 1;
        if (n != (ssize_t)sizeof r)
            continue;           /* cannot happen: reports are written whole */
        if (r.kind == INIT_STARTED && !w->started) {
            w->started = 1;
            w->exec_ms = r.at_ms;
        } else if (r.kind == INIT_SETUP_FAILED) {
            snprintf(w->setup_error, sizeof w->setup_error, "%s", r.text);
        } else if (r.kind >= INIT_EXITED && r.kind <= INIT_VIOLATION && !w->final) {
            w->final = 1;
            w->fin = r;
        }
    }
}

static void watch_init(const struct args *a, const struct cgroup_job *job, pid_t pid, int pidfd,
                       int status_fd, struct watch *w)
{
    struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = status_fd, .events = POLLIN}};
    for (;;) {
        double now = init_now_ms(), due = -1;
        if (!w->killed && !w->started) {
            due = t0 + SETUP_LIMIT_MS;
            if (now >= due) {
                w->slow_setup = 1;
                kill_all(job, pidfd, w);
            }
        } else if (!w->killed && !w->final && a->wall_ms > 0) {
            due = w->exec_ms + (double)a->wall_ms;
            if (now >= due) {
                w->timed_out = 1;
                w->end_ms = now;
                kill_all(job, pidfd, w);
            }
        }
        if (w->killed) {
            due = w->kill_at + KILL_WAIT_MS;
            if (now >= due)
                return;         /* init does not die: leave it, report what we know */
        }
        int timeout = due < 0 ? -1 : due - now > 60000 ? 60000 : (int)(due - now) + 1;
        if (poll(p, 2, timeout) < 0 && errno != EINTR)
            return;
        if (p[1].fd >= 0 && p[1].revents && read_reports(status_fd, w))
            p[1].fd = -1;
        if (p[0].revents & POLLIN) {
            read_reports(status_fd, w);
            w->end_ms = w->end_ms > 0 ? w->end_ms : init_now_ms();
            while (waitpid(pid, &w->wstatus, 0) < 0 && errno == EINTR)
                ;
            w->dead = 1;
            return;
        }
    }
}

static void verdict(const struct watch *w, struct outcome *o)
{
    const struct init_report *f = &w->fin;
    o->setup_ms = (w->started ? w->exec_ms : init_now_ms()) - t0;
    o->wall_ms = w->started ? (w->final ? f->at_ms : w->end_ms) - w->exec_ms : 0;
    if (o->wall_ms < 0)
        o->wall_ms = 0;
    int oom = o->st.oom_kills > 0;
    if (w->final && f->kind == INIT_VIOLATION) {
        o->status = "violation";
        snprintf(o->violation, sizeof o->violation, "%s", f->text);
    } else if (w->timed_out) {
        o->status = "timeout";
    } else if (!w->started) {
        o->status = "setup_failed";
        if (w->setup_error[0])
            snprintf(o->error, sizeof o->error, "%s", w->setup_error);
        else if (w->slow_setup)
            snprintf(o->error, sizeof o->error, "the sandbox setup took longer than %.0f ms", SETUP_LIMIT_MS);
        else if (w->dead && WIFSIGNALED(w->wstatus))
            snprintf(o->error, sizeof o->error, "the sandbox init died of signal %d before the program started",
                     WTERMSIG(w->wstatus));
        else
            snprintf(o->error, sizeof o->error, "the sandbox init ended before the program started");
    } else if (w->final && !(oom && !(f->kind == INIT_EXITED && f->value == 0))) {
        o->status = f->kind == INIT_EXITED ? "exited" : "signaled";
        o->exit_code = f->value;
        o->sig = f->value;
    } else if (oom) {
        o->status = "memory_limit";
        o->sig = w->final && f->kind == INIT_SIGNALED ? f->value : SIGKILL;
    } else if (w->dead && WIFSIGNALED(w->wstatus)) {
        o->status = "signaled";     /* init itself was killed from outside the sandbox */
        o->sig = WTERMSIG(w->wstatus);
    } else {
        o->status = "setup_failed";
        snprintf(o->error, sizeof o->error, "the sandbox init ended without a report");
    }
}

static int run(const struct args *a)
{
    struct outcome o;
    memset(&o, 0, sizeof o);
    o.st.memory_peak = o.st.oom_kills = o.st.pids_peak = -1;
    struct err e;
    memset(&e, 0, sizeof e);
    struct cgroup_root root;
    struct cgroup_job job;
    memset(&root, 0, sizeof root);
    memset(&job, 0, sizeof job);
    job.dirfd = -1;
    int sync[2] = {-1, -1}, status[2] = {-1, -1}, pidfd = -1, rc = 0;
    pid_t pid = -1;
    struct watch w;
    memset(&w, 0, sizeof w);
    int is_root = geteuid() == 0;
    unsigned uid = is_root ? (unsigned)a->uid : (unsigned)geteuid();
    unsigned gid = is_root ? (unsigned)a->uid : (unsigned)getegid();

    static char *envp[ARGS_MAX_ENV + 12];
    static struct init_job ij;
    memset(&ij, 0, sizeof ij);
    struct mounts_spec *m = &ij.mounts;
    m->root = a->mount_point;
    m->scratch_bytes = a->scratch;
    m->tmp_bytes = a->tmp;
    m->exec_tmp = a->python;
    m->gpu = a->gpu;
    memcpy(m->ro, a->ro, sizeof m->ro);
    memcpy(m->ro_at, a->ro_at, sizeof m->ro_at);
    m->n_ro = a->n_ro;
    memcpy(m->rw, a->rw, sizeof m->rw);
    memcpy(m->rw_at, a->rw_at, sizeof m->rw_at);
    m->n_rw = a->n_rw;
    m->program = a->program[0];

    if ((rc = cgroup_root_parse(a->cgroup, &root, &e)) == ERR_INVALID) {
        fprintf(stderr, "kgrade-sandbox run: %s (see --help)\n", e.msg);
        return 2;
    }
    if (rc || (rc = args_env(a, envp, (int)(sizeof envp / sizeof envp[0]), &e)))
        goto failed;
    if (a->gpu >= 0) {
        char nodes[MOUNTS_MAX_GPU_NODES][32];
        if (!mounts_gpu_nodes(a->gpu, nodes, MOUNTS_MAX_GPU_NODES))
            fprintf(stderr, "kgrade-sandbox: note: --gpu %d: no NVIDIA device node on this host, none bound\n", a->gpu);
    }
    if (is_root && setgroups(0, NULL) < 0) {
        rc = err_set(&e, ERR_IO, "", "setgroups: %s", strerror(errno));
        goto failed;
    }
    if ((rc = mounts_prepare(m, is_root, uid, gid, &e)))
        goto failed;
    struct cgroup_limits lim = {.memory_bytes = a->memory, .pids = a->pids, .cpus = a->cpus};
    if ((rc = cgroup_job_create(&root, a->slot, &lim, &job, &e)))
        goto failed;
    if (pipe2(sync, O_CLOEXEC) < 0 || pipe2(status, O_CLOEXEC) < 0 ||
        fcntl(status[0], F_SETFL, O_NONBLOCK) < 0) {
        rc = err_set(&e, ERR_IO, "", "pipe: %s", strerror(errno));
        goto failed;
    }

    ij.program = a->program[0];
    ij.argv = a->program;
    ij.envp = envp;
    ij.fsize = a->fsize;
    ij.nofile = a->nofile;
    ij.nproc = a->pids;
    ij.data = job.kind == CGROUP_NONE ? a->memory : -1;
    ij.cpu_s = a->wall_ms > 0 ? 8 * ((a->wall_ms + 999) / 1000) + 10 : -1;
    memcpy(ij.pass_fd, a->pass_fd, sizeof ij.pass_fd);
    ij.n_pass = a->n_pass;
    ij.sync_fd = sync[0];
    ij.status_fd = status[1];
    int keeper_fds[INIT_MAX_CLOSE_FDS] = {sync[1], status[0], a->meta_fd > 2 ? a->meta_fd : -1, job.dirfd,
                                           -1, -1, -1, -1};
    memcpy(ij.close_fd, keeper_fds, sizeof ij.close_fd);

    struct clone_args ca;
    memset(&ca, 0, sizeof ca);
    ca.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
               CLONE_NEWCGROUP | CLONE_PIDFD;
    ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
    ca.exit_signal = SIGCHLD;
    if (job.kind == CGROUP_V2 && job.dirfd >= 0) {
        ca.flags |= CLONE_INTO_CGROUP;
        ca.cgroup = (uint64_t)job.dirfd;
    }
    pid = (pid_t)syscall(SYS_clone3, &ca, sizeof ca);
    if (pid == 0)
        init_main(&ij);
    if (pid < 0) {
        rc = err_set(&e, ERR_IO, "", "clone3 (new namespaces): %s", strerror(errno));
        goto failed;
    }
    close(sync[0]);
    close(status[1]);
    sync[0] = status[1] = -1;

    char map[64];
    snprintf(map, sizeof map, "0 %u 1\n", uid);
    char gmap[64];
    snprintf(gmap, sizeof gmap, "0 %u 1\n", gid);
    if ((rc = write_proc(pid, "setgroups", "deny", &e)) || (rc = write_proc(pid, "uid_map", map, &e)) ||
        (rc = write_proc(pid, "gid_map", gmap, &e)) || (rc = cgroup_job_enter(&job, pid, &e)))
        goto failed;
    if (write_all(sync[1], "g", 1) < 0) {
        rc = err_set(&e, ERR_IO, "", "sync pipe: %s", strerror(errno));
        goto failed;
    }
    close(sync[1]);
    sync[1] = -1;
    for (int i = 0; i < a->n_pass; i++)
        close(a->pass_fd[i]);   /* only the program holds them now */
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (nul > 0) {
        dup3(nul, 0, O_CLOEXEC);
        close(nul);
    }
    watch_init(a, &job, pid, pidfd, status[0], &w);
    cgroup_job_stats(&job, &o.st);
    verdict(&w, &o);
    goto out;

failed:
    o.status = "setup_failed";
    snprintf(o.error, sizeof o.error, "%s", e.msg);
    o.setup_ms = init_now_ms() - t0;
    if (pid > 0) {
        syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
out:
    cgroup_job_destroy(&job);
    for (int i = 0; i < 2; i++) {
        if (sync[i] >= 0)
            close(sync[i]);
        if (status[i] >= 0)
            close(status[i]);
    }
    if (pidfd >= 0)
        close(pidfd);
    if (write_meta(a, &o, root.kind, uid) < 0) {
        fprintf(stderr, "kgrade-sandbox: cannot write the meta line: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}

static int probe_main(int argc, char **argv)
{
    const char *hint = NULL;
    long long uid = -1, owner = 0;
    for (int i = 0; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: kgrade-sandbox probe [--cgroup auto|none|DIR|SPEC] [--uid N] [--owner PID]\n"
                   "Prints the isolation level of this host as one JSON line; --cgroup auto (the\n"
                   "default) also prepares the job cgroup parent and prints it as \"cgroup\";\n"
                   "--owner PID gives daemon PID a parent of its own below it (d<PID>).\n");
            return 0;
        } else if (!strcmp(argv[i], "--cgroup") && v) {
            hint = v;
            i++;
        } else if (!strcmp(argv[i], "--uid") && v && (uid = strtoll(v, &end, 10)) > 0 && !*end) {
            i++;
        } else if (!strcmp(argv[i], "--owner") && v && (owner = strtoll(v, &end, 10)) > 0 && !*end) {
            i++;
        } else {
            fprintf(stderr, "kgrade-sandbox probe: bad option '%s' (see --help)\n", argv[i]);
            return 2;
        }
    }
    static struct probe p;
    struct err e;
    memset(&e, 0, sizeof e);
    int rc = probe_run(hint, (int)uid, (long)owner, &p, &e);
    char out[16384];
    if (!rc)
        rc = probe_json(&p, out, sizeof out);
    if (rc) {
        fprintf(stderr, "kgrade-sandbox probe: %s\n", e.msg[0] ? e.msg : err_name(rc));
        return rc == ERR_INVALID ? 2 : 1;
    }
    fputs(out, stdout);
    return fflush(stdout) ? 1 : 0;
}

int main(int argc, char **argv)
{
    t0 = init_now_ms();
    signal(SIGPIPE, SIG_IGN);
    for (int fd = 0; fd < 3; fd++)      /* our pipes must never land on 0-2 */
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", fd ? O_WRONLY : O_RDONLY) != fd)
            return 1;
    if (argc >= 2 && !strcmp(argv[1], "probe"))
        return probe_main(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "run")) {
        struct args a;
        struct err e;
        memset(&e, 0, sizeof e);
        int rc = args_parse(argc - 2, argv + 2, &a, &e);
        if (rc == 1) {
            args_usage(stdout);
            return 0;
        }
        if (rc) {
            fprintf(stderr, "kgrade-sandbox run: %s (see --help)\n", e.msg);
            return 2;
        }
        return run(&a);
    }
    fprintf(stderr, "usage: kgrade-sandbox run [options] -- PROGRAM [ARG...]\n"
                    "       kgrade-sandbox probe [--cgroup auto|none|DIR|SPEC] [--uid N] [--owner PID]\n"
                    "       kgrade-sandbox run --help\n");
    return argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) ? 0 : 2;
}
