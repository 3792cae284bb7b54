/* buf.h — a growable byte buffer with a hard cap fixed at init: whatever the network or a child
 * process can grow is appended through it, so nothing grows without bound. The contents are always
 * NUL-terminated. buf_free on a zeroed or freed buffer is a no-op. */
#ifndef KGRADE_BUF_H
#define KGRADE_BUF_H

#include <stddef.h>

struct buf {
    char *p;        /* NULL until the first append */
    size_t len;     /* bytes used, excluding the NUL */
    size_t cap;     /* bytes allocated */
    size_t max;     /* the cap: len never exceeds it */
    int toobig;     /* an append was refused (or cut, for buf_append_part) because of max */
};

/* Start empty with the given cap (bytes). */
void buf_init(struct buf *b, size_t max);
/* Append n bytes: 0, ERR_LIMIT (nothing appended, toobig set) or ERR_NOMEM. */
int buf_append(struct buf *b, const void *data, size_t n);
/* Append as much of n bytes as fits (toobig set when cut): 0 or ERR_NOMEM. */
int buf_append_part(struct buf *b, const void *data, size_t n);
/* printf-style append with buf_append's results. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the contents to the caller (free() them; never NULL after success) and reset b. */
char *buf_take(struct buf *b);
void buf_reset(struct buf *b);    /* empty, memory kept */
void buf_free(struct buf *b);

#endif
