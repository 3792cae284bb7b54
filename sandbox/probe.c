/* probe.c — the isolation level probe (see probe.h).
 *
 * DESIGN
 *   Each kernel feature is tried for real, the way the keeper will use it, in a throwaway child:
 *   a "trial" is clone(flags) + a child function that runs a few steps and reports, through a
 *   pipe, the index of the step that failed and its errno (or success), then _exit(0). A trial may
 *   have a parent hook that runs between the clone and the child's first step (the uid map is
 *   written from outside, as the keeper does); the child waits for it on a second pipe. The clone
 *   is the raw system call with no new stack, so the child is a copy like fork(); it makes only
 *   plain system calls (no stdio, no malloc) and leaves through _exit.
 *     namespaces    clone(CLONE_NEWUSER | CLONE_NEWxx) for each xx, child does nothing;
 *     pivot_root    userns + mntns: / made private, a tmpfs on /tmp, chdir, pivot_root(".", "."),
 *                   umount2(".", MNT_DETACH);
 *     seccomp       no_new_privs + an allow-everything filter; with a listener (user notification)
 *                   for seccomp_notify, plus SECCOMP_GET_ACTION_AVAIL for kill_process and user_notif;
 *     caps_dropped  inside a userns: bounding set, ambient set, capset to zero, capget checks it;
 *     rlimits       the keeper's limits lowered in a child;
 *     uid_dedicated root only: a userns child whose uid_map and gid_map "0 <uid> 1" (setgroups deny)
 *                   the parent writes, then setresgid/setresuid(0) inside.
 *   The cgroup part is cgroup_prepare, which also prepares the jobs' parent; gpu_nodes looks at
 *   /dev. The level is computed from the results (probe.h).
 *
 * Invariants: every child is reaped before probe_run returns; every fd is close-on-exec and
 * closed; a missing feature never makes probe_run fail.
 *
 * Does not: test a GPU context inside the sandbox (that is the daemon's canary), landlock, or
 * the keeper's own code paths (mounts, filter): a feature present here can still fail a job
 * setup, which then reports setup_failed. */
#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif
#ifndef SECCOMP_FILTER_FLAG_NEW_LISTENER
#define SECCOMP_FILTER_FLAG_NEW_LISTENER (1UL << 3)
#endif
#ifndef SECCOMP_GET_ACTION_AVAIL
#define SECCOMP_GET_ACTION_AVAIL 2
#endif
#ifndef SECCOMP_RET_USER_NOTIF
#define SECCOMP_RET_USER_NOTIF 0x7fc00000U
#endif
#ifndef SECCOMP_RET_KILL_PROCESS
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* ---- trials ----------------------------------------------------------------------------------- */

struct trial {
    unsigned long flags;                                        /* clone flags (SIGCHLD added) */
    int (*child)(const struct trial *t, int *step);             /* in the child: 0 or an errno */
    int (*parent)(const struct trial *t, pid_t pid, int *step); /* before the child goes on; may be NULL */
    const char *const *steps;                                   /* names of the steps, for "why" */
    int arg;                                                    /* uid map: the uid; caps: last cap */
};

struct report { int step, err; };

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Run t. 0 when every step worked; else the errno, and why filled with "<step>: <strerror>". */
static int run_trial(const struct trial *t, const char *clone_name, char *why, size_t wn)
{
    int res[2] = {-1, -1}, go[2] = {-1, -1};
    struct report v = {0, 0};
    const char *what = clone_name;
    pid_t pid = -1;
    int rc = 0;
    if (pipe2(res, O_CLOEXEC) || (t->parent && pipe2(go, O_CLOEXEC))) {
        rc = errno;
        what = "pipe";
        goto out;
    }
    pid = (pid_t)syscall(SYS_clone, t->flags | SIGCHLD, NULL, NULL, NULL, NULL);
    if (pid < 0) {
        rc = errno;
        goto out;
    }
    if (pid == 0) {
        struct report cv = {0, 0};
        char c;
        if (go[0] >= 0) {
            close(go[1]);
            while (read(go[0], &c, 1) < 0 && errno == EINTR) {
            }
        }
        cv.err = t->child(t, &cv.step);
        if (write(res[1], &cv, sizeof cv) < 0)
            _exit(1);
        _exit(0);
    }
    close_fd(&res[1]);
    if (t->parent) {
        close_fd(&go[0]);
        int step = 0, prc = t->parent(t, pid, &step);
        if (prc) {
            rc = prc;
            what = t->steps[step];
            kill(pid, SIGKILL);
        }
        close_fd(&go[1]);
    }
    ssize_t r;
    do
        r = read(res[0], &v, sizeof v);
    while (r < 0 && errno == EINTR);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
    if (!rc && r != (ssize_t)sizeof v) {
        rc = ECHILD;
        what = "the child died before it reported";
    } else if (!rc && v.err) {
        rc = v.err;
        what = t->steps[v.step];
    }
out:
    close_fd(&res[0]);
    close_fd(&res[1]);
    close_fd(&go[0]);
    close_fd(&go[1]);
    if (rc)
        snprintf(why, wn, "%s: %s", what, strerror(rc));
    return rc;
}

/* Each child function: *step = the step about to run; returns 0 or that step's errno. */

static int child_nothing(const struct trial *t, int *step)
{
    *step = 0;
    return 0;
}

static int child_pivot(const struct trial *t, int *step)
{
    *step = 0;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
        return errno;
    *step = 1;
    if (mount("none", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=64k"))
        return errno;
    *step = 2;
    if (chdir("/tmp"))
        return errno;
    *step = 3;
    if (syscall(SYS_pivot_root, ".", "."))
        return errno;
    *step = 4;
    if (umount2(".", MNT_DETACH))
        return errno;
    return 0;
}
static const char *const pivot_steps[] = {"mount / private", "mount tmpfs", "chdir", "pivot_root",
                                          "umount2 old root"};

static int load_allow_all(unsigned int flags)
{
    struct sock_filter allow = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {1, &allow};
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static int child_nnp(const struct trial *t, int *step)
{
    *step = 0;
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? errno : 0;
}

static int child_seccomp(const struct trial *t, int *step)
{
    *step = 0;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return errno;
    *step = 1;
    if (load_allow_all(0) < 0)
        return errno;
    return 0;
}
static const char *const seccomp_steps[] = {"prctl(PR_SET_NO_NEW_PRIVS)", "seccomp(SECCOMP_SET_MODE_FILTER)"};

static int child_notify(const struct trial *t, int *step)
{
    *step = 0;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
        return errno;
    *step = 1;
    if (load_allow_all(SECCOMP_FILTER_FLAG_NEW_LISTENER) < 0)
        return errno;
    return 0;
}
static const char *const notify_steps[] = {"prctl(PR_SET_NO_NEW_PRIVS)",
                                           "seccomp(SECCOMP_FILTER_FLAG_NEW_LISTENER)"};

static int child_caps(const struct trial *t, int *step)
{
    *step = 0;
    for (int c = 0; c <= t->arg; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
            return errno;
    *step = 1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
        return errno;
    *step = 2;
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capset, &h, d))
        return errno;
    *step = 3;
    if (syscall(SYS_capget, &h, d))
        return errno;
    return d[0].effective || d[1].effective || d[0].permitted || d[1].permitted ? EPERM : 0;
}
static const char *const caps_steps[] = {"prctl(PR_CAPBSET_DROP)", "prctl(PR_CAP_AMBIENT_CLEAR_ALL)",
                                         "capset", "capget (capabilities left)"};

static int child_rlimits(const struct trial *t, int *step)
{
    static const struct { int res; rlim_t v; } lim[] = {
        {RLIMIT_CORE, 0}, {RLIMIT_FSIZE, 256 << 20}, {RLIMIT_NOFILE, 1024}, {RLIMIT_NPROC, 256},
        {RLIMIT_DATA, (rlim_t)4 << 30}, {RLIMIT_CPU, 3600},
    };
    for (size_t i = 0; i < sizeof lim / sizeof lim[0]; i++) {
        struct rlimit r;
        *step = (int)i;
        if (getrlimit(lim[i].res, &r))
            return errno;
        rlim_t v = lim[i].v < r.rlim_max ? lim[i].v : r.rlim_max;
        r.rlim_cur = r.rlim_max = v;
        if (setrlimit(lim[i].res, &r))
            return errno;
    }
    return 0;
}
static const char *const rlimit_steps[] = {"setrlimit(RLIMIT_CORE)", "setrlimit(RLIMIT_FSIZE)",
                                           "setrlimit(RLIMIT_NOFILE)", "setrlimit(RLIMIT_NPROC)",
                                           "setrlimit(RLIMIT_DATA)", "setrlimit(RLIMIT_CPU)"};

/* Write s to /proc/<pid>/<name>. 0 or errno. */
static int proc_write(pid_t pid, const char *name, const char *s)
{
    char p[64];
    snprintf(p, sizeof p, "/proc/%d/%s", (int)pid, name);
    int fd = open(p, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    size_t n = strlen(s);
    int rc = write(fd, s, n) == (ssize_t)n ? 0 : errno ? errno : EIO;
    close(fd);
    return rc;
}

static int parent_map(const struct trial *t, pid_t pid, int *step)
{
    char map[64];
    snprintf(map, sizeof map, "0 %d 1\n", t->arg);
    int rc;
    *step = 2;
    if ((rc = proc_write(pid, "setgroups", "deny")))
        return rc;
    *step = 3;
    if ((rc = proc_write(pid, "uid_map", map)))
        return rc;
    *step = 4;
    return proc_write(pid, "gid_map", map);
}

static int child_map(const struct trial *t, int *step)
{
    *step = 0;
    if (syscall(SYS_setresgid, 0, 0, 0))
        return errno;
    *step = 1;
    if (syscall(SYS_setresuid, 0, 0, 0))
        return errno;
    return 0;
}
static const char *const map_steps[] = {"setresgid(0) inside", "setresuid(0) inside", "write setgroups",
                                        "write uid_map", "write gid_map"};

/* ---- the probe -------------------------------------------------------------------------------- */

static void miss(struct probe *p, enum probe_feature f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void miss(struct probe *p, enum probe_feature f, const char *fmt, ...)
{
    va_list ap;
    p->has[f] = 0;
    va_start(ap, fmt);
    vsnprintf(p->why[f], sizeof p->why[f], fmt, ap);
    va_end(ap);
}

static void trial(struct probe *p, enum probe_feature f, const struct trial *t, const char *clone_name)
{
    p->has[f] = run_trial(t, clone_name, p->why[f], sizeof p->why[f]) == 0;
    if (p->has[f])
        p->why[f][0] = '\0';
}

static void probe_namespaces(struct probe *p)
{
    static const char *const none[] = {"child"};
    static const struct { enum probe_feature f; unsigned long flag; const char *name; } ns[] = {
        {PROBE_MNTNS, CLONE_NEWNS, "CLONE_NEWNS"},       {PROBE_PIDNS, CLONE_NEWPID, "CLONE_NEWPID"},
        {PROBE_NETNS, CLONE_NEWNET, "CLONE_NEWNET"},     {PROBE_IPCNS, CLONE_NEWIPC, "CLONE_NEWIPC"},
        {PROBE_UTSNS, CLONE_NEWUTS, "CLONE_NEWUTS"},     {PROBE_CGROUPNS, CLONE_NEWCGROUP, "CLONE_NEWCGROUP"},
    };
    char name[64];
    struct trial t = {CLONE_NEWUSER, child_nothing, NULL, none, 0};
    trial(p, PROBE_USERNS, &t, "clone(CLONE_NEWUSER)");
    /* without a user namespace (then the level is none anyway) each one alone, as root would */
    unsigned long user = p->has[PROBE_USERNS] ? CLONE_NEWUSER : 0;
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        t.flags = user | ns[i].flag;
        snprintf(name, sizeof name, "clone(%s%s)", user ? "CLONE_NEWUSER|" : "", ns[i].name);
        trial(p, ns[i].f, &t, name);
    }
    t = (struct trial){user | CLONE_NEWNS, child_pivot, NULL, pivot_steps, 0};
    snprintf(name, sizeof name, "clone(%sCLONE_NEWNS)", user ? "CLONE_NEWUSER|" : "");
    trial(p, PROBE_PIVOT_ROOT, &t, name);
}

static void probe_seccomp(struct probe *p)
{
    unsigned int kill_process = SECCOMP_RET_KILL_PROCESS, user_notif = SECCOMP_RET_USER_NOTIF;
    if (prctl(PR_GET_SECCOMP, 0, 0, 0, 0) < 0) {
        miss(p, PROBE_SECCOMP, "prctl(PR_GET_SECCOMP): %s", strerror(errno));
    } else if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &kill_process)) {
        miss(p, PROBE_SECCOMP, "action kill_process: %s", strerror(errno));
    } else {
        struct trial t = {0, child_seccomp, NULL, seccomp_steps, 0};
        trial(p, PROBE_SECCOMP, &t, "fork");
    }
    if (!p->has[PROBE_SECCOMP]) {
        miss(p, PROBE_SECCOMP_NOTIFY, "needs seccomp");
    } else if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &user_notif)) {
        miss(p, PROBE_SECCOMP_NOTIFY, "action user_notif: %s", strerror(errno));
    } else {
        struct trial t = {0, child_notify, NULL, notify_steps, 0};
        trial(p, PROBE_SECCOMP_NOTIFY, &t, "fork");
    }
    struct trial t = {0, child_nnp, NULL, seccomp_steps, 0};
    trial(p, PROBE_NNP, &t, "fork");
}

static void probe_privileges(struct probe *p, int uid)
{
    int last = 40;
    FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
    if (f) {
        if (fscanf(f, "%d", &last) != 1)
            last = 40;
        fclose(f);
    }
    unsigned long user = p->has[PROBE_USERNS] ? CLONE_NEWUSER : 0;
    struct trial t = {user, child_caps, NULL, caps_steps, last};
    trial(p, PROBE_CAPS_DROPPED, &t, user ? "clone(CLONE_NEWUSER)" : "fork");
    t = (struct trial){0, child_rlimits, NULL, rlimit_steps, 0};
    trial(p, PROBE_RLIMITS, &t, "fork");
    if (geteuid() != 0) {
        miss(p, PROBE_UID_DEDICATED, "not root: the sandbox's root maps to our own uid %d", (int)geteuid());
    } else if (!p->has[PROBE_USERNS]) {
        miss(p, PROBE_UID_DEDICATED, "needs a user namespace");
    } else {
        t = (struct trial){CLONE_NEWUSER, child_map, parent_map, map_steps, uid};
        trial(p, PROBE_UID_DEDICATED, &t, "clone(CLONE_NEWUSER)");
    }
}

static void probe_cgroup(struct probe *p)
{
    const struct cgroup_root *r = &p->cgroup;
    const char *kind = r->kind == CGROUP_V2 ? "cgroup v2" : "cgroup v1";
    p->has[PROBE_CGROUP] = r->kind != CGROUP_NONE;
    p->has[PROBE_MEMORY] = r->kind != CGROUP_NONE;
    p->has[PROBE_PIDS] = r->kind != CGROUP_NONE && r->has_pids;
    p->has[PROBE_CPU] = r->kind == CGROUP_V2 && r->has_cpu;
    p->has[PROBE_CGROUP_KILL] = r->kind == CGROUP_V2 && r->has_kill;
    if (r->kind == CGROUP_NONE) {
        miss(p, PROBE_CGROUP, "%s", r->why);
        miss(p, PROBE_MEMORY, "no cgroup: RLIMIT_DATA per process instead");
        miss(p, PROBE_PIDS, "no cgroup: RLIMIT_NPROC instead");
        miss(p, PROBE_CPU, "no cgroup");
        miss(p, PROBE_CGROUP_KILL, "no cgroup: the sandbox's pid 1 is killed instead");
        return;
    }
    if (!p->has[PROBE_PIDS])
        miss(p, PROBE_PIDS, "%s: the pids controller is not delegated: RLIMIT_NPROC instead", kind);
    if (!p->has[PROBE_CPU])
        miss(p, PROBE_CPU, "%s%s", kind, r->kind == CGROUP_V2 ? ": the cpu controller is not delegated"
                                                               : ": cpu.max is v2 only");
    if (!p->has[PROBE_CGROUP_KILL])
        miss(p, PROBE_CGROUP_KILL, "%s%s", kind, r->kind == CGROUP_V2 ? ": no cgroup.kill (kernel < 5.14)"
                                                                       : ": each pid is killed instead");
}

/* /dev/nvidiactl and at least one /dev/nvidiaN, character devices readable and writable by all
 * (the sandbox's uid owns none of them). */
static void probe_gpu(struct probe *p)
{
    struct stat st;
    if (stat("/dev/nvidiactl", &st)) {
        miss(p, PROBE_GPU_NODES, "/dev/nvidiactl: %s", strerror(errno));
        return;
    }
    if (!S_ISCHR(st.st_mode) || (st.st_mode & 0666) != 0666) {
        miss(p, PROBE_GPU_NODES, "/dev/nvidiactl is not a character device with mode 0666");
        return;
    }
    DIR *d = opendir("/dev");
    int found = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        char path[300];
        if (strncmp(de->d_name, "nvidia", 6) || de->d_name[6] < '0' || de->d_name[6] > '9')
            continue;
        snprintf(path, sizeof path, "/dev/%s", de->d_name);
        if (stat(path, &st) == 0 && S_ISCHR(st.st_mode) && (st.st_mode & 0666) == 0666)
            found = 1;
    }
    if (d)
        closedir(d);
    if (found) {
        p->has[PROBE_GPU_NODES] = 1;
        p->why[PROBE_GPU_NODES][0] = '\0';
    } else {
        miss(p, PROBE_GPU_NODES, "no /dev/nvidiaN with mode 0666");
    }
}

int probe_run(const char *cgroup_hint, int uid, long owner, struct probe *p, struct err *e)
{
    memset(p, 0, sizeof *p);
    if (uid < 0)
        uid = PROBE_DEFAULT_UID;
    if (geteuid() == 0 && uid == 0)
        return err_set(e, ERR_INVALID, "uid", "uid 0 cannot be the sandbox's host uid");
    p->uid = geteuid() == 0 ? uid : (int)geteuid();
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(p->kernel, sizeof p->kernel, "%s", u.release);

    probe_namespaces(p);
    probe_seccomp(p);
    probe_privileges(p, uid);
    int rc = cgroup_prepare(cgroup_hint, &p->cgroup, e);
    if (!rc && owner > 0)
        rc = cgroup_instance(&p->cgroup, owner, e);     /* sweeps only its own instance */
    else if (!rc)
        cgroup_sweep(&p->cgroup);
    if (rc)
        return rc;
    if (cgroup_root_format(&p->cgroup, p->cgroup_spec, sizeof p->cgroup_spec))
        return err_set(e, ERR_INTERNAL, "cgroup", "cgroup path too long");
    probe_cgroup(p);
    probe_gpu(p);

    /* the keeper needs all of base (its filter reports through user notification); full adds a
     * memory cgroup and the dedicated uid, under which RLIMIT_NPROC bounds tasks where pids is
     * not delegated */
    static const enum probe_feature base[] = {PROBE_USERNS, PROBE_MNTNS, PROBE_PIDNS, PROBE_NETNS,
                                              PROBE_IPCNS, PROBE_UTSNS, PROBE_PIVOT_ROOT, PROBE_SECCOMP,
                                              PROBE_SECCOMP_NOTIFY};
    p->level = PROBE_FULL;
    for (size_t i = 0; i < sizeof base / sizeof base[0]; i++)
        if (!p->has[base[i]])
            p->level = PROBE_NONE;
    if (p->level == PROBE_FULL && !(p->has[PROBE_MEMORY] && p->has[PROBE_UID_DEDICATED]))
        p->level = PROBE_REDUCED;
    return 0;
}

/* ---- JSON ------------------------------------------------------------------------------------- */

const char *probe_level_name(enum probe_level l)
{
    return l == PROBE_FULL ? "full" : l == PROBE_REDUCED ? "reduced" : "none";
}

const char *probe_feature_name(const struct probe *p, enum probe_feature f)
{
    static const char *const names[PROBE_NFEATURES] = {
        "userns", "mntns", "pidns", "netns", "ipcns", "utsns", "cgroupns", "pivot_root", "seccomp",
        "seccomp_notify", "nnp", "caps_dropped", "rlimits", "uid_dedicated", "cgroup", "memory", "pids",
        "cpu", "cgroup_kill", "gpu_nodes",
    };
    if (f == PROBE_CGROUP && p->cgroup.kind != CGROUP_NONE)
        return p->cgroup.kind == CGROUP_V2 ? "cgroup_v2" : "cgroup_v1";
    return (unsigned)f < PROBE_NFEATURES ? names[f] : "?";
}

struct out { char *s; size_t n, k; };

static void emit(struct out *o, const char *s)
{
    for (; *s; s++) {
        if (o->k + 1 < o->n)
            o->s[o->k] = *s;
        o->k++;
    }
}

/* s as a JSON string, quotes included. */
static void emit_str(struct out *o, const char *s)
{
    emit(o, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char b[8] = {(char)c, 0};
        if (c == '"' || c == '\\')
            snprintf(b, sizeof b, "\\%c", c);
        else if (c < 0x20)
            snprintf(b, sizeof b, "\\u%04x", c);
        emit(o, b);
    }
    emit(o, "\"");
}

int probe_json(const struct probe *p, char *out, size_t n)
{
    struct out o = {out, n, 0};
    char num[32];
    emit(&o, "{\"level\":");
    emit_str(&o, probe_level_name(p->level));
    emit(&o, ",\"features\":[");
    const char *sep = "";
    for (int f = 0; f < PROBE_NFEATURES; f++)
        if (p->has[f]) {
            emit(&o, sep);
            emit_str(&o, probe_feature_name(p, (enum probe_feature)f));
            sep = ",";
        }
    emit(&o, "],\"missing\":[");
    sep = "";
    for (int f = 0; f < PROBE_NFEATURES; f++)
        if (!p->has[f]) {
            char m[sizeof p->why[0] + 32];
            snprintf(m, sizeof m, "%s: %s", probe_feature_name(p, (enum probe_feature)f), p->why[f]);
            emit(&o, sep);
            emit_str(&o, m);
            sep = ",";
        }
    emit(&o, "],\"cgroup\":");
    emit_str(&o, p->cgroup_spec);
    snprintf(num, sizeof num, ",\"uid\":%d", p->uid);
    emit(&o, num);
    emit(&o, ",\"kernel\":");
    emit_str(&o, p->kernel);
    emit(&o, "}\n");
    if (n)
        out[o.k < n ? o.k : n - 1] = '\0';
    return o.k < n ? 0 : ERR_LIMIT;
}
