/* buf.c — bounded growable buffer (see buf.h). Growth doubles, clamped to max + 1 for the NUL, so a
 * buffer never allocates more than its cap however the appends arrive. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

void buf_init(struct buf *b, size_t max)
{
    memset(b, 0, sizeof *b);
    b->max = max;
}

static int reserve(struct buf *b, size_t n)
{
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = realloc(b->p, cap);
    if (!p)
        return ERR_NOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t n)
{
    if (n > b->max - b->len) {
        b->toobig = 1;
        return ERR_LIMIT;
    }
    if (reserve(b, n))
        return ERR_NOMEM;
    if (n)
        memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = 0;
    return 0;
}

int buf_append_part(struct buf *b, const void *data, size_t n)
{
    size_t room = b->max - b->len;
    if (n > room) {
        b->toobig = 1;
        n = room;
    }
    int rc = buf_append(b, data, n);
    return rc == ERR_LIMIT ? 0 : rc;
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return ERR_INTERNAL;
    if ((size_t)n < sizeof small)
        return buf_append(b, small, (size_t)n);
    char *big = malloc((size_t)n + 1);
    if (!big)
        return ERR_NOMEM;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = buf_append(b, big, (size_t)n);
    free(big);
    return rc;
}

char *buf_take(struct buf *b)
{
    if (!b->p) {                /* nothing appended yet: an empty string, not NULL */
        if (reserve(b, 0))
            return NULL;
        b->p[0] = 0;
    }
    char *p = b->p;
    size_t max = b->max;
    buf_init(b, max);
    return p;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->toobig = 0;
    if (b->p)
        b->p[0] = 0;
}

void buf_free(struct buf *b)
{
    free(b->p);
    buf_init(b, b->max);
}
