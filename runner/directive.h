/* directive.h - the launch directives of a CUDA C candidate: which kernels the worker launches, in
 * which order, with which grid, block, shared memory and arguments (docs/candidates.md).
 *
 * A directive is a source line whose first non-blank characters are "//", then optional blanks,
 * then "@kgrade", then at least one blank, then the directive. Line numbers are 1-based lines of
 * the source (lines end at '\n'; a CR before it is ignored). The scan is by lines and does not
 * read C: such a line inside a block comment or under #if 0 still counts. Three kinds:
 *
 *   // @kgrade launch KERNEL grid(E[, E[, E]]) block(E[, E[, E]]) [smem(E)] args(A, A, ...)
 *   // @kgrade workspace(E)
 *   // @kgrade option OPTION
 *
 * launch: KERNEL is a C identifier of at most 127 characters (a mangled name is fine). The clauses
 *   come in any order, each at most once; grid, block and args are required ("args()" is allowed),
 *   smem (dynamic shared memory bytes) defaults to 0, missing grid/block dimensions are 1. Launches
 *   run in file order; at most DIRECTIVE_MAX_LAUNCHES. An argument A is one of the device pointers
 *   x, w, bias, y, workspace (bias is a null pointer when the problem has none) or an expression E
 *   with an optional type ":i32" (the default) or ":i64"; at most DIRECTIVE_MAX_ARGS per launch.
 * workspace: bytes of a device scratch buffer passed as the "workspace" argument; at most once.
 *   Without it the size is 0 and naming "workspace" in args is an error.
 * option: one NVRTC option, a single token, from the allow-list of nvopt.h: -use_fast_math, --use_fast_math;
 *   --ftz=, --prec-div=, --prec-sqrt=, --fmad= with true|false (also with one dash);
 *   --maxrregcount=16..255; -lineinfo, --generate-line-info; --extra-device-vectorization;
 *   --restrict, -restrict; --std= or -std= with c++11|c++14|c++17|c++20; -DNAME[=VALUE] with NAME
 *   an identifier not starting with KG_ (the worker defines those) and VALUE printable, without
 *   blanks, quotes or backslashes. At most DIRECTIVE_MAX_OPTIONS.
 * Expressions E are those of expr.h over the variables of directive_env (N, C_in, H, W, C_out, KH,
 * KW, SH, SW, PH, PW, DH, DW, G, H_out, W_out, HAS_BIAS, CIN_G, COUT_G, X_ELEMS, W_ELEMS, Y_ELEMS,
 * SMS, DTYPE_SIZE: bytes per element of the problem's dtype).
 *
 * Errors: every function here returns 0 or a negative ERR_* code; ERR_LIMIT for a count or length
 * bound (launches, arguments, options, a kernel name, a directive line longer than
 * DIRECTIVE_MAX_LINE characters), ERR_INVALID for anything else wrong with the candidate, ERR_NOMEM.
 * e->field is "directive"; e->msg begins with "line N: " and *err_line (when not NULL) is N, or 0
 * with no prefix when the error belongs to no line (no launch directive at all). */
#ifndef KGRADE_DIRECTIVE_H
#define KGRADE_DIRECTIVE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "expr.h"
#include "spec.h"

#define DIRECTIVE_MAX_LAUNCHES 16
#define DIRECTIVE_MAX_ARGS 24
#define DIRECTIVE_MAX_OPTIONS 16
#define DIRECTIVE_MAX_KERNEL 127     /* characters of a kernel name */
#define DIRECTIVE_MAX_LINE 1024      /* characters of a directive line, without its line end */
#define DIRECTIVE_MAX_VARS 32

/* ---- parsing: syntax only, before a problem is known ---- */

/* The parsed directives: owned by the caller, freed with directive_free. Expressions are kept as
 * text and only checked (syntax and names) here; values come with directive_bind. */
struct directives;

/* Parse every directive of src[0..len) (no NUL needed). Checks the syntax, the names in every
 * expression, the option allow-list, the bounds, that "workspace" is only named with a workspace
 * directive, and that there is at least one launch. On success *out is a new object; on failure
 * *out is NULL and e, *err_line are set as described above. */
int directive_parse(const char *src, size_t len, struct directives **out, int *err_line, struct err *e);

/* NULL is fine. */
void directive_free(struct directives *d);

/* Accessors of a parsed set. Indexes are 0-based and must be in range; the strings are owned by d
 * and live until directive_free. Launches are in file order, options in file order. */
int directive_count_launches(const struct directives *d);
const char *directive_launch_kernel(const struct directives *d, int i);
int directive_launch_line(const struct directives *d, int i);
int directive_count_options(const struct directives *d);
const char *directive_option(const struct directives *d, int i);
int directive_option_line(const struct directives *d, int i);
int directive_workspace_line(const struct directives *d);   /* 0 when there is none */

/* ---- binding: the values for one problem on one device ---- */

/* The variables of the expressions, by value. */
struct directive_env {
    struct expr_var vars[DIRECTIVE_MAX_VARS];
    int nvars;
};

/* Fill env from a valid spec (spec_validate passed) and the device's SM count. The names point to
 * static strings. */
void directive_env_from_spec(const struct conv_spec *s, int sms, struct directive_env *env);

/* Device limits. max_smem_bytes: the per-block dynamic shared memory the device allows. */
struct directive_limits {
    int64_t max_smem_bytes;
    int64_t max_workspace_bytes;
};
#define DIRECTIVE_DEFAULT_MAX_SMEM (48 << 10)
#define DIRECTIVE_DEFAULT_MAX_WORKSPACE (1ll << 30)

enum directive_arg_kind {
    DIRECTIVE_ARG_X,
    DIRECTIVE_ARG_W,
    DIRECTIVE_ARG_BIAS,
    DIRECTIVE_ARG_Y,
    DIRECTIVE_ARG_WORKSPACE,
    DIRECTIVE_ARG_I32,
    DIRECTIVE_ARG_I64,
};

struct directive_arg {
    enum directive_arg_kind kind;
    int64_t value;   /* the value of an I32 (within int32) or I64 argument; 0 for a pointer */
    int size;        /* bytes passed to the kernel: 4 for I32, 8 otherwise */
};

struct directive_launch_plan {
    int line;
    char kernel[DIRECTIVE_MAX_KERNEL + 1];
    unsigned grid[3], block[3];
    unsigned smem;
    int nargs;
    struct directive_arg args[DIRECTIVE_MAX_ARGS];
};

/* Everything the worker needs to launch: plain values, no pointers into the directives. */
struct directive_plan {
    int nlaunch;
    struct directive_launch_plan launch[DIRECTIVE_MAX_LAUNCHES];
    int64_t workspace_bytes;   /* 0 without a workspace directive */
    int workspace_line;        /* 0 without a workspace directive */
};

/* Evaluate every expression of d with env's values and check the launch bounds: grid x in
 * 1..2^31-1, y and z in 1..65535; block dimensions >= 1, x and y <= 1024, z <= 64, x*y*z <= 1024;
 * smem in 0..max_smem_bytes; workspace in 0..max_workspace_bytes; an :i32 argument within int32.
 * lim NULL means the DIRECTIVE_DEFAULT_* limits. Errors as for directive_parse, the message naming
 * the launch and clause, e.g. "line 7: launch conv: grid: division by zero in 'N / 0'". On failure
 * *p is zeroed. */
int directive_bind(const struct directives *d, const struct directive_env *env,
                   const struct directive_limits *lim, struct directive_plan *p, int *err_line,
                   struct err *e);

/* The plan as JSON, for reports: [{"line", "kernel", "grid":[x,y,z], "block":[x,y,z], "smem",
 * "args":["x", "w", "8:i32", ...]}, ...]. Values are written as "VALUE:i32" / "VALUE:i64" strings,
 * so that 64-bit values stay exact. NULL when out of memory; the caller deletes the result. */
cJSON *directive_plan_to_json(const struct directive_plan *p);

#endif
