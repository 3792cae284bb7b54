/* err.c — the one error convention (see err.h).
 *
 * Messages are formatted into fixed buffers owned by the caller: no allocation on the error path,
 * so reporting an out-of-memory condition cannot itself fail. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int err_set(struct err *e, int code, const char *field, const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

void err_clear(struct err *e)
{
    if (e)
        memset(e, 0, sizeof *e);
}

const char *err_name(int code)
{
    switch (code) {
    case ERR_OK: return "ok";
    case ERR_INVALID: return "invalid";
    case ERR_NOTFOUND: return "not_found";
    case ERR_LIMIT: return "limit";
    case ERR_UNSUPPORTED: return "unsupported";
    case ERR_COMPILE: return "compile";
    case ERR_NOMEM: return "nomem";
    case ERR_IO: return "io";
    case ERR_CUDA: return "cuda";
    case ERR_INTERNAL: return "internal";
    default: return "unknown";
    }
}

int err_is_system(int code)
{
    return code <= ERR_NOMEM;
}
