/* cgfs.h — the cgroup filesystem as cgroup.c uses it: control files read and written whole, and
 * where this process's hierarchies are mounted (v2, or v1 by controller).
 *
 * Every function returns 0 (or a count) on success and a negative errno on failure; nothing here
 * keeps state or blocks. A control file is written with a single write(), as the kernel wants. */
#ifndef KGRADE_CGFS_H
#define KGRADE_CGFS_H

#include <stddef.h>
#include <sys/types.h>

/* "a/b" into out (n bytes); -ENAMETOOLONG when it does not fit. */
int cgfs_join(char *out, size_t n, const char *a, const char *b);

/* Write s to dir/name in one write(). 0 or -errno. */
int cgfs_put(const char *dir, const char *name, const char *s);

/* Read dir/name (at most n-1 bytes, NUL-terminated). Bytes read or -errno. */
ssize_t cgfs_get(const char *dir, const char *name, char *buf, size_t n);

/* 1 when dir/name exists. */
int cgfs_exists(const char *dir, const char *name);

/* 1 when word is one of the space-, comma- or newline-separated tokens of list. */
int cgfs_has_word(const char *list, const char *word);

/* N of the "key N" line of a flat-keyed text such as memory.events; -1 when absent. */
long long cgfs_keyed(const char *text, const char *key);

/* dir/name as one non-negative number; -1 when unreadable or not a number. */
long long cgfs_number(const char *dir, const char *name);

/* The mount of the v2 hierarchy (ctrl NULL) or of the v1 hierarchy holding controller ctrl
 * (/proc/self/mountinfo): mount point into dir, the subtree it shows into root. 0 or -ENOENT. */
int cgfs_find_mount(const char *ctrl, char *dir, size_t dn, char *root, size_t rn);

/* This process's path in the v2 hierarchy (ctrl NULL: the "0::" line of /proc/self/cgroup) or in
 * the v1 hierarchy of ctrl. 0 or a negative errno. */
int cgfs_own_path(const char *ctrl, char *out, size_t n);

/* The pids of dir/cgroup.procs (at most max). Count, or -errno. */
int cgfs_read_pids(const char *dir, pid_t *pids, int max);

#endif
