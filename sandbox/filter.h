/* filter.h — the sandbox's two seccomp filters (libseccomp, x86-64; other ABIs are killed).
 *
 * Stage 1 is loaded by the program's process just before its execve: a deny-list over a default
 * of ALLOW. The never-legitimate calls (network families other than AF_UNIX, namespaces, mounts,
 * ptrace, bpf, io_uring, keyrings, modules, clocks, ...) are sent to a user-notification listener;
 * the sandbox init holds the listener and turns a notification into a kill and a named violation.
 * clone3 fails with ENOSYS (libc falls back to clone), ioctl(TIOCSTI) with EPERM.
 *
 * Stage 2 (filter_seal) is for the trusted CUDA worker, after its exec and before it touches CUDA:
 * no execve, no new process. It traps, and a SIGSYS handler reports and exits 159.
 *
 * Filters are inherited by every later child and cannot be removed. */
#ifndef KGRADE_FILTER_H
#define KGRADE_FILTER_H

#include <stddef.h>

#include "err.h"

/* ---- Stage 1 (the program's process, before execve; init holds the listener) ---- */

/* Load stage 1 on the calling process (PR_SET_NO_NEW_PRIVS is set too). *listener receives the
 * notification fd (close-on-exec); the caller passes it on and closes it. Between this call and
 * the fd being received elsewhere, the caller must make no call the filter sends to the listener
 * (sendmsg, close, close_range, fcntl and execve are fine). ERR_UNSUPPORTED when the kernel has
 * no user notification, ERR_INTERNAL when a rule cannot be built. */
int filter_stage1(int *listener, struct err *e);

/* Pass an fd over an AF_UNIX socket (SCM_RIGHTS) / receive one (close-on-exec). filter_recv_fd
 * blocks; at EOF (the peer closed without sending) it returns ERR_NOTFOUND with *fd = -1. */
int filter_send_fd(int sock, int fd, struct err *e);
int filter_recv_fd(int sock, int *fd, struct err *e);

/* Read one pending notification from the listener. Returns 1 when it is a violation, with name
 * set to the call as reported ("socket(AF_INET)", "clone(CLONE_NEWUSER)", "unshare", ...); the
 * caller kills the sandbox and never answers. Returns 0 when the call is benign after all
 * (personality(0)): it was let through already. Returns a negative ERR_* when no notification
 * could be read (the caller was woken for a task that has died meanwhile: ignore it). */
int filter_notify_read(int listener, char *name, size_t n, struct err *e);

/* ---- Stage 2 (the CUDA worker, after its exec) ---- */

/* Install a SIGSYS handler and a filter that traps execve, execveat, fork, vfork and clone
 * without CLONE_THREAD (clone3 fails with ENOSYS). A trapped call writes one prebuilt line
 *   {"schema":"kgrade.result/1","verdict":"sandbox_violation","error":{"stage":"worker",
 *    "message":"the worker called execve after sealing (stage-2 filter)"}}
 * to record_fd (stdout when record_fd < 0), the message to stderr, and _exit(159). The handler
 * runs only while SIGSYS is unblocked in the calling thread (this call unblocks it in its own);
 * a thread that blocks SIGSYS dies of SIGSYS instead, which the caller's parent still sees.
 * Threads (clone with CLONE_THREAD) stay allowed. Call once, before starting any thread. */
int filter_seal(int record_fd, struct err *e);

#endif
