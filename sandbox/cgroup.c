/* cgroup.c — the jobs' control groups, cgroup v2 or v1 (see cgroup.h).
 *
 * DESIGN
 *   find     /proc/self/mountinfo gives the cgroup2 mount and the v1 mounts (by controller in the
 *            super options) with the subtree each shows; /proc/self/cgroup gives our own path in
 *            each hierarchy (both read by cgfs.h, as are all control files). Our directory = mount
 *            point + (own path - mount root).
 *   v2       P = our own group (its parent when we already sit in P/kgrade-daemon from an earlier
 *            start). memory must be delegated to P; pids and cpu are used when they are (a host may
 *            delegate memory alone: tasks are then bounded by RLIMIT_NPROC only). A non-root group
 *            with processes cannot enable controllers for children ("no internal processes"), so
 *            when P does not yet hand them down, every process of P moves into the leaf
 *            P/kgrade-daemon first, then "+memory +pids" is written to P; EBUSY means a process
 *            appeared meanwhile (a fork), so the move and the write repeat a bounded number of
 *            times. Then P/kgrade-jobs gets the same controllers, and each job is
 *            P/kgrade-jobs/slot-N, with no process ever in kgrade-jobs itself. Running this again
 *            finds everything in place and only sweeps stale slots.
 *   v1       no such rule: <memory dir>/kgrade-jobs and <pids dir>/kgrade-jobs, each job a slot-N
 *            in both; the keeper writes the child's pid into both before releasing it.
 *   kill     v2 cgroup.kill; otherwise SIGKILL to every pid of cgroup.procs, read again and again
 *            until the group is empty (a fork bomb keeps forking while it is being killed).
 *   remove   wait until the group is empty (bounded), then rmdir (retried on EBUSY until the same
 *            bound). Exited but unreaped processes do not keep a group populated.
 *
 * Invariants: a slot directory exists only while its job runs or until the next create/prepare
 * sweeps it; every file is written with a single write(); nothing here blocks for more than about
 * 2 s. "Not available" (no cgroup2 controllers, EACCES, EROFS, no mount) is never an error: the
 * root becomes CGROUP_NONE with the reason.
 *
 * Does not: use the freezer, set cpuset or io limits, touch memory.oom_control (the kernel's OOM
 * killer stays on in v1), or remove sub-groups a job made under its own slot (it cannot: the
 * sandbox sees /sys read-only). */
#include "cgroup.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "cgfs.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif

#define KILL_MS 1000       /* cgroup_job_kill's bound */
#define REMOVE_MS 2000     /* how long a removal waits for the group to empty and rmdir to pass */
#define MAX_PIDS 1024      /* pids handled per read of cgroup.procs (on the stack) */
#define MOVE_ROUNDS 20     /* attempts at emptying P before enabling its controllers */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {
    }
}

static void add_why(struct cgroup_root *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_why(struct cgroup_root *r, const char *fmt, ...)
{
    size_t k = strlen(r->why);
    if (k && k + 2 < sizeof r->why)
        k += (size_t)snprintf(r->why + k, sizeof r->why - k, "; ");
    if (k >= sizeof r->why)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->why + k, sizeof r->why - k, fmt, ap);
    va_end(ap);
}

/* ---- where the hierarchies are ---------------------------------------------------------------- */

/* Our own directory in the v2 hierarchy (ctrl NULL) or the v1 hierarchy of ctrl. 0, or a
 * negative errno with what failed in r->why. */
static int own_dir(const char *ctrl, char *out, size_t n, struct cgroup_root *r)
{
    const char *what = ctrl ? ctrl : "cgroup2";
    char mnt[PATH_MAX], root[PATH_MAX], path[PATH_MAX];
    if (cgfs_find_mount(ctrl, mnt, sizeof mnt, root, sizeof root)) {
        add_why(r, "%s: no such hierarchy mounted", what);
        return -ENOENT;
    }
    if (cgfs_own_path(ctrl, path, sizeof path)) {
        add_why(r, "%s: not in /proc/self/cgroup", what);
        return -ENOENT;
    }
    const char *rel = path;
    size_t rl = strlen(root);
    if (strcmp(root, "/")) {
        if (strncmp(path, root, rl) || (path[rl] != '/' && path[rl] != '\0')) {
            add_why(r, "%s: own group %s is outside the mounted subtree %s", what, path, root);
            return -ENOENT;
        }
        rel = path + rl;
    }
    if (!strcmp(rel, "/"))
        rel = "";
    int k = snprintf(out, n, "%s%s", mnt, rel);
    if (k < 0 || (size_t)k >= n) {
        add_why(r, "%s: path too long", what);
        return -ENAMETOOLONG;
    }
    return 0;
}

/* ---- killing and removing groups -------------------------------------------------------------- */

/* SIGKILL every process of dir (when kill is set) until it is empty or deadline (now_ms) passes.
 * 1 when empty (or gone), 0 when not. */
static int drain(const char *dir, int kill_them, double deadline)
{
    pid_t pids[MAX_PIDS];
    for (;;) {
        int n = cgfs_read_pids(dir, pids, MAX_PIDS);
        if (n <= 0)
            return 1;       /* empty, or the group is gone */
        if (kill_them)
            for (int i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        if (now_ms() > deadline)
            return 0;
        sleep_ms(1);
    }
}

/* Kill what runs in dir (cgroup.kill when v2 has it), wait for it to empty and rmdir it. 0 or
 * -errno (ENOENT counts as done). */
static int remove_group(const char *dir, int v2)
{
    double deadline = now_ms() + REMOVE_MS;
    if (rmdir(dir) == 0 || errno == ENOENT)
        return 0;
    int killed = v2 && cgfs_put(dir, "cgroup.kill", "1") == 0;
    drain(dir, !killed, deadline);      /* after cgroup.kill only wait; else kill pid by pid */
    for (;;) {
        if (rmdir(dir) == 0 || errno == ENOENT)
            return 0;
        int er = errno;
        if (er != EBUSY || now_ms() > deadline)
            return -er;
        drain(dir, 1, deadline);
        sleep_ms(1);
    }
}

/* 1 when name is "slot-" and digits. */
static int is_slot(const char *name)
{
    if (strncmp(name, "slot-", 5) || !name[5])
        return 0;
    for (const char *s = name + 5; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Remove every stale slot-N under r's parent. v1: the slots found in the memory parent, in both
 * hierarchies (a slot-N of the pids parent without its memory twin belongs to someone else
 * sharing our pids group, or is removed when that slot is next created). */
void cgroup_sweep(const struct cgroup_root *r)
{
    const char *parent = r->kind == CGROUP_V2 ? r->v2 : r->mem;
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char p[PATH_MAX];
        if (!is_slot(de->d_name) || cgfs_join(p, sizeof p, parent, de->d_name))
            continue;
        remove_group(p, r->kind == CGROUP_V2);
        if (r->kind == CGROUP_V1 && !cgfs_join(p, sizeof p, r->pids, de->d_name))
            remove_group(p, 0);
    }
    closedir(d);
}

/* ---- preparing the parent --------------------------------------------------------------------- */

/* mkdir that accepts an existing directory. 0 or -errno. */
static int make_dir(const char *p)
{
    return mkdir(p, 0755) == 0 || errno == EEXIST ? 0 : -errno;
}

/* Move every process of from into to, repeating while new ones appear. 0 when from is empty,
 * else -errno of the first failed move (ESRCH, a process that exited, is not a failure). */
static int move_all(const char *from, const char *to)
{
    pid_t pids[MAX_PIDS];
    for (int round = 0; round < MOVE_ROUNDS; round++) {
        int n = cgfs_read_pids(from, pids, MAX_PIDS);
        if (n <= 0)
            return n;
        for (int i = 0; i < n; i++) {
            char s[24];
            snprintf(s, sizeof s, "%d", (int)pids[i]);
            int rc = cgfs_put(to, "cgroup.procs", s);
            if (rc && rc != -ESRCH)
                return rc;
        }
    }
    return -EBUSY;
}

/* Enable memory (and pids when dir offers it) for dir's children, then cpu when offered (best
 * effort). When leaf is not NULL and they are not enabled yet, the leaf is made and the processes
 * of dir move there first (again after each EBUSY). 0 or -errno. */
static int enable(const char *dir, const char *leaf)
{
    char have[256], sub[256];
    int rc;
    if ((rc = (int)cgfs_get(dir, "cgroup.controllers", have, sizeof have)) < 0 ||
        (rc = (int)cgfs_get(dir, "cgroup.subtree_control", sub, sizeof sub)) < 0)
        return rc;
    int pids = cgfs_has_word(have, "pids");
    rc = 0;
    if (!cgfs_has_word(sub, "memory") || (pids && !cgfs_has_word(sub, "pids"))) {
        if (leaf && (rc = make_dir(leaf)))
            return rc;
        for (int round = 0; round < MOVE_ROUNDS; round++) {
            if (leaf && (rc = move_all(dir, leaf)) != 0)
                return rc;
            rc = cgfs_put(dir, "cgroup.subtree_control", pids ? "+memory +pids" : "+memory");
            if (rc != -EBUSY || !leaf)
                break;
        }
        if (rc)
            return rc;
    }
    if (cgfs_has_word(have, "cpu") && !cgfs_has_word(sub, "cpu"))
        cgfs_put(dir, "cgroup.subtree_control", "+cpu");     /* optional: cpu.max is a bonus */
    return 0;
}

/* P (a cgroup2 directory) prepared as the daemon's group with P/kgrade-jobs as the jobs' parent.
 * 0 with r filled, or -1 with the reason added to r->why (nothing else changes in r). */
static int v2_setup(const char *p, struct cgroup_root *r)
{
    char have[256], leaf[PATH_MAX], jobs[sizeof r->v2], sub[256], *nl;
    struct statfs fs;
    if (statfs(p, &fs) || fs.f_type != CGROUP2_SUPER_MAGIC) {
        add_why(r, "cgroup2 %s: not a cgroup2 directory", p);
        return -1;
    }
    ssize_t got = cgfs_get(p, "cgroup.controllers", have, sizeof have);
    if (got < 0) {
        add_why(r, "cgroup2 %s: cgroup.controllers: %s", p, strerror((int)-got));
        return -1;
    }
    if ((nl = strchr(have, '\n')) != NULL)
        *nl = '\0';
    if (!cgfs_has_word(have, "memory")) {
        add_why(r, "cgroup2 %s: memory not delegated (has: %s)", p, have[0] ? have : "none");
        return -1;
    }
    int is_root = !cgfs_exists(p, "cgroup.type");   /* the root group may hold processes */
    if (cgfs_join(leaf, sizeof leaf, p, "kgrade-daemon") || cgfs_join(jobs, sizeof jobs, p, "kgrade-jobs")) {
        add_why(r, "cgroup2 %s: path too long", p);
        return -1;
    }
    int rc;
    if ((rc = enable(p, is_root ? NULL : leaf))) {
        add_why(r, "cgroup2 %s: enable controllers for children: %s", p, strerror(-rc));
        return -1;
    }
    if ((rc = make_dir(jobs)) || (rc = access(jobs, W_OK) ? -errno : 0)) {
        add_why(r, "cgroup2 %s: %s", jobs, strerror(-rc));
        return -1;
    }
    rc = enable(jobs, NULL);
    if (rc == -EBUSY) {         /* a stray process in kgrade-jobs itself: not ours to keep */
        drain(jobs, 1, now_ms() + KILL_MS);
        rc = enable(jobs, NULL);
    }
    if (rc) {
        add_why(r, "cgroup2 %s: enable controllers for children: %s", jobs, strerror(-rc));
        return -1;
    }
    r->kind = CGROUP_V2;
    snprintf(r->v2, sizeof r->v2, "%s", jobs);
    cgfs_get(jobs, "cgroup.subtree_control", sub, sizeof sub);
    r->has_pids = cgfs_has_word(sub, "pids");
    r->has_cpu = cgfs_has_word(sub, "cpu");
    r->has_kill = cgfs_exists(jobs, "cgroup.kill");
    return 0;
}

static int v2_auto(struct cgroup_root *r)
{
    char p[PATH_MAX];
    if (own_dir(NULL, p, sizeof p, r))
        return -1;
    size_t n = strlen(p), k = strlen("/kgrade-daemon");
    if (n > k && !strcmp(p + n - k, "/kgrade-daemon"))
        p[n - k] = '\0';        /* an earlier start moved us into the leaf: P is its parent */
    return v2_setup(p, r);
}

static int v1_auto(struct cgroup_root *r)
{
    char m[PATH_MAX], q[PATH_MAX];
    if (own_dir("memory", m, sizeof m, r) || own_dir("pids", q, sizeof q, r))
        return -1;
    char mj[PATH_MAX], pj[PATH_MAX];
    if (cgfs_join(mj, sizeof mj, m, "kgrade-jobs") || cgfs_join(pj, sizeof pj, q, "kgrade-jobs") ||
        strlen(mj) >= sizeof r->mem || strlen(pj) >= sizeof r->pids) {
        add_why(r, "cgroup v1: path too long");
        return -1;
    }
    if (strchr(mj, ':') || strchr(pj, ':')) {
        add_why(r, "cgroup v1: a ':' in %s or %s", mj, pj);
        return -1;
    }
    const char *dirs[2] = {mj, pj};
    for (int i = 0; i < 2; i++) {
        int rc = make_dir(dirs[i]);
        if (rc) {
            add_why(r, "cgroup v1 mkdir %s: %s", dirs[i], strerror(-rc));
            return -1;
        }
    }
    for (int i = 0; i < 2; i++)
        if (access(dirs[i], W_OK)) {
            add_why(r, "cgroup v1 %s: %s", dirs[i], strerror(errno));
            return -1;
        }
    if (!cgfs_exists(mj, "memory.limit_in_bytes") || !cgfs_exists(pj, "pids.max")) {
        add_why(r, "cgroup v1 %s or %s lacks its limit file", mj, pj);
        return -1;
    }
    r->kind = CGROUP_V1;
    r->has_pids = 1;
    snprintf(r->mem, sizeof r->mem, "%.511s", mj);    /* fits: checked above */
    snprintf(r->pids, sizeof r->pids, "%.511s", pj);
    return 0;
}

int cgroup_prepare(const char *hint, struct cgroup_root *root, struct err *e)
{
    struct cgroup_root r;
    memset(&r, 0, sizeof r);
    r.kind = CGROUP_NONE;
    int rc = 0;
    if (hint && !strcmp(hint, "none")) {
        snprintf(r.why, sizeof r.why, "cgroups not requested (--cgroup none)");
    } else if (hint && (!strncmp(hint, "v1:", 3) || !strncmp(hint, "v2:", 3))) {
        rc = cgroup_root_parse(hint, &r, e);
    } else if (hint && strcmp(hint, "auto")) {
        if (hint[0] != '/') {
            rc = err_set(e, ERR_INVALID, "cgroup", "--cgroup %.200s: expected auto, none, v2:DIR, v1:MEM:PIDS "
                         "or an absolute cgroup2 directory", hint);
            goto out;
        }
        if (strlen(hint) >= PATH_MAX - 32) {
            rc = err_set(e, ERR_INVALID, "cgroup", "--cgroup: path too long");
            goto out;
        }
        v2_setup(hint, &r);
    } else if (v2_auto(&r) == 0 || v1_auto(&r) == 0) {
        r.why[0] = '\0';
    }
out:
    if (rc == 0)
        *root = r;
    return rc;
}

/* ---- one parent per daemon ------------------------------------------------------------------ */

/* The pid of an instance directory "d<pid>", or 0 when name is not one. */
static long instance_pid(const char *name)
{
    if (name[0] != 'd' || !name[1])
        return 0;
    char *end;
    long v = strtol(name + 1, &end, 10);
    return *end || v <= 0 ? 0 : v;
}

/* Remove every slot-N under dir, then dir itself. */
static void remove_instance(const char *dir, int v2)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        char p[PATH_MAX];
        while ((de = readdir(d)) != NULL)
            if (is_slot(de->d_name) && !cgfs_join(p, sizeof p, dir, de->d_name))
                remove_group(p, v2);
        closedir(d);
    }
    remove_group(dir, v2);
}

/* The instances of daemons that are gone, under r's parent (v1: found in the memory parent, which
 * is below our own memory group, and removed in both hierarchies). */
static void sweep_instances(const struct cgroup_root *r)
{
    const char *parent = r->kind == CGROUP_V2 ? r->v2 : r->mem;
    DIR *d = opendir(parent);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        long pid = instance_pid(de->d_name);
        char p[PATH_MAX];
        if (!pid || (kill((pid_t)pid, 0) != 0 && errno != ESRCH) || (kill((pid_t)pid, 0) == 0))
            continue;           /* alive (or not ours to judge) */
        if (!cgfs_join(p, sizeof p, parent, de->d_name))
            remove_instance(p, r->kind == CGROUP_V2);
        if (r->kind == CGROUP_V1 && !cgfs_join(p, sizeof p, r->pids, de->d_name))
            remove_instance(p, 0);
    }
    closedir(d);
}

int cgroup_instance(struct cgroup_root *r, long owner, struct err *e)
{
    if (r->kind == CGROUP_NONE)
        return 0;
    if (owner <= 0)
        return err_set(e, ERR_INVALID, "owner", "the owner's pid must be positive");
    sweep_instances(r);
    char name[32];
    snprintf(name, sizeof name, "d%ld", owner);
    char *dirs[2] = {r->kind == CGROUP_V2 ? r->v2 : r->mem, r->kind == CGROUP_V1 ? r->pids : NULL};
    size_t cap[2] = {r->kind == CGROUP_V2 ? sizeof r->v2 : sizeof r->mem, sizeof r->pids};
    for (int i = 0; i < 2 && dirs[i]; i++) {
        char p[PATH_MAX];
        int rc;
        if (cgfs_join(p, sizeof p, dirs[i], name) || strlen(p) >= cap[i])
            return err_set(e, ERR_IO, "cgroup", "%s/%s: path too long", dirs[i], name);
        if ((rc = make_dir(p)) || (r->kind == CGROUP_V2 && (rc = enable(p, NULL))))
            return err_set(e, ERR_IO, "cgroup", "%s: %s", p, strerror(-rc));
        snprintf(dirs[i], cap[i], "%s", p);
    }
    cgroup_sweep(r);    /* slots an earlier daemon of the same pid left */
    return 0;
}

int cgroup_root_format(const struct cgroup_root *r, char *out, size_t n)
{
    int k;
    if (r->kind == CGROUP_V2)
        k = snprintf(out, n, "v2:%s", r->v2);
    else if (r->kind == CGROUP_V1)
        k = snprintf(out, n, "v1:%s:%s", r->mem, r->pids);
    else
        k = snprintf(out, n, "none");
    return k < 0 || (size_t)k >= n ? ERR_LIMIT : 0;
}

/* 1 when dir is a directory on a filesystem of type magic. */
static int is_fs(const char *dir, long magic)
{
    struct statfs fs;
    struct stat st;
    return statfs(dir, &fs) == 0 && (long)fs.f_type == magic && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int cgroup_root_parse(const char *spec, struct cgroup_root *r, struct err *e)
{
    struct cgroup_root t;
    memset(&t, 0, sizeof t);
    t.kind = CGROUP_NONE;
    if (!spec || !strcmp(spec, "none")) {
        snprintf(t.why, sizeof t.why, "cgroups not requested (--cgroup none)");
    } else if (!strncmp(spec, "v2:", 3)) {
        const char *d = spec + 3;
        if (d[0] != '/' || strlen(d) >= sizeof t.v2)
            return err_set(e, ERR_INVALID, "cgroup", "--cgroup %.200s: v2: takes an absolute path", spec);
        if (!is_fs(d, CGROUP2_SUPER_MAGIC))
            return err_set(e, ERR_NOTFOUND, "cgroup", "--cgroup: %.200s is not a cgroup2 directory", d);
        char sub[256];
        if (cgfs_get(d, "cgroup.subtree_control", sub, sizeof sub) < 0 || !cgfs_has_word(sub, "memory"))
            return err_set(e, ERR_UNSUPPORTED, "cgroup", "--cgroup: %.200s does not enable memory for its "
                           "children", d);
        t.kind = CGROUP_V2;
        snprintf(t.v2, sizeof t.v2, "%s", d);
        t.has_pids = cgfs_has_word(sub, "pids");
        t.has_cpu = cgfs_has_word(sub, "cpu");
        t.has_kill = cgfs_exists(d, "cgroup.kill");
    } else if (!strncmp(spec, "v1:", 3)) {
        const char *m = spec + 3, *c = strchr(m, ':');
        if (!c || m[0] != '/' || c[1] != '/' || strchr(c + 1, ':') || (size_t)(c - m) >= sizeof t.mem ||
            strlen(c + 1) >= sizeof t.pids)
            return err_set(e, ERR_INVALID, "cgroup", "--cgroup %.200s: v1: takes two absolute paths "
                           "separated by ':'", spec);
        t.kind = CGROUP_V1;
        t.has_pids = 1;
        snprintf(t.mem, sizeof t.mem, "%.*s", (int)(c - m), m);
        snprintf(t.pids, sizeof t.pids, "%s", c + 1);
        if (!is_fs(t.mem, CGROUP_SUPER_MAGIC) || !cgfs_exists(t.mem, "memory.limit_in_bytes"))
            return err_set(e, ERR_NOTFOUND, "cgroup", "--cgroup: %.200s is not a v1 memory group", t.mem);
        if (!is_fs(t.pids, CGROUP_SUPER_MAGIC) || !cgfs_exists(t.pids, "pids.max"))
            return err_set(e, ERR_NOTFOUND, "cgroup", "--cgroup: %.200s is not a v1 pids group", t.pids);
    } else {
        return err_set(e, ERR_INVALID, "cgroup", "--cgroup %.200s: expected none, v2:DIR or v1:MEM:PIDS", spec);
    }
    *r = t;
    return 0;
}

/* ---- one job ---------------------------------------------------------------------------------- */

/* mkdir dir, killing and removing a stale one first. 0 or -errno. */
static int make_fresh(const char *dir, int v2)
{
    if (mkdir(dir, 0755) == 0)
        return 0;
    if (errno != EEXIST)
        return -errno;
    int rc = remove_group(dir, v2);
    if (rc)
        return rc;
    return mkdir(dir, 0755) == 0 ? 0 : -errno;
}

static void limit_text(char *s, size_t n, long long v, const char *unlimited)
{
    if (v > 0)
        snprintf(s, n, "%lld", v);
    else
        snprintf(s, n, "%s", unlimited);
}

int cgroup_job_create(const struct cgroup_root *r, int slot, const struct cgroup_limits *l,
                      struct cgroup_job *j, struct err *e)
{
    memset(j, 0, sizeof *j);
    j->kind = CGROUP_NONE;
    j->dirfd = -1;
    if (slot < 0 || slot > 4095)
        return err_set(e, ERR_INVALID, "slot", "slot %d is out of 0..4095", slot);
    if (r->kind == CGROUP_NONE)
        return 0;
    char name[16], mem[32], pids[32], cpu[48];
    const char *at = "", *file = "";
    int rc = 0;
    snprintf(name, sizeof name, "slot-%d", slot);
    limit_text(mem, sizeof mem, l->memory_bytes, r->kind == CGROUP_V2 ? "max" : "-1");
    limit_text(pids, sizeof pids, l->pids, "max");
    if (r->kind == CGROUP_V2) {
        at = j->v2;
        if (cgfs_join(j->v2, sizeof j->v2, r->v2, name)) {
            rc = -ENAMETOOLONG;
            goto out;
        }
        if ((rc = make_fresh(j->v2, 1)))
            goto out;
        j->kind = CGROUP_V2;    /* from here on a failure removes the directory */
        if ((rc = cgfs_put(j->v2, file = "memory.max", mem)))
            goto out;
        if ((rc = cgfs_put(j->v2, file = "memory.swap.max", "0")) == -ENOENT)
            rc = 0;             /* swap not accounted: there is no swap to use */
        if (rc || (rc = cgfs_put(j->v2, file = "memory.oom.group", "1")))
            goto out;
        if (r->has_pids && (rc = cgfs_put(j->v2, file = "pids.max", pids)))
            goto out;
        if (l->cpus > 0 && r->has_cpu) {
            long long quota = (long long)(l->cpus * 100000.0 + 0.5);
            snprintf(cpu, sizeof cpu, "%lld 100000", quota < 1000 ? 1000 : quota);
            if ((rc = cgfs_put(j->v2, file = "cpu.max", cpu)))
                goto out;
        }
        file = "";
        j->dirfd = open(j->v2, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (j->dirfd < 0)
            rc = -errno;
    } else {
        at = j->mem;
        if (cgfs_join(j->mem, sizeof j->mem, r->mem, name) || cgfs_join(j->pids, sizeof j->pids, r->pids, name)) {
            rc = -ENAMETOOLONG;
            goto out;
        }
        if ((rc = make_fresh(j->mem, 0)))
            goto out;
        j->kind = CGROUP_V1;
        if ((rc = cgfs_put(j->mem, file = "memory.limit_in_bytes", mem)))
            goto out;
        if (cgfs_exists(j->mem, "memory.memsw.limit_in_bytes") &&
            (rc = cgfs_put(j->mem, file = "memory.memsw.limit_in_bytes", mem)))
            goto out;
        cgfs_put(j->mem, "memory.swappiness", "0");          /* best effort; memsw is the real bound */
        at = j->pids;
        file = "";
        if ((rc = make_fresh(j->pids, 0)) || (rc = cgfs_put(j->pids, file = "pids.max", pids)))
            goto out;
    }
out:
    if (rc) {
        err_set(e, ERR_IO, "cgroup", "cgroup %s%s%s: %s", at, *file ? "/" : "", file, strerror(-rc));
        cgroup_job_destroy(j);
        return ERR_IO;
    }
    return 0;
}

int cgroup_job_enter(const struct cgroup_job *j, pid_t pid, struct err *e)
{
    if (j->kind != CGROUP_V1)
        return 0;
    char s[24];
    snprintf(s, sizeof s, "%d", (int)pid);
    int rc = cgfs_put(j->mem, "cgroup.procs", s);
    const char *at = j->mem;
    if (!rc) {
        rc = cgfs_put(j->pids, "cgroup.procs", s);
        at = j->pids;
    }
    if (rc)
        return err_set(e, ERR_IO, "cgroup", "cgroup %s/cgroup.procs: %s", at, strerror(-rc));
    return 0;
}

void cgroup_job_kill(const struct cgroup_job *j)
{
    double deadline = now_ms() + KILL_MS;
    if (j->kind == CGROUP_V2) {
        if (cgfs_put(j->v2, "cgroup.kill", "1"))
            drain(j->v2, 1, deadline);
    } else if (j->kind == CGROUP_V1) {
        for (;;) {      /* one kill pass over each group per round: a process sits in both */
            int mem_empty = drain(j->mem, 1, 0), pids_empty = drain(j->pids, 1, 0);
            if ((mem_empty && pids_empty) || now_ms() > deadline)
                break;
            sleep_ms(1);
        }
    }
}

void cgroup_job_stats(const struct cgroup_job *j, struct cgroup_stats *s)
{
    char b[2048];
    s->memory_peak = s->oom_kills = s->pids_peak = -1;
    if (j->kind == CGROUP_V2) {
        s->memory_peak = cgfs_number(j->v2, "memory.peak");
        if (cgfs_get(j->v2, "memory.events", b, sizeof b) > 0)
            s->oom_kills = cgfs_keyed(b, "oom_kill");
        s->pids_peak = cgfs_number(j->v2, "pids.peak");
    } else if (j->kind == CGROUP_V1) {
        s->memory_peak = cgfs_number(j->mem, "memory.max_usage_in_bytes");
        if (cgfs_get(j->mem, "memory.oom_control", b, sizeof b) > 0)
            s->oom_kills = cgfs_keyed(b, "oom_kill");
        s->pids_peak = cgfs_number(j->pids, "pids.peak");
    }
}

void cgroup_job_destroy(struct cgroup_job *j)
{
    if (j->dirfd >= 0)
        close(j->dirfd);
    if (j->kind == CGROUP_V2) {
        remove_group(j->v2, 1);
    } else if (j->kind == CGROUP_V1) {
        cgroup_job_kill(j);
        remove_group(j->mem, 0);
        if (j->pids[0])
            remove_group(j->pids, 0);
    }
    memset(j, 0, sizeof *j);
    j->kind = CGROUP_NONE;
    j->dirfd = -1;
}
