/* jit.h — NVRTC compilation to a cubin for one real architecture, with an on-disk cache.
 *
 * The cache key is the SHA-256 of everything that decides the output: the source, each named
 * header, the options, the architecture, the NVRTC version and the driver version (0 when no
 * driver is loaded). Entries are written atomically (temporary file + rename), so concurrent
 * workers never read a partial cubin. With cache_dir NULL nothing is read or written. */
#ifndef KGRADE_JIT_H
#define KGRADE_JIT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct jit_program {
    const char *name;                  /* file name shown in the log, e.g. "conv_ref.cu" */
    const char *source;
    int n_headers;                     /* headers #include-able by name */
    const char *const *header_names;
    const char *const *header_sources;
    int n_options;                     /* extra NVRTC options, e.g. "-DBM=128" */
    const char *const *options;
};

struct jit_result {
    void *image;          /* the cubin; owned, freed by jit_result_free */
    size_t size;
    char *log;            /* NVRTC's log, NUL-terminated, at most log_cap bytes; owned */
    bool log_truncated;
    bool cached;          /* the image came from the cache */
    double compile_ms;    /* NVRTC time, or the cache read time */
    char key[65];
};

/* Compile p for sm_<arch> (e.g. 89, 90). On a compile error returns ERR_COMPILE with r->log set
 * (the caller still calls jit_result_free). */
int jit_compile(const struct jit_program *p, int arch, const char *cache_dir, size_t log_cap,
                struct jit_result *r, struct err *e);

void jit_result_free(struct jit_result *r);

/* NVRTC's version as major*1000 + minor*10 (13000 for 13.0). */
int jit_nvrtc_version(void);

/* The default cache directory: $KGRADE_CACHE_DIR, else $XDG_CACHE_HOME/kgrade, else
 * $HOME/.cache/kgrade, else /tmp/kgrade-cache. Writes into buf. */
void jit_default_cache_dir(char *buf, size_t len);

#endif
