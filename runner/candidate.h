/* candidate.h — a CUDA C candidate from source to cubin: directives parsed and (with a problem)
 * bound, NVRTC options assembled, compiled for one architecture, and every launched kernel found
 * in the cubin. Needs no GPU: the compile command and the evaluation share this path.
 *
 * Compile options: -arch=sm_<arch> and --std=c++17 (unless the candidate asks for another
 * standard), then with a problem -DKG_N=... for every problem variable (docs/candidates.md), then
 * the candidate's allow-listed options. The program is named "candidate.cu" and nothing is
 * prepended, so NVRTC's log uses the candidate's own line numbers. */
#ifndef KGRADE_CANDIDATE_H
#define KGRADE_CANDIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "directive.h"
#include "err.h"
#include "jit.h"
#include "spec.h"

#define CANDIDATE_MAX_SOURCE (256 << 10)
#define CANDIDATE_MAX_OPTIONS (DIRECTIVE_MAX_OPTIONS + 24)

enum candidate_failure { CANDIDATE_OK = 0, CANDIDATE_DIRECTIVE, CANDIDATE_COMPILE };

struct candidate_opts {
    const struct conv_spec *spec;   /* NULL: no problem; expressions are then only syntax-checked */
    int arch;                       /* e.g. 89, 90 */
    int sms;                        /* the SM count behind SMS; 0: a typical one for arch */
    int64_t max_smem;               /* per-block dynamic shared memory limit; 0: the arch's opt-in limit */
    int64_t max_workspace;          /* bytes; negative: DIRECTIVE_DEFAULT_MAX_WORKSPACE */
    const char *cache_dir;          /* NULL: no compile cache */
    size_t log_cap;                 /* bytes of NVRTC log kept; 0: 64 KiB */
};

struct candidate {
    enum candidate_failure failure;
    int err_line;                   /* the candidate's line of a directive error or of the first compile error */
    struct directives *dirs;
    bool bound;                     /* plan holds values (a problem was given) */
    struct directive_plan plan;
    struct jit_result jit;          /* image, log, cache hit, compile time */
    bool compiled;
    char symbols[DIRECTIVE_MAX_LAUNCHES][DIRECTIVE_MAX_KERNEL + 1];
    int nopts;
    char opt_text[CANDIDATE_MAX_OPTIONS][160];   /* the options passed to NVRTC, for the record */
};

/* src must be NUL-terminated at src[len]. Returns 0, or an error with c->failure telling a
 * directive error (ERR_INVALID/ERR_LIMIT/ERR_NOTFOUND, c->err_line) or a compile error
 * (ERR_COMPILE, c->jit.log holds the log) from a system failure (any other code, failure 0).
 * The caller always calls candidate_free. */
int candidate_build(struct candidate *c, const char *src, size_t len, const struct candidate_opts *o, struct err *e);

void candidate_free(struct candidate *c);

/* The arch's defaults used without a device: opt-in shared memory per block, and SM count. */
int64_t candidate_arch_smem(int arch);
int candidate_arch_sms(int arch);

/* {"ok", "cached", "nvrtc_ms", "arch", "options":[...], "log", "log_truncated", "cubin_bytes"}. */
cJSON *candidate_compile_json(const struct candidate *c, int arch);

#endif
