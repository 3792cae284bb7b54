/* mounts.h — the sandbox's minimal root, built inside its private mount namespace.
 *
 * What the program sees: a read-only tmpfs root holding read-only binds of the system directories
 * (/usr /bin /sbin /lib* /opt, those that exist; merged-/usr links stay links), a few files of
 * /etc plus a generated passwd and group, /sys read-only, a fresh read-write /proc, a read-only
 * /dev tmpfs with null zero full random urandom (and the GPU nodes asked for), /dev/shm, /tmp and
 * /scratch tmpfs, the extra --ro/--rw binds and the program's own file. Everything is nosuid;
 * everything but device nodes is nodev; /tmp, /scratch and --rw binds are noexec unless exec_tmp.
 *
 * Three calls, on three sides:
 *   mounts_prepare  the keeper, on the host, before the clone;
 *   mounts_open     the sandbox init while it still has the keeper's host uid (before its
 *                   setresuid(0)): every path is looked up and every source tree cloned with the
 *                   keeper's rights, so a mount point or bind source under a root-only directory
 *                   still works;
 *   mounts_build    the sandbox init as root of its user namespace: it attaches everything,
 *                   pivots into the new root and ends in /scratch. */
#ifndef KGRADE_MOUNTS_H
#define KGRADE_MOUNTS_H

#include <stdint.h>
#include <sys/types.h>

#include "err.h"

#define MOUNTS_MAX_BINDS 32         /* --ro, and --rw, each */
#define MOUNTS_MAX_GPU_NODES 4
#define MOUNTS_MAX_ENTRIES (24 + 2 * MOUNTS_MAX_BINDS)

struct mounts_spec {
    const char *root;           /* an empty directory the new root is mounted on (absolute) */
    long long scratch_bytes;    /* size of /scratch (mode 0700, cwd and HOME) */
    long long tmp_bytes;        /* size of /tmp (mode 1777) */
    int exec_tmp;               /* 1: /tmp, /scratch and --rw exec-capable (python profile) */
    int gpu;                    /* -1: no GPU node; N: /dev/nvidiaN + the shared nodes that exist */
    const char *ro[MOUNTS_MAX_BINDS];   /* extra read-only binds (host paths) */
    const char *ro_at[MOUNTS_MAX_BINDS];    /* where each is seen inside; NULL: the same path */
    int n_ro;
    const char *rw[MOUNTS_MAX_BINDS];   /* extra read-write binds (directories) */
    const char *rw_at[MOUNTS_MAX_BINDS];
    int n_rw;
    const char *program;        /* bound read-only at its own path unless already visible */
};

/* What mounts_open found: the mount point and one cloned, detached tree (or symlink) per entry.
 * Filled by mounts_open, emptied by mounts_build or mounts_close; lives on the caller's stack. */
struct mounts_entry {
    const char *path;           /* the host path */
    const char *at;             /* the path inside (usually path) */
    int group;                  /* when it is attached (see mounts.c) */
    uint64_t attrs;             /* MOUNT_ATTR_* set on the whole tree */
    int tree;                   /* open_tree(OPEN_TREE_CLONE) fd, -1 for a symlink */
    int is_dir;
    char link[256];             /* a symlink to recreate as such ("usr/bin") */
};
struct mounts_plan {
    int point;                  /* O_PATH fd of spec->root */
    int n;
    struct mounts_entry e[MOUNTS_MAX_ENTRIES];
};

/* Keeper side, before the clone: create the mount point (0755) when missing; check each --ro and
 * --rw source exists (--rw: a directory) and, when chown_rw, chown each --rw directory to uid:gid
 * (not recursively). ERR_NOTFOUND / ERR_INVALID / ERR_IO naming the path. */
int mounts_prepare(const struct mounts_spec *s, int chown_rw, uid_t uid, gid_t gid, struct err *e);

/* The GPU device nodes that exist on this host for --gpu N, as absolute paths in out (each at
 * most 32 bytes). Returns how many (0 when the host has none: nothing will be bound). */
int mounts_gpu_nodes(int gpu, char out[][32], int max);

/* Init side, before setresuid(0): make the mount namespace private, open the mount point and
 * clone every source tree into p. The message names the step and the path ("bind /x: ..."). */
int mounts_open(const struct mounts_spec *s, struct mounts_plan *p, struct err *e);

/* Init side, as root of the namespace: build the root from p, pivot into it, detach the old root,
 * make the root and /dev read-only, chdir to /scratch. Closes every fd of p, also on failure (the
 * process is then unusable and must exit). */
int mounts_build(const struct mounts_spec *s, struct mounts_plan *p, struct err *e);

/* Close what p still holds (idempotent). */
void mounts_close(struct mounts_plan *p);

#endif
