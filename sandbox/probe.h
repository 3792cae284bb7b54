/* probe.h — what isolation this host gives a sandbox: each feature tried for real (namespaces in
 * throwaway children, a pivot_root into a tmpfs, a seccomp filter with a listener, a uid map), the
 * jobs' cgroup parent prepared, and a level derived from the lot:
 *   full     user, mount, pid, net, ipc and uts namespaces, pivot_root, seccomp with user
 *            notification, a memory and a pids cgroup, and a dedicated host uid (we are root);
 *   reduced  the namespaces, pivot_root and seccomp, but no memory/pids cgroup, no notification or
 *            no dedicated uid: memory falls back to RLIMIT_DATA, tasks to RLIMIT_NPROC;
 *   none     one of the namespaces, pivot_root or seccomp is missing: no untrusted code.
 * Meant to run once per daemon start (`kgrade-sandbox probe`); takes a few milliseconds. */
#ifndef KGRADE_PROBE_H
#define KGRADE_PROBE_H

#include <stddef.h>

#include "cgroup.h"
#include "err.h"

#define PROBE_DEFAULT_UID 100000

enum probe_level { PROBE_NONE, PROBE_REDUCED, PROBE_FULL };

/* The features, in the order they are printed. PROBE_CGROUP prints as "cgroup_v2" or "cgroup_v1". */
enum probe_feature {
    PROBE_USERNS, PROBE_MNTNS, PROBE_PIDNS, PROBE_NETNS, PROBE_IPCNS, PROBE_UTSNS, PROBE_CGROUPNS,
    PROBE_PIVOT_ROOT, PROBE_SECCOMP, PROBE_SECCOMP_NOTIFY, PROBE_NNP, PROBE_CAPS_DROPPED,
    PROBE_RLIMITS, PROBE_UID_DEDICATED, PROBE_CGROUP, PROBE_MEMORY, PROBE_PIDS, PROBE_CPU,
    PROBE_CGROUP_KILL, PROBE_GPU_NODES, PROBE_NFEATURES
};

struct probe {
    enum probe_level level;
    int has[PROBE_NFEATURES];                 /* 1 when the feature works */
    char why[PROBE_NFEATURES][300];           /* when it does not: "clone(CLONE_NEWUSER): ..." */
    struct cgroup_root cgroup;                /* the prepared jobs' parent (kind CGROUP_NONE: none) */
    char cgroup_spec[1100];                   /* cgroup_root_format of it: what `run --cgroup` takes */
    int uid;                                  /* the host uid the sandbox's root maps to */
    char kernel[128];                         /* uname -r */
};

/* Probe everything and prepare the cgroup parent (cgroup_prepare(cgroup_hint)); owner > 0: the
 * daemon's pid, whose own instance of the parent is made (cgroup_instance) and reported; without
 * an owner the parent's stale slots are swept (cgroup_sweep). uid: the
 * dedicated host uid to map when root (< 0: PROBE_DEFAULT_UID); when not root, our own uid is
 * reported instead. A missing feature is not an error. Returns 0, or ERR_INVALID for a bad hint
 * or uid, ERR_IO when a probe could not even start (no fork, no pipe) or the instance could not
 * be made. */
int probe_run(const char *cgroup_hint, int uid, long owner, struct probe *p, struct err *e);

/* The probe as one JSON line (with "\n") into out:
 * {"level":..,"features":[..],"missing":["name: why",..],"cgroup":..,"uid":..,"kernel":..}.
 * 0, or ERR_LIMIT when n is too small. */
int probe_json(const struct probe *p, char *out, size_t n);

/* "full", "reduced", "none"; and a feature's JSON name ("userns", ..., "cgroup_v2"). */
const char *probe_level_name(enum probe_level l);
const char *probe_feature_name(const struct probe *p, enum probe_feature f);

#endif
