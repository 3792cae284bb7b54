/* pyharness.h — the Python side of a Triton evaluation: a python3 child running the trusted
 * harness (runner/harness.py, embedded in the worker) and the static checker (runner/kglint.py).
 *
 * The worker writes both scripts into a private temporary directory, starts python3 with two pipes
 * (commands in, replies out; the child's stdout and stderr are the worker's) and talks one JSON
 * object per line. Every call has a deadline: a harness that does not answer in time is killed and
 * the call fails with ERR_LIMIT, so the worker never hangs on the candidate. The child dies with
 * the worker (PR_SET_PDEATHSIG). harness.py documents the commands. */
#ifndef KGRADE_PYHARNESS_H
#define KGRADE_PYHARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "err.h"

struct pyharness {
    pid_t pid;                 /* 0: not running */
    int cmd_fd, reply_fd;
    char dir[200];             /* the scripts' directory, removed by pyharness_stop */
    char *buf;                 /* reply bytes read ahead */
    size_t len, cap;
    char verdict[32];          /* the last failed call: the harness's verdict ("runtime_error", ...) */
    char message[2048];        /* ... and its message */
    char traceback[4096];
};

/* Write the scripts and start `python3 -I -B harness.py` (python: the interpreter, NULL for
 * "python3" on PATH). Does not wait for it: pyharness_ready does. */
int pyharness_start(struct pyharness *h, const char *python, struct err *e);

/* Wait up to timeout_ms for the harness's first line (torch and Triton imported, CUDA up);
 * *reply receives it (caller deletes). */
int pyharness_ready(struct pyharness *h, double timeout_ms, cJSON **reply, struct err *e);

/* Send cmd, wait up to timeout_ms for the reply. Returns 0 with *reply (caller deletes) when the
 * harness answered {"ok": true, ...}; ERR_INVALID when it answered {"ok": false, ...} (verdict,
 * message and traceback copied into h, *reply still given); ERR_LIMIT at the deadline (the child
 * is killed); ERR_IO when the child died or wrote something that is not JSON. */
int pyharness_call(struct pyharness *h, const cJSON *cmd, double timeout_ms, cJSON **reply, struct err *e);

/* Path of a script in the private directory ("kglint.py", "candidate.py"), for the caller to
 * write the candidate's file next to the harness. */
int pyharness_path(const struct pyharness *h, const char *name, char *out, size_t len);

/* Kill the child (if running), reap it, remove the directory. Safe on a zeroed struct. */
void pyharness_stop(struct pyharness *h);

/* The static checker alone, for compile: python3 kglint.py on src with the policy (JSON text or
 * NULL) and autotune_max (0: none); *out receives kglint's object. Needs exec (no --seal). */
int pyharness_lint(const char *python, const char *src, size_t len, const char *policy_json,
                   int autotune_max, double timeout_ms, cJSON **out, struct err *e);

#endif
