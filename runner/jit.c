/* jit.c — NVRTC to cubin, cached on disk (see jit.h).
 *
 * Invariants: the NVRTC program is always destroyed; the log is read before the result is judged
 * and is bounded by the caller's cap; a cache entry is only ever visible complete (written to a
 * temporary name in the same directory, fsync'd, then renamed). A corrupt or unreadable cache entry
 * is ignored and overwritten, never trusted over a fresh compile: entries carry a trailer with
 * the image's own SHA-256. */
#include "jit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nvrtc.h>

#include "sha256.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int jit_nvrtc_version(void)
{
    int major = 0, minor = 0;
    nvrtcVersion(&major, &minor);
    return major * 1000 + minor * 10;
}

void jit_default_cache_dir(char *buf, size_t len)
{
    const char *v;
    if ((v = getenv("KGRADE_CACHE_DIR")) && *v)
        snprintf(buf, len, "%s", v);
    else if ((v = getenv("XDG_CACHE_HOME")) && *v)
        snprintf(buf, len, "%s/kgrade", v);
    else if ((v = getenv("HOME")) && *v)
        snprintf(buf, len, "%s/.cache/kgrade", v);
    else
        snprintf(buf, len, "/tmp/kgrade-cache");
}

static void hash_str(struct sha256 *c, const char *s)
{
    size_t n = strlen(s);
    sha256_update(c, &n, sizeof n);   /* length-prefixed: no ambiguity between fields */
    sha256_update(c, s, n);
}

static void make_key(const struct jit_program *p, int arch, char key[65])
{
    struct sha256 c;
    char meta[96];
    sha256_init(&c);
    hash_str(&c, p->source);
    for (int i = 0; i < p->n_headers; i++) {
        hash_str(&c, p->header_names[i]);
        hash_str(&c, p->header_sources[i]);
    }
    for (int i = 0; i < p->n_options; i++)
        hash_str(&c, p->options[i]);
    /* NVRTC emits SASS for sm_<arch>: the driver does not change the cubin, so a compile on a
     * host (or in a process) without a driver finds the same entry as one with it */
    snprintf(meta, sizeof meta, "sm_%d nvrtc %d", arch, jit_nvrtc_version());
    hash_str(&c, meta);
    sha256_final_hex(&c, key);
}

static int mkdirs(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *s = tmp + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        if (mkdir(tmp, 0700) && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(tmp, 0700) && errno != EEXIST ? -1 : 0;
}

/* Read a cache entry: image bytes followed by the image's hex SHA-256. 0 when valid. */
static int cache_read(const char *path, struct jit_result *r)
{
    int rc = -1;
    unsigned char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    struct stat st;
    if (fstat(fileno(f), &st) || st.st_size <= 64 || st.st_size > (256 << 20))
        goto out;
    size_t n = (size_t)st.st_size;
    if (!(buf = malloc(n)) || fread(buf, 1, n, f) != n)
        goto out;
    char want[65], got[65];
    memcpy(want, buf + n - 64, 64);
    want[64] = 0;
    sha256_hex(buf, n - 64, got);
    if (strcmp(want, got))
        goto out;
    r->image = buf;
    r->size = n - 64;
    buf = NULL;
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

static void cache_write(const char *dir, const char *path, const struct jit_result *r)
{
    if (mkdirs(dir))
        return;
    char tmp[4200], hex[65];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    sha256_hex(r->image, r->size, hex);
    int ok = write(fd, r->image, r->size) == (ssize_t)r->size && write(fd, hex, 64) == 64 && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path))
        unlink(tmp);
}

int jit_compile(const struct jit_program *p, int arch, const char *cache_dir, size_t log_cap,
                struct jit_result *r, struct err *e)
{
    int rc = 0;
    nvrtcProgram prog = NULL;
    const char **opts = NULL;
    char path[4200] = "";
    memset(r, 0, sizeof *r);
    double t0 = now_ms();
    make_key(p, arch, r->key);

    if (cache_dir) {
        snprintf(path, sizeof path, "%s/%s.cubin", cache_dir, r->key);
        if (cache_read(path, r) == 0) {
            r->cached = true;
            r->log = calloc(1, 1);
            r->compile_ms = now_ms() - t0;
            return r->log ? 0 : err_set(e, ERR_NOMEM, "", "out of memory");
        }
    }

    char archopt[32];
    snprintf(archopt, sizeof archopt, "-arch=sm_%d", arch);
    int nopt = 0;
    if (!(opts = calloc((size_t)p->n_options + 4, sizeof *opts))) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    opts[nopt++] = archopt;
    bool has_std = false;
    for (int i = 0; i < p->n_options; i++)
        has_std |= !strncmp(p->options[i], "--std=", 6) || !strncmp(p->options[i], "-std=", 5);
    if (!has_std)
        opts[nopt++] = "--std=c++17";
    for (int i = 0; i < p->n_options; i++)
        opts[nopt++] = p->options[i];

    nvrtcResult nr = nvrtcCreateProgram(&prog, p->source, p->name, p->n_headers,
                                        (const char *const *)p->header_sources,
                                        (const char *const *)p->header_names);
    if (nr != NVRTC_SUCCESS) {
        prog = NULL;
        rc = err_set(e, nr == NVRTC_ERROR_OUT_OF_MEMORY ? ERR_NOMEM : ERR_INTERNAL, "",
                     "nvrtcCreateProgram: %s", nvrtcGetErrorString(nr));
        goto out;
    }
    nvrtcResult cr = nvrtcCompileProgram(prog, nopt, opts);

    /* the log first, whatever the result */
    size_t loglen = 0;
    nvrtcGetProgramLogSize(prog, &loglen);
    char *full = malloc(loglen + 1);
    if (!full) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    full[0] = 0;
    if (loglen)
        nvrtcGetProgramLog(prog, full);
    full[loglen] = 0;
    size_t n = strlen(full);
    if (log_cap && n > log_cap) {
        full[log_cap] = 0;
        r->log_truncated = true;
    }
    r->log = full;

    if (cr == NVRTC_ERROR_COMPILATION) {
        rc = err_set(e, ERR_COMPILE, "source", "NVRTC compilation failed for sm_%d", arch);
        goto out;
    }
    if (cr != NVRTC_SUCCESS) {
        rc = err_set(e, cr == NVRTC_ERROR_INVALID_OPTION ? ERR_INVALID : ERR_INTERNAL, "options",
                     "nvrtcCompileProgram: %s", nvrtcGetErrorString(cr));
        goto out;
    }
    size_t sz = 0;
    if ((nr = nvrtcGetCUBINSize(prog, &sz)) != NVRTC_SUCCESS || sz == 0) {
        rc = err_set(e, ERR_INTERNAL, "", "nvrtcGetCUBINSize: %s", nvrtcGetErrorString(nr));
        goto out;
    }
    if (!(r->image = malloc(sz))) {
        rc = err_set(e, ERR_NOMEM, "", "out of memory");
        goto out;
    }
    if ((nr = nvrtcGetCUBIN(prog, r->image)) != NVRTC_SUCCESS) {
        rc = err_set(e, ERR_INTERNAL, "", "nvrtcGetCUBIN: %s", nvrtcGetErrorString(nr));
        goto out;
    }
    r->size = sz;
    r->compile_ms = now_ms() - t0;
    if (cache_dir)
        cache_write(cache_dir, path, r);
out:
    if (prog)
        nvrtcDestroyProgram(&prog);
    free(opts);
    return rc;
}

void jit_result_free(struct jit_result *r)
{
    if (!r)
        return;
    free(r->image);
    free(r->log);
    memset(r, 0, sizeof *r);
}
