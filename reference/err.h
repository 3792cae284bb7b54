/* err.h — the one error convention of kgrade.
 *
 * Every fallible function returns int: 0 on success, a negative ERR_* code on failure, and fills a
 * caller-supplied struct err (which may be NULL) with the field at fault and a one-line message.
 * A job failure (bad spec, compile error, wrong answer) and a system failure (no memory, I/O, a CUDA
 * driver error) use different codes so callers never confuse the two (see err_is_system). */
#ifndef KGRADE_ERR_H
#define KGRADE_ERR_H

#include <stddef.h>

enum {
    ERR_OK = 0,
    ERR_INVALID = -1,     /* the input is wrong: a spec field, a JSON value, an option (job failure) */
    ERR_NOTFOUND = -2,    /* a named thing does not exist: problem id, file (job failure) */
    ERR_LIMIT = -3,       /* a configured bound was exceeded: footprint, size, count (job failure) */
    ERR_UNSUPPORTED = -4, /* valid but not supported here: no GPU, no cuDNN, old driver */
    ERR_COMPILE = -5,     /* NVRTC rejected a program */
    ERR_NOMEM = -10,      /* host allocation failed (system failure) */
    ERR_IO = -11,         /* file or pipe I/O failed (system failure) */
    ERR_CUDA = -12,       /* a CUDA driver / cuDNN call failed (system failure unless a job caused it) */
    ERR_INTERNAL = -13,   /* a bug (system failure) */
};

struct err {
    int code;
    char field[64];   /* the JSON field or option at fault, "" when none */
    char msg[384];    /* one line, no trailing newline */
};

/* Fill e (when not NULL) and return code. fmt is printf-style. */
int err_set(struct err *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Reset e to "no error". */
void err_clear(struct err *e);

/* The stable lower-case name of a code ("invalid", "nomem", ...). */
const char *err_name(int code);

/* 1 when code means the system failed rather than the job. */
int err_is_system(int code);

#endif
