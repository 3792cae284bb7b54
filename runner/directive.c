/* directive.c - the launch directives of a CUDA C candidate (see directive.h).
 *
 * Two stages. directive_parse scans the source line by line; a line that starts a directive is
 * copied whole (at most DIRECTIVE_MAX_LINE characters) into one fixed-size struct directives, and
 * each expression is kept as a span of that copy, checked with expr_eval in check_only mode against
 * the variable names so that a typo fails before any problem is known. directive_bind evaluates the
 * spans with a problem's values and checks the launch bounds, filling a plain-value plan.
 *
 * Everything is bounded by the DIRECTIVE_MAX_* constants: one allocation per parse, no lists.
 * Every error message starts with "line N: " (through fail_at), and an expression's own message
 * is wrapped with the launch and the clause it belongs to. */
#include "directive.h"
#include "nvopt.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct span {
    unsigned short off, len;   /* into the directive's line copy */
};

enum { CL_GRID, CL_BLOCK, CL_SMEM, CL_ARGS, NCLAUSE };

struct launch {
    int line;
    char text[DIRECTIVE_MAX_LINE + 1];
    char kernel[DIRECTIVE_MAX_KERNEL + 1];
    bool has[NCLAUSE];
    int ngrid, nblock, nargs;
    struct span grid[3], block[3], smem;
    struct {
        enum directive_arg_kind kind;
        struct span expr;   /* empty for a pointer */
    } args[DIRECTIVE_MAX_ARGS];
};

struct directives {
    int nlaunch, noption, workspace_line;
    struct launch launch[DIRECTIVE_MAX_LAUNCHES];
    char workspace_text[DIRECTIVE_MAX_LINE + 1];
    struct span workspace;
    struct {
        int line;
        char text[DIRECTIVE_MAX_LINE + 1];
    } option[DIRECTIVE_MAX_OPTIONS];
};

static const char *const var_names[] = {
    "N", "C_in", "H", "W", "C_out", "KH", "KW", "SH", "SW", "PH", "PW", "DH", "DW", "G",
    "H_out", "W_out", "HAS_BIAS", "CIN_G", "COUT_G", "X_ELEMS", "W_ELEMS", "Y_ELEMS", "SMS",
    "DTYPE_SIZE",
};
#define NVARS ((int)(sizeof var_names / sizeof var_names[0]))

static const char *const clause_names[NCLAUSE] = { "grid", "block", "smem", "args" };
static const char *const pointer_names[] = { "x", "w", "bias", "y", "workspace" };

/* Fill e with "line N: ..." (no prefix for line 0) and *err_line; return code. */
__attribute__((format(printf, 5, 6))) static int fail_at(struct err *e, int *err_line, int code, int line,
                                                         const char *fmt, ...)
{
    char msg[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (err_line)
        *err_line = line;
    if (line > 0)
        return err_set(e, code, "directive", "line %d: %s", line, msg);
    return err_set(e, code, "directive", "%s", msg);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Copy the non-blank token at s[0..n) into buf for a message: at most 40 characters, bytes outside
 * printable ASCII as '?'. */
static const char *shown(const char *s, size_t n, char *buf, size_t cap)
{
    size_t i = 0;
    for (; i < n && i + 4 < cap && i < 40 && !is_blank(s[i]); i++)
        buf[i] = s[i] > 0x20 && s[i] < 0x7f ? s[i] : '?';
    if (i < n && !is_blank(s[i]) && i + 4 <= cap) {
        memcpy(buf + i, "...", 3);
        i += 3;
    }
    buf[i] = '\0';
    return buf;
}

static size_t skip_blanks(const char *s, size_t n, size_t i)
{
    while (i < n && is_blank(s[i]))
        i++;
    return i;
}

static size_t ident_end(const char *s, size_t n, size_t i)
{
    while (i < n && is_ident(s[i]))
        i++;
    return i;
}

static struct span trimmed(const char *s, size_t a, size_t b)
{
    while (a < b && is_blank(s[a]))
        a++;
    while (b > a && is_blank(s[b - 1]))
        b--;
    return (struct span){ (unsigned short)a, (unsigned short)(b - a) };
}

/* Check the syntax and names of an expression; on error wrap its message with the context. */
static int check_expr(const char *text, struct span sp, int line, const char *ctx, int *err_line,
                      struct err *e)
{
    struct expr_var vars[NVARS];
    for (int i = 0; i < NVARS; i++)
        vars[i] = (struct expr_var){ var_names[i], 1 };
    struct err xe;
    err_clear(&xe);
    if (expr_eval(text + sp.off, sp.len, vars, NVARS, true, NULL, &xe))
        return fail_at(e, err_line, ERR_INVALID, line, "%s: %s", ctx, xe.msg);
    return 0;
}

/* s[open] is '('. Find its match, split the inside at top-level commas into items (at most max
 * kept, *count says how many there were; only blanks inside is zero items) and return the index
 * after ')', or 0 when there is no match. */
static size_t split_parens(const char *s, size_t n, size_t open, struct span *items, int max,
                           int *count)
{
    int depth = 0;
    size_t start = open + 1;
    *count = 0;
    for (size_t i = open; i < n; i++) {
        if (s[i] == '(') {
            depth++;
        } else if (s[i] == ')' || (s[i] == ',' && depth == 1)) {
            if (s[i] == ')' && --depth > 0)
                continue;
            struct span sp = trimmed(s, start, i);
            if (s[i] == ')' && *count == 0 && sp.len == 0)
                return i + 1;   /* "()" */
            if (*count < max)
                items[*count] = sp;
            if (*count < INT_MAX)
                (*count)++;
            start = i + 1;
            if (s[i] == ')')
                return i + 1;
        }
    }
    return 0;
}

static int parse_arg(struct launch *L, int k, struct span sp, const char *ctx, int *err_line,
                     struct err *e)
{
    const char *t = L->text + sp.off;
    for (int i = 0; i < 5; i++) {
        if (strlen(pointer_names[i]) == sp.len && memcmp(t, pointer_names[i], sp.len) == 0) {
            L->args[k].kind = (enum directive_arg_kind)(DIRECTIVE_ARG_X + i);
            L->args[k].expr = (struct span){ 0, 0 };
            return 0;
        }
    }
    const char *colon = memchr(t, ':', sp.len);
    struct span ex = sp;
    L->args[k].kind = DIRECTIVE_ARG_I32;
    if (colon) {
        size_t c = (size_t)(colon - L->text);
        struct span ty = trimmed(L->text, c + 1, (size_t)sp.off + sp.len);
        ex = trimmed(L->text, sp.off, c);
        char buf[48];
        if (ty.len == 3 && memcmp(L->text + ty.off, "i64", 3) == 0)
            L->args[k].kind = DIRECTIVE_ARG_I64;
        else if (!(ty.len == 3 && memcmp(L->text + ty.off, "i32", 3) == 0))
            return fail_at(e, err_line, ERR_INVALID, L->line, "%s: unknown type ':%s' (expected :i32 or :i64)",
                           ctx, shown(L->text + ty.off, ty.len, buf, sizeof buf));
        for (int i = 0; i < 5; i++)
            if (strlen(pointer_names[i]) == ex.len && memcmp(L->text + ex.off, pointer_names[i], ex.len) == 0)
                return fail_at(e, err_line, ERR_INVALID, L->line, "%s: the pointer '%s' takes no type",
                               ctx, pointer_names[i]);
    }
    L->args[k].expr = ex;
    return check_expr(L->text, ex, L->line, ctx, err_line, e);
}

/* "launch KERNEL clause(...) ...": s[i..n) follows the word "launch". */
static int parse_launch(struct directives *d, int line, const char *s, size_t n, size_t i, int *err_line,
                        struct err *e)
{
    char buf[48], ctx[DIRECTIVE_MAX_KERNEL + 32];
    if (d->nlaunch == DIRECTIVE_MAX_LAUNCHES)
        return fail_at(e, err_line, ERR_LIMIT, line, "more than %d launch directives", DIRECTIVE_MAX_LAUNCHES);
    struct launch *L = &d->launch[d->nlaunch];
    memset(L, 0, sizeof *L);
    L->line = line;
    memcpy(L->text, s, n);
    size_t k0 = skip_blanks(s, n, i);
    size_t k1 = k0 < n && is_ident_start(s[k0]) ? ident_end(s, n, k0) : k0;
    if (k0 == i || k1 == k0 || (k1 < n && !is_blank(s[k1])))
        return fail_at(e, err_line, ERR_INVALID, line, "launch needs a kernel name, a C identifier "
                       "[A-Za-z_][A-Za-z0-9_]*, got '%s'", shown(s + k0, n - k0, buf, sizeof buf));
    if (k1 - k0 > DIRECTIVE_MAX_KERNEL)
        return fail_at(e, err_line, ERR_LIMIT, line, "launch: a kernel name of %zu characters, at most %d",
                       k1 - k0, DIRECTIVE_MAX_KERNEL);
    memcpy(L->kernel, s + k0, k1 - k0);
    for (i = skip_blanks(s, n, k1); i < n; i = skip_blanks(s, n, i)) {
        size_t w = ident_end(s, n, i);
        int c = 0;
        while (c < NCLAUSE && !(strlen(clause_names[c]) == w - i && memcmp(s + i, clause_names[c], w - i) == 0))
            c++;
        if (s[i] == ')')
            return fail_at(e, err_line, ERR_INVALID, line, "launch %s: unbalanced ')'", L->kernel);
        if (w == i)
            return fail_at(e, err_line, ERR_INVALID, line, "launch %s: unexpected '%s' (expected grid, block, "
                           "smem or args)", L->kernel, shown(s + i, n - i, buf, sizeof buf));
        if (c == NCLAUSE)
            return fail_at(e, err_line, ERR_INVALID, line, "launch %s: unknown clause '%.*s' (expected grid, "
                           "block, smem, args)", L->kernel, (int)(w - i > 40 ? 40 : w - i), s + i);
        if (L->has[c])
            return fail_at(e, err_line, ERR_INVALID, line, "launch %s: clause '%s' given twice", L->kernel,
                           clause_names[c]);
        L->has[c] = true;
        i = skip_blanks(s, n, w);
        if (i == n || s[i] != '(')
            return fail_at(e, err_line, ERR_INVALID, line, "launch %s: expected '(' after '%s'", L->kernel,
                           clause_names[c]);
        struct span items[DIRECTIVE_MAX_ARGS], one;
        int count;
        size_t after = split_parens(s, n, i, items, DIRECTIVE_MAX_ARGS, &count);
        if (!after)
            return fail_at(e, err_line, ERR_INVALID, line, "launch %s: unbalanced parentheses in %s(...)",
                           L->kernel, clause_names[c]);
        i = after;
        if (c == CL_ARGS) {
            if (count > DIRECTIVE_MAX_ARGS)
                return fail_at(e, err_line, ERR_LIMIT, line, "launch %s: %d arguments, at most %d", L->kernel,
                               count, DIRECTIVE_MAX_ARGS);
            for (int k = 0; k < count; k++) {
                snprintf(ctx, sizeof ctx, "launch %s: argument %d", L->kernel, k + 1);
                int rc = parse_arg(L, k, items[k], ctx, err_line, e);
                if (rc)
                    return rc;
            }
            L->nargs = count;
            continue;
        }
        int max = c == CL_SMEM ? 1 : 3;
        if (count < 1 || count > max)
            return fail_at(e, err_line, ERR_INVALID, line, "launch %s: %s takes %s, got %d", L->kernel,
                           clause_names[c], c == CL_SMEM ? "one expression" : "1 to 3 dimensions", count);
        struct span *dst = c == CL_GRID ? L->grid : c == CL_BLOCK ? L->block : &one;
        snprintf(ctx, sizeof ctx, "launch %s: %s", L->kernel, clause_names[c]);
        for (int k = 0; k < count; k++) {
            dst[k] = items[k];
            int rc = check_expr(L->text, items[k], line, ctx, err_line, e);
            if (rc)
                return rc;
        }
        if (c == CL_GRID)
            L->ngrid = count;
        else if (c == CL_BLOCK)
            L->nblock = count;
        else
            L->smem = one;
    }
    for (int c = 0; c < NCLAUSE; c++)
        if (c != CL_SMEM && !L->has[c])
            return fail_at(e, err_line, ERR_INVALID, line, "launch %s: missing %s(...)", L->kernel,
                           clause_names[c]);
    d->nlaunch++;
    return 0;
}

static int parse_workspace(struct directives *d, int line, const char *s, size_t n, size_t i,
                           int *err_line, struct err *e)
{
    char buf[48];
    if (d->workspace_line)
        return fail_at(e, err_line, ERR_INVALID, line, "a second workspace directive (the first is on line %d)",
                       d->workspace_line);
    i = skip_blanks(s, n, i);
    struct span item;
    int count = 0;
    size_t after = i < n && s[i] == '(' ? split_parens(s, n, i, &item, 1, &count) : 0;
    if (!after)
        return fail_at(e, err_line, ERR_INVALID, line, "workspace wants one expression in parentheses: "
                       "workspace(BYTES)");
    if (count != 1)
        return fail_at(e, err_line, ERR_INVALID, line, "workspace takes one expression, got %d", count);
    size_t j = skip_blanks(s, n, after);
    if (j < n)
        return fail_at(e, err_line, ERR_INVALID, line, "unexpected '%s' after workspace(...)",
                       shown(s + j, n - j, buf, sizeof buf));
    memcpy(d->workspace_text, s, n);
    d->workspace = item;
    d->workspace_line = line;
    return check_expr(d->workspace_text, item, line, "workspace", err_line, e);
}

static int parse_option(struct directives *d, int line, const char *s, size_t n, size_t i, int *err_line,
                        struct err *e)
{
    size_t a = skip_blanks(s, n, i), b = a;
    while (b < n && !is_blank(s[b]))
        b++;
    if (a == i || a == n)
        return fail_at(e, err_line, ERR_INVALID, line, "option needs one NVRTC option, e.g. "
                       "'// @kgrade option -use_fast_math'");
    if (skip_blanks(s, n, b) < n)
        return fail_at(e, err_line, ERR_INVALID, line, "option takes a single token: give each option its "
                       "own '// @kgrade option' line");
    if (d->noption == DIRECTIVE_MAX_OPTIONS)
        return fail_at(e, err_line, ERR_LIMIT, line, "more than %d option directives", DIRECTIVE_MAX_OPTIONS);
    memcpy(d->option[d->noption].text, s + a, b - a);
    d->option[d->noption].text[b - a] = '\0';
    struct err oe;
    err_clear(&oe);
    if (nvopt_check(d->option[d->noption].text, &oe))
        return fail_at(e, err_line, ERR_INVALID, line, "%s", oe.msg);
    d->option[d->noption++].line = line;
    return 0;
}

/* When s[0..n) is a directive line, the index just after "@kgrade"; else 0. */
static size_t directive_start(const char *s, size_t n)
{
    size_t i = skip_blanks(s, n, 0);
    if (n - i < 2 || s[i] != '/' || s[i + 1] != '/')
        return 0;
    i = skip_blanks(s, n, i + 2);
    if (n - i < 7 || memcmp(s + i, "@kgrade", 7) != 0 || (i + 7 < n && is_ident(s[i + 7])))
        return 0;   /* "@kgradefoo" is some other word */
    return i + 7;
}

static int parse_line(struct directives *d, int line, const char *s, size_t n, size_t i, int *err_line,
                      struct err *e)
{
    char buf[48];
    if (n > DIRECTIVE_MAX_LINE)
        return fail_at(e, err_line, ERR_LIMIT, line, "a directive line of %zu characters, at most %d", n,
                       DIRECTIVE_MAX_LINE);
    size_t w0 = skip_blanks(s, n, i);
    if (w0 < n && w0 == i)
        return fail_at(e, err_line, ERR_INVALID, line, "expected a blank after '@kgrade', got '%s'",
                       shown(s + i, n - i, buf, sizeof buf));
    if (w0 == n)
        return fail_at(e, err_line, ERR_INVALID, line, "'@kgrade' without a directive (expected launch, "
                       "workspace, option)");
    size_t w1 = ident_end(s, n, w0);
    if (w1 - w0 == 6 && memcmp(s + w0, "launch", 6) == 0)
        return parse_launch(d, line, s, n, w1, err_line, e);
    if (w1 - w0 == 9 && memcmp(s + w0, "workspace", 9) == 0)
        return parse_workspace(d, line, s, n, w1, err_line, e);
    if (w1 - w0 == 6 && memcmp(s + w0, "option", 6) == 0)
        return parse_option(d, line, s, n, w1, err_line, e);
    return fail_at(e, err_line, ERR_INVALID, line, "unknown directive '%s' (expected launch, workspace, option)",
                   shown(s + w0, n - w0, buf, sizeof buf));
}

int directive_parse(const char *src, size_t len, struct directives **out, int *err_line, struct err *e)
{
    *out = NULL;
    if (err_line)
        *err_line = 0;
    struct directives *d = calloc(1, sizeof *d);
    if (!d)
        return err_set(e, ERR_NOMEM, "directive", "out of memory parsing directives");
    int rc = 0, line = 0;
    for (size_t pos = 0; src && pos < len;) {
        const char *nl = memchr(src + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - src) : len, n = end - pos;
        if (n && src[pos + n - 1] == '\r')
            n--;
        if (line < INT_MAX)
            line++;
        size_t at = directive_start(src + pos, n);
        if (at && (rc = parse_line(d, line, src + pos, n, at, err_line, e)))
            goto out;
        pos = end + 1;
    }
    for (int i = 0; i < d->nlaunch; i++) {
        const struct launch *L = &d->launch[i];
        for (int k = 0; k < L->nargs && !d->workspace_line; k++)
            if (L->args[k].kind == DIRECTIVE_ARG_WORKSPACE) {
                rc = fail_at(e, err_line, ERR_INVALID, L->line, "launch %s: argument 'workspace' needs a "
                             "'// @kgrade workspace(BYTES)' directive", L->kernel);
                goto out;
            }
    }
    if (d->nlaunch == 0) {
        rc = fail_at(e, err_line, ERR_INVALID, 0, "no '// @kgrade launch' directive: a CUDA C candidate "
                     "names the kernels the worker launches (docs/candidates.md)");
        goto out;
    }
out:
    if (rc)
        free(d);
    else
        *out = d;
    return rc;
}

void directive_free(struct directives *d)
{
    free(d);
}

int directive_count_launches(const struct directives *d) { return d->nlaunch; }
const char *directive_launch_kernel(const struct directives *d, int i) { return d->launch[i].kernel; }
int directive_launch_line(const struct directives *d, int i) { return d->launch[i].line; }
int directive_count_options(const struct directives *d) { return d->noption; }
const char *directive_option(const struct directives *d, int i) { return d->option[i].text; }
int directive_option_line(const struct directives *d, int i) { return d->option[i].line; }
int directive_workspace_line(const struct directives *d) { return d->workspace_line; }

/* ---- binding ------------------------------------------------------------------------------ */

void directive_env_from_spec(const struct conv_spec *s, int sms, struct directive_env *env)
{
    struct spec_derived dv;
    spec_derive(s, &dv);
    const int64_t values[NVARS] = {
        s->n, s->c_in, s->h, s->w, s->c_out, s->kh, s->kw, s->stride_h, s->stride_w, s->pad_h, s->pad_w,
        s->dil_h, s->dil_w, s->groups, dv.h_out, dv.w_out, s->bias ? 1 : 0, s->c_in / s->groups,
        s->c_out / s->groups, dv.x_elems, dv.w_elems, dv.y_elems, sms, dv.dtype_size,
    };
    memset(env, 0, sizeof *env);
    for (int i = 0; i < NVARS; i++)
        env->vars[i] = (struct expr_var){ var_names[i], values[i] };
    env->nvars = NVARS;
}

/* Evaluate one span; on error wrap the message with ctx. */
static int eval(const char *text, struct span sp, const struct directive_env *env, int line,
                const char *ctx, int64_t *v, int *err_line, struct err *e)
{
    struct err xe;
    err_clear(&xe);
    if (expr_eval(text + sp.off, sp.len, env->vars, env->nvars, false, v, &xe))
        return fail_at(e, err_line, ERR_INVALID, line, "%s: %s", ctx, xe.msg);
    return 0;
}

/* Evaluate the dimensions of grid (block false) or block and check their bounds. */
static int bind_dims(const struct launch *L, bool block, const struct directive_env *env, unsigned dims[3],
                     int *err_line, struct err *e)
{
    static const int64_t gmax[3] = { INT32_MAX, 65535, 65535 }, bmax[3] = { 1024, 1024, 64 };
    const char *what = block ? "block" : "grid";
    char ctx[DIRECTIVE_MAX_KERNEL + 32];
    snprintf(ctx, sizeof ctx, "launch %s: %s", L->kernel, what);
    int64_t v[3] = { 1, 1, 1 };
    for (int k = 0; k < (block ? L->nblock : L->ngrid); k++) {
        int rc = eval(L->text, (block ? L->block : L->grid)[k], env, L->line, ctx, &v[k], err_line, e);
        if (rc)
            return rc;
        int64_t max = (block ? bmax : gmax)[k];
        if (v[k] < 1 || v[k] > max)
            return fail_at(e, err_line, ERR_INVALID, L->line, "%s: %c is %lld, must be 1 to %lld", ctx, "xyz"[k],
                           (long long)v[k], (long long)max);
    }
    if (block && v[0] * v[1] * v[2] > 1024)
        return fail_at(e, err_line, ERR_INVALID, L->line, "launch %s: block of %lld threads: at most 1024 per "
                       "block", L->kernel, (long long)(v[0] * v[1] * v[2]));
    for (int k = 0; k < 3; k++)
        dims[k] = (unsigned)v[k];
    return 0;
}

static int bind_launch(const struct launch *L, const struct directive_env *env, int64_t max_smem,
                       struct directive_launch_plan *P, int *err_line, struct err *e)
{
    char ctx[DIRECTIVE_MAX_KERNEL + 32];
    P->line = L->line;
    memcpy(P->kernel, L->kernel, sizeof P->kernel);
    int rc = bind_dims(L, false, env, P->grid, err_line, e);
    if (!rc)
        rc = bind_dims(L, true, env, P->block, err_line, e);
    if (rc)
        return rc;
    if (L->has[CL_SMEM]) {
        int64_t v;
        snprintf(ctx, sizeof ctx, "launch %s: smem", L->kernel);
        if ((rc = eval(L->text, L->smem, env, L->line, ctx, &v, err_line, e)))
            return rc;
        if (v < 0 || v > max_smem || v > UINT_MAX)
            return fail_at(e, err_line, ERR_INVALID, L->line, "%s: %lld bytes, must be 0 to %lld (the device's "
                           "limit per block)", ctx, (long long)v, (long long)max_smem);
        P->smem = (unsigned)v;
    }
    for (int k = 0; k < L->nargs; k++) {
        struct directive_arg *a = &P->args[k];
        a->kind = L->args[k].kind;
        a->size = a->kind == DIRECTIVE_ARG_I32 ? 4 : 8;
        if (a->kind != DIRECTIVE_ARG_I32 && a->kind != DIRECTIVE_ARG_I64)
            continue;
        snprintf(ctx, sizeof ctx, "launch %s: argument %d", L->kernel, k + 1);
        if ((rc = eval(L->text, L->args[k].expr, env, L->line, ctx, &a->value, err_line, e)))
            return rc;
        if (a->kind == DIRECTIVE_ARG_I32 && (a->value < INT32_MIN || a->value > INT32_MAX))
            return fail_at(e, err_line, ERR_INVALID, L->line, "%s: %lld does not fit :i32 (write :i64 for a "
                           "64-bit parameter)", ctx, (long long)a->value);
    }
    P->nargs = L->nargs;
    return 0;
}

int directive_bind(const struct directives *d, const struct directive_env *env,
                   const struct directive_limits *lim, struct directive_plan *p, int *err_line,
                   struct err *e)
{
    struct directive_limits dl = { DIRECTIVE_DEFAULT_MAX_SMEM, DIRECTIVE_DEFAULT_MAX_WORKSPACE };
    if (!lim)
        lim = &dl;
    if (err_line)
        *err_line = 0;
    memset(p, 0, sizeof *p);
    int rc = 0;
    if (d->workspace_line) {
        int64_t v = 0;
        rc = eval(d->workspace_text, d->workspace, env, d->workspace_line, "workspace", &v, err_line, e);
        if (!rc && (v < 0 || v > lim->max_workspace_bytes))
            rc = fail_at(e, err_line, ERR_INVALID, d->workspace_line, "workspace: %lld bytes, must be 0 to %lld",
                         (long long)v, (long long)lim->max_workspace_bytes);
        p->workspace_bytes = v;
        p->workspace_line = d->workspace_line;
    }
    for (int i = 0; !rc && i < d->nlaunch; i++)
        rc = bind_launch(&d->launch[i], env, lim->max_smem_bytes, &p->launch[i], err_line, e);
    if (rc)
        memset(p, 0, sizeof *p);
    else
        p->nlaunch = d->nlaunch;
    return rc;
}

/* ---- JSON --------------------------------------------------------------------------------- */

/* [x, y, z]; every dimension fits an int (bind checked the bounds). */
static cJSON *dims(const unsigned v[3])
{
    return cJSON_CreateIntArray((const int[]){ (int)v[0], (int)v[1], (int)v[2] }, 3);
}

cJSON *directive_plan_to_json(const struct directive_plan *p)
{
    static const char *const names[] = { "x", "w", "bias", "y", "workspace" };
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < p->nlaunch; i++) {
        const struct directive_launch_plan *L = &p->launch[i];
        cJSON *o = cJSON_CreateObject(), *args = NULL;
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            goto fail;
        }
        if (!cJSON_AddNumberToObject(o, "line", L->line) || !cJSON_AddStringToObject(o, "kernel", L->kernel) ||
            !cJSON_AddItemToObject(o, "grid", dims(L->grid)) || !cJSON_AddItemToObject(o, "block", dims(L->block)) ||
            !cJSON_AddNumberToObject(o, "smem", L->smem) || !(args = cJSON_AddArrayToObject(o, "args")))
            goto fail;
        for (int k = 0; k < L->nargs; k++) {
            const struct directive_arg *a = &L->args[k];
            char buf[32];
            if (a->kind == DIRECTIVE_ARG_I32 || a->kind == DIRECTIVE_ARG_I64)
                snprintf(buf, sizeof buf, "%lld:%s", (long long)a->value, a->kind == DIRECTIVE_ARG_I32 ? "i32" : "i64");
            else
                snprintf(buf, sizeof buf, "%s", names[a->kind]);
            cJSON *s = cJSON_CreateString(buf);
            if (!s || !cJSON_AddItemToArray(args, s)) {
                cJSON_Delete(s);
                goto fail;
            }
        }
    }
    return arr;
fail:
    cJSON_Delete(arr);
    return NULL;
}
