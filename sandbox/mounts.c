/* mounts.c — the sandbox's minimal root (see mounts.h).
 *
 * DESIGN
 *   Everything is mounted with the new mount API, so that no writable, suid or half-built view
 *   ever exists: a bind is open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) (a detached copy of the source
 *   tree), mount_setattr(AT_RECURSIVE) (read-only/nosuid/nodev/noexec on the whole copy, submounts
 *   included), then move_mount onto its mount point; a tmpfs or proc is fsopen/fsconfig/fsmount
 *   with its attributes, then move_mount.
 *   Two phases. mounts_open runs while init still has the keeper's host uid: there are no
 *   capabilities over host-owned inodes inside a user namespace, but plain owner rights remain,
 *   so a root keeper's sources and mount point are reachable even under 0700 root directories.
 *   mounts_build runs as root of the namespace, where new inodes (mount points, passwd) can be
 *   created: the tmpfs root is attached on the mount point and filled.
 *   Mount points are found or created with openat2(RESOLVE_IN_ROOT) relative to the new root, so
 *   a symlink inside a bound tree (an absolute /etc/alternatives link, a hostile --ro path) never
 *   leads outside it. The new /proc is made before the pivot (a user namespace may mount proc only
 *   while a fully visible proc is in its mount namespace). pivot_root(".", ".") stacks the old
 *   root on the new one and umount2(".", MNT_DETACH) drops it, so no put_old directory is needed.
 *   Device nodes are the only mounts without nodev: on a nodev mount a node cannot be opened at
 *   all (the CUDA driver then reports no device).
 *
 * Invariants: nothing here is visible outside the private mount namespace; every fd in the plan is
 * closed once, by mounts_build or mounts_close; the root and /dev end read-only.
 *
 * Does not: copy files (except the generated passwd and group), bring up any network interface,
 * or undo anything on failure (the namespace dies with the process). */
#include "mounts.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#define OPEN_TREE_CLONE 1
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#define FSOPEN_CLOEXEC 0x00000001
#define FSMOUNT_CLOEXEC 0x00000001
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

#define RO (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV)
#define DEVNODE (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC)
#define MOVE_EMPTY (MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)

/* When an entry is attached: system trees first, device nodes once /dev exists, the caller's
 * binds once /tmp and /scratch exist (they may lie below them), the program last. */
enum { G_SYS, G_DEV, G_USER, G_PROGRAM };

/* Same layout as the kernel's struct mount_attr (glibc before 2.36 lacks it). */
struct setattr { uint64_t attr_set, attr_clr, propagation, userns_fd; };

static const char *const system_dirs[] = {"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32",
                                          "/libx32", "/opt"};
static const char *const etc_entries[] = {"/etc/ld.so.cache", "/etc/ld.so.conf",
                                          "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/nvidia"};
static const char *const dev_nodes[] = {"/dev/null", "/dev/zero", "/dev/full", "/dev/random",
                                        "/dev/urandom"};
static char gpu_nodes[MOUNTS_MAX_GPU_NODES][32];   /* the plan points into it */

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static int set_attr(int dfd, const char *path, unsigned flags, uint64_t set)
{
    struct setattr a = {.attr_set = set};
    return (int)syscall(SYS_mount_setattr, dfd, path, flags, &a, sizeof a);
}

/* openat2 relative to the new root: absolute paths and symlinks are resolved inside it. */
static int open_in(int rootfd, const char *path, int flags)
{
    struct open_how h = {.flags = (uint64_t)(flags | O_CLOEXEC),
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, rootfd, path, &h, sizeof h);
}

static int fail(struct err *e, const char *step, const char *path, int errnum)
{
    return err_set(e, ERR_IO, "", "%s %s: %s", step, path, strerror(errnum));
}

/* Find or create the mount point `path` (a directory, or an empty file when !dir) inside the new
 * root, creating missing parents; an O_PATH fd to it, or -1 with errno set. */
static int make_point(int rootfd, const char *path, int dir)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    size_t len = strlen(buf);
    for (size_t k = 1; k <= len; k++) {
        if (buf[k] != '/' && buf[k] != '\0')
            continue;
        buf[k] = '\0';
        int last = k == len, fd = open_in(rootfd, buf, O_PATH);
        if (fd < 0 && errno != ENOENT)
            return -1;
        if (fd < 0) {
            char *slash = strrchr(buf, '/');
            *slash = '\0';
            int pfd = open_in(rootfd, slash == buf ? "/" : buf, O_PATH | O_DIRECTORY);
            *slash = '/';
            if (pfd < 0)
                return -1;
            int rc = 0;
            if (!last || dir)
                rc = mkdirat(pfd, slash + 1, 0755);
            else if ((rc = openat(pfd, slash + 1, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
                                  0644)) >= 0)
                rc = close(rc);
            int saved = errno;
            close(pfd);
            if (rc < 0 && saved != EEXIST) {
                errno = saved;
                return -1;
            }
            fd = last ? open_in(rootfd, buf, O_PATH) : -1;
        }
        if (last)
            return fd;
        if (fd >= 0)
            close(fd);
        buf[k] = '/';
    }
    errno = EINVAL;
    return -1;
}

/* A fresh tmpfs or proc, detached, with its attributes; an fd or -1 with errno set. */
static int new_fs(const char *type, long long size, unsigned mode, uint64_t attrs)
{
    int fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
    if (fs < 0)
        return -1;
    char v[32];
    int rc = 0;
    if (size > 0) {
        snprintf(v, sizeof v, "%lld", size);
        rc = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "size", v, 0);
    }
    if (!rc && mode) {
        snprintf(v, sizeof v, "%o", mode);
        rc = (int)syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "mode", v, 0);
    }
    if (!rc)
        rc = (int)syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
    int m = rc ? -1 : (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, attrs);
    int saved = errno;
    close(fs);
    errno = saved;
    return m;
}

/* Mount a new tmpfs/proc at path inside the root. */
static int mount_fs(int rootfd, const char *type, const char *path, long long size, unsigned mode,
                    uint64_t attrs, struct err *e)
{
    int point = make_point(rootfd, path, 1);
    if (point < 0)
        return fail(e, "mkdir", path, errno);
    int m = new_fs(type, size, mode, attrs), rc = 0;
    if (m < 0 || syscall(SYS_move_mount, m, "", point, "", MOVE_EMPTY) < 0)
        rc = err_set(e, ERR_IO, "", "mount %s %s: %s", type, path, strerror(errno));
    if (m >= 0)
        close(m);
    close(point);
    return rc;
}

/* Phase 1: remember path; clone its tree now (or read the symlink it is). */
static int add_at(struct mounts_plan *p, const char *path, const char *at, int group, uint64_t attrs,
                  int optional, int keep_link, struct err *e)
{
    struct stat st;
    if ((keep_link ? lstat(path, &st) : stat(path, &st)) < 0)
        return errno == ENOENT && optional ? 0 : fail(e, group == G_PROGRAM ? "program" : "bind", path, errno);
    if (p->n == MOUNTS_MAX_ENTRIES)
        return err_set(e, ERR_LIMIT, "", "bind %s: too many mounts", path);
    struct mounts_entry *m = &p->e[p->n];
    memset(m, 0, sizeof *m);
    m->path = path;
    m->at = at ? at : path;
    m->group = group;
    m->attrs = attrs;
    m->tree = -1;
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, m->link, sizeof m->link - 1);
        if (n < 0)
            return fail(e, "readlink", path, errno);
        m->link[n] = '\0';
        p->n++;
        return 0;
    }
    m->is_dir = S_ISDIR(st.st_mode);
    m->tree = (int)syscall(SYS_open_tree, AT_FDCWD, path, OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
    if (m->tree < 0)
        return fail(e, group == G_PROGRAM ? "program" : "bind", path, errno);
    p->n++;
    if (set_attr(m->tree, "", AT_EMPTY_PATH | AT_RECURSIVE, attrs) < 0)
        return fail(e, "mount_setattr", path, errno);
    return 0;
}

static int add(struct mounts_plan *p, const char *path, int group, uint64_t attrs, int optional,
               int keep_link, struct err *e)
{
    return add_at(p, path, NULL, group, attrs, optional, keep_link, e);
}

int mounts_open(const struct mounts_spec *s, struct mounts_plan *p, struct err *e)
{
    int rc = 0;
    p->n = 0;
    p->point = -1;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return fail(e, "make private", "/", errno);
    p->point = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (p->point < 0)
        return fail(e, "open mount point", s->root, errno);
    for (size_t i = 0; !rc && i < NELEM(system_dirs); i++)
        rc = add(p, system_dirs[i], G_SYS, RO, 1, 1, e);
    for (size_t i = 0; !rc && i < NELEM(etc_entries); i++)
        rc = add(p, etc_entries[i], G_SYS, RO | MOUNT_ATTR_NOEXEC, 1, 1, e);
    rc = rc ? rc : add(p, "/sys", G_SYS, RO | MOUNT_ATTR_NOEXEC, 0, 0, e);
    for (size_t i = 0; !rc && i < NELEM(dev_nodes); i++)
        rc = add(p, dev_nodes[i], G_DEV, DEVNODE, 0, 0, e);
    int ngpu = mounts_gpu_nodes(s->gpu, gpu_nodes, MOUNTS_MAX_GPU_NODES);
    for (int i = 0; !rc && i < ngpu; i++)
        rc = add(p, gpu_nodes[i], G_DEV, DEVNODE, 0, 0, e);
    for (int i = 0; !rc && i < s->n_ro; i++)
        rc = add_at(p, s->ro[i], s->ro_at[i], G_USER, RO, 0, 0, e);
    uint64_t rw = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (s->exec_tmp ? 0 : MOUNT_ATTR_NOEXEC);
    for (int i = 0; !rc && i < s->n_rw; i++)
        rc = add_at(p, s->rw[i], s->rw_at[i], G_USER, rw, 0, 0, e);
    return rc ? rc : add(p, s->program, G_PROGRAM, RO, 0, 0, e);
}

/* Phase 2: attach (or link) every entry of one group. */
static int attach(int rootfd, struct mounts_plan *p, int group, struct err *e)
{
    for (int i = 0; i < p->n; i++) {
        struct mounts_entry *m = &p->e[i];
        if (m->group != group)
            continue;
        if (m->tree < 0) {
            if (symlinkat(m->link, rootfd, m->at + 1) < 0)
                return fail(e, "symlink", m->at, errno);
            continue;
        }
        int point = make_point(rootfd, m->at, m->is_dir);
        if (point < 0)
            return fail(e, "mount point", m->at, errno);
        int rc = (int)syscall(SYS_move_mount, m->tree, "", point, "", MOVE_EMPTY);
        int saved = errno;
        close(point);
        close(m->tree);
        m->tree = -1;
        if (rc < 0)
            return fail(e, "move_mount", m->path, saved);
    }
    return 0;
}

static int write_file(int rootfd, const char *path, const char *text, struct err *e)
{
    int fd = openat(rootfd, path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return fail(e, "create", path, errno);
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    int saved = errno;
    close(fd);
    return w == (ssize_t)n ? 0 : fail(e, "write", path, w < 0 ? saved : EIO);
}

/* /dev: a small tmpfs with the nodes, links into /proc, /dev/shm; then read-only. */
static int build_dev(int rootfd, struct mounts_plan *p, struct err *e)
{
    int rc = mount_fs(rootfd, "tmpfs", "/dev", 65536, 0755, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, e);
    if (rc || (rc = attach(rootfd, p, G_DEV, e)))
        return rc;
    static const char *const links[][2] = {{"/proc/self/fd", "dev/fd"}, {"/proc/self/fd/0", "dev/stdin"},
                                           {"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"}};
    for (size_t i = 0; i < NELEM(links); i++)
        if (symlinkat(links[i][0], rootfd, links[i][1]) < 0)
            return fail(e, "symlink", links[i][1], errno);
    if ((rc = mount_fs(rootfd, "tmpfs", "/dev/shm", 64LL << 20, 01777,
                       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e)))
        return rc;
    return set_attr(rootfd, "dev", 0, MOUNT_ATTR_RDONLY) < 0 ? fail(e, "remount read-only", "/dev", errno) : 0;
}

static int build_tree(int rootfd, const struct mounts_spec *s, struct mounts_plan *p, struct err *e)
{
    int rc;
    if (mkdirat(rootfd, "etc", 0755) < 0)
        return fail(e, "mkdir", "/etc", errno);
    if ((rc = attach(rootfd, p, G_SYS, e)) ||
        (rc = write_file(rootfd, "etc/passwd", "root:x:0:0:root:/scratch:/bin/sh\n"
                         "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n", e)) ||
        (rc = write_file(rootfd, "etc/group", "root:x:0:\nnobody:x:65534:\n", e)) ||
        (rc = mount_fs(rootfd, "proc", "/proc", 0, 0, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, e)) ||
        (rc = build_dev(rootfd, p, e)))
        return rc;
    uint64_t flags = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (s->exec_tmp ? 0 : MOUNT_ATTR_NOEXEC);
    if ((rc = mount_fs(rootfd, "tmpfs", "/tmp", s->tmp_bytes, 01777, flags, e)) ||
        (rc = mount_fs(rootfd, "tmpfs", "/scratch", s->scratch_bytes, 0700, flags, e)) ||
        (rc = attach(rootfd, p, G_USER, e)))
        return rc;
    int fd = open_in(rootfd, s->program, O_PATH);   /* already visible: no bind of its own */
    if (fd >= 0) {
        close(fd);
        return 0;
    }
    return attach(rootfd, p, G_PROGRAM, e);
}

int mounts_build(const struct mounts_spec *s, struct mounts_plan *p, struct err *e)
{
    int rootfd = -1, rc = 0;
    umask(022);
    rootfd = new_fs("tmpfs", 1 << 20, 0755, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
    if (rootfd < 0 || syscall(SYS_move_mount, rootfd, "", p->point, "", MOVE_EMPTY) < 0) {
        rc = fail(e, "mount tmpfs", s->root, errno);
        goto out;
    }
    if ((rc = build_tree(rootfd, s, p, e)))
        goto out;
    if (fchdir(rootfd) < 0 || syscall(SYS_pivot_root, ".", ".") < 0) {
        rc = fail(e, "pivot_root", s->root, errno);
        goto out;
    }
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0) {
        rc = fail(e, "detach", "the old root", errno);
        goto out;
    }
    if (set_attr(AT_FDCWD, "/", 0, RO) < 0) {
        rc = fail(e, "remount read-only", "/", errno);
        goto out;
    }
    if (chdir("/scratch") < 0)
        rc = fail(e, "chdir", "/scratch", errno);
out:
    if (rootfd >= 0)
        close(rootfd);
    mounts_close(p);
    return rc;
}

void mounts_close(struct mounts_plan *p)
{
    for (int i = 0; i < p->n; i++)
        if (p->e[i].tree >= 0) {
            close(p->e[i].tree);
            p->e[i].tree = -1;
        }
    if (p->point >= 0)
        close(p->point);
    p->point = -1;
}

int mounts_gpu_nodes(int gpu, char out[][32], int max)
{
    if (gpu < 0)
        return 0;
    char cand[MOUNTS_MAX_GPU_NODES][32];
    snprintf(cand[0], sizeof cand[0], "/dev/nvidia%d", gpu);
    snprintf(cand[1], sizeof cand[1], "/dev/nvidiactl");
    snprintf(cand[2], sizeof cand[2], "/dev/nvidia-uvm");
    snprintf(cand[3], sizeof cand[3], "/dev/nvidia-uvm-tools");
    int n = 0;
    for (int i = 0; i < MOUNTS_MAX_GPU_NODES && n < max; i++) {
        struct stat st;
        if (stat(cand[i], &st) == 0 && S_ISCHR(st.st_mode))
            memcpy(out[n++], cand[i], sizeof cand[i]);
    }
    return n;
}

int mounts_prepare(const struct mounts_spec *s, int chown_rw, uid_t uid, gid_t gid, struct err *e)
{
    struct stat st;
    if (mkdir(s->root, 0755) < 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "--mount-point", "mkdir %s: %s", s->root, strerror(errno));
    if (stat(s->root, &st) < 0 || !S_ISDIR(st.st_mode))
        return err_set(e, ERR_INVALID, "--mount-point", "%s: not a directory", s->root);
    for (int i = 0; i < s->n_ro; i++)
        if (stat(s->ro[i], &st) < 0)
            return err_set(e, ERR_NOTFOUND, "--ro", "--ro %s: %s", s->ro[i], strerror(errno));
    for (int i = 0; i < s->n_rw; i++) {
        if (stat(s->rw[i], &st) < 0)
            return err_set(e, ERR_NOTFOUND, "--rw", "--rw %s: %s", s->rw[i], strerror(errno));
        if (!S_ISDIR(st.st_mode))
            return err_set(e, ERR_INVALID, "--rw", "--rw %s: not a directory", s->rw[i]);
        if (chown_rw && chown(s->rw[i], uid, gid) < 0)
            return err_set(e, ERR_IO, "--rw", "chown %s: %s", s->rw[i], strerror(errno));
    }
    return 0;
}
