/* cgroup.h — control groups for sandbox jobs: one parent prepared at daemon start, one "slot-N"
 * group per running job with its memory, task and CPU limits, its kill and its peak figures.
 *
 * Two layouts. v2: one directory (the parent ".../kgrade-jobs"; a job is ".../kgrade-jobs/slot-N",
 * entered atomically by clone3(CLONE_INTO_CGROUP) through cgroup_job.dirfd). v1: one directory in
 * the memory hierarchy and one in the pids hierarchy; the keeper writes the child's pid into both
 * (cgroup_job_enter) before it lets the child go on. Nothing here is an error for "the host has no
 * usable cgroup": the kind is then CGROUP_NONE and the reason is in cgroup_root.why; the caller
 * falls back to rlimits. Every call with kind CGROUP_NONE succeeds and does nothing.
 *
 * One user per parent: its startup sweep (cgroup_sweep) removes every slot-N left by an earlier
 * run (killing what still runs there), and a job kills and removes a stale slot-N of its own
 * number. Daemons that share a parent each take an instance of it (cgroup_instance) and sweep
 * only their own.
 * Not thread-safe across the same job; distinct jobs may be handled concurrently. */
#ifndef KGRADE_CGROUP_H
#define KGRADE_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

enum cgroup_kind { CGROUP_NONE, CGROUP_V1, CGROUP_V2 };

/* The jobs' parent. v2: v2 = the parent directory. v1: mem and pids = the parent directories in
 * the memory and the pids hierarchies. has_pids: a job gets pids.max (v1 always; v2 when pids is
 * delegated: a host may delegate memory alone). has_cpu: cpu.max can be set on a job (v2 only).
 * has_kill: a job has cgroup.kill (v2 only). why: when kind is CGROUP_NONE, why no cgroup is used. */
struct cgroup_root {
    enum cgroup_kind kind;
    char v2[512];
    char mem[512], pids[512];
    int has_pids, has_cpu, has_kill;
    char why[256];
};

/* Find and prepare the jobs' parent.
 *   hint NULL or "auto": v2 first. P is our own cgroup (from the "0::" line of /proc/self/cgroup,
 *     under the cgroup2 mount; when our own group is P/kgrade-daemon, left there by an earlier
 *     start, P is its parent). memory must be delegated to P; pids and cpu are taken when they are.
 *     When P/cgroup.subtree_control lacks them: make the leaf P/kgrade-daemon, move every process
 *     of P/cgroup.procs into it (the "no internal processes" rule), enable +memory +pids (+cpu) in
 *     P. Then make P/kgrade-jobs and enable the same there. Where v2 has no memory (or cannot be
 *     written): v1, <memory mount>/<own memory path>/kgrade-jobs and <pids mount>/<own pids
 *     path>/kgrade-jobs (both needed).
 *   "none": kind CGROUP_NONE.
 *   "v2:DIR" or "v1:MEM:PIDS" (a string from cgroup_root_format): that parent, checked and swept.
 *   an absolute path: a cgroup v2 directory used as P above.
 * Nothing is swept here (cgroup_sweep, cgroup_instance). Returns 0 with root filled
 * (CGROUP_NONE and why when nothing usable was found); ERR_INVALID for a malformed hint, or
 * cgroup_root_parse's error for a "v2:"/"v1:" hint. */
int cgroup_prepare(const char *hint, struct cgroup_root *root, struct err *e);

/* Kill and remove every slot-N directly under r's parent (the startup sweep of its one user). */
void cgroup_sweep(const struct cgroup_root *r);
/* Give the daemon of pid owner a parent of its own under r's: "d<owner>" (made with the same
 * controllers), so that daemons sharing a parent never touch each other's slots; the instances
 * of daemons that are gone are removed first, with their slots. r then names the instance. No-op
 * for CGROUP_NONE. 0, ERR_INVALID (owner <= 0) or ERR_IO (naming the directory). */
int cgroup_instance(struct cgroup_root *r, long owner, struct err *e);
/* "v2:DIR", "v1:MEM:PIDS" or "none" into out (n bytes). 0, or ERR_LIMIT when it does not fit. */
int cgroup_root_format(const struct cgroup_root *r, char *out, size_t n);

/* The reverse of cgroup_root_format, checking that the directories are cgroups (has_cpu and
 * has_kill read from the directory). 0; ERR_INVALID for a malformed spec; ERR_NOTFOUND when a
 * directory is missing or not of the expected kind; ERR_UNSUPPORTED when a v2 directory does not
 * enable memory for its children. Changes nothing on the host. */
int cgroup_root_parse(const char *spec, struct cgroup_root *r, struct err *e);

/* One job's limits. memory_bytes <= 0 or pids <= 0: "max" (no limit). cpus 0: no cpu.max. */
struct cgroup_limits { long long memory_bytes; int pids; double cpus; };

/* One job's group. dirfd: v2, an O_PATH|O_DIRECTORY descriptor for CLONE_INTO_CGROUP; else -1.
 * A zeroed struct or one after cgroup_job_destroy has kind CGROUP_NONE. */
struct cgroup_job { enum cgroup_kind kind; char v2[600], mem[600], pids[600]; int dirfd; };

/* Make slot-N (0..4095) under r, killing and removing a stale one first, and set the limits.
 * v2: memory.max, memory.swap.max=0 (where swap is accounted), memory.oom.group=1, pids.max when
 * r->has_pids, and cpu.max when l->cpus > 0 and r->has_cpu. v1: memory.limit_in_bytes, memory.memsw.limit_in_bytes
 * (the same value: no swap) where present, memory.swappiness 0 (best effort), pids.max; the
 * kernel's OOM killer stays on. r CGROUP_NONE: j gets kind CGROUP_NONE, dirfd -1. On failure
 * nothing is left behind. 0, ERR_INVALID (slot out of range), ERR_IO (naming the file). */
int cgroup_job_create(const struct cgroup_root *r, int slot, const struct cgroup_limits *l,
                      struct cgroup_job *j, struct err *e);

/* v1: write pid into the job's memory and pids groups. v2 and none: nothing (0). 0 or ERR_IO. */
int cgroup_job_enter(const struct cgroup_job *j, pid_t pid, struct err *e);

/* Kill every process of the job: v2 cgroup.kill; v1 (or a v2 without cgroup.kill) SIGKILL to
 * each pid of cgroup.procs, repeated until the groups are empty or 1 s passed. */
void cgroup_job_kill(const struct cgroup_job *j);

/* Peak figures, -1 when unknown. v2: memory.peak, memory.events oom_kill, pids.peak. v1:
 * memory.max_usage_in_bytes, memory.oom_control oom_kill, pids.peak where the kernel has it. */
struct cgroup_stats { long long memory_peak, oom_kills, pids_peak; };
void cgroup_job_stats(const struct cgroup_job *j, struct cgroup_stats *s);

/* Kill, wait until empty (bounded), remove the group(s), close dirfd; j becomes CGROUP_NONE.
 * Idempotent. */
void cgroup_job_destroy(struct cgroup_job *j);

#endif
